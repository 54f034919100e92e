// Float64 reference of the fused optimizer updates (the twin of src/kernels/optim.ts): plain
// loops applying PyTorch's documented single-tensor update to one parameter in place.
// Knows nothing of optimizers' bookkeeping (step counts, groups): it gets resolved numbers.

import type { View } from '../types.ts';
import type { OptimUpdate } from '../optim-types.ts';
import { adagradStepSize, adamaxStepSize, nadamScalars, optimStateSlots, radamRectification } from '../optim-types.ts';
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
  /** State slot k at element i, read and written. */
  const get = (k: number, i: number): number => S[k]![sp[k]![i]!]!;
  const set = (k: number, i: number, v: number): void => void (S[k]![sp[k]![i]!] = v);
  /** The gradient of element i after maximize and L2 weight decay (every optimizer below starts so). */
  const gradAt = (i: number, maximize: boolean, weightDecay: number): number => {
    let g = G[gp[i]!]!;
    if (maximize) g = -g;
    return weightDecay !== 0 ? g + weightDecay * P[pp[i]!]! : g;
  };
  /** Adam's moments of element i from gradient g, written to slots 0 and 1 (NAdam, RAdam). */
  const moments = (i: number, g: number, beta1: number, beta2: number): [number, number] => {
    const m = beta1 * get(0, i) + (1 - beta1) * g;
    const v = beta2 * get(1, i) + (1 - beta2) * g * g;
    set(0, i, m);
    set(1, i, v);
    return [m, v];
  };

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
    case 'adagrad': {
      const clr = adagradStepSize(u);
      for (let i = 0; i < n; i++) {
        const g = gradAt(i, u.maximize, u.weightDecay);
        const sum = get(0, i) + g * g;
        set(0, i, sum);
        P[pp[i]!] = P[pp[i]!]! - clr * (g / (Math.sqrt(sum) + u.eps));
      }
      return;
    }
    case 'adadelta': {
      for (let i = 0; i < n; i++) {
        const g = gradAt(i, u.maximize, u.weightDecay);
        const sq = u.rho * get(0, i) + (1 - u.rho) * g * g;
        set(0, i, sq);
        // delta = √(accDelta + eps) / √(squareAvg + eps) · g, then accDelta ← ρ·accDelta + (1 − ρ)·delta²
        const delta = (Math.sqrt(get(1, i) + u.eps) / Math.sqrt(sq + u.eps)) * g;
        set(1, i, u.rho * get(1, i) + (1 - u.rho) * delta * delta);
        P[pp[i]!] = P[pp[i]!]! - u.lr * delta;
      }
      return;
    }
    case 'adamax': {
      const clr = adamaxStepSize(u);
      for (let i = 0; i < n; i++) {
        const g = gradAt(i, u.maximize, u.weightDecay);
        const m = u.beta1 * get(0, i) + (1 - u.beta1) * g;
        // torch.amax over [β2·u, |g| + eps]: NaN wins (Math.max propagates it too).
        const inf = Math.max(u.beta2 * get(1, i), Math.abs(g) + u.eps);
        set(0, i, m);
        set(1, i, inf);
        P[pp[i]!] = P[pp[i]!]! - clr * (m / inf);
      }
      return;
    }
    case 'nadam': {
      const { bc2, gradStep, avgStep } = nadamScalars(u);
      for (let i = 0; i < n; i++) {
        const g = gradAt(i, false, u.weightDecay);
        const [m, v] = moments(i, g, u.beta1, u.beta2);
        const denom = Math.sqrt(v / bc2) + u.eps;
        const p = P[pp[i]!]! - gradStep * (g / denom); // two addcdiv_ calls, in torch's order
        P[pp[i]!] = p - avgStep * (m / denom);
      }
      return;
    }
    case 'radam': {
      const bc1 = 1 - u.beta1 ** u.step;
      const bc2Sqrt = Math.sqrt(1 - u.beta2 ** u.step);
      const rect = radamRectification(u);
      for (let i = 0; i < n; i++) {
        const g = gradAt(i, false, u.weightDecay);
        const [m, v] = moments(i, g, u.beta1, u.beta2);
        const mHat = m / bc1;
        P[pp[i]!] = P[pp[i]!]! - (rect === null ? mHat * u.lr : mHat * u.lr * (bc2Sqrt / (Math.sqrt(v) + u.eps)) * rect);
      }
      return;
    }
  }
}
