// Schedulers made of schedulers (torch.optim.lr_scheduler, PyTorch 1.13): SequentialLR hands
// the optimizer from one scheduler to the next at milestone epochs; ChainedScheduler steps
// several at once, their chainable forms multiplying. State dicts nest the children's.

import { ValueError } from '../errors.ts';
import type { Optimizer } from './optimizer.ts';
import { LRScheduler, fieldsOf, restoreFields, type SchedulerStateDict } from './lr-scheduler-base.ts';

/** The children's states restored from `sd.schedulers`, after checking there is one per child. */
function restoreChildren(op: string, children: readonly LRScheduler[], sd: SchedulerStateDict): void {
  const saved = sd?.schedulers;
  if (!Array.isArray(saved) || saved.length !== children.length) {
    throw new ValueError(op, `expects the states of ${children.length} schedulers under "schedulers", got ${Array.isArray(saved) ? saved.length : typeof saved}`);
  }
  children.forEach((c, i) => c.loadStateDict(saved[i] as SchedulerStateDict));
}

/**
 * Runs `schedulers` one after another: the first until `milestones[0]`, the next until
 * `milestones[1]`, and so on (torch.optim.lr_scheduler.SequentialLR). At a milestone the next
 * scheduler starts from epoch 0 with its closed form (PyTorch's `step(0)`), from the groups'
 * initial learning rates. The schedulers must all drive `optimizer`; build them first (each
 * sets up the groups), then this, which undoes their first steps and restarts the first one.
 * @example
 * const warmup = new optim.LinearLR(opt, { startFactor: 0.1, totalIters: 5 });
 * const decay = new optim.ExponentialLR(opt, { gamma: 0.9 });
 * const sched = new optim.SequentialLR(opt, { schedulers: [warmup, decay], milestones: [5] });
 */
export class SequentialLR extends LRScheduler {
  /** The schedulers, in the order they run. */
  readonly schedulers: LRScheduler[];
  /** The epochs at which each next scheduler takes over (one fewer than the schedulers). */
  milestones: number[];
  constructor(optimizer: Optimizer<any>, opts: { schedulers: readonly LRScheduler[]; milestones: readonly number[]; lastEpoch?: number }) {
    const { schedulers, milestones } = opts;
    if (!Array.isArray(schedulers) || schedulers.length === 0) throw new ValueError('SequentialLR', 'expects a non-empty list of schedulers');
    schedulers.forEach((s, i) => {
      if (!(s instanceof LRScheduler) || s.optimizer !== optimizer) {
        throw new ValueError('SequentialLR', `expects all schedulers to belong to the same optimizer, but got scheduler at index ${i} to be different than the optimizer passed in`);
      }
    });
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1) {
      throw new ValueError('SequentialLR', `expects number of schedulers provided to be one more than the number of milestone points, but got number of schedulers ${schedulers.length} and the number of milestones to be equal to ${Array.isArray(milestones) ? milestones.length : milestones}`);
    }
    if (milestones.some((m, i) => !Number.isInteger(m) || (i > 0 && m < milestones[i - 1]!))) {
      throw new ValueError('SequentialLR', `milestones must be increasing integer epochs, got ${JSON.stringify(milestones)}`);
    }
    super(optimizer, opts.lastEpoch ?? -1);
    this.schedulers = [...schedulers];
    this.milestones = [...milestones];
    this.lastEpoch += 1;
    this.stepCount = 0;
    // Back to the initial learning rates, undo the step each scheduler took when it was built,
    // and start the first one (PyTorch's constructor, step for step).
    for (const g of this.groups) g.lr = g.initialLr!;
    for (const s of this.schedulers) s.lastEpoch -= 1;
    this.schedulers[0]!.initialStep();
    this.lastLr = this.schedulers[0]!.getLastLr();
  }

  /** The current learning rates (the scheduler in charge computes them in step()). */
  protected override getLr(): number[] {
    return this.groups.map((g) => g.lr);
  }

  /** Advances one epoch: the scheduler in charge steps, or at a milestone the next one starts at epoch 0. */
  override step(): void {
    this.lastEpoch++;
    let idx = 0;
    while (idx < this.milestones.length && this.milestones[idx]! <= this.lastEpoch) idx++;
    const s = this.schedulers[idx]!;
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) s.step(0);
    else s.step();
    this.lastLr = s.getLastLr();
  }

  /** Its own fields and, under `schedulers`, each scheduler's state dict. */
  override stateDict(): SchedulerStateDict {
    return { ...fieldsOf(this, ['optimizer', 'schedulers']), schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  /** Restores its fields and each scheduler's state. */
  override loadStateDict(sd: SchedulerStateDict): void {
    restoreFields(this, sd, 'SequentialLR.loadStateDict', ['optimizer', 'schedulers']);
    restoreChildren('SequentialLR.loadStateDict', this.schedulers, sd);
  }
}

/**
 * Steps every scheduler in `schedulers` at once, in order (torch.optim.lr_scheduler
 * .ChainedScheduler): their chainable forms compose, e.g. a warm-up times a decay.
 * @example
 * const sched = new optim.ChainedScheduler([new optim.LinearLR(opt, { totalIters: 4 }), new optim.ExponentialLR(opt, { gamma: 0.9 })]);
 */
export class ChainedScheduler extends LRScheduler {
  /** The schedulers stepped together. */
  readonly schedulers: LRScheduler[];
  constructor(schedulers: readonly LRScheduler[]) {
    if (!Array.isArray(schedulers) || schedulers.length === 0 || !schedulers.every((s) => s instanceof LRScheduler)) {
      throw new ValueError('ChainedScheduler', 'expects a non-empty list of schedulers');
    }
    schedulers.forEach((s, i) => {
      if (s.optimizer !== schedulers[0]!.optimizer) {
        throw new ValueError('ChainedScheduler', `expects all schedulers to belong to the same optimizer, but got schedulers at index 0 and ${i} to be different`);
      }
    });
    super(schedulers[0]!.optimizer);
    this.schedulers = [...schedulers];
    this.lastLr = this.groups.map((g) => g.lr);
  }

  /** The current learning rates (the schedulers compute them in step()). */
  protected override getLr(): number[] {
    return this.groups.map((g) => g.lr);
  }

  /** Steps each scheduler once, in order. */
  override step(): void {
    for (const s of this.schedulers) s.step();
    this.lastLr = this.groups.map((g) => g.lr);
  }

  /** Its own fields and, under `schedulers`, each scheduler's state dict. */
  override stateDict(): SchedulerStateDict {
    return { ...fieldsOf(this, ['optimizer', 'schedulers']), schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  /** Restores its fields and each scheduler's state. */
  override loadStateDict(sd: SchedulerStateDict): void {
    restoreFields(this, sd, 'ChainedScheduler.loadStateDict', ['optimizer', 'schedulers']);
    restoreChildren('ChainedScheduler.loadStateDict', this.schedulers, sd);
  }
}
