// F: the functional neural-network API (PyTorch's torch.nn.functional), names camelCased.
// Each entry is the op's public form; the op itself is declared once in src/autograd/ops.
//   import { F } from 'webgrad';  F.relu(x); F.crossEntropy(logits, targets)

import type { Tensor } from '../tensor/tensor.ts';
import * as M from '../autograd/ops/matmul.ts';

/** max(x, 0). */
export const relu = (x: Tensor): Tensor => x.relu();
/** 1 / (1 + e^-x). */
export const sigmoid = (x: Tensor): Tensor => x.sigmoid();
export const tanh = (x: Tensor): Tensor => x.tanh();

/**
 * y = x Wᵀ + b with W of shape [out, in] (PyTorch's layout), x of shape [..., in].
 * @example F.linear(x /* [64, 784] *\/, w /* [128, 784] *\/, b /* [128] *\/) // [64, 128]
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const y = M.matmul(x, weight.T);
  if (!bias) return y;
  const out = y.add(bias);
  y.dispose();
  return out;
}

// Families add their functions above the anchor (one block each).
// @functional-anchor
