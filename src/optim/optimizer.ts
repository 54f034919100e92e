// The Optimizer base class: parameter groups with their own options, per-parameter state,
// zeroGrad, state dicts, and a step() that validates every parameter before it updates any.
// A built-in optimizer resolves each parameter's update to ONE fused backend dispatch
// (updateFor → Backend.optimStep; WGSL in src/kernels/optim.ts); a user-defined one writes
// updateParam() with tensor ops, and this class runs it under noGrad in a scope, owning the
// state tensors it stores.

import { Tensor, checkNoInternalOverlap } from '../tensor/tensor.ts';
import { keep, scope } from '../tensor/scope.ts';
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

/**
 * Per-parameter state (PyTorch's `optimizer.state[p]`, split by kind): the number of updates
 * applied, the named tensors and the named numbers. A state dict lists them flat, as PyTorch
 * does: `{ step, ...scalars, ...buffers }`.
 */
export interface ParamState {
  /**
   * Updates applied to this parameter so far (Adam's t in its bias corrections). Inside
   * `updateParam` it already counts the update being made (1 on the first).
   */
  step: number;
  /**
   * The optimizer's per-parameter tensors, owned by the optimizer: SGD's `momentumBuffer`;
   * Adam's `expAvg`, `expAvgSq` (and `maxExpAvgSq` with amsgrad); RMSprop's `squareAvg` (and
   * `gradAvg`, `momentumBuffer`); Adagrad's `sum`; Adadelta's `squareAvg`, `accDelta`; Adamax's
   * `expAvg`, `expInf`; NAdam's and RAdam's `expAvg`, `expAvgSq`. Do not dispose them.
   */
  buffers: Record<string, Tensor>;
  /** The optimizer's per-parameter numbers (NAdam's `muProduct`). */
  scalars: Record<string, number>;
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
 * parameter, gradient and option first (throwing a ValueError that names the parameter), then
 * updates each parameter that has a gradient. `O` is the options type (SGDOptions, …). The
 * optimizer owns its state tensors (free them with `dispose()` or `using`); the parameters
 * belong to their modules.
 *
 * The built-in optimizers update each parameter with one fused WGSL dispatch. To write your
 * own, extend this class and override the protected hook
 * `updateParam(p, grad, group, state)`: it is called once per parameter that has a gradient,
 * under `noGrad` and inside a `scope` (temporaries are freed), with `state.step` already
 * counting this update; update `p` in place with tensor ops and keep what must persist in
 * `state.buffers` (tensors, now owned by the optimizer) and `state.scalars` (numbers).
 * Param groups, `stateDict()`/`loadStateDict()` and the schedulers then work as for the
 * built-ins. Overriding `step()` itself (PyTorch style) works too; it then owns validation,
 * `noGrad` and keeping its state tensors out of enclosing scopes (`keep`).
 * @example
 * const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * for (const [x, y] of batches) {
 *   opt.zeroGrad();
 *   lossFn.call(model.call(x), y).backward();
 *   opt.step();
 * }
 * @example
 * // A user-defined optimizer: SGD with momentum, written with tensor ops.
 * class MomentumSGD extends optim.Optimizer<{ lr: number; momentum: number }> {
 *   constructor(params: Iterable<Tensor>, opts: { lr?: number; momentum?: number } = {}) {
 *     super('MomentumSGD', params, { lr: 0.01, momentum: 0.9, ...opts });
 *   }
 *   protected override updateParam(p: Tensor, grad: Tensor, group: optim.ParamGroup<{ lr: number; momentum: number }>, state: optim.ParamState): void {
 *     const buf = state.buffers.momentumBuffer;
 *     if (buf === undefined) state.buffers.momentumBuffer = grad.clone();
 *     else buf.mul_(group.momentum).add_(grad);
 *     p.sub_(state.buffers.momentumBuffer!.mul(group.lr));
 *   }
 * }
 */
export abstract class Optimizer<O extends BaseOptions = BaseOptions> {
  /** The options given to the constructor, merged over the subclass's defaults; new groups start from them. */
  readonly defaults: O;
  /** The parameter groups, each with its own copy of every option; edit `lr` here to change it by hand. */
  readonly paramGroups: ParamGroup<O>[] = [];
  /** State per parameter (PyTorch's `optimizer.state`), created on its first update. */
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

  /**
   * Validates a group's options (ranges, incompatible combinations) and throws a ValueError;
   * called for the defaults, for each group added or loaded, and before every step. The
   * default checks that `lr` is a finite number ≥ 0.
   */
  protected checkOptions(o: O): void {
    check(this.name, Number.isFinite(o.lr) && o.lr >= 0, 'learning rate', o.lr);
  }

  /**
   * The fused update of one parameter, given its group and its state after this step
   * (`step` already counted; a copy that may be edited, e.g. NAdam's `muProduct`, and that
   * is kept only once the update ran). Built-in optimizers return their kernel's update;
   * null (the default) means `updateParam` does the work with tensor ops.
   */
  protected updateFor(_group: ParamGroup<O>, _state: ParamState): OptimUpdate | null {
    return null;
  }

  /**
   * The starting value of a fused update's state buffer `slot` (0 unless overridden;
   * null: allocated without a fill, for a buffer the first update writes whole).
   */
  protected stateFill(_group: ParamGroup<O>, _slot: string): number | null {
    return 0;
  }

  /**
   * Updates one parameter with tensor ops: the hook a user-defined optimizer overrides (see
   * the class documentation). Runs under `noGrad` inside a `scope`; `grad` is the parameter's
   * gradient (contiguous, do not modify it), `group` its group's options, and `state` its
   * state with `step` already counting this update. Tensors stored in `state.buffers` are
   * kept and owned by the optimizer (a stored `grad` or `p` is copied first); a buffer
   * replaced by another is disposed.
   */
  protected updateParam(_p: Tensor, _grad: Tensor, _group: ParamGroup<O>, _state: ParamState): void {
    throw new ValueError(this.name, 'has no update rule: a user-defined optimizer overrides updateParam(p, grad, group, state) or step()');
  }

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
   * as in PyTorch). Everything is validated first, so a failing step changes nothing (for a
   * user-defined `updateParam`, an error it throws itself stops the step where it happened).
   * A `closure` re-evaluating the loss runs first (with grad enabled); its loss is returned.
   */
  step(closure?: () => Tensor): Tensor | undefined {
    const loss = closure ? enableGrad(closure) : undefined;
    // 1. Validate every parameter and gradient; resolve each update (nothing observable changes).
    const plans = this.validateStep().map(({ group, p, g, where }) => {
      const st = this.state.get(p);
      const next: ParamState = { step: (st?.step ?? 0) + 1, buffers: { ...st?.buffers }, scalars: { ...st?.scalars } };
      const update = this.updateFor(group, next);
      if (update) {
        for (const slot of optimStateSlots(update)) {
          const b = next.buffers[slot];
          if (b && (b.device !== p.device || b.numel !== p.numel || b.dtype !== 'float32' || !b.isContiguous())) {
            throw new ValueError(this.name, `state '${slot}' of ${where} is unusable (on another device, of another size or dtype, or not contiguous)`);
          }
        }
      }
      return { group, p, g, st, next, update };
    });
    // 2. Allocate missing state of the fused updates.
    for (const { group, p, next, update } of plans) {
      if (!update) continue;
      for (const slot of optimStateSlots(update)) {
        if (next.buffers[slot]) continue;
        const fill = this.stateFill(group, slot);
        next.buffers[slot] = keep(fill === null ? new Tensor(p.storage.backend.alloc(p.numel, 'float32'), p.shape) : p.fullLike(fill));
      }
    }
    // 3. Update: one fused dispatch per parameter, or the tensor-op hook.
    for (const { group, p, g, st, next, update } of plans) {
      const gc = isContiguous(g.shape, g.strides) ? g : noGrad(() => g.contiguous());
      try {
        if (update) {
          const slots = optimStateSlots(update).map((s) => next.buffers[s]!);
          p.storage.backend.optimStep(update, p.layout, gc.layout, slots.map((t) => t.layout));
          p.storage.version++;
          for (const t of slots) t.storage.version++;
        } else this.runUpdateParam(p, g, gc, group, st, next);
      } finally {
        if (gc !== g) gc.dispose();
      }
      this.state.set(p, next);
    }
    return loss;
  }

  /** Checks every parameter, gradient, option and state tensor; returns the parameters to update. */
  private validateStep(): { group: ParamGroup<O>; p: Tensor; g: Tensor; where: string }[] {
    const work: { group: ParamGroup<O>; p: Tensor; g: Tensor; where: string }[] = [];
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
        for (const [k, b] of Object.entries(this.state.get(p)?.buffers ?? {})) {
          if (b.disposed) throw new ValueError(this.name, `state '${k}' of ${where} was disposed; the optimizer owns its state tensors`);
        }
        work.push({ group, p, g, where });
      });
    });
    return work;
  }

  /**
   * Runs the tensor-op hook for one parameter under noGrad in a scope, then takes ownership of
   * the tensors it left in `next.buffers` (copying the gradient or the parameter themselves)
   * and disposes the buffers it replaced.
   */
  private runUpdateParam(p: Tensor, g: Tensor, gc: Tensor, group: ParamGroup<O>, st: ParamState | undefined, next: ParamState): void {
    noGrad(() =>
      scope(() => {
        this.updateParam(p, gc, group, next);
        for (const [k, t] of Object.entries(next.buffers)) {
          if (!(t instanceof Tensor)) throw new ValueError(this.name, `state.buffers.${k} must be a Tensor (numbers go in state.scalars)`);
          if (t === p || t === g || t === gc) next.buffers[k] = t.clone();
        }
        for (const [k, v] of Object.entries(next.scalars)) {
          if (typeof v !== 'number') throw new ValueError(this.name, `state.scalars.${k} must be a number`);
        }
        return Object.values(next.buffers);
      }),
    );
    const kept = new Set(Object.values(next.buffers));
    for (const t of kept) keep(t);
    for (const old of Object.values(st?.buffers ?? {})) if (!kept.has(old)) old.dispose();
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
      state[i] = { step: st.step, ...st.scalars, ...st.buffers };
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
   * state owned by this optimizer). The groups must have the same sizes as this optimizer's;
   * each state tensor must be on its parameter's device and, for the built-in optimizers,
   * of its parameter's shape. Numbers other than `step` become `state.scalars`.
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
    const fused = this.updateFor !== Optimizer.prototype.updateFor;
    const incoming: [Tensor, number, Record<string, Tensor>, Record<string, number>][] = [];
    for (const [key, entry] of Object.entries(stateDict.state)) {
      const p = idToParam.get(Number(key));
      if (!p) throw new ValueError(`${this.name}.loadStateDict`, `state for parameter ${key}, which no group lists`);
      // Prototype-less: buffer names come from a file, and `bufs.__proto__ = t` on a {} would hide t.
      const bufs = Object.create(null) as Record<string, Tensor>;
      const scalars = Object.create(null) as Record<string, number>;
      let step = 0;
      for (const [k, v] of Object.entries(entry)) {
        if (k === 'step') {
          step = typeof v === 'number' ? v : Number.NaN;
          if (!Number.isInteger(step) || step < 0) throw new ValueError(`${this.name}.loadStateDict`, `state ${key}.step must be a non-negative integer`);
        } else if (v instanceof Tensor) {
          v.assertAlive(`${this.name}.loadStateDict`);
          // The fused kernels read state element for element with the parameter.
          if (fused && (v.shape.length !== p.shape.length || v.shape.some((d, j) => d !== p.shape[j]))) {
            throw new ValueError(`${this.name}.loadStateDict`, `state ${key}.${k} has shape ${fmtShape(v.shape)} but parameter ${key} has shape ${fmtShape(p.shape)}`);
          }
          if (v.device !== p.device) throw new ValueError(`${this.name}.loadStateDict`, `state ${key}.${k} is on '${v.device}' but parameter ${key} is on '${p.device}'`);
          bufs[k] = v;
        } else if (typeof v === 'number') scalars[k] = v;
        else throw new ValueError(`${this.name}.loadStateDict`, `state ${key}.${k} must be a Tensor or a number`);
      }
      incoming.push([p, step, bufs, scalars]);
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
      for (const [p, step, bufs, scalars] of incoming) {
        const own = Object.create(null) as Record<string, Tensor>;
        for (const [k, v] of Object.entries(bufs)) {
          const sameShape = v.shape.length === p.shape.length && v.shape.every((d, j) => d === p.shape[j]);
          own[k] = keep(sameShape && v.dtype === p.dtype ? p.zerosLike().copy_(v) : v.clone());
        }
        this.state.set(p, { step, buffers: own, scalars });
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
