// Learning-rate schedulers (torch.optim.lr_scheduler, also optim.lrScheduler): StepLR,
// CosineAnnealingLR and OneCycleLR here, the others in their own files and re-exported, all
// with PyTorch's (recursive, "chainable") formulas so the learning rates agree with PyTorch's
// step for step. Each writes `lr` (and, for OneCycleLR, momentum or beta1) into the
// optimizer's groups; the fused update kernels read them as uniforms.

import { ValueError } from '../errors.ts';
import type { Optimizer } from './optimizer.ts';
import { LRScheduler, type AnyGroup } from './lr-scheduler-base.ts';

export { LRScheduler, type SchedulerStateDict } from './lr-scheduler-base.ts';
export { MultiStepLR, ExponentialLR, LambdaLR, LinearLR, type LrLambda } from './lr-scheduler-decay.ts';
export { SequentialLR, ChainedScheduler } from './lr-scheduler-compose.ts';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from './reduce-lr-on-plateau.ts';

/**
 * Multiplies each group's lr by `gamma` every `stepSize` epochs (torch.optim.lr_scheduler.StepLR).
 * @example const sched = new optim.StepLR(opt, { stepSize: 30, gamma: 0.1 }); // per epoch: sched.step()
 */
export class StepLR extends LRScheduler {
  /** Epochs between decays (a positive integer; required). */
  stepSize: number;
  /** Factor the lr is multiplied by every `stepSize` epochs (default 0.1). */
  gamma: number;
  constructor(optimizer: Optimizer<any>, opts: { stepSize: number; gamma?: number; lastEpoch?: number }) {
    super(optimizer, opts.lastEpoch ?? -1);
    if (!Number.isInteger(opts.stepSize) || opts.stepSize < 1) throw new ValueError('StepLR', `stepSize must be a positive integer, got ${opts.stepSize}`);
    this.stepSize = opts.stepSize;
    this.gamma = opts.gamma ?? 0.1;
    this.initialStep();
  }

  protected override getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }
}

/** Python's modulo (the sign of the divisor). */
const pmod = (a: number, b: number): number => ((a % b) + b) % b;

/**
 * Cosine annealing from each group's initial lr down to `etaMin` over `tMax` epochs
 * (torch.optim.lr_scheduler.CosineAnnealingLR, SGDR without restarts):
 * lr_t = etaMin + (base − etaMin)·(1 + cos(π·t/tMax))/2, computed recursively as PyTorch does.
 */
export class CosineAnnealingLR extends LRScheduler {
  /** Epochs of one half cosine period, from the initial lr down to `etaMin` (positive; required). */
  tMax: number;
  /** Minimum learning rate reached at `tMax` (default 0). */
  etaMin: number;
  constructor(optimizer: Optimizer<any>, opts: { tMax: number; etaMin?: number; lastEpoch?: number }) {
    super(optimizer, opts.lastEpoch ?? -1);
    if (!(opts.tMax > 0)) throw new ValueError('CosineAnnealingLR', `tMax must be positive, got ${opts.tMax}`);
    this.tMax = opts.tMax;
    this.etaMin = opts.etaMin ?? 0;
    this.initialStep();
  }

  protected override getLr(): number[] {
    const { lastEpoch: e, tMax: T, etaMin } = this;
    const gs = this.groups;
    if (e === 0) return gs.map((g) => g.lr);
    if (this.stepCount === 1 && e > 0) return this.baseLrs.map((b) => etaMin + ((b - etaMin) * (1 + Math.cos((e * Math.PI) / T))) / 2);
    if (pmod(e - 1 - T, 2 * T) === 0) return gs.map((g, i) => g.lr + ((this.baseLrs[i]! - etaMin) * (1 - Math.cos(Math.PI / T))) / 2);
    return gs.map((g) => ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (g.lr - etaMin) + etaMin);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => this.etaMin + ((b - this.etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / this.tMax))) / 2);
  }
}

/**
 * Options of {@link OneCycleLR} (torch.optim.lr_scheduler.OneCycleLR's keywords, camelCased).
 * `maxLr` and the cycle length (`totalSteps`, or `epochs` and `stepsPerEpoch`) are required.
 */
export interface OneCycleOptions {
  /** Peak learning rate (one number for every group, or one per group). */
  maxLr: number | number[];
  /** Steps in the cycle; or give `epochs` and `stepsPerEpoch`. */
  totalSteps?: number;
  /** Epochs to train; with `stepsPerEpoch`, gives totalSteps = epochs · stepsPerEpoch. */
  epochs?: number;
  /** Optimizer steps (batches) per epoch; used with `epochs`. */
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent increasing the lr (default 0.3). */
  pctStart?: number;
  /** 'cos' (default) or 'linear'. */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle momentum (SGD's momentum, or Adam's beta1) inversely to the lr (default true). */
  cycleMomentum?: boolean;
  /** Lowest momentum, reached at the lr peak (default 0.85; one value or one per group). */
  baseMomentum?: number | number[];
  /** Highest momentum, at the start and end of the cycle (default 0.95; one value or one per group). */
  maxMomentum?: number | number[];
  /** initial lr = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** min lr = initial lr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Three phases (up, down to the initial lr, then annihilation) instead of two; default false. */
  threePhase?: boolean;
  /**
   * Index of the last batch when resuming (default -1: start fresh). With ≥ 0 the groups must
   * already hold the scheduler's fields (`initialLr`, `maxLr`, …), e.g. from a loaded optimizer.
   */
  lastEpoch?: number;
}

interface Phase {
  endStep: number;
  startLr: 'initialLr' | 'maxLr' | 'minLr';
  endLr: 'initialLr' | 'maxLr' | 'minLr';
  startMomentum: 'maxMomentum' | 'baseMomentum';
  endMomentum: 'maxMomentum' | 'baseMomentum';
}

/**
 * The 1cycle policy (Smith & Topin, 2017; torch.optim.lr_scheduler.OneCycleLR): lr rises from
 * maxLr/divFactor to maxLr over pctStart of the steps, then anneals to a minimum far below,
 * while momentum moves the other way. Step it once per batch.
 * @example new optim.OneCycleLR(opt, { maxLr: 0.1, epochs: 10, stepsPerEpoch: 938 })
 */
export class OneCycleLR extends LRScheduler {
  /** Steps in the whole cycle; stepping more often than this throws a ValueError. */
  totalSteps: number;
  /** How lr and momentum move within a phase: 'cos' (cosine, default) or 'linear'. */
  annealStrategy: 'cos' | 'linear';
  /** Whether momentum is cycled inversely to the lr (default true). */
  cycleMomentum: boolean;
  /** True when the optimizer has `betas` (Adam, AdamW): the cycled momentum is β1 instead of `momentum`. */
  useBeta1: boolean;
  private phases: Phase[];

  constructor(optimizer: Optimizer<any>, opts: OneCycleOptions) {
    const name = 'OneCycleLR';
    let total: number;
    if (opts.totalSteps !== undefined) {
      if (!Number.isInteger(opts.totalSteps) || opts.totalSteps <= 0) throw new ValueError(name, `expected a positive integer totalSteps, got ${opts.totalSteps}`);
      total = opts.totalSteps;
    } else if (opts.epochs !== undefined && opts.stepsPerEpoch !== undefined) {
      if (!Number.isInteger(opts.epochs) || opts.epochs <= 0) throw new ValueError(name, `expected a positive integer epochs, got ${opts.epochs}`);
      if (!Number.isInteger(opts.stepsPerEpoch) || opts.stepsPerEpoch <= 0) throw new ValueError(name, `expected a positive integer stepsPerEpoch, got ${opts.stepsPerEpoch}`);
      total = opts.epochs * opts.stepsPerEpoch;
    } else throw new ValueError(name, 'you must define either totalSteps OR (epochs AND stepsPerEpoch)');
    const pctStart = opts.pctStart ?? 0.3;
    if (!(pctStart >= 0 && pctStart <= 1)) throw new ValueError(name, `expected a number between 0 and 1 for pctStart, got ${pctStart}`);
    const groups = optimizer.paramGroups as AnyGroup[];
    const perGroup = (v: number | number[], what: string): number[] => {
      if (Array.isArray(v)) {
        if (v.length !== groups.length) throw new ValueError(name, `expected ${groups.length} values for ${what}, got ${v.length}`);
        return v;
      }
      return groups.map(() => v);
    };
    const lastEpoch = opts.lastEpoch ?? -1;
    const divFactor = opts.divFactor ?? 25;
    const finalDivFactor = opts.finalDivFactor ?? 1e4;
    const maxLrs = perGroup(opts.maxLr, 'maxLr');
    if (lastEpoch === -1) {
      groups.forEach((g, i) => {
        g.initialLr = maxLrs[i]! / divFactor;
        g.maxLr = maxLrs[i]!;
        g.minLr = g.initialLr / finalDivFactor;
      });
    }
    const cycleMomentum = opts.cycleMomentum ?? true;
    let useBeta1 = false;
    if (cycleMomentum) {
      const d = optimizer.defaults as Record<string, unknown>;
      if (!('momentum' in d) && !('betas' in d)) throw new ValueError(name, 'optimizer must support momentum or beta1 with `cycleMomentum` enabled');
      useBeta1 = 'betas' in d;
      const base = perGroup(opts.baseMomentum ?? 0.85, 'baseMomentum');
      const max = perGroup(opts.maxMomentum ?? 0.95, 'maxMomentum');
      if (lastEpoch === -1) {
        groups.forEach((g, i) => {
          if (useBeta1) g.betas = [max[i]!, (g.betas as number[])[1]!];
          else g.momentum = max[i]!;
          g.maxMomentum = max[i]!;
          g.baseMomentum = base[i]!;
        });
      }
    }
    super(optimizer, lastEpoch);
    this.totalSteps = total;
    this.annealStrategy = opts.annealStrategy ?? 'cos';
    if (this.annealStrategy !== 'cos' && this.annealStrategy !== 'linear') throw new ValueError(name, `annealStrategy must be 'cos' or 'linear', got '${this.annealStrategy as string}'`);
    this.cycleMomentum = cycleMomentum;
    this.useBeta1 = useBeta1;
    this.phases = opts.threePhase
      ? [
          { endStep: pctStart * total - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
          { endStep: 2 * pctStart * total - 2, startLr: 'maxLr', endLr: 'initialLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
          { endStep: total - 1, startLr: 'initialLr', endLr: 'minLr', startMomentum: 'maxMomentum', endMomentum: 'maxMomentum' },
        ]
      : [
          { endStep: pctStart * total - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
          { endStep: total - 1, startLr: 'maxLr', endLr: 'minLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
        ];
    this.initialStep();
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === 'linear') return (end - start) * pct + start;
    return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
  }

  protected override getLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      throw new ValueError('OneCycleLR', `tried to step ${stepNum} times; the specified number of total steps is ${this.totalSteps}`);
    }
    return this.groups.map((g) => {
      let startStep = 0;
      let lr = 0;
      let momentum = 0;
      for (let i = 0; i < this.phases.length; i++) {
        const ph = this.phases[i]!;
        if (stepNum <= ph.endStep || i === this.phases.length - 1) {
          const pct = (stepNum - startStep) / (ph.endStep - startStep);
          lr = this.anneal(g[ph.startLr] as number, g[ph.endLr] as number, pct);
          if (this.cycleMomentum) momentum = this.anneal(g[ph.startMomentum] as number, g[ph.endMomentum] as number, pct);
          break;
        }
        startStep = ph.endStep;
      }
      if (this.cycleMomentum) {
        if (this.useBeta1) g.betas = [momentum, (g.betas as number[])[1]!];
        else g.momentum = momentum;
      }
      return lr;
    });
  }
}
