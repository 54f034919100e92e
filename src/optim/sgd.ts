// SGD with momentum, dampening, Nesterov momentum, L2 weight decay and maximize
// (torch.optim.SGD). The update itself is one fused dispatch per parameter.

import type { SgdUpdate } from '../backend/optim-types.ts';
import { ValueError } from '../errors.ts';
import { Optimizer, check, type ParamGroup, type ParamState, type ParamsInput } from './optimizer.ts';

/**
 * Options of {@link SGD}, per parameter group (torch.optim.SGD's keywords, camelCased). Give
 * any subset to the constructor or in a group; the rest take the defaults below. Invalid
 * values (negative lr, momentum or weightDecay; nesterov without momentum) throw a ValueError.
 */
export interface SGDOptions {
  /** Learning rate (default 1e-3, as PyTorch ≥ 2.2). */
  lr: number;
  /** Momentum factor (default 0). */
  momentum: number;
  /** Dampening of the momentum (default 0). */
  dampening: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** Maximize the objective instead of minimizing (default false). */
  maximize: boolean;
}

/**
 * Stochastic gradient descent (torch.optim.SGD). Per parameter, with g its gradient:
 *   g ← −g if maximize;  g ← g + weightDecay·p;
 *   b ← g on the first step, else momentum·b + (1 − dampening)·g;  g ← g + momentum·b (nesterov) or b;
 *   p ← p − lr·g
 * @example const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.5 });
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsInput<SGDOptions>, opts: Partial<SGDOptions> = {}) {
    super('SGD', params, { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, ...opts });
  }

  protected override checkOptions(o: SGDOptions): void {
    check('SGD', Number.isFinite(o.lr) && o.lr >= 0, 'learning rate', o.lr);
    check('SGD', Number.isFinite(o.momentum) && o.momentum >= 0, 'momentum', o.momentum);
    check('SGD', Number.isFinite(o.dampening), 'dampening', o.dampening);
    check('SGD', Number.isFinite(o.weightDecay) && o.weightDecay >= 0, 'weightDecay', o.weightDecay);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) throw new ValueError('SGD', 'Nesterov momentum requires a momentum and zero dampening');
  }

  /** The momentum buffer is written whole on its first step (it becomes the gradient): no fill. */
  protected override stateFill(): number | null {
    return null;
  }

  protected override updateFor(g: ParamGroup<SGDOptions>, st: ParamState): SgdUpdate {
    return {
      kind: 'sgd',
      lr: g.lr,
      momentum: g.momentum,
      dampening: g.dampening,
      nesterov: g.nesterov,
      weightDecay: g.weightDecay,
      maximize: g.maximize,
      firstStep: !st.buffers.momentumBuffer,
    };
  }
}
