// Activation layers: ReLU, Sigmoid, Tanh, GELU, Softmax, LogSoftmax.

import type { Tensor } from '../../tensor/tensor.ts';
import { ValueError } from '../../errors.ts';
import * as F from '../functional.ts';
import { Module, py } from '../module.ts';

/** max(x, 0) elementwise (torch.nn.ReLU). */
export class ReLU extends Module {
  override forward(x: Tensor): Tensor {
    return x.relu();
  }
}

/** 1 / (1 + e^−x) elementwise (torch.nn.Sigmoid). */
export class Sigmoid extends Module {
  override forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}

/** tanh elementwise (torch.nn.Tanh). */
export class Tanh extends Module {
  override forward(x: Tensor): Tensor {
    return x.tanh();
  }
}

/** x·Φ(x) (torch.nn.GELU); `approximate: 'tanh'` uses the tanh approximation. */
export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';
  constructor(opts: { approximate?: 'none' | 'tanh' } | 'none' | 'tanh' = {}) {
    super();
    const a = typeof opts === 'string' ? opts : (opts.approximate ?? 'none');
    if (a !== 'none' && a !== 'tanh') throw new ValueError('GELU', `approximate must be 'none' or 'tanh', got ${JSON.stringify(a)}`);
    this.approximate = a;
  }
  override forward(x: Tensor): Tensor {
    return F.gelu(x, { approximate: this.approximate });
  }
  override extraRepr(): string {
    return `approximate=${py.str(this.approximate)}`;
  }
}

/** PyTorch's implicit softmax dim (a deprecated default): 0 for 0-, 1- and 3-D input, else 1. */
function implicitDim(ndim: number): number {
  return ndim === 0 || ndim === 1 || ndim === 3 ? 0 : 1;
}

/**
 * e^x / Σ e^x along `dim` (torch.nn.Softmax). Without a dim, PyTorch's legacy implicit choice
 * applies (0 for 0/1/3-D input, else 1); pass one.
 * @example new nn.Softmax(1).call(logits /* [64, 10] *\/)
 */
export class Softmax extends Module {
  constructor(readonly dim: number | null = null) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return F.softmax(x, this.dim ?? implicitDim(x.ndim));
  }
  override extraRepr(): string {
    return `dim=${this.dim === null ? 'None' : this.dim}`;
  }
}

/** log(softmax(x)) along `dim`, computed stably (torch.nn.LogSoftmax). */
export class LogSoftmax extends Module {
  constructor(readonly dim: number | null = null) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return F.logSoftmax(x, this.dim ?? implicitDim(x.ndim));
  }
  override extraRepr(): string {
    return `dim=${this.dim === null ? 'None' : this.dim}`;
  }
}
