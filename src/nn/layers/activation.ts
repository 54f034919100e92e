// Activation layers: ReLU, Sigmoid, Tanh, GELU, Softmax, LogSoftmax.

import type { Tensor } from '../../tensor/tensor.ts';
import { ValueError } from '../../errors.ts';
import * as F from '../functional.ts';
import { Module, py } from '../module.ts';

/**
 * max(x, 0) elementwise (torch.nn.ReLU); output has the input's shape. Gradient 1 for x > 0,
 * else 0 (0 at the kink, as PyTorch).
 * @example new nn.ReLU().call(tensor([-1, 2])) // tensor([0., 2.])
 */
export class ReLU extends Module {
  override forward(x: Tensor): Tensor {
    return x.relu();
  }
}

/**
 * 1 / (1 + e^−x) elementwise (torch.nn.Sigmoid), in (0, 1); output has the input's shape.
 * @example new nn.Sigmoid().call(tensor([0])) // tensor([0.5000])
 */
export class Sigmoid extends Module {
  override forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}

/**
 * tanh elementwise (torch.nn.Tanh), in (−1, 1); output has the input's shape.
 * @example new nn.Tanh().call(tensor([0, 1])) // tensor([0.0000, 0.7616])
 */
export class Tanh extends Module {
  override forward(x: Tensor): Tensor {
    return x.tanh();
  }
}

/**
 * x·Φ(x) elementwise, Φ the standard normal CDF (torch.nn.GELU); `approximate: 'tanh'` uses
 * the tanh approximation. Throws a ValueError for any other `approximate`.
 * @example new nn.GELU({ approximate: 'tanh' }).call(x) // x's shape
 */
export class GELU extends Module {
  /** 'none' (exact, with erf; the default) or 'tanh' (0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))). */
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
  /** @param dim the dim that sums to 1 (negative counts from the end); null (the default) picks PyTorch's legacy implicit dim. */
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
  /** @param dim the dim to normalise over (negative counts from the end); null (the default) picks PyTorch's legacy implicit dim. */
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
