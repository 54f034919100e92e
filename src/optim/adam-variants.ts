// Adamax, NAdam and RAdam (torch.optim.Adamax, NAdam, RAdam as of PyTorch 1.13): Adam's moment
// estimates with an infinity norm, Nesterov momentum, or a rectified variance. One fused
// dispatch per parameter; the per-step scalars (bias corrections, NAdam's momentum schedule,
// RAdam's rectification) are resolved on the host.

import type { AdamaxUpdate, NadamUpdate, RadamUpdate } from '../backend/optim-types.ts';
import { checkAdam } from './adam.ts';
import { Optimizer, check, type ParamGroup, type ParamState, type ParamsInput } from './optimizer.ts';

/**
 * Options of {@link Adamax}, per parameter group (torch.optim.Adamax's keywords, camelCased).
 * Give any subset; the rest take the defaults below. Out-of-range values throw a ValueError.
 */
export interface AdamaxOptions {
  /** Learning rate (default 2e-3). */
  lr: number;
  /** Decay rates of the first moment and of the infinity norm (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to |g| in the infinity norm (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Maximize the objective instead of minimizing (default false). */
  maximize: boolean;
}

/**
 * Adamax (Kingma & Ba, 2015, section 7), as torch.optim.Adamax. Per parameter at step t:
 *   g ← −g if maximize;  g ← g + weightDecay·p;  m ← β1·m + (1 − β1)·g;
 *   u ← max(β2·u, |g| + eps);  p ← p − lr / (1 − β1ᵗ) · m / u
 * @example const opt = new optim.Adamax(model.parameters(), { lr: 2e-3 });
 */
export class Adamax extends Optimizer<AdamaxOptions> {
  constructor(params: ParamsInput<AdamaxOptions>, opts: Partial<AdamaxOptions> = {}) {
    super('Adamax', params, { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false, ...opts });
  }
  protected override checkOptions(o: AdamaxOptions): void {
    checkAdam('Adamax', o);
  }
  protected override updateFor(g: ParamGroup<AdamaxOptions>, st: ParamState): AdamaxUpdate {
    return { kind: 'adamax', lr: g.lr, beta1: g.betas[0], beta2: g.betas[1], eps: g.eps, weightDecay: g.weightDecay, maximize: g.maximize, step: st.step };
  }
}

/**
 * Options of {@link NAdam}, per parameter group (torch.optim.NAdam's keywords in PyTorch 1.13,
 * camelCased). Give any subset; the rest take the defaults below. Out-of-range values throw a
 * ValueError.
 */
export interface NAdamOptions {
  /** Learning rate (default 2e-3). */
  lr: number;
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** ψ of the momentum schedule μ_t = β1·(1 − ½·0.96^(tψ)) (default 4e-3). */
  momentumDecay: number;
}

/**
 * NAdam (Dozat, 2016): Adam with Nesterov momentum, as torch.optim.NAdam in PyTorch 1.13.
 * Per parameter at step t, with μ_t = β1·(1 − ½·0.96^(t·momentumDecay)):
 *   g ← g + weightDecay·p;  m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  d = √(v/(1 − β2ᵗ)) + eps;
 *   p ← p − lr(1 − μ_t)/(1 − Π_{i≤t} μ_i) · g/d − lr·μ_{t+1}/(1 − Π_{i≤t+1} μ_i) · m/d
 * The product Π μ is the per-parameter state `muProduct`, kept in float32 as PyTorch keeps it.
 * @example const opt = new optim.NAdam(model.parameters(), { lr: 2e-3 });
 */
export class NAdam extends Optimizer<NAdamOptions> {
  constructor(params: ParamsInput<NAdamOptions>, opts: Partial<NAdamOptions> = {}) {
    super('NAdam', params, { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3, ...opts });
  }
  protected override checkOptions(o: NAdamOptions): void {
    checkAdam('NAdam', o);
    check('NAdam', Number.isFinite(o.momentumDecay) && o.momentumDecay >= 0, 'momentumDecay', o.momentumDecay);
  }
  protected override updateFor(g: ParamGroup<NAdamOptions>, st: ParamState): NadamUpdate {
    const t = st.step;
    const beta1 = g.betas[0];
    const mu = beta1 * (1 - 0.5 * 0.96 ** (t * g.momentumDecay));
    const muNext = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * g.momentumDecay));
    // PyTorch 1.13 keeps mu_product in a float32 tensor: each product rounds to float32.
    const f = Math.fround;
    const muProduct = f((st.scalars.muProduct ?? 1) * f(mu));
    const muProductNext = f(f(muProduct * f(mu)) * f(muNext));
    st.scalars.muProduct = muProduct;
    return { kind: 'nadam', lr: g.lr, beta1, beta2: g.betas[1], eps: g.eps, weightDecay: g.weightDecay, step: t, mu, muNext, muProduct, muProductNext };
  }
}

/**
 * Options of {@link RAdam}, per parameter group (torch.optim.RAdam's keywords in PyTorch 1.13,
 * camelCased). Give any subset; the rest take the defaults below. Out-of-range values throw a
 * ValueError.
 */
export interface RAdamOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
}

/**
 * RAdam (Liu et al., 2019): Adam with its adaptive step rectified while the variance estimate
 * is unreliable, as torch.optim.RAdam in PyTorch 1.13. Per parameter at step t, with
 * ρ∞ = 2/(1 − β2) − 1 and ρ_t = ρ∞ − 2t·β2ᵗ/(1 − β2ᵗ):
 *   g ← g + weightDecay·p;  m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  m̂ = m/(1 − β1ᵗ);
 *   ρ_t > 5: p ← p − lr·m̂·√(1 − β2ᵗ)/(√v + eps)·r_t, r_t = √((ρ_t − 4)(ρ_t − 2)ρ∞/((ρ∞ − 4)(ρ∞ − 2)ρ_t));
 *   else:    p ← p − lr·m̂
 * @example const opt = new optim.RAdam(model.parameters(), { lr: 1e-3 });
 */
export class RAdam extends Optimizer<RAdamOptions> {
  constructor(params: ParamsInput<RAdamOptions>, opts: Partial<RAdamOptions> = {}) {
    super('RAdam', params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, ...opts });
  }
  protected override checkOptions(o: RAdamOptions): void {
    checkAdam('RAdam', o);
  }
  protected override updateFor(g: ParamGroup<RAdamOptions>, st: ParamState): RadamUpdate {
    return { kind: 'radam', lr: g.lr, beta1: g.betas[0], beta2: g.betas[1], eps: g.eps, weightDecay: g.weightDecay, step: st.step };
  }
}
