// Losses as modules (torch.nn.CrossEntropyLoss, NLLLoss, MSELoss, BCELoss, BCEWithLogitsLoss),
// each a thin holder of its options around the F function. Class weights are buffers (as
// PyTorch's _WeightedLoss registers them), so they follow the module's state dict.

import type { Tensor } from '../../tensor/tensor.ts';
import * as F from '../functional.ts';
import { Module } from '../module.ts';

type Reduction = 'none' | 'mean' | 'sum';

/**
 * Cross entropy between logits [N, C] (or [N, C, …]) and int32 class indices [N] (or class
 * probabilities of the input's shape): log-softmax and NLL in one (torch.nn.CrossEntropyLoss).
 * @example const lossFn = new nn.CrossEntropyLoss(); const loss = lossFn.call(logits, labels);
 */
export class CrossEntropyLoss extends Module {
  readonly reduction: Reduction;
  readonly ignoreIndex: number;
  readonly labelSmoothing: number;
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
  readonly reduction: Reduction;
  readonly ignoreIndex: number;
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

/** Mean squared error (torch.nn.MSELoss). */
export class MSELoss extends Module {
  readonly reduction: Reduction;
  constructor(opts: { reduction?: Reduction } = {}) {
    super();
    this.reduction = opts.reduction ?? 'mean';
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.mseLoss(input, target, { reduction: this.reduction });
  }
}

/** Binary cross entropy of probabilities in [0, 1] (torch.nn.BCELoss). */
export class BCELoss extends Module {
  readonly reduction: Reduction;
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
  readonly reduction: Reduction;
  declare weight: Tensor | null;
  declare pos_weight: Tensor | null;
  constructor(opts: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {}) {
    super();
    this.reduction = opts.reduction ?? 'mean';
    this.registerBuffer('weight', opts.weight ?? null);
    this.registerBuffer('pos_weight', opts.posWeight ?? null);
  }
  get posWeight(): Tensor | null {
    return this.pos_weight;
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return F.binaryCrossEntropyWithLogits(input, target, { weight: this.weight, posWeight: this.pos_weight, reduction: this.reduction });
  }
}
