// RMSprop (torch.optim.RMSprop), centered and with momentum; one fused dispatch per parameter.

import type { RmspropUpdate } from '../backend/optim-types.ts';
import { Optimizer, check, type ParamGroup, type ParamsInput } from './optimizer.ts';

/**
 * Options of {@link RMSprop}, per parameter group (torch.optim.RMSprop's keywords, camelCased).
 * Give any subset; the rest take the defaults below. Negative or non-finite values throw a
 * ValueError.
 */
export interface RMSpropOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Smoothing constant of the squared-gradient average (default 0.99). */
  alpha: number;
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Momentum factor (default 0). */
  momentum: number;
  /** Normalise by the variance estimate (subtracting the squared mean gradient); default false. */
  centered: boolean;
  /** Maximize the objective instead of minimizing (default false). */
  maximize: boolean;
}

/**
 * RMSprop (Hinton), as torch.optim.RMSprop. Per parameter:
 *   g ← −g if maximize;  g ← g + weightDecay·p;  s ← α·s + (1 − α)·g²;
 *   centered: ḡ ← α·ḡ + (1 − α)·g, d = √(s − ḡ²) + eps; else d = √s + eps;
 *   momentum: b ← momentum·b + g/d, p ← p − lr·b; else p ← p − lr·g/d
 */
export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: ParamsInput<RMSpropOptions>, opts: Partial<RMSpropOptions> = {}) {
    super('RMSprop', params, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false, ...opts });
  }

  protected override checkOptions(o: RMSpropOptions): void {
    check('RMSprop', Number.isFinite(o.lr) && o.lr >= 0, 'learning rate', o.lr);
    check('RMSprop', Number.isFinite(o.eps) && o.eps >= 0, 'epsilon', o.eps);
    check('RMSprop', Number.isFinite(o.momentum) && o.momentum >= 0, 'momentum', o.momentum);
    check('RMSprop', Number.isFinite(o.weightDecay) && o.weightDecay >= 0, 'weightDecay', o.weightDecay);
    check('RMSprop', Number.isFinite(o.alpha) && o.alpha >= 0, 'alpha', o.alpha);
  }

  protected override updateFor(g: ParamGroup<RMSpropOptions>): RmspropUpdate {
    return {
      kind: 'rmsprop',
      lr: g.lr,
      alpha: g.alpha,
      eps: g.eps,
      weightDecay: g.weightDecay,
      momentum: g.momentum,
      centered: g.centered,
      maximize: g.maximize,
    };
  }
}
