// ReduceLROnPlateau (torch.optim.lr_scheduler.ReduceLROnPlateau, PyTorch 1.13): lowers the
// learning rate when a monitored metric stops improving. Driven by the metric, not by epochs,
// so it is not an LRScheduler (as in PyTorch); its state dict has the same shape.

import { ValueError } from '../errors.ts';
import type { Optimizer, ParamGroup } from './optimizer.ts';
import { fieldsOf, restoreFields, type SchedulerStateDict } from './lr-scheduler-base.ts';

/** Options of {@link ReduceLROnPlateau} (PyTorch's keywords, camelCased; `verbose` is not kept). */
export interface ReduceLROnPlateauOptions {
  /** 'min' (default): reduce when the metric stops decreasing; 'max': when it stops increasing. */
  mode?: 'min' | 'max';
  /** new lr = lr · factor (below 1; default 0.1). */
  factor?: number;
  /** Epochs without improvement tolerated before reducing (default 10). */
  patience?: number;
  /** How much better a metric must be to count as an improvement (default 1e-4). */
  threshold?: number;
  /** 'rel' (default): better than best·(1 ∓ threshold); 'abs': better than best ∓ threshold. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting bad epochs again (default 0). */
  cooldown?: number;
  /** Lower bound of the lr: one for every group, or one per group (default 0). */
  minLr?: number | readonly number[];
  /** A reduction smaller than this is skipped (default 1e-8). */
  eps?: number;
}

/**
 * Reduces each group's lr by `factor` once the metric passed to `step(metric)` has not
 * improved for more than `patience` epochs (torch.optim.lr_scheduler.ReduceLROnPlateau).
 * The metric is a number: read a loss tensor with `await loss.item()` first.
 * @example
 * const sched = new optim.ReduceLROnPlateau(opt, { factor: 0.5, patience: 2 });
 * // each epoch: sched.step(validationLoss);
 */
export class ReduceLROnPlateau {
  /** Factor the lr is multiplied by at a reduction. */
  factor: number;
  /** Lower bound of each group's lr. */
  minLrs: number[];
  /** Epochs without improvement tolerated before reducing. */
  patience: number;
  /** Epochs to wait after a reduction. */
  cooldown: number;
  /** Epochs of cooldown left. */
  cooldownCounter = 0;
  /** 'min' or 'max'. */
  mode: 'min' | 'max';
  /** Improvement threshold. */
  threshold: number;
  /** 'rel' or 'abs'. */
  thresholdMode: 'rel' | 'abs';
  /** The best metric so far (±Infinity before the first step). */
  best: number;
  /** Consecutive epochs without improvement. */
  numBadEpochs = 0;
  /** The worst value for the mode (Infinity for 'min', -Infinity for 'max'). */
  modeWorse: number;
  /** Smallest reduction applied. */
  eps: number;
  /** Number of step() calls (PyTorch's last_epoch). */
  lastEpoch = 0;
  private lastLr: number[];

  constructor(
    /** The optimizer whose groups' `lr` this scheduler lowers. */
    readonly optimizer: Optimizer<any>,
    opts: ReduceLROnPlateauOptions = {},
  ) {
    const name = 'ReduceLROnPlateau';
    this.factor = opts.factor ?? 0.1;
    if (!(this.factor < 1)) throw new ValueError(name, `factor should be < 1.0, got ${this.factor}`);
    const n = optimizer.paramGroups.length;
    const minLr = opts.minLr ?? 0;
    if (Array.isArray(minLr)) {
      if (minLr.length !== n) throw new ValueError(name, `expected ${n} minLrs, got ${minLr.length}`);
      this.minLrs = [...minLr];
    } else this.minLrs = Array.from({ length: n }, () => minLr as number);
    this.patience = opts.patience ?? 10;
    this.cooldown = opts.cooldown ?? 0;
    this.mode = opts.mode ?? 'min';
    this.threshold = opts.threshold ?? 1e-4;
    this.thresholdMode = opts.thresholdMode ?? 'rel';
    this.eps = opts.eps ?? 1e-8;
    this.modeWorse = ReduceLROnPlateau.checkMode(name, this.mode, this.thresholdMode);
    this.best = this.modeWorse;
    this.lastLr = this.groups.map((g) => g.lr);
  }

  private get groups(): ParamGroup<{ lr: number }>[] {
    return this.optimizer.paramGroups;
  }

  /** Validates a mode and threshold mode; returns the worst value of the mode. */
  private static checkMode(op: string, mode: unknown, thresholdMode: unknown): number {
    if (mode !== 'min' && mode !== 'max') throw new ValueError(op, `mode ${String(mode)} is unknown! (expected 'min' or 'max')`);
    if (thresholdMode !== 'rel' && thresholdMode !== 'abs') throw new ValueError(op, `threshold mode ${String(thresholdMode)} is unknown! (expected 'rel' or 'abs')`);
    return mode === 'min' ? Infinity : -Infinity;
  }

  /** Whether `a` improves on `best` under the mode and threshold (a NaN never does). */
  isBetter(a: number, best: number): boolean {
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? a < best * (1 - this.threshold) : a < best - this.threshold;
    return this.thresholdMode === 'rel' ? a > best * (this.threshold + 1) : a > best + this.threshold;
  }

  /** True while a reduction's cooldown lasts. */
  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  /** Records this epoch's `metric` (e.g. the validation loss) and reduces the lr when it has stalled. */
  step(metric: number): void {
    if (typeof metric !== 'number') throw new ValueError('ReduceLROnPlateau.step', `expects the metric as a number (read a tensor with await t.item() first), got ${typeof metric}`);
    this.lastEpoch += 1;
    if (this.isBetter(metric, this.best)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else this.numBadEpochs += 1;
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0; // bad epochs in cooldown are ignored
    }
    if (this.numBadEpochs > this.patience) {
      this.groups.forEach((g, i) => {
        const newLr = Math.max(g.lr * this.factor, this.minLrs[i]!);
        if (g.lr - newLr > this.eps) g.lr = newLr;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.groups.map((g) => g.lr);
  }

  /** The learning rates after the last step() (the groups' current ones before any). */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** Everything but the optimizer (PyTorch's state_dict); `best` may be ±Infinity, which checkpoints keep. */
  stateDict(): SchedulerStateDict {
    return fieldsOf(this, ['optimizer']);
  }

  /** Restores what `stateDict()` saved (its modes checked before anything is set). */
  loadStateDict(sd: SchedulerStateDict): void {
    const op = 'ReduceLROnPlateau.loadStateDict';
    const worse = ReduceLROnPlateau.checkMode(op, sd?.mode ?? this.mode, sd?.thresholdMode ?? this.thresholdMode);
    restoreFields(this, sd, op, ['optimizer']);
    this.modeWorse = worse;
  }
}
