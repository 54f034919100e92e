// Options shared by the softmax-family and loss primitives of every backend (the WebGPU
// kernels in src/kernels/losses.ts and the float64 reference in src/backend/cpu/losses.ts).
// Plain data; knows nothing of tensors or autograd.

/** How per-element losses are combined: kept, averaged (PyTorch's weighted mean where weights apply) or summed. */
export type LossReduction = 'none' | 'mean' | 'sum';

/** Cross entropy / negative log likelihood over a class dim (Backend.classLoss). */
export interface ClassLossOptions {
  /** 'ce': x holds logits (log-softmax taken in the same pass); 'nll': x holds log-probabilities. */
  readonly kind: 'ce' | 'nll';
  /** The dim of x holding the C classes (1, or 0 for an unbatched [C] input). */
  readonly classDim: number;
  /** Targets are float32 class probabilities of x's shape instead of int32 class indices. */
  readonly probTargets: boolean;
  readonly reduction: LossReduction;
  /** Targets equal to this contribute neither loss, gradient nor weight (index targets only). */
  readonly ignoreIndex: number;
  /** ε in [0, 1]: the target becomes (1 − ε)·target + ε/C (ce only). */
  readonly labelSmoothing: number;
  /** Names a bad index target: thrown at once by the CPU, at the next readback on WebGPU. */
  readonly check: TargetCheck;
}

/**
 * Turns a target outside [0, C) (other than ignoreIndex) into the op's error: `row` is its flat
 * position, row-major over the target's shape (the first bad one on the CPU, whichever the GPU
 * met first on WebGPU), `value` the target there.
 */
export interface TargetCheck {
  error(row: number, value: number): Error;
}

/**
 * Turns an input value outside a loss's domain (binaryCrossEntropy's [0, 1]; NaN included) into
 * the op's error: `index` is its flat position, row-major over the input's shape (the first bad
 * one on the CPU, whichever the GPU met first on WebGPU), `value` the value there.
 */
export interface InputCheck {
  error(index: number, value: number): Error;
}

/** Elementwise losses of an input against a same-shaped target (Backend.pointwiseLoss). */
export type PointwiseLossOp = (typeof POINTWISE_LOSS_OPS)[number];

/** Every elementwise loss primitive (Backend.pointwiseLoss). */
export const POINTWISE_LOSS_OPS = ['mse', 'bce', 'bceWithLogits'] as const;
