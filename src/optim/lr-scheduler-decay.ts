// MultiStepLR, ExponentialLR, LambdaLR and LinearLR (torch.optim.lr_scheduler, PyTorch 1.13):
// each with PyTorch's chainable step and, where PyTorch has one, the closed form that
// step(epoch) and SequentialLR's milestones use.

import { ValueError } from '../errors.ts';
import type { Optimizer } from './optimizer.ts';
import { LRScheduler, fieldsOf, restoreFields, type SchedulerStateDict } from './lr-scheduler-base.ts';

/** Python's bisect_right: how many of the sorted `xs` are ≤ x. */
function bisectRight(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x < xs[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Multiplies each group's lr by `gamma` at every milestone epoch (a milestone listed twice
 * decays twice), as torch.optim.lr_scheduler.MultiStepLR.
 * @example const sched = new optim.MultiStepLR(opt, { milestones: [30, 80], gamma: 0.1 });
 */
export class MultiStepLR extends LRScheduler {
  /** The epochs at which the lr decays, sorted (PyTorch keeps them as a Counter). */
  milestones: number[];
  /** Factor the lr is multiplied by at each milestone (default 0.1). */
  gamma: number;
  constructor(optimizer: Optimizer<any>, opts: { milestones: readonly number[]; gamma?: number; lastEpoch?: number }) {
    super(optimizer, opts.lastEpoch ?? -1);
    if (!Array.isArray(opts.milestones) || opts.milestones.some((m) => !Number.isInteger(m))) {
      throw new ValueError('MultiStepLR', `milestones must be a list of integer epochs, got ${JSON.stringify(opts.milestones)}`);
    }
    this.milestones = [...opts.milestones].sort((a, b) => a - b);
    this.gamma = opts.gamma ?? 0.1;
    this.initialStep();
  }

  protected override getLr(): number[] {
    const hits = this.milestones.filter((m) => m === this.lastEpoch).length;
    if (hits === 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma ** hits);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** bisectRight(this.milestones, this.lastEpoch));
  }
}

/**
 * Multiplies each group's lr by `gamma` every epoch (torch.optim.lr_scheduler.ExponentialLR).
 * @example const sched = new optim.ExponentialLR(opt, { gamma: 0.95 });
 */
export class ExponentialLR extends LRScheduler {
  /** Factor the lr is multiplied by every epoch (required). */
  gamma: number;
  constructor(optimizer: Optimizer<any>, opts: { gamma: number; lastEpoch?: number }) {
    super(optimizer, opts.lastEpoch ?? -1);
    if (typeof opts.gamma !== 'number' || Number.isNaN(opts.gamma)) throw new ValueError('ExponentialLR', `gamma must be a number, got ${opts.gamma}`);
    this.gamma = opts.gamma;
    this.initialStep();
  }

  protected override getLr(): number[] {
    if (this.lastEpoch === 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** this.lastEpoch);
  }
}

/** A learning-rate factor as a function of the epoch (LambdaLR's `lrLambda`). */
export type LrLambda = (epoch: number) => number;

/**
 * Sets each group's lr to its initial lr times `lrLambda(epoch)` (one function for every
 * group, or one per group), as torch.optim.lr_scheduler.LambdaLR. As in PyTorch, the
 * functions are not part of the state dict (it holds `null` for each): build the scheduler
 * with the same functions before loading.
 * @example const sched = new optim.LambdaLR(opt, { lrLambda: (epoch) => 0.95 ** epoch });
 */
export class LambdaLR extends LRScheduler {
  /** The factor functions, one per group. */
  lrLambdas: LrLambda[];
  constructor(optimizer: Optimizer<any>, opts: { lrLambda: LrLambda | readonly LrLambda[]; lastEpoch?: number }) {
    const n = optimizer.paramGroups.length;
    const fns = Array.isArray(opts.lrLambda) ? [...opts.lrLambda] : Array.from({ length: n }, () => opts.lrLambda as LrLambda);
    if (fns.length !== n) throw new ValueError('LambdaLR', `expected ${n} lrLambdas (one per parameter group), but got ${fns.length}`);
    if (fns.some((f) => typeof f !== 'function')) throw new ValueError('LambdaLR', 'lrLambda must be a function of the epoch, or a list of them');
    super(optimizer, opts.lastEpoch ?? -1);
    this.lrLambdas = fns;
    this.initialStep();
  }

  protected override getLr(): number[] {
    return this.baseLrs.map((b, i) => b * this.lrLambdas[i]!(this.lastEpoch));
  }

  /** The state without the functions (`lrLambdas` holds a null per group), as PyTorch saves plain functions. */
  override stateDict(): SchedulerStateDict {
    return { ...fieldsOf(this, ['optimizer', 'lrLambdas']), lrLambdas: this.lrLambdas.map(() => null) };
  }

  /** Restores the state; the scheduler's own functions stay. */
  override loadStateDict(sd: SchedulerStateDict): void {
    restoreFields(this, sd, 'LambdaLR.loadStateDict', ['optimizer', 'lrLambdas']);
  }
}

/**
 * Scales each group's lr by a factor moving linearly from `startFactor` to `endFactor` over
 * `totalIters` epochs, then holds it (torch.optim.lr_scheduler.LinearLR); a warm-up when
 * startFactor < endFactor.
 * @example const warmup = new optim.LinearLR(opt, { startFactor: 0.1, totalIters: 5 });
 */
export class LinearLR extends LRScheduler {
  /** Factor of the first epoch, in (0, 1] (default 1/3). */
  startFactor: number;
  /** Factor reached after `totalIters` epochs, in [0, 1] (default 1). */
  endFactor: number;
  /** Epochs over which the factor moves (default 5). */
  totalIters: number;
  constructor(optimizer: Optimizer<any>, opts: { startFactor?: number; endFactor?: number; totalIters?: number; lastEpoch?: number } = {}) {
    const startFactor = opts.startFactor ?? 1 / 3;
    const endFactor = opts.endFactor ?? 1;
    const totalIters = opts.totalIters ?? 5;
    // PyTorch 1.13 accepts 0, then divides by zero on the second step; later versions refuse it.
    if (!(startFactor > 0 && startFactor <= 1)) throw new ValueError('LinearLR', `starting multiplicative factor expected to be greater than 0 and less or equal to 1, got ${startFactor}`);
    if (!(endFactor >= 0 && endFactor <= 1)) throw new ValueError('LinearLR', `ending multiplicative factor expected to be between 0 and 1, got ${endFactor}`);
    if (!Number.isInteger(totalIters) || totalIters < 1) throw new ValueError('LinearLR', `totalIters must be a positive integer, got ${totalIters}`);
    super(optimizer, opts.lastEpoch ?? -1);
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = totalIters;
    this.initialStep();
  }

  protected override getLr(): number[] {
    const { lastEpoch: e, startFactor: s, endFactor: f, totalIters: n } = this;
    if (e === 0) return this.groups.map((g) => g.lr * s);
    if (e > n) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * (1 + (f - s) / (n * s + (e - 1) * (f - s))));
  }

  protected override closedFormLr(): number[] {
    const { lastEpoch: e, startFactor: s, endFactor: f, totalIters: n } = this;
    return this.baseLrs.map((b) => b * (s + ((f - s) * Math.min(n, e)) / n));
  }
}
