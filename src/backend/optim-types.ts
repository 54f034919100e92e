// Parameter types of the fused optimizer-update primitive (issue #5), part of the Backend
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

export type OptimUpdate = SgdUpdate | AdamUpdate | RmspropUpdate;

/** Names of the state buffers an update reads and writes, in the order the primitive takes them. */
export function optimStateSlots(u: OptimUpdate): string[] {
  switch (u.kind) {
    case 'sgd':
      return u.momentum !== 0 ? ['momentumBuffer'] : [];
    case 'adam':
      return u.amsgrad ? ['expAvg', 'expAvgSq', 'maxExpAvgSq'] : ['expAvg', 'expAvgSq'];
    case 'rmsprop':
      return ['squareAvg', ...(u.centered ? ['gradAvg'] : []), ...(u.momentum > 0 ? ['momentumBuffer'] : [])];
  }
}
