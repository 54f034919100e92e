// Float64 reference of the fused optimizer updates (the twin of src/kernels/optim.ts): plain
// loops applying PyTorch's documented single-tensor update to one parameter in place.
// Knows nothing of optimizers' bookkeeping (step counts, groups): it gets resolved numbers.

import type { View } from '../types.ts';
import type { OptimUpdate } from '../optim-types.ts';
import { optimStateSlots } from '../optim-types.ts';
import { ShapeError, ValueError, fmtShape } from '../../errors.ts';
import { cpuStorageOf, viewPositions } from './storage.ts';

/** Updates `param` and `state` in place from `grad` (all of param's shape). */
export function optimStep(u: OptimUpdate, param: View, grad: View, state: readonly View[]): void {
  const op = `cpu.optimStep(${u.kind})`;
  const slots = optimStateSlots(u);
  if (state.length !== slots.length) throw new ValueError(op, `expects ${slots.length} state buffers (${slots.join(', ')}), got ${state.length}`);
  for (const v of [grad, ...state]) {
    if (v.shape.length !== param.shape.length || v.shape.some((d, i) => d !== param.shape[i])) {
      throw new ShapeError(op, `operand of shape ${fmtShape(v.shape)} does not match the parameter's ${fmtShape(param.shape)}`, [param.shape, v.shape]);
    }
  }
  const P = cpuStorageOf(op, param).data;
  const G = cpuStorageOf(op, grad).data;
  const S = state.map((v) => cpuStorageOf(op, v).data);
  const pp = viewPositions(op, param);
  const gp = viewPositions(op, grad);
  const sp = state.map((v) => viewPositions(op, v));
  const n = pp.length;

  switch (u.kind) {
    case 'sgd': {
      for (let i = 0; i < n; i++) {
        let p = P[pp[i]!]!;
        let g = G[gp[i]!]!;
        if (u.maximize) g = -g;
        if (u.weightDecay !== 0) g = g + u.weightDecay * p;
        if (u.momentum !== 0) {
          const at = sp[0]![i]!;
          // buf = g on the first step, then buf = momentum·buf + (1 − dampening)·g
          const buf = u.firstStep ? g : u.momentum * S[0]![at]! + (1 - u.dampening) * g;
          S[0]![at] = buf;
          g = u.nesterov ? g + u.momentum * buf : buf;
        }
        p = p - u.lr * g;
        P[pp[i]!] = p;
      }
      return;
    }
    case 'adam': {
      const bc1 = 1 - u.beta1 ** u.step;
      const bc2 = 1 - u.beta2 ** u.step;
      const stepSize = u.lr / bc1;
      const bc2Sqrt = Math.sqrt(bc2);
      for (let i = 0; i < n; i++) {
        let p = P[pp[i]!]!;
        let g = G[gp[i]!]!;
        if (u.maximize) g = -g;
        if (u.weightDecay !== 0) {
          if (u.decoupledWeightDecay) p = p * (1 - u.lr * u.weightDecay);
          else g = g + u.weightDecay * p;
        }
        const m = u.beta1 * S[0]![sp[0]![i]!]! + (1 - u.beta1) * g; // first moment
        const v = u.beta2 * S[1]![sp[1]![i]!]! + (1 - u.beta2) * g * g; // second moment
        S[0]![sp[0]![i]!] = m;
        S[1]![sp[1]![i]!] = v;
        let vHat = v;
        if (u.amsgrad) {
          vHat = Math.max(S[2]![sp[2]![i]!]!, v);
          S[2]![sp[2]![i]!] = vHat;
        }
        const denom = Math.sqrt(vHat) / bc2Sqrt + u.eps;
        P[pp[i]!] = p - stepSize * (m / denom);
      }
      return;
    }
    case 'rmsprop': {
      const gaSlot = u.centered ? 1 : -1;
      const bufSlot = u.momentum > 0 ? (u.centered ? 2 : 1) : -1;
      for (let i = 0; i < n; i++) {
        const p = P[pp[i]!]!;
        let g = G[gp[i]!]!;
        if (u.maximize) g = -g;
        if (u.weightDecay !== 0) g = g + u.weightDecay * p;
        const sq = u.alpha * S[0]![sp[0]![i]!]! + (1 - u.alpha) * g * g;
        S[0]![sp[0]![i]!] = sq;
        let avg: number;
        if (gaSlot >= 0) {
          const ga = u.alpha * S[gaSlot]![sp[gaSlot]![i]!]! + (1 - u.alpha) * g;
          S[gaSlot]![sp[gaSlot]![i]!] = ga;
          avg = Math.sqrt(sq - ga * ga) + u.eps;
        } else avg = Math.sqrt(sq) + u.eps;
        if (bufSlot >= 0) {
          const buf = u.momentum * S[bufSlot]![sp[bufSlot]![i]!]! + g / avg;
          S[bufSlot]![sp[bufSlot]![i]!] = buf;
          P[pp[i]!] = p - u.lr * buf;
        } else P[pp[i]!] = p - u.lr * (g / avg);
      }
      return;
    }
  }
}
