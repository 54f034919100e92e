// Float64 reference of the elementwise primitives: unary, binary, where and strided copy.
// Each returns plain values (row-major over the output shape); index.ts wraps them in storages.
// Semantics follow PyTorch's CPU kernels, noted op by op where a choice had to be made.

import type { BinaryOp, Operand, UnaryOp, View } from '../types.ts';
import type { DType } from '../../dtype.ts';
import { numel, type Shape } from '../../shape.ts';
import { ShapeError, fmtShape } from '../../errors.ts';
import { castTo, checkOutShape, cpuStorageOf, gather, gatherOperand, viewPositions } from './storage.ts';

/** torch.round: round half to even (2.5 → 2, 3.5 → 4, -2.5 → -2, -0.5 → -0). */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const diff = x - f; // exact: x and f are within 1 of each other
  const r = diff > 0.5 ? f + 1 : diff < 0.5 ? f : f % 2 === 0 ? f : f + 1;
  return r === 0 && x < 0 ? -0 : r; // keep the sign of zero, as IEEE rint does
}

/** torch's CPU sign, `(0 < x) - (x < 0)`: sign(0) = 0 and sign(NaN) = 0. */
function sign(x: number): number {
  return (x > 0 ? 1 : 0) - (x < 0 ? 1 : 0);
}

/**
 * torch.pow, which is C99's pow: JS's Math.pow differs only where C gives 1 — 1^y for every y
 * (NaN included) and (−1)^±∞ — and JS gives NaN.
 */
function powC99(a: number, b: number): number {
  if (a === 1 || b === 0) return 1;
  if (a === -1 && (b === Infinity || b === -Infinity)) return 1;
  return Math.pow(a, b);
}

/** Ops closed over the integers: on int32/bool input they are computed in int32 (wrapping). */
function unaryInt(op: UnaryOp, x: number): number | undefined {
  switch (op) {
    case 'identity':
    case 'floor':
    case 'ceil':
    case 'round':
      return x;
    case 'neg':
      return -x | 0; // -(-2^31) wraps to -2^31, like int32
    case 'abs':
      return Math.abs(x) | 0;
    case 'sign':
      return sign(x);
    case 'square':
      return Math.imul(x, x);
    case 'relu':
      return x > 0 ? x : 0;
    case 'logicalNot':
      return x === 0 ? 1 : 0;
    default:
      return undefined; // transcendental: computed in float
  }
}

function unaryFloat(op: UnaryOp, x: number): number {
  switch (op) {
    case 'identity': return x;
    case 'neg': return -x;
    case 'abs': return Math.abs(x);
    case 'sign': return sign(x);
    case 'exp': return Math.exp(x);
    case 'log': return Math.log(x);
    case 'sqrt': return Math.sqrt(x);
    case 'rsqrt': return 1 / Math.sqrt(x);
    case 'reciprocal': return 1 / x;
    case 'square': return x * x;
    case 'sin': return Math.sin(x);
    case 'cos': return Math.cos(x);
    case 'tanh': return Math.tanh(x);
    case 'sigmoid': return 1 / (1 + Math.exp(-x));
    case 'relu': return Math.max(x, 0); // NaN propagates, as torch.relu; relu(0) = 0
    case 'floor': return Math.floor(x);
    case 'ceil': return Math.ceil(x);
    case 'round': return roundHalfEven(x);
    case 'logicalNot': return x === 0 ? 1 : 0;
    default: {
      const never: never = op;
      throw new Error(`cpu.unary: unknown op '${String(never)}'`);
    }
  }
}

/** out[i] = op(x[i]) computed in x's dtype (float for transcendental ops), cast to `outDtype`. */
export function unary(op: UnaryOp, x: View, outDtype: DType): Float64Array {
  const values = gather('cpu.unary', x);
  const isInt = x.storage.dtype !== 'float32';
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const r = isInt ? (unaryInt(op, v) ?? unaryFloat(op, v)) : unaryFloat(op, v);
    out[i] = castTo(outDtype, r);
  }
  return out;
}

function binaryFloat(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case 'add': return a + b;
    case 'sub': return a - b;
    case 'mul': return a * b;
    case 'div': return a / b;
    case 'pow': return powC99(a, b);
    case 'maximum': return Math.max(a, b); // NaN if either is NaN, as torch.maximum
    case 'minimum': return Math.min(a, b);
    case 'eq': return a === b ? 1 : 0;
    case 'ne': return a !== b ? 1 : 0;
    case 'lt': return a < b ? 1 : 0;
    case 'le': return a <= b ? 1 : 0;
    case 'gt': return a > b ? 1 : 0;
    case 'ge': return a >= b ? 1 : 0;
    case 'logicalAnd': return a !== 0 && b !== 0 ? 1 : 0;
    case 'logicalOr': return a !== 0 || b !== 0 ? 1 : 0;
    default: {
      const never: never = op;
      throw new Error(`cpu.binary: unknown op '${String(never)}'`);
    }
  }
}

/**
 * Integer arithmetic wraps like int32. `div` is true division (the tensor layer casts to
 * float first, so an int `div` only happens if a caller asks for it; the output cast then
 * truncates toward zero). Everything else is exact on int32 values and shared with floats.
 */
function binaryInt(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case 'add': return (a + b) | 0;
    case 'sub': return (a - b) | 0;
    case 'mul': return Math.imul(a, b);
    case 'pow': return Math.pow(a, b) | 0;
    default: return binaryFloat(op, a, b);
  }
}

/** out[i] = op(a[i], b[i]) over `shape`, operands converted to `dtype`, result cast to `outDtype`. */
export function binary(op: BinaryOp, a: Operand, b: Operand, shape: Shape, dtype: DType, outDtype: DType): Float64Array {
  checkOutShape('cpu.binary', shape);
  const av = gatherOperand('cpu.binary', 'a', a, shape, dtype);
  const bv = gatherOperand('cpu.binary', 'b', b, shape, dtype);
  const f = dtype === 'float32' ? binaryFloat : binaryInt;
  const out = new Float64Array(av.length);
  for (let i = 0; i < out.length; i++) out[i] = castTo(outDtype, f(op, av[i]!, bv[i]!));
  return out;
}

/** out[i] = cond[i] != 0 ? a[i] : b[i] over `shape`, stored as `dtype`. */
export function where(cond: View, a: Operand, b: Operand, shape: Shape, dtype: DType): Float64Array {
  checkOutShape('cpu.where', shape);
  const cv = gatherOperand('cpu.where', 'cond', cond, shape, cond.storage.dtype);
  const av = gatherOperand('cpu.where', 'a', a, shape, dtype);
  const bv = gatherOperand('cpu.where', 'b', b, shape, dtype);
  const out = new Float64Array(cv.length);
  for (let i = 0; i < out.length; i++) out[i] = cv[i] !== 0 ? av[i]! : bv[i]!;
  return out;
}

/**
 * dst[i] = src[i], converted to dst's dtype. All of src is read before anything is
 * written, so a src that overlaps dst in the same storage copies correctly.
 */
export function copy(dst: View, src: Operand): void {
  const op = 'cpu.copy';
  const target = cpuStorageOf(op, dst);
  if (typeof src !== 'number' && (src.shape.length !== dst.shape.length || src.shape.some((d, i) => d !== dst.shape[i]))) {
    throw new ShapeError(op, `source shape ${fmtShape(src.shape)} differs from destination shape ${fmtShape(dst.shape)}`, [src.shape, dst.shape]);
  }
  const values = typeof src === 'number' ? new Float64Array(numel(dst.shape)).fill(src) : gather(op, src);
  const pos = viewPositions(op, dst);
  const data = target.data;
  for (let i = 0; i < pos.length; i++) data[pos[i]!] = castTo(target.dtype, values[i]!);
}
