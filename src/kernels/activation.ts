// Activation kernels: leakyRelu, elu, gelu (erf and tanh forms), softplus, logSigmoid, clamp,
// hardtanh, silu, and their input gradients g·f'(x) fused in one pass. They are map kernels of
// the elementwise family (src/kernels/elementwise.ts runs them, vec4 or strided), with the
// op's scalar parameters in the uniforms' scalars slot, so one pipeline serves every value.
// Each op's float64 twin is src/backend/cpu/activation.ts.

import type { DType } from '../dtype.ts';
import type { View } from '../backend/types.ts';
import type { ActivationOp } from '../backend/pool-activation-types.ts';
import type { GpuRuntime } from '../device/runtime.ts';
import type { GpuStorage } from './storage.ts';
import { mapKernel, type Expr } from './elementwise.ts';

/** WGSL helper functions, each for the compute type `v` (f32 or vec4<f32>). */
const HELPERS: Record<string, (v: string) => string> = {
  // 1/(1 + e^-z): e^-z overflowing to +inf gives 0, as it should.
  sigmoid: (v) => `fn act_sigmoid(z: ${v}) -> ${v} { return ${v}(1.0) / (${v}(1.0) + exp(-z)); }`,
  // log1p(u) for u in [0, 1] as 2·atanh(s), s = u/(2 + u) ≤ 1/3, by the odd series of atanh:
  // every term positive (no cancellation), truncation s^18/19 < 1e-9 relative. WGSL has no
  // log1p, and log(1 + u) loses all digits of small u.
  log1p01: (v) => `fn act_log1p01(u: ${v}) -> ${v} {
  let s = u / (${v}(2.0) + u);
  let s2 = s * s;
  var q = ${v}(1.0 / 17.0);
  q = q * s2 + ${v}(1.0 / 15.0);
  q = q * s2 + ${v}(1.0 / 13.0);
  q = q * s2 + ${v}(1.0 / 11.0);
  q = q * s2 + ${v}(1.0 / 9.0);
  q = q * s2 + ${v}(1.0 / 7.0);
  q = q * s2 + ${v}(1.0 / 5.0);
  q = q * s2 + ${v}(1.0 / 3.0);
  q = q * s2 + ${v}(1.0);
  return ${v}(2.0) * s * q;
}`,
  // log(1 + e^z) = max(z, 0) + log1p(e^-|z|): no overflow for z ≫ 0, exact tail for z ≪ 0.
  softplus: (v) => `fn act_softplus(z: ${v}) -> ${v} { return max(z, ${v}(0.0)) + act_log1p01(exp(-abs(z))); }`,
  // e^x − 1: Taylor to x^8/8! for |x| < ½ (truncation < 1e-8 relative), else exp(x) − 1.
  expm1: (v) => `fn act_expm1(x: ${v}) -> ${v} {
  var q = ${v}(1.0 / 40320.0);
  q = q * x + ${v}(1.0 / 5040.0);
  q = q * x + ${v}(1.0 / 720.0);
  q = q * x + ${v}(1.0 / 120.0);
  q = q * x + ${v}(1.0 / 24.0);
  q = q * x + ${v}(1.0 / 6.0);
  q = q * x + ${v}(0.5);
  q = q * x + ${v}(1.0);
  return select(exp(x) - ${v}(1.0), x * q, abs(x) < ${v}(0.5));
}`,
  // erfc(x) by the Chebyshev fit of Numerical Recipes (erfcc, 2nd ed. §6.2): t·exp(−z² + P(t)),
  // t = 1/(1 + z/2), z = |x|, fractional error < 1.2e-7 everywhere (checked against the float64
  // reference in test/ops/activations.test.ts); erfc(−z) = 2 − erfc(z). Abramowitz–Stegun 7.1.26
  // (error 1.5e-7 absolute, not relative) would lose the tail that gelu(x ≪ 0) needs.
  erfc: (v) => `fn act_erfc(x: ${v}) -> ${v} {
  let z = abs(x);
  let t = ${v}(1.0) / (${v}(1.0) + ${v}(0.5) * z);
  var q = ${v}(0.17087277);
  q = q * t + ${v}(-0.82215223);
  q = q * t + ${v}(1.48851587);
  q = q * t + ${v}(-1.13520398);
  q = q * t + ${v}(0.27886807);
  q = q * t + ${v}(-0.18628806);
  q = q * t + ${v}(0.09678418);
  q = q * t + ${v}(0.37409196);
  q = q * t + ${v}(1.00002368);
  let r = t * exp(-z * z + ${v}(-1.26551223) + t * q);
  return select(${v}(2.0) - r, r, x >= ${v}(0.0));
}`,
  // d/dx [x·σ(2u)], u = √(2/π)(x + κx³): σ(2u) + x·2σ(1 − σ)·√(2/π)(1 + 3κx²).
  geluTanhGrad: (v) => `fn act_gelu_tanh_grad(x: ${v}) -> ${v} {
  let s = act_sigmoid(${v}(${2 * 0.7978845608028654}) * (x + ${v}(0.044715) * x * x * x));
  return s + x * ${v}(2.0) * s * (${v}(1.0) - s) * ${v}(0.7978845608028654) * (${v}(1.0) + ${v}(3.0 * 0.044715) * x * x);
}`,
  // Clamp that lets NaN through (WGSL clamp/min/max may drop it); lo > hi gives hi, as torch.clamp.
  clamp: (v) => `fn act_clamp(x: ${v}, lo: ${v}, hi: ${v}) -> ${v} {
  let r = select(x, lo, x < lo);
  return select(r, hi, r > hi);
}`,
};

/** Helper dependencies (emitted in this order). */
const ORDER = ['sigmoid', 'log1p01', 'softplus', 'expm1', 'erfc', 'geluTanhGrad', 'clamp'];
const NEEDS: Record<string, string[]> = { softplus: ['log1p01'], geluTanhGrad: ['sigmoid'] };

function helpers(names: string[]): (v: string) => string {
  const all = new Set<string>();
  const add = (n: string) => {
    for (const d of NEEDS[n] ?? []) add(d);
    all.add(n);
  };
  names.forEach(add);
  return (v) => ORDER.filter((n) => all.has(n)).map((n) => HELPERS[n]!(v)).join('\n');
}

const INV_SQRT2 = 0.7071067811865476;
const INV_SQRT_2PI = 0.3989422804014327;
const TWO_SQRT_2_OVER_PI = 2 * 0.7978845608028654;

interface ActivationKernel {
  /** f(x); args [x, ...params]. */
  forward: Expr;
  /** g·f'(x); args [x, g, ...params]. */
  grad: Expr;
  uses: string[];
  gradUses: string[];
}

/** Forward and gradient of each op, the derivative beside it (float64 twins in src/backend/cpu/activation.ts). */
const KERNELS: Record<ActivationOp, ActivationKernel> = {
  // x > 0 ? x : slope·x; f' = x > 0 ? 1 : slope (slope at 0, as torch).
  leakyRelu: {
    forward: ([x, a], v) => `select(${x} * ${a}, ${x}, ${x} > ${v}(0.0))`,
    grad: ([x, g, a], v) => `${g} * select(${a}, ${v}(1.0), ${x} > ${v}(0.0))`,
    uses: [],
    gradUses: [],
  },
  // x > 0 ? x : α(eˣ − 1); f' = x > 0 ? 1 : α·eˣ (α at 0, as torch).
  elu: {
    forward: ([x, a], v) => `select(${a} * act_expm1(${x}), ${x}, ${x} > ${v}(0.0))`,
    grad: ([x, g, a], v) => `${g} * select(${a} * exp(${x}), ${v}(1.0), ${x} > ${v}(0.0))`,
    uses: ['expm1'],
    gradUses: [],
  },
  // x·Φ(x) = ½x·erfc(−x/√2); f' = Φ(x) + x·φ(x).
  gelu: {
    forward: ([x], v) => `${v}(0.5) * ${x} * act_erfc(${x} * ${v}(${-INV_SQRT2}))`,
    grad: ([x, g], v) =>
      `${g} * (${v}(0.5) * act_erfc(${x} * ${v}(${-INV_SQRT2})) + ${x} * ${v}(${INV_SQRT_2PI}) * exp(${v}(-0.5) * ${x} * ${x}))`,
    uses: ['erfc'],
    gradUses: ['erfc'],
  },
  // ½x(1 + tanh u) = x·σ(2u), u = √(2/π)(x + 0.044715x³): the σ form has no 1 + (−1) cancellation.
  geluTanh: {
    forward: ([x], v) => `${x} * act_sigmoid(${v}(${TWO_SQRT_2_OVER_PI}) * (${x} + ${v}(0.044715) * ${x} * ${x} * ${x}))`,
    grad: ([x, g]) => `${g} * act_gelu_tanh_grad(${x})`,
    uses: ['sigmoid'],
    gradUses: ['geluTanhGrad'],
  },
  // βx > threshold ? x : log(1 + e^(βx))/β; f' = βx > threshold ? 1 : σ(βx).
  softplus: {
    forward: ([x, a, b]) => `select(act_softplus(${x} * ${a}) / ${a}, ${x}, ${x} * ${a} > ${b})`,
    grad: ([x, g, a, b], v) => `${g} * select(act_sigmoid(${x} * ${a}), ${v}(1.0), ${x} * ${a} > ${b})`,
    uses: ['softplus'],
    gradUses: ['sigmoid'],
  },
  // log σ(x) = −softplus(−x); f' = σ(−x).
  logSigmoid: {
    forward: ([x]) => `-act_softplus(-${x})`,
    grad: ([x, g]) => `${g} * act_sigmoid(-${x})`,
    uses: ['softplus'],
    gradUses: ['sigmoid'],
  },
  // min(max(x, lo), hi); f' = 1 on [lo, hi] inclusive, as torch.clamp.
  clamp: {
    forward: ([x, a, b]) => `act_clamp(${x}, ${a}, ${b})`,
    grad: ([x, g, a, b], v) => `${g} * select(${v}(0.0), ${v}(1.0), (${x} >= ${a}) & (${x} <= ${b}))`,
    uses: ['clamp'],
    gradUses: [],
  },
  // Same values as clamp; f' = 1 on (lo, hi) exclusive, as torch's hardtanh_backward.
  hardtanh: {
    forward: ([x, a, b]) => `act_clamp(${x}, ${a}, ${b})`,
    grad: ([x, g, a, b], v) => `${g} * select(${v}(0.0), ${v}(1.0), (${x} > ${a}) & (${x} < ${b}))`,
    uses: ['clamp'],
    gradUses: [],
  },
  // x·σ(x); f' = σ(x)(1 + x(1 − σ(x))).
  silu: {
    forward: ([x]) => `${x} * act_sigmoid(${x})`,
    grad: ([x, g], v) => `${g} * act_sigmoid(${x}) * (${v}(1.0) + ${x} * (${v}(1.0) - act_sigmoid(${x})))`,
    uses: ['sigmoid'],
    gradUses: ['sigmoid'],
  },
};

/** Compute (and output) dtype: clamp keeps int32 (bool counts as int32); the rest are float. */
function computeDtype(op: ActivationOp, x: DType): DType {
  return op === 'clamp' && x !== 'float32' ? 'int32' : 'float32';
}

/**
 * out = f(x) over x's shape, contiguous. `params` are the op's scalars (see ActivationOp).
 * @example activation(rt, be, 'leakyRelu', x, [0.01])
 */
export function activation(rt: GpuRuntime, backend: GpuStorage['backend'], op: ActivationOp, x: View, params: readonly number[]): GpuStorage {
  const k = KERNELS[op];
  const dtype = computeDtype(op, x.storage.dtype);
  return mapKernel(rt, backend, { name: `act_${op}`, dtype, outDtype: dtype, expr: k.forward, helpers: helpers(k.uses) }, [x, ...params], x.shape);
}

/** out = g·f'(x) over x's shape (g broadcast to it), float32, contiguous. */
export function activationBackward(
  rt: GpuRuntime,
  backend: GpuStorage['backend'],
  op: ActivationOp,
  x: View,
  g: View,
  params: readonly number[],
): GpuStorage {
  const k = KERNELS[op];
  return mapKernel(
    rt,
    backend,
    { name: `act_${op}_grad`, dtype: 'float32', outDtype: 'float32', expr: k.grad, helpers: helpers(k.gradUses) },
    [x, g, ...params],
    x.shape,
  );
}
