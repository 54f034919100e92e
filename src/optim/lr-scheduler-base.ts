// The base of the epoch-driven learning-rate schedulers (torch.optim.lr_scheduler's
// _LRScheduler): initial learning rates recorded in the optimizer's groups, the chainable
// step() that writes each group's `lr`, the closed form behind step(epoch), and state dicts.

import { ValueError } from '../errors.ts';
import type { Optimizer, ParamGroup } from './optimizer.ts';

/** A parameter group as schedulers see it: its `lr`, scheduler fields and any other option. */
export type AnyGroup = ParamGroup<{ lr: number }> & Record<string, unknown>;

/** The state a scheduler saves (plain numbers and arrays: checkpoints keep it in their metadata). */
export type SchedulerStateDict = Record<string, unknown>;

/** `obj`'s own fields but `skip`, deep-copied (PyTorch's `{k: v for k, v in __dict__ if k not in skip}`). */
export function fieldsOf(obj: object, skip: readonly string[]): SchedulerStateDict {
  const out: SchedulerStateDict = {};
  for (const [k, v] of Object.entries(obj)) {
    if (skip.includes(k) || typeof v === 'function') continue;
    out[k] = structuredClone(v);
  }
  return out;
}

/**
 * Copies the fields of a saved state dict onto `obj` (a deep copy; keys in `skip` are left
 * alone), refusing any key that would reach the prototype chain before anything is set: the
 * state comes from a file, and assigning `__proto__` would swap the scheduler's class.
 */
export function restoreFields(obj: object, sd: SchedulerStateDict, op: string, skip: readonly string[]): void {
  if (!sd || typeof sd !== 'object') throw new ValueError(op, 'expects a state dict as returned by stateDict()');
  const entries = Object.entries(sd).filter(([k]) => !skip.includes(k));
  const bad = entries.find(([k]) => k === '__proto__' || k === 'constructor' || k === 'prototype');
  if (bad) throw new ValueError(op, `the state dict holds the key "${bad[0]}", which cannot be a scheduler field (corrupt or hostile checkpoint)`);
  for (const [k, v] of entries) (obj as Record<string, unknown>)[k] = structuredClone(v);
}

/**
 * Base of the epoch-driven schedulers (torch.optim.lr_scheduler._LRScheduler): call `step()`
 * once per epoch (or per batch, for OneCycleLR), after `optimizer.step()`. Each step computes
 * the new learning rates from the groups' current ones (PyTorch's chainable form, so two
 * schedulers on one optimizer compose) and writes them into the groups.
 */
export abstract class LRScheduler {
  /** Number of step() calls so far minus one (PyTorch's last_epoch; 0 after construction). */
  lastEpoch: number;
  /** Each group's initial learning rate. */
  baseLrs: number[];
  protected stepCount = 0;
  protected lastLr: number[] = [];

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

  /**
   * Resets the step count and steps once (PyTorch's _initial_step): the end of every
   * scheduler's constructor, and SequentialLR's start of its first scheduler.
   * @internal
   */
  initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** The learning rates for the current `lastEpoch`, from the groups' current ones (chainable form). */
  protected abstract getLr(): number[];

  /** The learning rates at `lastEpoch` from `baseLrs` alone, where the schedule has such a form; null otherwise. */
  protected closedFormLr(): number[] | null {
    return null;
  }

  /**
   * Advances one epoch and writes the new learning rates into the optimizer. `epoch` (which
   * PyTorch deprecates but still honours, and SequentialLR uses at its milestones) jumps to
   * that epoch instead, computing the rates in closed form where the scheduler has one.
   */
  step(epoch?: number): void {
    this.stepCount++;
    let lrs: number[];
    if (epoch === undefined) {
      this.lastEpoch++;
      lrs = this.getLr();
    } else {
      if (!Number.isInteger(epoch)) throw new ValueError(`${this.constructor.name}.step`, `epoch must be an integer, got ${epoch}`);
      this.lastEpoch = epoch;
      lrs = this.closedFormLr() ?? this.getLr();
    }
    this.groups.forEach((g, i) => (g.lr = lrs[i]!));
    this.lastLr = this.groups.map((g) => g.lr);
  }

  /** The learning rates the last step() set (PyTorch's get_last_lr()). */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** Everything but the optimizer (PyTorch's state_dict). */
  stateDict(): SchedulerStateDict {
    return fieldsOf(this, ['optimizer']);
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
    restoreFields(this, sd, `${this.constructor.name}.loadStateDict`, ['optimizer']);
  }
}
