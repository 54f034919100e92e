// Losses as modules (torch.nn.CrossEntropyLoss, NLLLoss, MSELoss, BCELoss, BCEWithLogitsLoss),
// each a thin holder of its options around the F function. Class weights are buffers (as
// PyTorch's _WeightedLoss registers them), so they follow the module's state dict.

import type { Tensor } from '../../tensor/tensor.ts';
import * as F from '../functional.ts';
import { Module } from '../module.ts';

/**
 * How a loss module combines the per-element losses (PyTorch's `reduction`): 'none' keeps
 * them (one per sample, or per element for pointwise losses), 'mean' (every module's
 * default) averages them (a weighted mean for class-weighted CrossEntropyLoss/NLLLoss),
 * 'sum' adds them. The same values as F's {@link F.LossReduction}.
 */
export type Reduction = 'none' | 'mean' | 'sum';

/**
 * Cross entropy between logits [N, C] (or [N, C, …]) and int32 class indices [N] (or class
 * probabilities of the input's shape): log-softmax and NLL in one (torch.nn.CrossEntropyLoss).
 * @example const lossFn = new nn.CrossEntropyLoss(); const loss = lossFn.call(logits, labels);
 */
export class CrossEntropyLoss extends Module {
  /** 'mean' (default): Σ loss / Σ weight of the non-ignored targets; 'sum'; 'none': one loss per sample. */
  readonly reduction: Reduction;
  /** Class-index targets equal to this add no loss, gradient or weight (default -100). */
  readonly ignoreIndex: number;
  /** ε in [0, 1]: the target becomes (1 − ε)·target + ε/C (default 0). */
  readonly labelSmoothing: number;
  /** Buffer: per-class weight, float32 [C], saved in the state dict; null (the default) weighs every class 1. */
  declare weight: Tensor | null;

  constructor(opts: { weight?: Tensor | null; ignoreIndex?: number; reduction?: Reduction; labelSmoothing?: number } = {}) {
    super();
    this.reduction = opts.reduction ?? 'mean';
    this.ignoreIndex = opts.ignoreIndex ?? -100;
    this.labelSmoothing = opts.labelSmoothing ?? 0;
    this.registerBuffer('weight', opts.weight ?? null);
  }

  override forward(input: Tensor, target: Tensor): Tensor {
    return F.crossEntropy(input, target, { weight: this.weight, ignoreIndex: this.ignoreIndex, reduction: this.reduction, labelSmoothing: this.labelSmoothing });
  }
}

/** Negative log likelihood of log-probabilities [N, C] at int32 class indices [N] (torch.nn.NLLLoss). */
export class NLLLoss extends Module {
  /** 'mean' (default): Σ loss / Σ weight of the non-ignored targets; 'sum'; 'none': one loss per sample. */
  readonly reduction: Reduction;
  /** Targets equal to this add no loss, gradient or weight (default -100). */
  readonly ignoreIndex: number;
  /** Buffer: per-class weight, float32 [C]; null (the default) weighs every class 1. */
  declare weight: Tensor | null;

  constructor(opts: { weight?: Tensor | null; ignoreIndex?: number; reduction?: Reduction } = {}) {
    super();
    this.reduction = opts.reduction ?? 'mean';
    this.ignoreIndex = opts.ignoreIndex ?? -100;
    this.registerBuffer('weight', opts.weight ?? null);
  }

  override forward(input: Tensor, target: Tensor): Tensor {
    return F.nllLoss(input, target, { weight: this.weight, ignoreIndex: this.ignoreIndex, reduction: this.reduction });
  }
}

/**
 * Squared error (input − target)² of same-shaped tensors, averaged by default (torch.nn.MSELoss).
 * @example new nn.MSELoss().call(pred /* [64, 1] *\/, y /* [64, 1] *\/) // scalar
 */
export class MSELoss extends Module {
  /** 'mean' (default) over all elements, 'sum', or 'none' (the input's shape). */
  readonly reduction: Reduction;
  constructor(opts: { reduction?: Reduction } = {}) {
    super();
    this.reduction = opts.reduction ?? 'mean';
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.mseLoss(input, target, { reduction: this.reduction });
  }
}

/**
 * Binary cross entropy −(y·log p + (1 − y)·log(1 − p)) of probabilities p in [0, 1] against
 * targets y of the same shape (torch.nn.BCELoss); logs are clamped at −100, as PyTorch does.
 * @example new nn.BCELoss().call(probs /* [64] *\/, targets /* [64] float32 *\/) // scalar
 */
export class BCELoss extends Module {
  /** 'mean' (default) over all elements, 'sum', or 'none' (the input's shape). */
  readonly reduction: Reduction;
  /** Buffer: rescales each element's loss, broadcast to the input's shape; null (default): no rescaling. */
  declare weight: Tensor | null;
  constructor(opts: { weight?: Tensor | null; reduction?: Reduction } = {}) {
    super();
    this.reduction = opts.reduction ?? 'mean';
    this.registerBuffer('weight', opts.weight ?? null);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropy(input, target, { weight: this.weight, reduction: this.reduction });
  }
}

/**
 * Sigmoid and binary cross entropy in one, stable for large logits (torch.nn.BCEWithLogitsLoss).
 * `posWeight` (a buffer named `pos_weight`, as PyTorch) weights the positive class.
 */
export class BCEWithLogitsLoss extends Module {
  /** 'mean' (default) over all elements, 'sum', or 'none' (the input's shape). */
  readonly reduction: Reduction;
  /** Buffer: rescales each element's loss, broadcast to the input's shape; null (default): no rescaling. */
  declare weight: Tensor | null;
  /** Buffer (PyTorch's state-dict name): weight of the positive term, broadcast to the input's shape (typically [C]); null (default): 1. */
  declare pos_weight: Tensor | null;
  constructor(opts: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {}) {
    super();
    this.reduction = opts.reduction ?? 'mean';
    this.registerBuffer('weight', opts.weight ?? null);
    this.registerBuffer('pos_weight', opts.posWeight ?? null);
  }
  /** The `pos_weight` buffer under a camelCase name. */
  get posWeight(): Tensor | null {
    return this.pos_weight;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropyWithLogits(input, target, { weight: this.weight, posWeight: this.pos_weight, reduction: this.reduction });
  }
}
