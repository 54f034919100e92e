// The Optimizer base class: parameter groups with their own options, per-parameter state,
// zeroGrad, state dicts, and a step() that validates every parameter before it updates any,
// then runs ONE fused backend dispatch per parameter (Backend.optimStep; WGSL in
// src/kernels/optim.ts). Subclasses only say how a group's options become an update.

import { Tensor, checkNoInternalOverlap } from '../tensor/tensor.ts';
import { keep } from '../tensor/scope.ts';
import { enableGrad, noGrad } from '../autograd/grad-mode.ts';
import { ValueError, fmtShape } from '../errors.ts';
import { isContiguous } from '../shape.ts';
import type { OptimUpdate } from '../backend/optim-types.ts';
import { optimStateSlots } from '../backend/optim-types.ts';
import { zeroGrads } from '../nn/module.ts';

/**
 * What learning-rate schedulers add to a parameter group (PyTorch's `initial_lr`, `max_lr`,
 * …, camelCased). A scheduler writes them when it is constructed (with `lastEpoch = -1`) and
 * reads them on every step; being group options, they travel in the optimizer's state dict,
 * which is what lets a scheduler built with `lastEpoch ≥ 0` resume.
 */
export interface SchedulerFields {
  /**
   * The group's starting learning rate (a scheduler's `baseLrs`): its `lr` when the first
   * scheduler attached, or `maxLr / divFactor` for OneCycleLR. Required when resuming with
   * `lastEpoch ≥ 0` (a ValueError otherwise).
   */
  initialLr?: number;
  /** Peak learning rate of the cycle (OneCycleLR's `maxLr`). */
  maxLr?: number;
  /** Final learning rate, `initialLr / finalDivFactor` (OneCycleLR). */
  minLr?: number;
  /** Momentum (or Adam's β1) at the learning-rate peak (OneCycleLR with `cycleMomentum`). */
  baseMomentum?: number;
  /** Momentum (or Adam's β1) at the start and end of the cycle (OneCycleLR with `cycleMomentum`). */
  maxMomentum?: number;
}

/** A parameter group: its tensors and its own copy of every option. */
export type ParamGroup<O> = O & SchedulerFields & {
  /** The group's parameters (float32 leaves that require grad), each in one group only. */
  params: Tensor[]
};

/** A group as the user passes it: tensors plus the options that differ from the defaults. */
export type ParamGroupInput<O> = Partial<O> & SchedulerFields & {
  /** The group's parameters: float32 leaf tensors that require grad, none in another group. */
  params: Iterable<Tensor>
};

/** Parameters (one group) or a list of groups. */
export type ParamsInput<O> = Iterable<Tensor> | Iterable<ParamGroupInput<O>>;

/** Per-parameter state: the number of updates applied and the named buffers (momentum, moments). */
export interface ParamState {
  /** Updates applied to this parameter so far (Adam's t in its bias corrections). */
  step: number;
  /**
   * The optimizer's per-parameter tensors, shaped like the parameter and owned by the
   * optimizer: SGD's `momentumBuffer`; Adam's `expAvg`, `expAvgSq` (and `maxExpAvgSq` with
   * amsgrad); RMSprop's `squareAvg` (and `gradAvg`, `momentumBuffer`). Do not dispose them.
   */
  buffers: Record<string, Tensor>;
}

/** An optimizer's state dict (PyTorch's layout, camelCased): parameters are numbered across groups. */
export interface OptimizerStateDict {
  /**
   * Per-parameter state keyed by the parameter's index across all groups (group 0's first,
   * …): its `step` count and its named buffers. Parameters never updated have no entry.
   */
  state: Record<number, Record<string, Tensor | number>>;
  /** Each group's options (lr, betas, scheduler fields, …) with `params` as the list of its parameter indices. */
  paramGroups: Record<string, unknown>[];
}

/** The options every optimizer has. */
export interface BaseOptions {
  /** Learning rate: the step size every update is scaled by; schedulers rewrite it per group. */
  lr: number;
}

/**
 * Base class of every optimizer (torch.optim.Optimizer): parameter groups with their own
 * options, per-parameter state, `zeroGrad()`, `step()` and state dicts. `step()` checks every
 * parameter, gradient and option first (throwing a ValueError that names the parameter), so a
 * failing step changes nothing; then it runs one fused WGSL dispatch per parameter. `O` is the
 * subclass's options type (SGDOptions, AdamOptions, …). The optimizer owns its state buffers
 * (free them with `dispose()` or `using`); the parameters belong to their modules.
 * @example
 * const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * for (const [x, y] of batches) {
 *   opt.zeroGrad();
 *   lossFn.call(model.call(x), y).backward();
 *   opt.step();
 * }
 */
export abstract class Optimizer<O extends BaseOptions = BaseOptions> {
  /** The options given to the constructor, merged over the subclass's defaults; new groups start from them. */
  readonly defaults: O;
  /** The parameter groups, each with its own copy of every option; edit `lr` here to change it by hand. */
  readonly paramGroups: ParamGroup<O>[] = [];
  /** State per parameter, created on its first update. */
  readonly state = new Map<Tensor, ParamState>();

  constructor(
    /** Name used in errors ('SGD', 'Adam', …). */
    protected readonly name: string,
    params: ParamsInput<O>,
    defaults: O,
  ) {
    this.checkOptions(defaults);
    this.defaults = defaults;
    const list = [...params] as (Tensor | ParamGroupInput<O>)[];
    if (list.length === 0) throw new ValueError(name, 'optimizer got an empty parameter list');
    const groups = list[0] instanceof Tensor ? [{ params: list as Tensor[] } as unknown as ParamGroupInput<O>] : (list as ParamGroupInput<O>[]);
    for (const g of groups) this.addParamGroup(g);
  }

  /** Validates a group's options (ranges, incompatible combinations); throws a ValueError. */
  protected abstract checkOptions(o: O): void;

  /** The fused update of one parameter, given its group and state (null before its first update). */
  protected abstract updateFor(group: ParamGroup<O>, state: ParamState | null): OptimUpdate;

  /** Adds a group: its options default to the optimizer's (PyTorch's add_param_group). */
  addParamGroup(group: ParamGroupInput<O>): void {
    if (group instanceof Tensor || !group || typeof group !== 'object' || !('params' in group)) {
      throw new ValueError(this.name, 'a parameter group must be an object with a `params` list');
    }
    const params = [...group.params];
    const gi = this.paramGroups.length;
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    params.forEach((p, i) => {
      const where = `parameter ${i} of group ${gi}`;
      if (!(p instanceof Tensor)) throw new ValueError(this.name, `${where} is not a Tensor`);
      p.assertAlive(this.name);
      if (!p.isLeaf) {
        throw new ValueError(this.name, `can't optimize a non-leaf tensor (${where}, shape ${fmtShape(p.shape)}): it was computed by ${p.gradFn!.name}; optimize the leaves it came from`);
      }
      if (!p.requiresGrad) {
        throw new ValueError(this.name, `${where} (shape ${fmtShape(p.shape)}) does not require grad, so it will never have one; call requiresGrad_() on it or leave it out`);
      }
      if (p.dtype !== 'float32') throw new ValueError(this.name, `${where} has dtype ${p.dtype}; only float32 parameters can be optimized`);
      if (seen.has(p)) throw new ValueError(this.name, `some parameters appear in more than one parameter group (${where}, shape ${fmtShape(p.shape)})`);
      seen.add(p);
    });
    const full = { ...this.defaults, ...group, params } as ParamGroup<O>;
    this.checkOptions(full);
    this.paramGroups.push(full);
  }

  /** Clears the gradients of every parameter (disposing them with `setToNone`, the default). */
  zeroGrad(opts: { setToNone?: boolean } = {}): void {
    zeroGrads(this.paramGroups.flatMap((g) => g.params), opts.setToNone ?? true);
  }

  /**
   * Updates every parameter that has a gradient (parameters whose grad is null are skipped,
   * as in PyTorch). Everything is validated first, so a failing step changes nothing.
   * A `closure` re-evaluating the loss runs first (with grad enabled); its loss is returned.
   */
  step(closure?: () => Tensor): Tensor | undefined {
    const loss = closure ? enableGrad(closure) : undefined;
    // 1. Validate everything.
    const work: { group: ParamGroup<O>; p: Tensor; g: Tensor }[] = [];
    this.paramGroups.forEach((group, gi) => {
      this.checkOptions(group);
      group.params.forEach((p, i) => {
        const where = `parameter ${i} of group ${gi} (shape ${fmtShape(p.shape)})`;
        if (p.disposed) throw new ValueError(this.name, `${where} was disposed`);
        if (!p.isLeaf) throw new ValueError(this.name, `${where} is no longer a leaf tensor; can't optimize it`);
        checkNoInternalOverlap(this.name, p, `parameter ${i} of group ${gi}, `);
        if (!p.isContiguous()) throw new ValueError(this.name, `${where} is a non-contiguous view; optimize a contiguous tensor`);
        const g = p.grad;
        if (g === null) return;
        if (g.disposed) throw new ValueError(this.name, `the gradient of ${where} was disposed; use zeroGrad() instead of disposing gradients`);
        if (g.dtype !== 'float32') throw new ValueError(this.name, `the gradient of ${where} has dtype ${g.dtype}; expected float32`);
        if (g.shape.length !== p.shape.length || g.shape.some((d, k) => d !== p.shape[k])) {
          throw new ValueError(this.name, `the gradient of ${where} has shape ${fmtShape(g.shape)}; expected the parameter's shape`);
        }
        if (g.device !== p.device) throw new ValueError(this.name, `the gradient of ${where} is on '${g.device}' but the parameter is on '${p.device}'`);
        if (g.storage === p.storage) throw new ValueError(this.name, `the gradient of ${where} shares the parameter's storage`);
        const st = this.state.get(p);
        if (st) {
          for (const [k, b] of Object.entries(st.buffers)) {
            if (b.disposed || b.device !== p.device || b.numel !== p.numel) throw new ValueError(this.name, `state '${k}' of ${where} is unusable (disposed, on another device, or of another size)`);
          }
        }
        work.push({ group, p, g });
      });
    });
    // 2. Resolve each update and allocate missing state (nothing observable changes yet).
    const plans = work.map(({ group, p, g }) => {
      const st = this.state.get(p) ?? null;
      const update = this.updateFor(group, st);
      const buffers = { ...(st?.buffers ?? {}) };
      for (const slot of optimStateSlots(update)) {
        if (!buffers[slot]) {
          // SGD's momentum buffer is written whole on its first step; the rest start at zero.
          const t = update.kind === 'sgd' ? new Tensor(p.storage.backend.alloc(p.numel, 'float32'), p.shape) : p.zerosLike();
          buffers[slot] = keep(t);
        }
      }
      return { p, g, st, update, buffers };
    });
    // 3. One fused dispatch per parameter.
    for (const { p, g, st, update, buffers } of plans) {
      const gc = isContiguous(g.shape, g.strides) ? g : noGrad(() => g.contiguous());
      const slots = optimStateSlots(update).map((s) => buffers[s]!);
      try {
        p.storage.backend.optimStep(update, p.layout, gc.layout, slots.map((t) => t.layout));
      } finally {
        if (gc !== g) gc.dispose();
      }
      p.storage.version++;
      for (const t of slots) t.storage.version++;
      const stepCount = update.kind === 'adam' ? update.step : (st?.step ?? 0) + 1;
      this.state.set(p, { step: stepCount, buffers });
    }
    return loss;
  }

  /** Every parameter in group order (the numbering state dicts use). */
  private allParams(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /**
   * The state (step counts and buffers, keyed by the parameter's index across groups) and
   * each group's options with `params` as indices. The tensors are the optimizer's own:
   * save or read them, do not dispose them.
   */
  stateDict(): OptimizerStateDict {
    const index = new Map(this.allParams().map((p, i) => [p, i]));
    const state: OptimizerStateDict['state'] = {};
    for (const [p, st] of this.state) {
      const i = index.get(p);
      if (i === undefined) continue;
      state[i] = { step: st.step, ...st.buffers };
    }
    let next = 0;
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...opts } = g;
      return { ...structuredClone(opts), params: params.map(() => next++) };
    });
    return { state, paramGroups };
  }

  /**
   * Restores options and state from `stateDict` (a copy: the tensors are copied into new
   * state owned by this optimizer). The groups must have the same sizes as this optimizer's.
   */
  loadStateDict(stateDict: OptimizerStateDict): void {
    const groups = stateDict?.paramGroups;
    if (!Array.isArray(groups) || !stateDict.state || typeof stateDict.state !== 'object') {
      throw new ValueError(`${this.name}.loadStateDict`, 'expects { state, paramGroups } as returned by stateDict()');
    }
    if (groups.length !== this.paramGroups.length) {
      throw new ValueError(`${this.name}.loadStateDict`, `loaded state dict has ${groups.length} parameter groups, the optimizer has ${this.paramGroups.length}`);
    }
    groups.forEach((g, i) => {
      const n = Array.isArray(g.params) ? g.params.length : -1;
      if (n !== this.paramGroups[i]!.params.length) {
        throw new ValueError(`${this.name}.loadStateDict`, `loaded state dict contains a parameter group (${i}) of ${n} parameters that doesn't match the size of the optimizer's group (${this.paramGroups[i]!.params.length})`);
      }
    });
    const idToParam = new Map<number, Tensor>();
    groups.forEach((g, gi) => (g.params as number[]).forEach((id, k) => idToParam.set(Number(id), this.paramGroups[gi]!.params[k]!)));
    const incoming: [Tensor, number, Record<string, Tensor>][] = [];
    for (const [key, entry] of Object.entries(stateDict.state)) {
      const p = idToParam.get(Number(key));
      if (!p) throw new ValueError(`${this.name}.loadStateDict`, `state for parameter ${key}, which no group lists`);
      // Prototype-less: buffer names come from a file, and `bufs.__proto__ = t` on a {} would hide t.
      const bufs = Object.create(null) as Record<string, Tensor>;
      let step = 0;
      for (const [k, v] of Object.entries(entry)) {
        if (k === 'step') {
          step = typeof v === 'number' ? v : Number.NaN;
          if (!Number.isInteger(step) || step < 0) throw new ValueError(`${this.name}.loadStateDict`, `state ${key}.step must be a non-negative integer`);
        } else if (v instanceof Tensor) {
          v.assertAlive(`${this.name}.loadStateDict`);
          if (v.shape.length !== p.shape.length || v.shape.some((d, j) => d !== p.shape[j])) {
            throw new ValueError(`${this.name}.loadStateDict`, `state ${key}.${k} has shape ${fmtShape(v.shape)} but parameter ${key} has shape ${fmtShape(p.shape)}`);
          }
          if (v.device !== p.device) throw new ValueError(`${this.name}.loadStateDict`, `state ${key}.${k} is on '${v.device}' but parameter ${key} is on '${p.device}'`);
          bufs[k] = v;
        } else throw new ValueError(`${this.name}.loadStateDict`, `state ${key}.${k} must be a Tensor`);
      }
      incoming.push([p, step, bufs]);
    }
    const newOpts = groups.map((g, i) => {
      const { params: _ids, ...opts } = g;
      const merged = { ...this.paramGroups[i]!, ...structuredClone(opts), params: this.paramGroups[i]!.params } as ParamGroup<O>;
      this.checkOptions(merged);
      return merged;
    });
    // Validated: now replace.
    this.disposeState();
    newOpts.forEach((g, i) => (this.paramGroups[i] = g));
    noGrad(() => {
      for (const [p, step, bufs] of incoming) {
        const own = Object.create(null) as Record<string, Tensor>;
        for (const [k, v] of Object.entries(bufs)) own[k] = keep(p.zerosLike().copy_(v));
        this.state.set(p, { step, buffers: own });
      }
    });
  }

  private disposeState(): void {
    for (const st of this.state.values()) for (const b of Object.values(st.buffers)) b.dispose();
    this.state.clear();
  }

  /** Frees the optimizer's state buffers (the parameters belong to their modules). */
  dispose(): void {
    this.disposeState();
  }

  /** `dispose()`, so that `using opt = new optim.Adam(…)` frees the state at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** The optimizer and each group's options, as PyTorch's `print(optimizer)` lays them out. */
  toString(): string {
    const lines = [`${this.name} (`];
    this.paramGroups.forEach((g, i) => {
      lines.push(`Parameter Group ${i}`);
      for (const k of Object.keys(g).filter((k) => k !== 'params').sort()) lines.push(`    ${k}: ${JSON.stringify((g as unknown as Record<string, unknown>)[k])}`);
    });
    lines.push(')');
    return lines.join('\n');
  }
}

/** Throws `name: Invalid <what> value: <v>` unless `ok`. */
export function check(name: string, ok: boolean, what: string, v: unknown): void {
  if (!ok) throw new ValueError(name, `invalid ${what} value: ${JSON.stringify(v)}`);
}
