// Fused optimizer updates: SGD (momentum, dampening, Nesterov), Adam/AdamW (amsgrad),
// RMSprop (centered, momentum), Adagrad, Adadelta, Adamax, NAdam and RAdam, each ONE dispatch
// per parameter that reads the parameter, its gradient and its state buffers and writes
// parameter and state in place.
// Hyper-parameters travel in uniforms (so a scheduler changing lr recompiles nothing); the
// options that change which buffers exist or which terms apply (momentum on/off, nesterov,
// amsgrad, centered, maximize, weight decay on/off) are baked into the source, one cached
// pipeline per combination. Twin: src/backend/cpu/optim.ts (same formulas in float64).

import type { View } from '../backend/types.ts';
import type { OptimUpdate } from '../backend/optim-types.ts';
import { adagradStepSize, adamaxStepSize, nadamScalars, optimStateSlots, radamRectification } from '../backend/optim-types.ts';
import { numel as sizeOf } from '../shape.ts';
import type { GpuRuntime } from '../device/runtime.ts';
import type { GpuStorage } from './storage.ts';
import { alignedCuts, exceedsBinding, runSplit } from './split.ts';
import { MAIN_ARGS, UniformWriter, WG, flatIndex, grid1d } from './wgsl.ts';
import { kernel } from './ieee.ts';

/**
 * NAdam's and RAdam's first lines: L2 weight decay, then Adam's moments m (s0) and v (s1),
 * with h1 = (β1, 1 - β1, β2, 1 - β2) and h2.x = weightDecay.
 */
function momentLines(weightDecay: boolean): string[] {
  return [
    ...(weightDecay ? ['g = g + T(u.h2.x) * p;'] : []),
    'let m = T(u.h1.x) * s0[i + u.offS.x] + T(u.h1.y) * g;',
    'let v = T(u.h1.z) * s1[i + u.offS.y] + T(u.h1.w) * (g * g);',
    's0[i + u.offS.x] = m;',
    's1[i + u.offS.y] = v;',
  ];
}

/** The update body over `p` (param), `g` (grad) and state `s0..s2`, in type `T`; h0..h2 hold the hyper-parameters. */
function body(u: OptimUpdate, vec4: boolean): string {
  const lines: string[] = [];
  if ('maximize' in u && u.maximize) lines.push('g = -g;');
  switch (u.kind) {
    case 'sgd': {
      // h0 = (lr, momentum, 1 - dampening, weightDecay); flags bit 0: first step.
      if (u.weightDecay !== 0) lines.push('g = g + T(u.h0.w) * p;');
      if (u.momentum !== 0) {
        lines.push(
          'var b = s0[i + u.offS.x];',
          'b = select(T(u.h0.y) * b + T(u.h0.z) * g, g, (u.flags & 1u) != 0u); // buf = g on the first step',
          's0[i + u.offS.x] = b;',
          u.nesterov ? 'g = g + T(u.h0.y) * b;' : 'g = b;',
        );
      }
      lines.push('p = p - T(u.h0.x) * g;');
      break;
    }
    case 'adam': {
      // h0 = (stepSize = lr / (1 - β1^t), β1, 1 - β1, β2); h1 = (1 - β2, √(1 - β2^t), eps, weightDecay); h2.x = 1 - lr·wd.
      if (u.weightDecay !== 0) lines.push(u.decoupledWeightDecay ? 'p = p * T(u.h2.x);' : 'g = g + T(u.h1.w) * p;');
      lines.push(
        'let m = T(u.h0.y) * s0[i + u.offS.x] + T(u.h0.z) * g;',
        'let v = T(u.h0.w) * s1[i + u.offS.y] + T(u.h1.x) * (g * g);',
        's0[i + u.offS.x] = m;',
        's1[i + u.offS.y] = v;',
      );
      // torch.maximum: a NaN second moment stays NaN (the builtin max may drop it).
      if (u.amsgrad) lines.push(`let vHat = ${vec4 ? 'ieee_max4' : 'ieee_max'}(s2[i + u.offS.z], v);`, 's2[i + u.offS.z] = vHat;');
      else lines.push('let vHat = v;');
      lines.push('let denom = sqrt(vHat) / T(u.h1.y) + T(u.h1.z);', 'p = p - T(u.h0.x) * (m / denom);');
      break;
    }
    case 'rmsprop': {
      // h0 = (lr, α, 1 - α, eps); h1 = (weightDecay, momentum, -, -).
      if (u.weightDecay !== 0) lines.push('g = g + T(u.h1.x) * p;');
      lines.push('let sq = T(u.h0.y) * s0[i + u.offS.x] + T(u.h0.z) * (g * g);', 's0[i + u.offS.x] = sq;');
      if (u.centered) {
        lines.push(
          'let ga = T(u.h0.y) * s1[i + u.offS.y] + T(u.h0.z) * g;',
          's1[i + u.offS.y] = ga;',
          'let avg = sqrt(sq - ga * ga) + T(u.h0.w);',
        );
      } else lines.push('let avg = sqrt(sq) + T(u.h0.w);');
      if (u.momentum > 0) {
        const s = u.centered ? 's2' : 's1';
        const off = u.centered ? 'z' : 'y';
        lines.push(`let b = T(u.h1.y) * ${s}[i + u.offS.${off}] + g / avg;`, `${s}[i + u.offS.${off}] = b;`, 'p = p - T(u.h0.x) * b;');
      } else lines.push('p = p - T(u.h0.x) * (g / avg);');
      break;
    }
    case 'adagrad': {
      // h0 = (stepSize = lr / (1 + (t - 1)·lrDecay), eps, weightDecay, -).
      if (u.weightDecay !== 0) lines.push('g = g + T(u.h0.z) * p;');
      lines.push('let sum = s0[i + u.offS.x] + g * g;', 's0[i + u.offS.x] = sum;', 'p = p - T(u.h0.x) * (g / (sqrt(sum) + T(u.h0.y)));');
      break;
    }
    case 'adadelta': {
      // h0 = (lr, ρ, 1 - ρ, eps); h1.x = weightDecay.
      if (u.weightDecay !== 0) lines.push('g = g + T(u.h1.x) * p;');
      lines.push(
        'let sq = T(u.h0.y) * s0[i + u.offS.x] + T(u.h0.z) * (g * g);',
        's0[i + u.offS.x] = sq;',
        'let acc = s1[i + u.offS.y];',
        'let delta = sqrt(acc + T(u.h0.w)) / sqrt(sq + T(u.h0.w)) * g;',
        's1[i + u.offS.y] = T(u.h0.y) * acc + T(u.h0.z) * (delta * delta);',
        'p = p - T(u.h0.x) * delta;',
      );
      break;
    }
    case 'adamax': {
      // h0 = (stepSize = lr / (1 - β1^t), β1, 1 - β1, β2); h1 = (eps, weightDecay, -, -).
      if (u.weightDecay !== 0) lines.push('g = g + T(u.h1.y) * p;');
      lines.push(
        'let m = T(u.h0.y) * s0[i + u.offS.x] + T(u.h0.z) * g;',
        // torch.amax over [β2·u, |g| + eps]: a NaN on either side stays NaN.
        `let inf = ${vec4 ? 'ieee_max4' : 'ieee_max'}(T(u.h0.w) * s1[i + u.offS.y], abs(g) + T(u.h1.x));`,
        's0[i + u.offS.x] = m;',
        's1[i + u.offS.y] = inf;',
        'p = p - T(u.h0.x) * (m / inf);',
      );
      break;
    }
    case 'nadam': {
      // h0 = (gradStep, avgStep, 1 - β2^t, eps); h1, h2.x: see momentLines.
      lines.push(
        ...momentLines(u.weightDecay !== 0),
        'let denom = sqrt(v / T(u.h0.z)) + T(u.h0.w);',
        'p = p - T(u.h0.x) * (g / denom);',
        'p = p - T(u.h0.y) * (m / denom);',
      );
      break;
    }
    case 'radam': {
      // h0 = (1 - β1^t, lr, √(1 - β2^t), eps); h1, h2.x: see momentLines; h2.y = rect;
      // flags bit 0: rectified this step (ρ_t > 5), decided on the host.
      lines.push(
        ...momentLines(u.weightDecay !== 0),
        'let mHat = m / T(u.h0.x);',
        'if ((u.flags & 1u) != 0u) { p = p - mHat * T(u.h0.y) * (T(u.h0.z) / (sqrt(v) + T(u.h0.w))) * T(u.h2.y); } else { p = p - mHat * T(u.h0.y); }',
      );
      break;
    }
  }
  return lines.join('\n  ');
}

/** Which variant a source serves (the cache key and the kernel name). */
function variantKey(u: OptimUpdate): string {
  const f = (b: boolean, s: string) => (b ? s : '');
  switch (u.kind) {
    case 'sgd':
      return `sgd${f(u.momentum !== 0, '_momentum')}${f(u.nesterov, '_nesterov')}${f(u.weightDecay !== 0, '_wd')}${f(u.maximize, '_max')}`;
    case 'adam':
      return `adam${f(u.amsgrad, '_amsgrad')}${f(u.weightDecay !== 0, u.decoupledWeightDecay ? '_decoupled' : '_wd')}${f(u.maximize, '_max')}`;
    case 'rmsprop':
      return `rmsprop${f(u.centered, '_centered')}${f(u.momentum > 0, '_momentum')}${f(u.weightDecay !== 0, '_wd')}${f(u.maximize, '_max')}`;
    case 'adagrad':
    case 'adadelta':
    case 'adamax':
      return `${u.kind}${f(u.weightDecay !== 0, '_wd')}${f(u.maximize, '_max')}`;
    case 'nadam':
    case 'radam':
      return `${u.kind}${f(u.weightDecay !== 0, '_wd')}`;
  }
}

const sourceCache = new Map<string, string>();

function shaderSource(u: OptimUpdate, vec4: boolean): string {
  const key = `${variantKey(u)}|${vec4}`;
  const hit = sourceCache.get(key);
  if (hit) return hit;
  const T = vec4 ? 'vec4<f32>' : 'f32';
  const nState = optimStateSlots(u).length;
  const states = Array.from({ length: nState }, (_, k) => `@group(0) @binding(${k + 2}) var<storage, read_write> s${k}: array<T>;`);
  const src = `// ${variantKey(u)} (${vec4 ? 'vec4' : 'scalar'}): thread i updates ${vec4 ? 'elements 4i..4i+3' : 'element i'} of one
// parameter in place, with its gradient and state buffers at the same positions (offsets in
// ${vec4 ? 'vec4s' : 'elements'} in the uniforms).
alias T = ${T};
struct Params { n: u32, offP: u32, offG: u32, flags: u32, offS: vec4<u32>, h0: vec4<f32>, h1: vec4<f32>, h2: vec4<f32> };
@group(0) @binding(0) var<storage, read_write> param: array<T>;
@group(0) @binding(1) var<storage, read> grad: array<T>;
${states.join('\n')}
@group(0) @binding(${nState + 2}) var<uniform> u: Params;
@compute @workgroup_size(${WG})
fn main(${MAIN_ARGS}) {
  ${flatIndex()}
  if (i >= u.n) { return; }
  var p = param[i + u.offP];
  var g = grad[i + u.offG];
  ${body(u, vec4)}
  param[i + u.offP] = p;
}`;
  sourceCache.set(key, src);
  return src;
}

/** The hyper-parameter uniforms h0..h2 (12 floats) and flags of an update. */
function hyper(u: OptimUpdate): { h: number[]; flags: number } {
  switch (u.kind) {
    case 'sgd':
      return { h: [u.lr, u.momentum, 1 - u.dampening, u.weightDecay], flags: u.firstStep ? 1 : 0 };
    case 'adam': {
      const stepSize = u.lr / (1 - u.beta1 ** u.step);
      const bc2Sqrt = Math.sqrt(1 - u.beta2 ** u.step);
      return {
        h: [stepSize, u.beta1, 1 - u.beta1, u.beta2, 1 - u.beta2, bc2Sqrt, u.eps, u.weightDecay, 1 - u.lr * u.weightDecay],
        flags: 0,
      };
    }
    case 'rmsprop':
      return { h: [u.lr, u.alpha, 1 - u.alpha, u.eps, u.weightDecay, u.momentum], flags: 0 };
    case 'adagrad':
      return { h: [adagradStepSize(u), u.eps, u.weightDecay], flags: 0 };
    case 'adadelta':
      return { h: [u.lr, u.rho, 1 - u.rho, u.eps, u.weightDecay], flags: 0 };
    case 'adamax':
      return { h: [adamaxStepSize(u), u.beta1, 1 - u.beta1, u.beta2, u.eps, u.weightDecay], flags: 0 };
    case 'nadam': {
      const { bc2, gradStep, avgStep } = nadamScalars(u);
      return { h: [gradStep, avgStep, bc2, u.eps, u.beta1, 1 - u.beta1, u.beta2, 1 - u.beta2, u.weightDecay], flags: 0 };
    }
    case 'radam': {
      const rect = radamRectification(u);
      const h = [1 - u.beta1 ** u.step, u.lr, Math.sqrt(1 - u.beta2 ** u.step), u.eps, u.beta1, 1 - u.beta1, u.beta2, 1 - u.beta2, u.weightDecay, rect ?? 0];
      return { h, flags: rect === null ? 0 : 1 };
    }
  }
}

/** Runs one fused update of `param` (see Backend.optimStep). */
export function optimStep(rt: GpuRuntime, u: OptimUpdate, param: View, grad: View, state: readonly View[]): void {
  const n = sizeOf(param.shape);
  if (n === 0) return;
  const views = [param, grad, ...state];
  if (exceedsBinding(rt, views)) {
    // Element by element: parts of any dims, each updating its slab in place (src/kernels/split.ts).
    runSplit(rt, {
      name: `optim.${u.kind}`, backend: (param.storage as GpuStorage).backend, inputs: views, roles: ['parameter', 'gradient', ...state.map((_, k) => `state ${k}`)],
      outputs: [], cuts: alignedCuts(param.shape, views.length),
      leaf: ([p, g, ...st]) => {
        optimStep(rt, u, p!, g!, st as View[]);
        return [];
      },
    });
    return;
  }
  const vec4 = n % 4 === 0 && views.every((v) => v.offset % 4 === 0);
  const w = vec4 ? 4 : 1;
  const uw = new UniformWriter(5);
  uw.u32[0] = n / w;
  uw.u32[1] = param.offset / w;
  uw.u32[2] = grad.offset / w;
  const { h, flags } = hyper(u);
  uw.u32[3] = flags;
  uw.list(1, state.map((v) => v.offset / w));
  h.forEach((x, k) => (uw.f32[8 + k] = x));
  const k = kernel(rt, `optim_${variantKey(u)}${vec4 ? '_vec4' : ''}`, shaderSource(u, vec4));
  rt.dispatch(k, views.map((v) => (v.storage as GpuStorage).buffer), uw.u32, grid1d(n / w));
}
