// Deterministic test inputs: values from a small LCG so every run checks the same numbers.
import { tensor, type Tensor } from '../../src/index.ts';
import { numel } from '../../src/shape.ts';

export interface InputSpec {
  seed?: number;
  lo?: number;
  hi?: number;
  /** Keep |x| at least this far from 0 (away from kinks of relu/abs/sign). */
  awayFromZero?: number;
  requiresGrad?: boolean;
  dtype?: 'float32' | 'int32' | 'bool';
}

export function hostValues(n: number, spec: InputSpec = {}): Float32Array {
  const { seed = 1, lo = -2, hi = 2, awayFromZero = 0 } = spec;
  let s = (seed * 2654435761) >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    let v = lo + (s / 2 ** 32) * (hi - lo);
    if (awayFromZero > 0 && Math.abs(v) < awayFromZero) v = v < 0 ? -awayFromZero - Math.abs(v) : awayFromZero + v;
    out[i] = spec.dtype === 'int32' ? Math.round(v) : spec.dtype === 'bool' ? (v > 0 ? 1 : 0) : v;
  }
  return out;
}

/** A WebGPU tensor of `shape` with seeded values (requiresGrad by default for floats). */
export function input(shape: readonly number[], spec: InputSpec = {}): Tensor {
  const dtype = spec.dtype ?? 'float32';
  return tensor(hostValues(numel(shape), spec), {
    shape,
    dtype,
    requiresGrad: spec.requiresGrad ?? dtype === 'float32',
  });
}

/** Sizes every op is checked over: 1, odd, prime, just past a workgroup. */
export const ODD_SIZES = [1, 3, 17, 129] as const;
