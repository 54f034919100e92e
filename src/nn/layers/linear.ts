// Linear (fully connected), Identity and Flatten layers.

import type { Tensor } from '../../tensor/tensor.ts';
import { ValueError } from '../../errors.ts';
import * as F from '../functional.ts';
import * as init from '../init.ts';
import { Module, py, type Parameter } from '../module.ts';
import { newParameter, type FactoryOptions } from './common.ts';

/**
 * y = x Wᵀ + b, with W of shape [outFeatures, inFeatures] (torch.nn.Linear). W is
 * initialised Kaiming-uniform with a = √5 and b uniform in ±1/√inFeatures, as PyTorch.
 * @example new nn.Linear(784, 128).call(x /* [64, 784] *\/) // [64, 128]
 */
export class Linear extends Module {
  /** Size of each input sample: the last dim of `x`. */
  readonly inFeatures: number;
  /** Size of each output sample: the last dim of the result. */
  readonly outFeatures: number;
  /** Learnable weight W, shape [outFeatures, inFeatures]. */
  weight: Parameter;
  /** Learnable bias b, shape [outFeatures]; null when constructed with `bias: false`. */
  bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, opts: FactoryOptions & { bias?: boolean } = {}) {
    super();
    for (const [k, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new ValueError('Linear', `${k} must be a non-negative integer, got ${v}`);
    }
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weight = newParameter([outFeatures, inFeatures], 0, opts.device);
    this.bias = opts.bias === false ? null : newParameter([outFeatures], 0, opts.device);
    this.resetParameters();
  }

  /** PyTorch's default initialisation (kaiming_uniform_(a=√5) on W; U(±1/√fan_in) on b). */
  resetParameters(): void {
    init.kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const fanIn = this.inFeatures;
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      init.uniform_(this.bias, -bound, bound);
    }
  }

  override forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${py.bool(this.bias !== null)}`;
  }
}

/** Returns its input unchanged (torch.nn.Identity): a placeholder in Sequential. */
export class Identity extends Module {
  override forward(x: Tensor): Tensor {
    return x;
  }
}

/** Flattens dims startDim..endDim into one (torch.nn.Flatten; default keeps the batch dim). */
export class Flatten extends Module {
  constructor(
    /** First dim to flatten (default 1, so dim 0, the batch, is kept); negative counts from the end. */
    readonly startDim = 1,
    /** Last dim to flatten, inclusive (default -1, the last). */
    readonly endDim = -1,
  ) {
    super();
  }

  override forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}
