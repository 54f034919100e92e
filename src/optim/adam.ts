// Adam and AdamW (torch.optim.Adam, torch.optim.AdamW), with amsgrad and maximize. The
// update is one fused dispatch per parameter; bias corrections are computed on the host.

import type { AdamUpdate } from '../backend/optim-types.ts';
import { Optimizer, check, type ParamGroup, type ParamState, type ParamsInput } from './optimizer.ts';

/**
 * Options of {@link Adam} and {@link AdamW}, per parameter group (torch.optim.Adam's keywords,
 * camelCased). Give any subset; the rest take the defaults below. Out-of-range values
 * (negative lr, eps or weightDecay; a beta outside [0, 1)) throw a ValueError.
 */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** Weight decay: L2 added to the gradient in Adam (default 0), decoupled in AdamW (default 1e-2). */
  weightDecay: number;
  /** Use the maximum of past second moments (Reddi et al., 2018); default false. */
  amsgrad: boolean;
  /** Maximize the objective instead of minimizing (default false). */
  maximize: boolean;
}

/** The checks of every Adam-like optimizer's options (lr, eps, betas in [0, 1), weightDecay ≥ 0). */
export function checkAdam(name: string, o: Pick<AdamOptions, 'lr' | 'eps' | 'betas' | 'weightDecay'>): void {
  check(name, Number.isFinite(o.lr) && o.lr >= 0, 'learning rate', o.lr);
  check(name, Number.isFinite(o.eps) && o.eps >= 0, 'epsilon', o.eps);
  check(name, Array.isArray(o.betas) && o.betas.length === 2, 'betas', o.betas);
  check(name, o.betas[0] >= 0 && o.betas[0] < 1, 'beta parameter at index 0', o.betas[0]);
  check(name, o.betas[1] >= 0 && o.betas[1] < 1, 'beta parameter at index 1', o.betas[1]);
  check(name, Number.isFinite(o.weightDecay) && o.weightDecay >= 0, 'weightDecay', o.weightDecay);
}

function adamUpdate(g: ParamGroup<AdamOptions>, st: ParamState, decoupled: boolean): AdamUpdate {
  return {
    kind: 'adam',
    lr: g.lr,
    beta1: g.betas[0],
    beta2: g.betas[1],
    eps: g.eps,
    weightDecay: g.weightDecay,
    decoupledWeightDecay: decoupled,
    amsgrad: g.amsgrad,
    maximize: g.maximize,
    step: st.step,
  };
}

/**
 * Adam (Kingma & Ba, 2015), as torch.optim.Adam. Per parameter at step t:
 *   g ← −g if maximize;  g ← g + weightDecay·p;
 *   m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  v̂ ← max(v̂, v) with amsgrad, else v;
 *   p ← p − lr / (1 − β1ᵗ) · m / (√v̂ / √(1 − β2ᵗ) + eps)
 * @example const opt = new optim.Adam(model.parameters(), { lr: 0.001 });
 */
export class Adam extends Optimizer<AdamOptions> {
  constructor(params: ParamsInput<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    super('Adam', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, ...opts });
  }
  protected override checkOptions(o: AdamOptions): void {
    checkAdam('Adam', o);
  }
  protected override updateFor(g: ParamGroup<AdamOptions>, st: ParamState): AdamUpdate {
    return adamUpdate(g, st, false);
  }
}

/**
 * AdamW (Loshchilov & Hutter, 2019), as torch.optim.AdamW: Adam whose weight decay shrinks
 * the parameter, p ← p·(1 − lr·weightDecay), instead of adding to the gradient.
 */
export class AdamW extends Optimizer<AdamOptions> {
  constructor(params: ParamsInput<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    super('AdamW', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false, ...opts });
  }
  protected override checkOptions(o: AdamOptions): void {
    checkAdam('AdamW', o);
  }
  protected override updateFor(g: ParamGroup<AdamOptions>, st: ParamState): AdamUpdate {
    return adamUpdate(g, st, true);
  }
}
