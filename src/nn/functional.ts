// F: the functional neural-network API (PyTorch's torch.nn.functional), names camelCased.
// Each entry is the op's public form; the op itself is declared once in src/autograd/ops.
//   import { F } from 'webgrad';  F.relu(x); F.crossEntropy(logits, targets)

import type { Tensor } from '../tensor/tensor.ts';
import * as M from '../autograd/ops/matmul.ts';
import * as IX from '../autograd/ops/indexing.ts';

/** max(x, 0). */
export const relu = (x: Tensor): Tensor => x.relu();
/** 1 / (1 + e^-x). */
export const sigmoid = (x: Tensor): Tensor => x.sigmoid();
/**
 * Hyperbolic tangent elementwise, (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ), in (−1, 1); same shape as `x`
 * (F.tanh, `x.tanh()`). Gradient 1 − tanh²(x).
 * @example F.tanh(tensor([0, 1])) // tensor([0.0000, 0.7616])
 */
export const tanh = (x: Tensor): Tensor => x.tanh();

/**
 * y = x Wᵀ + b with W of shape [out, in] (PyTorch's layout), x of shape [..., in]. With a bias it
 * is one matmul dispatch that adds the bias in its epilogue, not matmul + add; `opts.activation`
 * (webgrad's addition, like TF.js's fused.matMul) applies 'relu', 'sigmoid' or 'tanh' there too.
 * @example F.linear(x /* [64, 784] *\/, w /* [128, 784] *\/, b /* [128] *\/) // [64, 128]
 * @example F.linear(x, w, b, { activation: 'relu' }) // F.relu(F.linear(x, w, b)) in one kernel
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: M.LinearOptions = {}): Tensor {
  return M.linear(x, weight, bias ?? null, opts);
}

export type { LinearOptions } from '../autograd/ops/matmul.ts';

// Convolution (issue #4): conv2d(input, weight, bias?, { stride, padding, dilation, groups, activation }).
/**
 * 2-D convolution of an NCHW input with a [Cout, Cin/groups, kH, kW] weight (PyTorch's F.conv2d).
 * @example F.conv2d(x /* [64, 1, 28, 28] *\/, w /* [20, 1, 5, 5] *\/, b, { padding: 2 }) // [64, 20, 28, 28]
 */
export { conv2d, type Conv2dOptions } from '../autograd/ops/conv.ts';

// Indexing (issue #4): oneHot, oneHotAsync.
/**
 * int32 one-hot encoding [...x.shape, numClasses] of int32 class values (numClasses required;
 * `F.oneHotAsync(x)` infers it from the max with a readback). Like F.one_hot.
 * @example F.oneHot(labels /* [64] *\/, 10) // [64, 10]
 */
export const oneHot = (x: Tensor, numClasses: number): Tensor => IX.oneHot(x, numClasses);
/** oneHot inferring numClasses = max(x) + 1 when -1 (reads the max back). */
export const oneHotAsync = (x: Tensor, numClasses = -1): Promise<Tensor> => IX.oneHotAsync(x, numClasses);

// Families add their functions above the anchor (one block each).
// Pooling, dropout and activations (issue #4). Signatures as torch.nn.functional, camelCased:
// F.maxPool2d(x, 2), F.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }),
// F.dropout(x, p, training), F.gelu(x, { approximate: 'tanh' }), F.softplus(x, { beta, threshold }).
export { maxPool2d, maxPool2dWithIndices, avgPool2d, adaptiveAvgPool2d } from '../autograd/ops/pool.ts';
export type { MaxPool2dOptions, AvgPool2dOptions, Size2 } from '../autograd/ops/pool.ts';
export { dropout, dropout2d } from '../autograd/ops/dropout.ts';
export { leakyRelu, elu, gelu, softplus, logSigmoid, clamp, hardtanh, silu } from '../autograd/ops/activation.ts';
export type { GeluOptions, SoftplusOptions } from '../autograd/ops/activation.ts';

// Softmax family and losses (issue #4): F.softmax(x, dim), F.logSoftmax(x, dim),
// F.crossEntropy(logits, targets, { reduction, ignoreIndex, labelSmoothing, weight }),
// F.nllLoss, F.binaryCrossEntropy, F.binaryCrossEntropyWithLogits, F.mseLoss.
export { softmax, logSoftmax } from '../autograd/ops/softmax.ts';
export { crossEntropy, nllLoss, binaryCrossEntropy, binaryCrossEntropyWithLogits, mseLoss } from '../autograd/ops/losses.ts';
export type {
  CrossEntropyOptions, NllLossOptions, BinaryCrossEntropyOptions, BinaryCrossEntropyWithLogitsOptions, MseLossOptions, LossReduction,
} from '../autograd/ops/losses.ts';

// @functional-anchor
