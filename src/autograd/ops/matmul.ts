// Matrix products. One primitive, the batched bmm on [B, M, K] @ [B, K, N] (any strides:
// transposed operands are read in place), and `matmul` built on it with PyTorch's rules
// for 1-D operands and broadcast batch dims.

import { DTypeError, ShapeError, fmtShape } from '../../errors.ts';
import { checkActivation, type FusedActivation } from '../../backend/fused-activation.ts';
import { broadcastShapes, numel } from '../../shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { scope } from '../../tensor/scope.ts';
import { apply, type OpDef } from '../function.ts';
import { backendOf, wrap } from './common.ts';
import { activationGrad, applyActivation } from './elementwise.ts';

/** d(AB) = g Bᵀ for A and Aᵀ g for B, both as transposed views (no copies). */
const bmmDef: OpDef = {
  name: 'bmm',
  forward: ([a, b]) => {
    const be = backendOf('bmm', a!, b!);
    return wrap(be.matmul(a!.layout, b!.layout), [a!.shape[0]!, a!.shape[1]!, b!.shape[2]!]);
  },
  save: ([a, b]) => [a!, b!],
  backward: (g, [a, b], _a, needs) => [needs[0] ? bmm(g, b!.mT) : null, needs[1] ? bmm(a!.mT, g) : null],
};

/** Batched product of 3-D tensors [B, M, K] @ [B, K, N] → [B, M, N]. */
export function bmm(a: Tensor, b: Tensor): Tensor {
  checkOperands('bmm', a, b);
  if (a.ndim !== 3 || b.ndim !== 3 || a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[1]) {
    throw new ShapeError('bmm', `expects [B, M, K] and [B, K, N], got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`, [a.shape, b.shape]);
  }
  return apply(bmmDef, [a, b], undefined);
}

function checkOperands(op: string, a: Tensor, b: Tensor): void {
  a.assertAlive(op);
  b.assertAlive(op);
  if (a.dtype !== 'float32' || b.dtype !== 'float32') {
    throw new DTypeError(op, `expects float32 operands, got ${a.dtype} and ${b.dtype}; call .float() first`);
  }
  if (a.ndim === 0 || b.ndim === 0) {
    throw new ShapeError(op, `both arguments need at least 1 dim, got shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`, [a.shape, b.shape]);
  }
}

/**
 * Matrix product with PyTorch's semantics: 1-D @ 1-D is a dot product, a 1-D operand is
 * treated as a row (left) or column (right) vector and that dim removed from the result,
 * and leading batch dims broadcast.
 * @example matmul(x /* [64, 784] *\/, w /* [784, 500] *\/) // [64, 500]
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkOperands('matmul', a, b);
  const ka = a.shape[a.ndim - 1]!;
  const kb = b.ndim === 1 ? b.shape[0]! : b.shape[b.ndim - 2]!;
  if (ka !== kb) {
    throw new ShapeError('matmul', `shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} do not align (${ka} != ${kb})`, [a.shape, b.shape]);
  }
  const batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.ndim === 1 ? [] : b.shape.slice(0, -2));
  return scope(() => {
    const a2 = a.ndim === 1 ? a.unsqueeze(0) : a;
    const b2 = b.ndim === 1 ? b.unsqueeze(-1) : b;
    const m = a2.shape[a2.ndim - 2]!;
    const n = b2.shape[b2.ndim - 1]!;
    const B = numel(batch);
    const a3 = a2.expand([...batch, m, ka]).reshape([B, m, ka]);
    const b3 = b2.expand([...batch, ka, n]).reshape([B, ka, n]);
    let out = bmm(a3, b3).reshape([...batch, m, n]);
    if (a.ndim === 1) out = out.squeeze(-2);
    if (b.ndim === 1) out = out.squeeze(-1);
    return out;
  });
}

/**
 * act(x [M, K] · Wᵀ + bias) with W [N, K] and bias [N] added to every row, in one kernel (the
 * bias and the optional activation ride in the matmul's epilogue; Wᵀ is read in place). With
 * z the pre-activation gradient (g itself without an activation, else act'(y)·g from the saved
 * output y): d/dx = z·W, d/dW = zᵀ·x, d/dbias = Σ_rows z.
 */
const addmmDef: OpDef<FusedActivation | null> = {
  name: 'addmm',
  forward: ([x, w, bias], act) => {
    const be = backendOf('linear', x!, w!, bias!);
    const xl = x!.layout;
    const wl = w!.layout;
    const a = { ...xl, shape: [1, ...xl.shape], strides: [0, ...xl.strides] };
    const b = { ...wl, shape: [1, wl.shape[1]!, wl.shape[0]!], strides: [0, wl.strides[1]!, wl.strides[0]!] };
    return wrap(be.matmul(a, b, bias!.layout, act), [x!.shape[0]!, w!.shape[0]!]);
  },
  save: ([x, w], y, act) => (act ? [x!, w!, y] : [x!, w!]),
  backward: (g, [x, w, y], act, needs) => {
    const z = act ? activationGrad(act, g, y!) : g;
    return [needs[0] ? matmul(z, w!) : null, needs[1] ? matmul(z.T, x!) : null, needs[2] ? z.sum(0) : null];
  },
};

/** Options of {@link linear} beyond PyTorch's F.linear. */
export interface LinearOptions {
  /**
   * An activation applied in the same kernel as the product and the bias (like TF.js's
   * `fused.matMul`): `F.linear(x, w, b, { activation: 'relu' })` equals `F.relu(F.linear(x, w, b))`
   * in one dispatch and one pass over the output.
   */
  activation?: FusedActivation;
}

/**
 * y = x Wᵀ + b with W [out, in], b [out], x [..., in] (F.linear), as one matmul dispatch with the
 * bias (and `opts.activation`, if any) fused into its epilogue instead of a matmul, a broadcast
 * add and an activation.
 * @example linear(x /* [64, 784] *\/, w /* [128, 784] *\/, b /* [128] *\/) // [64, 128]
 * @example linear(x, w, b, { activation: 'relu' }) // relu(x·Wᵀ + b), one kernel
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null, opts: LinearOptions = {}): Tensor {
  checkOperands('linear', x, weight);
  const act = opts.activation ?? null;
  checkActivation('linear', act);
  bias?.assertAlive('linear');
  const inF = x.shape[x.ndim - 1]!;
  if (!bias || weight.ndim !== 2 || weight.shape[1] !== inF || bias.ndim !== 1 || bias.shape[0] !== weight.shape[0] || bias.dtype !== 'float32') {
    // No bias, or anything unusual (a 1-D weight, a broadcast bias): the unfused formula, with its own checks.
    return scope(() => applyActivation(act, bias ? matmul(x, weight.T).add(bias) : matmul(x, weight.T)));
  }
  if (x.ndim === 2) return apply(addmmDef, [x, weight, bias], act);
  const lead = x.shape.slice(0, -1);
  return scope(() => apply(addmmDef, [x.reshape([numel(lead), inF]), weight, bias], act).reshape([...lead, weight.shape[0]!]));
}

/** 2-D matrix product. */
export function mm(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 2 || b.ndim !== 2) {
    throw new ShapeError('mm', `expects 2-D operands, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`, [a.shape, b.shape]);
  }
  return matmul(a, b);
}
