// Elementwise ops: unary, binary with broadcasting and scalar operands, comparisons,
// where, casts. Each is declared once here with its derivative beside it.

import type { DType } from '../../dtype.ts';
import { promote, scalarResult } from '../../dtype.ts';
import type { BinaryOp, Operand, UnaryOp } from '../../backend/types.ts';
import type { FusedActivation } from '../../backend/fused-activation.ts';
import { broadcastShapes, broadcastStrides, type Shape } from '../../shape.ts';
import { DTypeError } from '../../errors.ts';
import type { Tensor, TensorOrScalar } from '../../tensor/tensor.ts';
import { apply, type OpDef } from '../function.ts';
import { backendOf, sumTo, wrap } from './common.ts';

const FLOAT_UNARY = new Set<UnaryOp>(['exp', 'log', 'sqrt', 'rsqrt', 'reciprocal', 'sin', 'cos', 'tanh', 'sigmoid']);

/** Result dtype of a unary op (floats for transcendental ops, bool→int32 for arithmetic). */
function unaryDtype(op: UnaryOp, x: DType): DType {
  if (op === 'logicalNot') return 'bool';
  if (FLOAT_UNARY.has(op)) return 'float32';
  return x === 'bool' ? 'int32' : x;
}

/** Derivatives, with x the input, y the output, g the output's gradient. */
const UNARY_GRAD: Partial<Record<UnaryOp, { save: 'x' | 'y' | 'none'; grad: (g: Tensor, v: Tensor) => Tensor }>> = {
  identity: { save: 'none', grad: (g) => g }, // d x = 1
  neg: { save: 'none', grad: (g) => g.neg() }, // d(-x) = -1
  exp: { save: 'y', grad: (g, y) => g.mul(y) }, // d e^x = e^x
  log: { save: 'x', grad: (g, x) => g.div(x) }, // d ln x = 1/x
  sqrt: { save: 'y', grad: (g, y) => g.div(y.mul(2)) }, // d √x = 1/(2√x)
  rsqrt: { save: 'y', grad: (g, y) => g.mul(y.pow(3)).mul(-0.5) }, // d x^-½ = -½ x^-3/2
  reciprocal: { save: 'y', grad: (g, y) => g.mul(y.square()).neg() }, // d 1/x = -1/x²
  square: { save: 'x', grad: (g, x) => g.mul(x.mul(2)) }, // d x² = 2x
  abs: { save: 'x', grad: (g, x) => g.mul(x.sign()) }, // d|x| = sign(x), 0 at 0 like torch
  sin: { save: 'x', grad: (g, x) => g.mul(x.cos()) }, // d sin = cos
  cos: { save: 'x', grad: (g, x) => g.mul(x.sin()).neg() }, // d cos = -sin
  tanh: { save: 'y', grad: (g, y) => g.mul(y.square().rsub(1)) }, // d tanh = 1 - tanh²
  sigmoid: { save: 'y', grad: (g, y) => g.mul(y.mul(y.rsub(1))) }, // d σ = σ(1-σ)
  // d relu = 0 where y <= 0, else 1: 0 at the kink, 1 at NaN, and the gradient itself (not
  // g·0) where zeroed, as torch's threshold_backward.
  relu: { save: 'y', grad: (g, y) => where(y.le(0), 0, g) },
  // Piecewise constant: zero gradient everywhere (torch returns zeros too).
  sign: { save: 'none', grad: (g) => g.zerosLike() },
  floor: { save: 'none', grad: (g) => g.zerosLike() },
  ceil: { save: 'none', grad: (g) => g.zerosLike() },
  round: { save: 'none', grad: (g) => g.zerosLike() },
};

/**
 * The gradient through an activation fused into a matmul/conv epilogue, from its output `y`:
 * the same rule as the unary op's.
 */
export function activationGrad(act: FusedActivation, g: Tensor, y: Tensor): Tensor {
  return UNARY_GRAD[act]!.grad(g, y);
}

/** `act` applied as its own op: where an epilogue cannot take it (unfused fallbacks). */
export function applyActivation(act: FusedActivation | null, x: Tensor): Tensor {
  return act ? apply(unaryDef(act), [x], undefined) : x;
}

const unaryDefs = new Map<UnaryOp, OpDef>();
function unaryDef(op: UnaryOp): OpDef {
  let def = unaryDefs.get(op);
  if (def) return def;
  const rule = UNARY_GRAD[op];
  def = {
    name: op === 'identity' ? 'clone' : op,
    forward: ([x]) => {
      const out = unaryDtype(op, x!.dtype);
      return wrap(x!.storage.backend.unary(op, x!.layout, out), x!.shape);
    },
    save: rule && rule.save !== 'none' ? ([x], y) => [rule.save === 'x' ? x! : y] : undefined,
    backward: rule ? (g, saved) => [rule.grad(g, saved[0] ?? g)] : undefined,
  };
  unaryDefs.set(op, def);
  return def;
}

export function unary(op: UnaryOp, x: Tensor): Tensor {
  return apply(unaryDef(op), [x], undefined);
}

export function clone(x: Tensor): Tensor {
  return unary('identity', x);
}

/** Which operands are scalars (the tensors travel in `inputs`, scalars here). */
interface BinAttrs {
  a: number | null;
  b: number | null;
}

function operandsOf(inputs: readonly Tensor[], attrs: BinAttrs): [TensorOrScalar, TensorOrScalar] {
  let k = 0;
  const a = attrs.a ?? inputs[k++]!;
  const b = attrs.b ?? inputs[k++]!;
  return [a, b];
}

/** Result and compute dtype of a binary op. */
function binaryDtypes(op: BinaryOp, a: TensorOrScalar, b: TensorOrScalar): { dtype: DType; out: DType } {
  let d: DType;
  if (typeof a === 'number') d = scalarResult((b as Tensor).dtype, a);
  else if (typeof b === 'number') d = scalarResult(a.dtype, b);
  else d = promote(a.dtype, b.dtype);
  if (op === 'div' || op === 'pow') d = 'float32';
  const compute: DType = d === 'bool' ? 'int32' : d;
  const isCmp = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr'].includes(op);
  return { dtype: compute, out: isCmp ? 'bool' : compute };
}

function broadcastOperand(x: TensorOrScalar, shape: Shape): Operand {
  if (typeof x === 'number') return x;
  return { storage: x.storage, shape, strides: broadcastStrides(x.shape, x.strides, shape), offset: x.offset };
}

type BinGrad = (g: Tensor, a: TensorOrScalar, b: TensorOrScalar, out: Tensor | null) => [Tensor | null, Tensor | null];

/** Derivatives of binary ops; the caller sums each back to its operand's shape. */
const BINARY_GRAD: Partial<Record<BinaryOp, { saveOut?: boolean; saveNothing?: boolean; grad: BinGrad }>> = {
  add: { saveNothing: true, grad: (g) => [g, g] },
  sub: { saveNothing: true, grad: (g) => [g, g.neg()] },
  mul: { grad: (g, a, b) => [g.mul(b), g.mul(a)] }, // d(ab) = b da + a db
  // d(a/b) = da/b − (a/b)/b db, as torch forms it: a/b² would overflow for |b| > 1.8e19.
  div: { grad: (g, a, b) => [g.div(b), typeof b === 'number' ? null : g.mul(binary('div', a, b).div(b)).neg()] },
  // d a^b = b a^(b-1) da + a^b ln(a) db; torch zeroes the first where b == 0 and the second where a == 0 and b >= 0.
  pow: {
    saveOut: true,
    grad: (g, a, b, y) => {
      let ga: Tensor | null = null;
      if (typeof a !== 'number') {
        ga = g.mul(b).mul(a.pow(typeof b === 'number' ? b - 1 : b.sub(1)));
        if (typeof b !== 'number') ga = ga.where(b.ne(0), 0);
        else if (b === 0) ga = ga.mul(0);
      }
      let gb: Tensor | null = null;
      if (typeof b !== 'number') {
        gb = g.mul(y!).mul(typeof a === 'number' ? Math.log(a) : a.log());
        if (typeof a === 'number') gb = a === 0 ? gb.where(b.lt(0), 0) : gb;
        else gb = gb.where(a.ne(0).logicalOr(b.lt(0)), 0);
      }
      return [ga, gb];
    },
  },
  // Ties split the gradient in half, as torch.maximum/minimum do; at a NaN both operands get all of it.
  maximum: { grad: (g, a, b) => tieSplit(g, a, b, 'lt', 'gt') },
  minimum: { grad: (g, a, b) => tieSplit(g, a, b, 'gt', 'lt') },
};

/**
 * torch's rule: each operand gets g, halved on ties, and exactly 0 where it loses (`aLoses`:
 * a < b for maximum); a comparison with NaN is false, so at a NaN both keep g.
 */
function tieSplit(g: Tensor, a: TensorOrScalar, b: TensorOrScalar, aLoses: 'lt' | 'gt', bLoses: 'lt' | 'gt'): [Tensor, Tensor] {
  const shared = where(binary('eq', a, b), g.mul(0.5), g);
  return [where(binary(aLoses, a, b), 0, shared), where(binary(bLoses, a, b), 0, shared)];
}

const binaryDefs = new Map<BinaryOp, OpDef<BinAttrs>>();
function binaryDef(op: BinaryOp): OpDef<BinAttrs> {
  let def = binaryDefs.get(op);
  if (def) return def;
  const rule = BINARY_GRAD[op];
  def = {
    name: op,
    forward: (inputs, attrs) => {
      const [a, b] = operandsOf(inputs, attrs);
      const be = backendOf(op, a, b);
      const shape = broadcastShapes(op, typeof a === 'number' ? [] : a.shape, typeof b === 'number' ? [] : b.shape);
      const { dtype, out } = binaryDtypes(op, a, b);
      return wrap(be.binary(op, broadcastOperand(a, shape), broadcastOperand(b, shape), shape, dtype, out), shape);
    },
    save: rule && !rule.saveNothing ? (inputs, out) => (rule.saveOut ? [...inputs, out] : [...inputs]) : undefined,
    backward: rule
      ? (g, saved, attrs, needs, meta) => {
          const n = meta.shapes.length;
          // add/sub save nothing: their rules only read g, so placeholders stand in for the operands.
          const [a, b] = rule.saveNothing ? [0, 0] : operandsOf(saved.slice(0, n), attrs);
          const [ga, gb] = rule.grad(g, a, b, rule.saveOut ? saved[n]! : null);
          const grads: (Tensor | null)[] = [];
          let k = 0;
          if (attrs.a === null) grads.push(needs[k] && ga ? sumTo(ga, meta.shapes[k++]!) : (k++, null));
          if (attrs.b === null) grads.push(needs[k] && gb ? sumTo(gb, meta.shapes[k++]!) : (k++, null));
          return grads;
        }
      : undefined,
  };
  binaryDefs.set(op, def);
  return def;
}

export function binary(op: BinaryOp, a: TensorOrScalar, b: TensorOrScalar): Tensor {
  const inputs = [a, b].filter((x): x is Tensor => typeof x !== 'number');
  if (inputs.length === 0) throw new DTypeError(op, 'needs at least one tensor operand');
  return apply(binaryDef(op), inputs, { a: typeof a === 'number' ? a : null, b: typeof b === 'number' ? b : null });
}

export const add = (a: TensorOrScalar, b: TensorOrScalar) => binary('add', a, b);
export const sub = (a: TensorOrScalar, b: TensorOrScalar) => binary('sub', a, b);
export const mul = (a: TensorOrScalar, b: TensorOrScalar) => binary('mul', a, b);
export const div = (a: TensorOrScalar, b: TensorOrScalar) => binary('div', a, b);
export const pow = (a: TensorOrScalar, b: TensorOrScalar) => binary('pow', a, b);
export const maximum = (a: TensorOrScalar, b: TensorOrScalar) => binary('maximum', a, b);
export const minimum = (a: TensorOrScalar, b: TensorOrScalar) => binary('minimum', a, b);

/** Comparisons and logical ops: bool results, no gradient. */
export function compare(op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'logicalAnd' | 'logicalOr', a: TensorOrScalar, b: TensorOrScalar): Tensor {
  return binary(op, a, b);
}

interface WhereAttrs {
  a: number | null;
  b: number | null;
}
/** d where(c, a, b) = (c ? g : 0, c ? 0 : g), each summed to its operand's shape. */
const whereDef: OpDef<WhereAttrs> = {
  name: 'where',
  forward: (inputs, attrs) => {
    const cond = inputs[0]!;
    const [a, b] = operandsOf(inputs.slice(1), attrs);
    const be = backendOf('where', cond, a, b);
    const shape = broadcastShapes('where', cond.shape, typeof a === 'number' ? [] : a.shape, typeof b === 'number' ? [] : b.shape);
    let dtype: DType;
    if (typeof a !== 'number' && typeof b !== 'number') dtype = promote(a.dtype, b.dtype);
    else if (typeof a !== 'number') dtype = scalarResult(a.dtype, b as number);
    else if (typeof b !== 'number') dtype = scalarResult(b.dtype, a);
    else dtype = Number.isInteger(a) && Number.isInteger(b) ? 'int32' : 'float32';
    const c = broadcastOperand(cond, shape) as Exclude<Operand, number>;
    return wrap(be.where(c, broadcastOperand(a, shape), broadcastOperand(b, shape), shape, dtype), shape);
  },
  save: ([cond]) => [cond!],
  backward: (g, [cond], attrs, needs, meta) => {
    const grads: (Tensor | null)[] = [null];
    let k = 1;
    if (attrs.a === null) grads.push(needs[k] ? sumTo(g.where(cond!, 0), meta.shapes[k++]!) : (k++, null));
    if (attrs.b === null) grads.push(needs[k] ? sumTo(where(cond!, 0, g), meta.shapes[k++]!) : (k++, null));
    return grads;
  },
};

/** `a` where `cond` is nonzero, else `b` (broadcast together). */
export function where(cond: Tensor, a: TensorOrScalar, b: TensorOrScalar): Tensor {
  const inputs = [cond, ...[a, b].filter((x): x is Tensor => typeof x !== 'number')];
  return apply(whereDef, inputs, { a: typeof a === 'number' ? a : null, b: typeof b === 'number' ? b : null });
}

/** d cast(x) = g cast back (only float → float is differentiable). */
const castDef: OpDef<DType> = {
  name: 'to',
  forward: ([x], dtype) => wrap(x!.storage.backend.unary('identity', x!.layout, dtype), x!.shape),
  backward: (g, _s, dtype, _n, meta) => [dtype === 'float32' && meta.dtypes[0] === 'float32' ? g : null],
};

/** `x` converted to `dtype` (a new tensor; float → int32 by castToInt32's rule: truncate, saturate, NaN → 0). */
export function cast(x: Tensor, dtype: DType): Tensor {
  return apply(castDef, [x], dtype);
}
