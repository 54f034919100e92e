// Adagrad and Adadelta (torch.optim.Adagrad, torch.optim.Adadelta): per-coordinate step sizes
// from accumulated squared gradients. One fused dispatch per parameter.

import type { AdadeltaUpdate, AdagradUpdate } from '../backend/optim-types.ts';
import { keep } from '../tensor/scope.ts';
import { Optimizer, check, type ParamGroup, type ParamGroupInput, type ParamState, type ParamsInput } from './optimizer.ts';

/**
 * Options of {@link Adagrad}, per parameter group (torch.optim.Adagrad's keywords, camelCased).
 * Give any subset; the rest take the defaults below. Negative or non-finite values throw a
 * ValueError.
 */
export interface AdagradOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Learning-rate decay: step t uses lr / (1 + (t − 1)·lrDecay) (default 0). */
  lrDecay: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Starting value of the squared-gradient sum (default 0). */
  initialAccumulatorValue: number;
  /** Added to the denominator (default 1e-10). */
  eps: number;
  /** Maximize the objective instead of minimizing (default false). */
  maximize: boolean;
}

/**
 * Adagrad (Duchi et al., 2011), as torch.optim.Adagrad. Per parameter at step t:
 *   g ← −g if maximize;  g ← g + weightDecay·p;  s ← s + g²;
 *   p ← p − lr / (1 + (t − 1)·lrDecay) · g / (√s + eps)
 * As in PyTorch, each parameter's state (`step` 0 and `sum` filled with
 * initialAccumulatorValue) exists from the moment its group is added.
 * @example const opt = new optim.Adagrad(model.parameters(), { lr: 0.01 });
 */
export class Adagrad extends Optimizer<AdagradOptions> {
  constructor(params: ParamsInput<AdagradOptions>, opts: Partial<AdagradOptions> = {}) {
    super('Adagrad', params, { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false, ...opts });
  }

  /** Adds a group and creates its parameters' state, as torch.optim.Adagrad does on construction. */
  override addParamGroup(group: ParamGroupInput<AdagradOptions>): void {
    super.addParamGroup(group);
    const added = this.paramGroups[this.paramGroups.length - 1]!;
    for (const p of added.params) {
      this.state.set(p, { step: 0, buffers: { sum: keep(p.fullLike(added.initialAccumulatorValue)) }, scalars: {} });
    }
  }

  protected override checkOptions(o: AdagradOptions): void {
    check('Adagrad', Number.isFinite(o.lr) && o.lr >= 0, 'learning rate', o.lr);
    check('Adagrad', Number.isFinite(o.lrDecay) && o.lrDecay >= 0, 'lrDecay', o.lrDecay);
    check('Adagrad', Number.isFinite(o.weightDecay) && o.weightDecay >= 0, 'weightDecay', o.weightDecay);
    check('Adagrad', Number.isFinite(o.initialAccumulatorValue) && o.initialAccumulatorValue >= 0, 'initialAccumulatorValue', o.initialAccumulatorValue);
    check('Adagrad', Number.isFinite(o.eps) && o.eps >= 0, 'epsilon', o.eps);
  }

  /** A sum missing from a loaded state dict starts at the group's initialAccumulatorValue. */
  protected override stateFill(g: ParamGroup<AdagradOptions>): number {
    return g.initialAccumulatorValue;
  }

  protected override updateFor(g: ParamGroup<AdagradOptions>, st: ParamState): AdagradUpdate {
    return { kind: 'adagrad', lr: g.lr, lrDecay: g.lrDecay, eps: g.eps, weightDecay: g.weightDecay, maximize: g.maximize, step: st.step };
  }
}

/**
 * Options of {@link Adadelta}, per parameter group (torch.optim.Adadelta's keywords,
 * camelCased). Give any subset; the rest take the defaults below. Out-of-range values throw
 * a ValueError.
 */
export interface AdadeltaOptions {
  /** Coefficient scaling the delta before it is applied (default 1.0). */
  lr: number;
  /** Decay rate of the running averages of squared gradients and squared deltas, in [0, 1] (default 0.9). */
  rho: number;
  /** Added inside both square roots (default 1e-6). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Maximize the objective instead of minimizing (default false). */
  maximize: boolean;
}

/**
 * Adadelta (Zeiler, 2012), as torch.optim.Adadelta. Per parameter:
 *   g ← −g if maximize;  g ← g + weightDecay·p;  v ← ρ·v + (1 − ρ)·g²;
 *   Δ ← √(u + eps) / √(v + eps) · g;  u ← ρ·u + (1 − ρ)·Δ²;  p ← p − lr·Δ
 * @example const opt = new optim.Adadelta(model.parameters(), { lr: 1.0 }); // pytorch/examples mnist
 */
export class Adadelta extends Optimizer<AdadeltaOptions> {
  constructor(params: ParamsInput<AdadeltaOptions>, opts: Partial<AdadeltaOptions> = {}) {
    super('Adadelta', params, { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false, ...opts });
  }

  protected override checkOptions(o: AdadeltaOptions): void {
    check('Adadelta', Number.isFinite(o.lr) && o.lr >= 0, 'learning rate', o.lr);
    check('Adadelta', o.rho >= 0 && o.rho <= 1, 'rho', o.rho);
    check('Adadelta', Number.isFinite(o.eps) && o.eps >= 0, 'epsilon', o.eps);
    check('Adadelta', Number.isFinite(o.weightDecay) && o.weightDecay >= 0, 'weightDecay', o.weightDecay);
  }

  protected override updateFor(g: ParamGroup<AdadeltaOptions>): AdadeltaUpdate {
    return { kind: 'adadelta', lr: g.lr, rho: g.rho, eps: g.eps, weightDecay: g.weightDecay, maximize: g.maximize };
  }
}
