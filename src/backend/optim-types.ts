// Parameter types of the fused optimizer-update primitive, part of the Backend
// contract in types.ts. The optimizer layer (src/optim) resolves every hyper-parameter to
// the numbers below (bias corrections included), so a backend only applies the formula.
// Each formula is PyTorch's documented single-tensor update; see src/backend/cpu/optim.ts.

/**
 * SGD with momentum, dampening, Nesterov, L2 weight decay and maximize (torch.optim.SGD).
 * State: `[momentumBuffer]` when `momentum != 0`, else none.
 */
export interface SgdUpdate {
  readonly kind: 'sgd';
  readonly lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  readonly maximize: boolean;
  /** The momentum buffer is uninitialised: this step sets it to the gradient (no dampening). */
  readonly firstStep: boolean;
}

/**
 * Adam / AdamW (torch.optim.Adam, AdamW). State: `[expAvg, expAvgSq]`, plus `maxExpAvgSq`
 * with amsgrad. `step` is the step number after this update (1 on the first).
 */
export interface AdamUpdate {
  readonly kind: 'adam';
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** AdamW: decay the parameter by (1 − lr·weightDecay) instead of adding weightDecay·p to the gradient. */
  readonly decoupledWeightDecay: boolean;
  readonly amsgrad: boolean;
  readonly maximize: boolean;
  readonly step: number;
}

/**
 * RMSprop (torch.optim.RMSprop). State: `[squareAvg]`, then `gradAvg` when centered, then
 * `momentumBuffer` when `momentum > 0`.
 */
export interface RmspropUpdate {
  readonly kind: 'rmsprop';
  readonly lr: number;
  readonly alpha: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly momentum: number;
  readonly centered: boolean;
  readonly maximize: boolean;
}

/**
 * Adagrad (torch.optim.Adagrad). State: `[sum]` (started at initialAccumulatorValue by the
 * optimizer). `step` is the step number after this update (1 on the first).
 */
export interface AdagradUpdate {
  readonly kind: 'adagrad';
  readonly lr: number;
  readonly lrDecay: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly maximize: boolean;
  readonly step: number;
}

/** Adadelta (torch.optim.Adadelta). State: `[squareAvg, accDelta]`. */
export interface AdadeltaUpdate {
  readonly kind: 'adadelta';
  readonly lr: number;
  readonly rho: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly maximize: boolean;
}

/** The hyper-parameters Adamax, NAdam and RAdam share; `step` counts this update (1 on the first). */
interface MomentHyper {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly step: number;
}

/** Adamax (torch.optim.Adamax). State: `[expAvg, expInf]`. */
export interface AdamaxUpdate extends MomentHyper {
  readonly kind: 'adamax';
  readonly maximize: boolean;
}

/**
 * NAdam as PyTorch 1.13 (torch.optim.NAdam). State: `[expAvg, expAvgSq]`; the momentum
 * schedule is resolved by the optimizer: `mu` and `muNext` are μ_t and μ_{t+1}, `muProduct`
 * is Π_{i≤t} μ_i and `muProductNext` is that times μ_{t+1}.
 */
export interface NadamUpdate extends MomentHyper {
  readonly kind: 'nadam';
  readonly mu: number;
  readonly muNext: number;
  readonly muProduct: number;
  readonly muProductNext: number;
}

/** RAdam (torch.optim.RAdam). State: `[expAvg, expAvgSq]`. */
export interface RadamUpdate extends MomentHyper {
  readonly kind: 'radam';
}

export type OptimUpdate = SgdUpdate | AdamUpdate | RmspropUpdate | AdagradUpdate | AdadeltaUpdate | AdamaxUpdate | NadamUpdate | RadamUpdate;

/**
 * RAdam's variance rectification at step t (both backends apply the same number): with
 * ρ∞ = 2/(1 − β2) − 1 and ρ_t = ρ∞ − 2t·β2ᵗ/(1 − β2ᵗ), the term
 * r_t = √((ρ_t − 4)(ρ_t − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_t)) when ρ_t > 5, else null: the step is
 * then plain momentum (lr·m̂), as PyTorch 1.13 decides.
 */
export function radamRectification(u: RadamUpdate): number | null {
  const bc2 = 1 - u.beta2 ** u.step;
  const rhoInf = 2 / (1 - u.beta2) - 1;
  const rhoT = rhoInf - (2 * u.step * u.beta2 ** u.step) / bc2;
  if (!(rhoT > 5)) return null;
  return Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
}

/** Names of the state buffers an update reads and writes, in the order the primitive takes them. */
export function optimStateSlots(u: OptimUpdate): string[] {
  switch (u.kind) {
    case 'sgd':
      return u.momentum !== 0 ? ['momentumBuffer'] : [];
    case 'adam':
      return u.amsgrad ? ['expAvg', 'expAvgSq', 'maxExpAvgSq'] : ['expAvg', 'expAvgSq'];
    case 'rmsprop':
      return ['squareAvg', ...(u.centered ? ['gradAvg'] : []), ...(u.momentum > 0 ? ['momentumBuffer'] : [])];
    case 'adagrad':
      return ['sum'];
    case 'adadelta':
      return ['squareAvg', 'accDelta'];
    case 'adamax':
      return ['expAvg', 'expInf'];
    case 'nadam':
    case 'radam':
      return ['expAvg', 'expAvgSq'];
  }
}

/** Adagrad's step size at step t: lr / (1 + (t − 1)·lrDecay). */
export function adagradStepSize(u: AdagradUpdate): number {
  return u.lr / (1 + (u.step - 1) * u.lrDecay);
}

/** Adamax's step size at step t: lr / (1 − β1ᵗ). */
export function adamaxStepSize(u: AdamaxUpdate): number {
  return u.lr / (1 - u.beta1 ** u.step);
}

/**
 * NAdam's per-step scalars: p ← p − gradStep·g/d − avgStep·m/d with d = √(v/bc2) + eps, where
 * gradStep = lr(1 − μ_t)/(1 − Π μ) and avgStep = lr·μ_{t+1}/(1 − Π μ · μ_{t+1}).
 */
export function nadamScalars(u: NadamUpdate): { bc2: number; gradStep: number; avgStep: number } {
  return {
    bc2: 1 - u.beta2 ** u.step,
    gradStep: (u.lr * (1 - u.mu)) / (1 - u.muProduct),
    avgStep: (u.lr * u.muNext) / (1 - u.muProductNext),
  };
}
