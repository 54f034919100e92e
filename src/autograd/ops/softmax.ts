// Softmax and log-softmax along any dim: one fused kernel forward (max, Σ exp, normalise),
// one fused kernel backward. Declared once here with their derivatives.

import { DTypeError } from '../../errors.ts';
import { normDim } from '../../shape.ts';
import type { View } from '../../backend/types.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { apply, type OpDef } from '../function.ts';
import { isGradEnabled } from '../grad-mode.ts';
import { wrap } from './common.ts';

interface SoftmaxAttrs {
  /** Normalised dim (0 for a 0-d input, seen as [1]). */
  dim: number;
  log: boolean;
}

/** x's view, a 0-d tensor seen as [1] so the kernel has a dim to reduce. */
function layoutOf(x: Tensor): View {
  const v = x.layout;
  return x.ndim === 0 ? { ...v, shape: [1], strides: [1] } : v;
}

/**
 * The input gradient from the output y and its gradient g:
 *   softmax:     d y_i / d x_j = y_i (δ_ij − y_j)  ⇒  gx = y·(g − Σ_j g_j y_j)
 *   log-softmax: d y_i / d x_j = δ_ij − exp(y_j)   ⇒  gx = g − exp(y)·Σ_j g_j
 * One fused kernel; under createGraph (grad mode on inside backward) the same formula in
 * Tensor ops, so the result is itself differentiable.
 */
function softmaxGrad(g: Tensor, y: Tensor, a: SoftmaxAttrs): Tensor {
  if (isGradEnabled()) {
    const d = y.ndim === 0 ? undefined : a.dim;
    return a.log ? g.sub(y.exp().mul(g.sum(d, true))) : y.mul(g.sub(g.mul(y).sum(d, true)));
  }
  return wrap(y.storage.backend.softmaxBackward(layoutOf(y), layoutOf(g), a.dim, a.log), y.shape);
}

function def(log: boolean): OpDef<SoftmaxAttrs> {
  return {
    name: log ? 'logSoftmax' : 'softmax',
    forward: ([x], a) => wrap(x!.storage.backend.softmax(layoutOf(x!), a.dim, a.log), x!.shape),
    save: (_inputs, out) => [out],
    backward: (g, [y], a) => [softmaxGrad(g, y!, a)],
  };
}

const softmaxDef = def(false);
const logSoftmaxDef = def(true);

function run(op: 'softmax' | 'logSoftmax', x: Tensor, dim: number): Tensor {
  x.assertAlive(op);
  if (x.dtype !== 'float32') throw new DTypeError(op, `input dtype ${x.dtype} is not floating point; call .float() first`);
  const d = normDim(op, dim, x.ndim);
  return apply(op === 'softmax' ? softmaxDef : logSoftmaxDef, [x], { dim: d, log: op === 'logSoftmax' });
}

/**
 * exp(x) / Σ exp(x) along `dim` (negative counts from the end), computed stably (the row max
 * is subtracted first) in one fused kernel.
 * @example softmax(logits /* [128, 10] *\/, 1) // [128, 10], rows sum to 1
 */
export function softmax(x: Tensor, dim: number): Tensor {
  return run('softmax', x, dim);
}

/**
 * log(softmax(x)) along `dim`, computed as (x − max) − log Σ exp(x − max): finite for any finite
 * logits (±1e4 included), unlike softmax(x).log().
 * @example logSoftmax(logits /* [64, 10] *\/, 1) // [64, 10] log-probabilities
 */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return run('logSoftmax', x, dim);
}
