// Learning-rate schedulers (torch.optim.lr_scheduler): StepLR, CosineAnnealingLR and
// OneCycleLR, with PyTorch's (recursive, "chainable") formulas so the learning rates agree
// with PyTorch's step for step. Each writes `lr` (and, for OneCycleLR, momentum or beta1)
// into the optimizer's groups; the fused update kernels read them as uniforms.

import { ValueError } from '../errors.ts';
import type { Optimizer, ParamGroup } from './optimizer.ts';

type AnyGroup = ParamGroup<{ lr: number }> & Record<string, unknown>;

/** The state a scheduler saves (plain numbers: JSON-safe, so checkpoints keep it in metadata). */
export type SchedulerStateDict = Record<string, unknown>;

/** Base of every scheduler: call `step()` once per epoch (or per batch, for OneCycleLR). */
export abstract class LRScheduler {
  /** Number of step() calls so far minus one (PyTorch's last_epoch; 0 after construction). */
  lastEpoch: number;
  /** Each group's initial learning rate. */
  baseLrs: number[];
  protected stepCount = 0;
  private lastLr: number[] = [];

  constructor(
    /** The optimizer whose groups' `lr` (and momentum) this scheduler writes. */
    readonly optimizer: Optimizer<any>,
    lastEpoch = -1,
  ) {
    const groups = this.groups;
    if (lastEpoch === -1) {
      for (const g of groups) g.initialLr ??= g.lr;
    } else {
      groups.forEach((g, i) => {
        if (g.initialLr === undefined) throw new ValueError(this.constructor.name, `param group ${i} has no initialLr; it is required when resuming with lastEpoch ${lastEpoch}`);
      });
    }
    this.baseLrs = groups.map((g) => g.initialLr!);
    this.lastEpoch = lastEpoch;
  }

  protected get groups(): AnyGroup[] {
    return this.optimizer.paramGroups as AnyGroup[];
  }

  /** Subclasses call this at the end of their constructor (PyTorch's _initial_step). */
  protected initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** The learning rates for the current `lastEpoch`. */
  protected abstract getLr(): number[];

  /** Advances one epoch and writes the new learning rates into the optimizer. */
  step(): void {
    this.stepCount++;
    this.lastEpoch++;
    const lrs = this.getLr();
    this.groups.forEach((g, i) => (g.lr = lrs[i]!));
    this.lastLr = lrs;
  }

  /** The learning rates the last step() set. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** Everything but the optimizer (PyTorch's state_dict). */
  stateDict(): SchedulerStateDict {
    const out: SchedulerStateDict = {};
    for (const [k, v] of Object.entries(this)) {
      if (k === 'optimizer' || typeof v === 'function') continue;
      out[k] = structuredClone(v);
    }
    return out;
  }

  /**
   * Restores what `stateDict()` saved (a deep copy; an `optimizer` key is ignored). Build the
   * scheduler on the restored optimizer first, then load, as in PyTorch.
   * @example
   * const saved = sched.stateDict();             // e.g. in a checkpoint, beside opt.stateDict()
   * const resumed = new optim.StepLR(opt, { stepSize: 30 });
   * resumed.loadStateDict(saved);                // continues at saved.lastEpoch
   */
  loadStateDict(sd: SchedulerStateDict): void {
    const entries = Object.entries(sd).filter(([k]) => k !== 'optimizer');
    // The state comes from a file: a key that would reach the prototype chain is refused
    // before anything is set (assigning `__proto__` would swap the scheduler's class).
    const bad = entries.find(([k]) => k === '__proto__' || k === 'constructor' || k === 'prototype');
    if (bad) throw new ValueError(`${this.constructor.name}.loadStateDict`, `the state dict holds the key "${bad[0]}", which cannot be a scheduler field (corrupt or hostile checkpoint)`);
    for (const [k, v] of entries) (this as unknown as Record<string, unknown>)[k] = structuredClone(v);
  }
}

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

  protected getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma);
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

  protected getLr(): number[] {
    const { lastEpoch: e, tMax: T, etaMin } = this;
    const gs = this.groups;
    if (e === 0) return gs.map((g) => g.lr);
    if (this.stepCount === 1 && e > 0) return this.baseLrs.map((b) => etaMin + ((b - etaMin) * (1 + Math.cos((e * Math.PI) / T))) / 2);
    if (pmod(e - 1 - T, 2 * T) === 0) return gs.map((g, i) => g.lr + ((this.baseLrs[i]! - etaMin) * (1 - Math.cos(Math.PI / T))) / 2);
    return gs.map((g) => ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (g.lr - etaMin) + etaMin);
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

  protected getLr(): number[] {
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
