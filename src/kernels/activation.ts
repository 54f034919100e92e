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
import { ieeeFn } from './ieee.ts';

/** WGSL helper functions, each for the compute type `v` (f32 or vec4<f32>). */
const HELPERS: Record<string, (v: string) => string> = {
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
  softplus: (v) => `fn act_softplus(z: ${v}) -> ${v} { return ${ieeeFn('max', v)}(z, ${v}(0.0)) + act_log1p01(exp(-abs(z))); }`,
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
  // d/dx [x·σ(2u)], u = √(2/π)(x + κx³): σ(2u) + x·2σ(1 − σ)·√(2/π)(1 + 3κx²). σ(1 − σ) is exactly
  // 0 in f32 for |x| ≥ 12, so x² is taken clamped there: at x = ±1e30 the derivative is its limit
  // (1 or 0) instead of 0·∞ = NaN (torch's float32 formula overflows to NaN there; ±∞ stays NaN).
  geluTanhGrad: (v) => `fn act_gelu_tanh_grad(x: ${v}) -> ${v} {
  let s = ${ieeeFn('sigmoid', v)}(${v}(${2 * 0.7978845608028654}) * (x + ${v}(0.044715) * x * x * x));
  let xc = ${ieeeFn('clamp', v)}(x, ${v}(-12.0), ${v}(12.0));
  return s + x * ${v}(2.0) * s * (${v}(1.0) - s) * ${v}(0.7978845608028654) * (${v}(1.0) + ${v}(3.0 * 0.044715) * xc * xc);
}`,
};

/** Helper dependencies (emitted in this order). */
const ORDER = ['log1p01', 'softplus', 'erfc', 'geluTanhGrad'];
const NEEDS: Record<string, string[]> = { softplus: ['log1p01'] };

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

/**
 * Forward and gradient of each op, the derivative beside it (float64 twins in
 * src/backend/cpu/activation.ts). Every forward maps NaN to NaN (wrapped in `activation` below).
 * At NaN the gradients follow torch's backward kernels, whose branch conditions decide it:
 * leakyRelu takes the slope, elu and hardtanh pass g, clamp gives 0; the others compute NaN.
 * Those choices are forced with a bit test, which no compiler can rewrite.
 */
const KERNELS: Record<ActivationOp, ActivationKernel> = {
  // x > 0 ? x : slope·x; f' = x > 0 ? 1 : slope (slope at 0 and at NaN, as torch).
  leakyRelu: {
    forward: ([x, a], v) => `select(${x} * ${a}, ${x}, ${x} > ${v}(0.0))`,
    grad: ([x, g, a], v) => `${g} * select(${a}, ${v}(1.0), (${x} > ${v}(0.0)) & !${nan(x!, v)})`,
    uses: [],
    gradUses: [],
  },
  // x > 0 ? x : α(eˣ − 1); f' = x <= 0 ? α·eˣ : 1 (α at 0; 1 at NaN, as torch).
  elu: {
    forward: ([x, a], v) => `select(${a} * ${ieeeFn('expm1', v)}(${x}), ${x}, ${x} > ${v}(0.0))`,
    grad: ([x, g, a], v) => `${g} * select(${v}(1.0), ${a} * exp(${x}), (${x} <= ${v}(0.0)) & !${nan(x!, v)})`,
    uses: [],
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
    forward: ([x], v) => `${x} * ${ieeeFn('sigmoid', v)}(${v}(${TWO_SQRT_2_OVER_PI}) * (${x} + ${v}(0.044715) * ${x} * ${x} * ${x}))`,
    grad: ([x, g]) => `${g} * act_gelu_tanh_grad(${x})`,
    uses: [],
    gradUses: ['geluTanhGrad'],
  },
  // βx > threshold ? x : log(1 + e^(βx))/β; f' = βx > threshold ? 1 : σ(βx).
  softplus: {
    forward: ([x, a, b]) => `select(act_softplus(${x} * ${a}) / ${a}, ${x}, ${x} * ${a} > ${b})`,
    grad: ([x, g, a, b], v) => `${g} * select(${ieeeFn('sigmoid', v)}(${x} * ${a}), ${v}(1.0), ${x} * ${a} > ${b})`,
    uses: ['softplus'],
    gradUses: [],
  },
  // log σ(x) = −softplus(−x); f' = σ(−x).
  logSigmoid: {
    forward: ([x]) => `-act_softplus(-${x})`,
    grad: ([x, g], v) => `${g} * ${ieeeFn('sigmoid', v)}(-${x})`,
    uses: ['softplus'],
    gradUses: [],
  },
  // min(max(x, lo), hi); f' = 1 on [lo, hi] inclusive, 0 outside and at NaN, as torch.clamp.
  clamp: {
    forward: ([x, a, b], v) => (v.includes('f32') ? `${ieeeFn('clamp', v)}(${x}, ${a}, ${b})` : `min(max(${x}, ${a}), ${b})`),
    grad: ([x, g, a, b], v) => `${g} * select(${v}(0.0), ${v}(1.0), (${x} >= ${a}) & (${x} <= ${b}) & !${nan(x!, v)})`,
    uses: [],
    gradUses: [],
  },
  // Same values as clamp; f' = 0 at and beyond the bounds, else 1 (at NaN too), as torch's hardtanh_backward.
  hardtanh: {
    forward: ([x, a, b], v) => `${ieeeFn('clamp', v)}(${x}, ${a}, ${b})`,
    grad: ([x, g, a, b], v) => `${g} * select(${v}(1.0), ${v}(0.0), ((${x} <= ${a}) | (${x} >= ${b})) & !${nan(x!, v)})`,
    uses: [],
    gradUses: [],
  },
  // x·σ(x); f' = σ(x)(1 + x(1 − σ(x))).
  silu: {
    forward: ([x], v) => `${x} * ${ieeeFn('sigmoid', v)}(${x})`,
    grad: ([x, g], v) => `${g} * ${ieeeFn('sigmoid', v)}(${x}) * (${v}(1.0) + ${x} * (${v}(1.0) - ${ieeeFn('sigmoid', v)}(${x})))`,
    uses: [],
    gradUses: [],
  },
};

/** Bit test for NaN on a value of compute type `v` (comparisons cannot be trusted with NaN). */
function nan(x: string, v: string): string {
  return `${ieeeFn('isnan', v)}(${x})`;
}

/** `f(x)` with NaN mapped to NaN whatever f's formula does (every activation does so in torch). */
function nanThrough(forward: Expr): Expr {
  return (args, v) => (v.includes('f32') ? `select(${forward(args, v)}, ${args[0]}, ${nan(args[0]!, v)})` : forward(args, v));
}

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
  return mapKernel(rt, backend, { name: `act_${op}`, dtype, outDtype: dtype, expr: nanThrough(k.forward), helpers: helpers(k.uses) }, [x, ...params], x.shape);
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
