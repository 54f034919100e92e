// Dropout and Dropout2d layers: active in training mode only, wrapping F.dropout/F.dropout2d
// (seeded by manualSeed).

import type { Tensor } from '../../tensor/tensor.ts';
import { ValueError } from '../../errors.ts';
import * as F from '../functional.ts';
import { Module, py } from '../module.ts';

abstract class DropoutBase extends Module {
  /** Probability of zeroing an element (Dropout) or a channel (Dropout2d), in [0, 1]; default 0.5. */
  readonly p: number;
  /** @throws ValueError unless 0 ≤ p ≤ 1. */
  constructor(p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw new ValueError(this.constructor.name, `dropout probability has to be between 0 and 1, but got ${p}`);
    this.p = p;
  }
  override extraRepr(): string {
    return `p=${py.float(this.p)}, inplace=False`;
  }
}

/**
 * Zeroes each element with probability p during training and scales the rest by 1/(1 − p)
 * (torch.nn.Dropout); the identity in eval mode. Output has the input's shape; the mask
 * comes from the seeded generator (`manualSeed`).
 * @example const drop = new nn.Dropout(0.2); drop.call(x); drop.eval(); drop.call(x) // x's values
 */
export class Dropout extends DropoutBase {
  override forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training);
  }
}

/**
 * Zeroes whole channels of [N, C, H, W] (or [C, H, W]) input with probability p during
 * training, scaling the kept ones by 1/(1 − p) (torch.nn.Dropout2d); the identity in eval mode.
 * @example new nn.Dropout2d(0.25).call(x /* [64, 20, 12, 12] *\/) // same shape
 */
export class Dropout2d extends DropoutBase {
  override forward(x: Tensor): Tensor {
    return F.dropout2d(x, this.p, this.training);
  }
}
