// Float64 reference of the activation primitives (leakyRelu, elu, gelu, softplus, logSigmoid,
// clamp, hardtanh, silu) and of their input gradients g·f'(x). PyTorch's CPU formulas and
// gradient conventions at kinks, noted op by op. JS has no Math.erf, so erfc is computed here
// to full double precision (series + continued fraction), independent of the WGSL approximation.

import type { View } from '../types.ts';
import type { ActivationOp } from '../pool-activation-types.ts';
import type { DType } from '../../dtype.ts';
import { ShapeError, fmtShape } from '../../errors.ts';
import { castTo, gather } from './storage.ts';

const TWO_OVER_SQRT_PI = 1.1283791670955126; // 2/√π
const INV_SQRT_PI = 0.5641895835477563; // 1/√π
const INV_SQRT2 = 0.7071067811865476;
const INV_SQRT_2PI = 0.3989422804014327; // 1/√(2π)
const SQRT_2_OVER_PI = 0.7978845608028654; // √(2/π), torch's kBeta
const GELU_KAPPA = 0.044715;

/**
 * erfc(x) to ~1e-15 relative, for every x. For |x| < 2: 1 − erf with the positive series
 * erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (2n+1)!! (no cancellation in the sum). For x ≥ 2: the
 * continued fraction erfc(x) = e^(−x²)/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …)))) by modified Lentz.
 * erfc(−x) = 2 − erfc(x).
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < 2) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 200 && term > 1e-17 * sum; n++) {
      term *= (2 * x * x) / (2 * n + 1);
      sum += term;
    }
    return 1 - TWO_OVER_SQRT_PI * Math.exp(-x * x) * sum;
  }
  if (x > 27) return 0; // below the smallest double
  // f = x + a1/(x + a2/(x + …)) with a_k = k/2; Lentz's method on b_k = x, a_k = k/2.
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return (INV_SQRT_PI * Math.exp(-x * x)) / f;
}

/** erf(x) = 1 − erfc(x) (accurate in absolute terms; the ops here need erfc). */
export function erf(x: number): number {
  return Math.abs(x) < 0.5 ? erfSmall(x) : 1 - erfc(x);
}

function erfSmall(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 60 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
    term *= (2 * x * x) / (2 * n + 1);
    sum += term;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x * x) * sum;
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
/** log(1 + e^z) without overflow or loss for z ≪ 0. */
const softplus1 = (z: number): number => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));

/** f(x) with PyTorch's CPU formula. */
export function activationValue(op: ActivationOp, x: number, params: readonly number[]): number {
  const [a = 0, b = 0] = params;
  switch (op) {
    case 'leakyRelu': return x > 0 ? x : x * a;
    case 'elu': return x > 0 ? x : a * Math.expm1(x);
    case 'gelu': return 0.5 * x * erfc(-x * INV_SQRT2); // x·Φ(x); 1 + erf(z) = erfc(−z) keeps the tail exact
    case 'geluTanh': {
      const u = SQRT_2_OVER_PI * (x + GELU_KAPPA * x * x * x);
      return 0.5 * x * (1 + Math.tanh(u));
    }
    case 'softplus': return x * a > b ? x : softplus1(x * a) / a;
    case 'logSigmoid': return -softplus1(-x);
    case 'clamp':
    case 'hardtanh': {
      if (Number.isNaN(x)) return x;
      return Math.min(Math.max(x, a), b); // min > max gives max everywhere, as torch.clamp
    }
    case 'silu': return x * sigmoid(x);
    default: {
      const never: never = op;
      throw new Error(`cpu.activation: unknown op '${String(never)}'`);
    }
  }
}

/** f'(x), the convention at each kink noted. */
export function activationDerivative(op: ActivationOp, x: number, params: readonly number[]): number {
  const [a = 0, b = 0] = params;
  switch (op) {
    case 'leakyRelu': return x > 0 ? 1 : a; // slope at 0 and at NaN (torch: x > 0 ? g : g·slope)
    case 'elu': return x <= 0 ? a * Math.exp(x) : 1; // α at 0, 1 at NaN (torch: x <= 0 → α·eˣ)
    // d[x Φ(x)] = Φ(x) + x φ(x)
    case 'gelu': return 0.5 * erfc(-x * INV_SQRT2) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
    case 'geluTanh': {
      // d[½x(1 + tanh u)] = ½(1 + tanh u) + ½x(1 − tanh² u)·√(2/π)(1 + 3κx²)
      const t = Math.tanh(SQRT_2_OVER_PI * (x + GELU_KAPPA * x * x * x));
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_KAPPA * x * x);
    }
    case 'softplus': return x * a > b ? 1 : sigmoid(x * a); // d log(1 + e^(βx))/β = σ(βx)
    case 'logSigmoid': return sigmoid(-x); // d log σ(x) = 1 − σ(x) = σ(−x)
    case 'clamp': return x >= a && x <= b ? 1 : 0; // inclusive bounds, 0 at NaN, as torch.clamp
    case 'hardtanh': return x <= a || x >= b ? 0 : 1; // exclusive bounds, 1 at NaN, as torch's hardtanh_backward
    case 'silu': {
      const s = sigmoid(x);
      return s * (1 + x * (1 - s)); // d xσ(x) = σ + xσ(1 − σ)
    }
    default: {
      const never: never = op;
      throw new Error(`cpu.activation: unknown op '${String(never)}'`);
    }
  }
}

/** out[i] = f(x[i]); clamp keeps int32 (exact), every other op is float. */
export function activation(op: ActivationOp, x: View, params: readonly number[]): Float64Array {
  const values = gather(`cpu.${op}`, x);
  const outDtype: DType = op === 'clamp' && x.storage.dtype !== 'float32' ? 'int32' : 'float32';
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = castTo(outDtype, activationValue(op, values[i]!, params));
  return out;
}

/** out[i] = g[i] · f'(x[i]); g must have x's shape (it may be a broadcast view). */
export function activationBackward(op: ActivationOp, x: View, g: View, params: readonly number[]): Float64Array {
  const name = `cpu.${op}Backward`;
  if (g.shape.length !== x.shape.length || g.shape.some((d, i) => d !== x.shape[i])) {
    throw new ShapeError(name, `gradient shape ${fmtShape(g.shape)} differs from the input shape ${fmtShape(x.shape)}`, [g.shape, x.shape]);
  }
  const xs = gather(name, x, 'float32');
  const gs = gather(name, g, 'float32');
  const out = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) out[i] = gs[i]! * activationDerivative(op, xs[i]!, params);
  return out;
}
