// BatchNorm1d/2d and LayerNorm, composed from tensor ops (mean, sub, square, rsqrt), so
// their gradients come from the ops' rules. Batch statistics use the biased variance
// mean((x − mean)²) to normalise and the unbiased one to update the running variance, as
// PyTorch does.

import type { Tensor } from '../../tensor/tensor.ts';
import { scope } from '../../tensor/scope.ts';
import { noGrad } from '../../autograd/grad-mode.ts';
import { ShapeError, ValueError, fmtShape } from '../../errors.ts';
import * as init from '../init.ts';
import { Module, py, type Parameter } from '../module.ts';
import { newBuffer, newParameter, type FactoryOptions } from './common.ts';

/** Options of BatchNorm1d and BatchNorm2d (torch.nn.BatchNorm*d's keywords, camelCased). */
export interface BatchNormOptions extends FactoryOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Weight of the new batch in the running averages (default 0.1); null: cumulative average. */
  momentum?: number | null;
  /** Learnable per-channel scale and shift (default true). */
  affine?: boolean;
  /** Keep running mean/variance for eval mode (default true). */
  trackRunningStats?: boolean;
}

/**
 * Shared body of BatchNorm1d/2d (PyTorch's _BatchNorm). Buffers keep PyTorch's state-dict
 * names (`running_mean`, `running_var`, `num_batches_tracked`) so checkpoints interoperate;
 * `runningMean`, `runningVar` and `numBatchesTracked` read them.
 */
abstract class BatchNorm extends Module {
  /** Channels C: the size of the input's dim 1. */
  readonly numFeatures: number;
  /** Added to the variance before the square root, for stability (default 1e-5). */
  readonly eps: number;
  /** Weight of each new batch in the running averages (default 0.1), or null for a cumulative average; may be changed between steps. */
  momentum: number | null;
  /** Whether `weight` and `bias` exist and are learned (default true). */
  readonly affine: boolean;
  /** Whether running statistics are kept and used in eval mode (default true); without them eval mode uses batch statistics. */
  readonly trackRunningStats: boolean;
  /** Learnable per-channel scale γ, shape [C], initialised to 1; null without `affine`. */
  weight: Parameter | null;
  /** Learnable per-channel shift β, shape [C], initialised to 0; null without `affine`. */
  bias: Parameter | null;
  /** Buffer: running per-channel mean, shape [C], starting at 0 (PyTorch's state-dict name); null without `trackRunningStats`. */
  declare running_mean: Tensor | null;
  /** Buffer: running per-channel unbiased variance, shape [C], starting at 1; null without `trackRunningStats`. */
  declare running_var: Tensor | null;
  /** Buffer: int32 scalar counting training batches seen (drives the cumulative average when momentum is null); null without `trackRunningStats`. */
  declare num_batches_tracked: Tensor | null;

  /** @throws ValueError unless `numFeatures` is a positive integer. */
  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures < 1) throw new ValueError(this.constructor.name, `numFeatures must be a positive integer, got ${numFeatures}`);
    this.numFeatures = numFeatures;
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    this.weight = this.affine ? newParameter([numFeatures], 1, opts.device) : null;
    this.bias = this.affine ? newParameter([numFeatures], 0, opts.device) : null;
    if (this.trackRunningStats) {
      this.registerBuffer('running_mean', newBuffer([numFeatures], 0, opts.device));
      this.registerBuffer('running_var', newBuffer([numFeatures], 1, opts.device));
      this.registerBuffer('num_batches_tracked', newBuffer([], 0, opts.device, 'int32'));
    } else {
      this.registerBuffer('running_mean', null);
      this.registerBuffer('running_var', null);
      this.registerBuffer('num_batches_tracked', null);
    }
  }

  /** The `running_mean` buffer under a camelCase name (the module's own tensor: read it, don't dispose it). */
  get runningMean(): Tensor | null {
    return this.running_mean;
  }
  /** The `running_var` buffer under a camelCase name. */
  get runningVar(): Tensor | null {
    return this.running_var;
  }
  /** The `num_batches_tracked` buffer under a camelCase name. */
  get numBatchesTracked(): Tensor | null {
    return this.num_batches_tracked;
  }

  /** Zeroes the running statistics (mean 0, variance 1, count 0). */
  resetRunningStats(): void {
    if (!this.trackRunningStats) return;
    init.zeros_(this.running_mean!);
    init.ones_(this.running_var!);
    init.zeros_(this.num_batches_tracked!);
  }

  /** Resets the running statistics, and γ to 1 and β to 0 (PyTorch's initialisation). */
  resetParameters(): void {
    this.resetRunningStats();
    if (this.affine) {
      init.ones_(this.weight!);
      init.zeros_(this.bias!);
    }
  }

  /** Throws unless `x` has a rank this layer accepts. */
  protected abstract checkInput(x: Tensor): void;

  override forward(x: Tensor): Tensor {
    this.checkInput(x);
    const name = this.constructor.name;
    if (x.shape[1] !== this.numFeatures) {
      throw new ShapeError(name, `expected ${this.numFeatures} channels in dim 1, got input of shape ${fmtShape(x.shape)}`, [x.shape]);
    }
    const dims = x.shape.map((_, i) => i).filter((i) => i !== 1);
    // Per-channel parameters and statistics broadcast as [1, C, 1, …].
    const bshape = x.shape.map((d, i) => (i === 1 ? d : 1));
    const useBatchStats = this.training || !this.trackRunningStats;
    return scope(() => {
      let y: Tensor;
      if (useBatchStats) {
        const n = x.numel / this.numFeatures;
        if (this.training && n <= 1) {
          throw new ValueError(name, `expected more than 1 value per channel when training, got input of shape ${fmtShape(x.shape)}`);
        }
        const mean = x.mean(dims, true);
        const centered = x.sub(mean);
        const variance = centered.square().mean(dims, true); // biased: mean((x − mean)²)
        y = centered.mul(variance.add(this.eps).rsqrt());
        if (this.training && this.trackRunningStats) this.updateRunningStats(mean, variance, n);
      } else {
        const rm = this.running_mean!.reshape(bshape);
        const rv = this.running_var!.reshape(bshape);
        y = x.sub(rm).mul(rv.add(this.eps).rsqrt());
      }
      if (this.affine) y = y.mul(this.weight!.reshape(bshape)).add(this.bias!.reshape(bshape));
      return y;
    });
  }

  /** running ← (1 − f)·running + f·batch, with f = momentum, or 1/count when momentum is null. */
  private updateRunningStats(mean: Tensor, variance: Tensor, n: number): void {
    noGrad(() => {
      const nbt = this.num_batches_tracked!;
      nbt.add_(1);
      const bm = mean.reshape([this.numFeatures]);
      const bv = variance.reshape([this.numFeatures]).mul(n / (n - 1)); // unbiased for the running estimate
      if (this.momentum === null) {
        const f = nbt.float().reciprocal(); // cumulative moving average
        this.running_mean!.copy_(this.running_mean!.mul(f.rsub(1)).add(bm.mul(f)));
        this.running_var!.copy_(this.running_var!.mul(f.rsub(1)).add(bv.mul(f)));
      } else {
        const f = this.momentum;
        this.running_mean!.copy_(this.running_mean!.mul(1 - f).add(bm.mul(f)));
        this.running_var!.copy_(this.running_var!.mul(1 - f).add(bv.mul(f)));
      }
    });
  }

  override extraRepr(): string {
    const m = this.momentum === null ? 'None' : py.float(this.momentum);
    return `${this.numFeatures}, eps=${py.float(this.eps)}, momentum=${m}, affine=${py.bool(this.affine)}, track_running_stats=${py.bool(this.trackRunningStats)}`;
  }
}

/**
 * Batch normalisation over [N, C] or [N, C, L] input (torch.nn.BatchNorm1d): per channel,
 * (x − mean) / √(var + eps) · weight + bias, with batch statistics in training and running
 * statistics in eval mode. Output has the input's shape. Throws a ShapeError for another
 * rank or channel count, and a ValueError when training on one value per channel.
 * @example new nn.BatchNorm1d(128).call(x /* [64, 128] *\/) // [64, 128]
 */
export class BatchNorm1d extends BatchNorm {
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3) throw new ShapeError('BatchNorm1d', `expected 2D or 3D input, got shape ${fmtShape(x.shape)}`, [x.shape]);
  }
}

/**
 * Batch normalisation over [N, C, H, W] input (torch.nn.BatchNorm2d): per channel, over N, H
 * and W, as BatchNorm1d. Output has the input's shape.
 * @example new nn.BatchNorm2d(20).call(x /* [64, 20, 24, 24] *\/) // [64, 20, 24, 24]
 */
export class BatchNorm2d extends BatchNorm {
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 4) throw new ShapeError('BatchNorm2d', `expected 4D input, got shape ${fmtShape(x.shape)}`, [x.shape]);
  }
}

/** Options of LayerNorm (torch.nn.LayerNorm's keywords, camelCased). */
export interface LayerNormOptions extends FactoryOptions {
  /** Default 1e-5. */
  eps?: number;
  /** Learnable weight and bias of normalizedShape (default true). */
  elementwiseAffine?: boolean;
  /** With elementwiseAffine, whether to learn the bias too (default true). */
  bias?: boolean;
}

/**
 * Layer normalisation over the last dims (torch.nn.LayerNorm): for each sample,
 * (x − mean) / √(var + eps) · weight + bias over the trailing `normalizedShape` dims.
 * @example new nn.LayerNorm(10).call(x /* [N, 10] *\/)
 */
export class LayerNorm extends Module {
  /** The trailing dims normalised over (a number given to the constructor becomes [n]). */
  readonly normalizedShape: readonly number[];
  /** Added to the variance before the square root (default 1e-5). */
  readonly eps: number;
  /** Whether `weight` (and `bias`) exist and are learned (default true). */
  readonly elementwiseAffine: boolean;
  /** Learnable elementwise scale of shape `normalizedShape`, initialised to 1; null without `elementwiseAffine`. */
  weight: Parameter | null;
  /** Learnable elementwise shift of shape `normalizedShape`, initialised to 0; null without `elementwiseAffine` or with `bias: false`. */
  bias: Parameter | null;

  /** @throws ValueError when `normalizedShape` is empty or holds a non-positive or fractional size. */
  constructor(normalizedShape: number | readonly number[], opts: LayerNormOptions = {}) {
    super();
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    if (shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new ValueError('LayerNorm', `normalizedShape must be positive integers, got ${JSON.stringify(normalizedShape)}`);
    }
    this.normalizedShape = Object.freeze(shape);
    this.eps = opts.eps ?? 1e-5;
    this.elementwiseAffine = opts.elementwiseAffine ?? true;
    this.weight = this.elementwiseAffine ? newParameter(shape, 1, opts.device) : null;
    this.bias = this.elementwiseAffine && opts.bias !== false ? newParameter(shape, 0, opts.device) : null;
  }

  /** Sets weight to 1 and bias to 0 (PyTorch's initialisation). */
  resetParameters(): void {
    if (this.weight) init.ones_(this.weight);
    if (this.bias) init.zeros_(this.bias);
  }

  override forward(x: Tensor): Tensor {
    const k = this.normalizedShape.length;
    const tail = x.shape.slice(x.ndim - k);
    if (x.ndim < k || tail.some((d, i) => d !== this.normalizedShape[i])) {
      throw new ShapeError('LayerNorm', `input of shape ${fmtShape(x.shape)} does not end with the normalized shape ${fmtShape(this.normalizedShape)}`, [x.shape, this.normalizedShape]);
    }
    const dims = Array.from({ length: k }, (_, i) => x.ndim - k + i);
    return scope(() => {
      const centered = x.sub(x.mean(dims, true));
      const variance = centered.square().mean(dims, true);
      let y = centered.mul(variance.add(this.eps).rsqrt());
      if (this.weight) y = y.mul(this.weight);
      if (this.bias) y = y.add(this.bias);
      return y;
    });
  }

  override extraRepr(): string {
    return `${py.tuple(this.normalizedShape)}, eps=${py.float(this.eps)}, elementwise_affine=${py.bool(this.elementwiseAffine)}`;
  }
}
