// A subset of the op suite that runs unchanged in Node and in a browser page: each check is a
// `gradcheck` (finite differences in float64 on the CPU reference against the analytic backward,
// then WebGPU forward/backward against the reference at float32 tolerance). The library comes
// in as an argument, so Node passes src/index.ts (lavapipe through Dawn) and the page passes the
// browser bundle (navigator.gpu: SwiftShader in headless Chromium):
//   test/browser/op-checks.test.ts      vitest, in Node
//   test/browser/demo.e2e.ts            in the demo page, through dist/browser/op-checks.js
// The full per-op suites are test/ops/*.test.ts; these are the same kind of check on a few
// shapes per family, enough to show each kernel family compiles and agrees in the browser.

import type * as Webgrad from '../../src/index.ts';
import type { Tensor } from '../../src/index.ts';

/** The outcome of one check. */
export interface OpCheckResult {
  name: string;
  ok: boolean;
  /** Largest |analytic - numeric| gradient error (float64). */
  maxError: number;
  /** Largest |WebGPU - CPU reference| (float32 vs float64). */
  maxGpuError: number;
  ms: number;
  /** The failures (or the exception) when not ok. */
  message?: string;
}

interface Spec {
  lo?: number;
  hi?: number;
  /** Keep |x| at least this far from 0 (kinks of relu/abs, poles of div/log). */
  away?: number;
  seed: number;
  dtype?: 'float32' | 'int32';
  requiresGrad?: boolean;
}

interface Check {
  name: string;
  inputs: [shape: number[], spec: Spec][];
  fn: (...xs: Tensor[]) => Tensor;
  /** Reductions and matmul accumulate float32 rounding over their length. */
  tol?: { gpuAtol?: number; gpuRtol?: number };
}

/** Deterministic values from a small LCG (the same generator as test/helpers/data.ts). */
function values(n: number, { seed, lo = -2, hi = 2, away = 0, dtype }: Spec): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    let v = lo + (s / 2 ** 32) * (hi - lo);
    if (away > 0 && Math.abs(v) < away) v = v < 0 ? -away - Math.abs(v) : away + v;
    out[i] = dtype === 'int32' ? Math.floor(v) : v;
  }
  return out;
}

const REDUCE = { gpuAtol: 1e-5, gpuRtol: 1e-4 };

/** The checks, by family, on `wg`. Names are stable: the browser test reports them. */
export function opChecks(wg: typeof Webgrad): Check[] {
  return [
  // elementwise: broadcasting, a non-contiguous operand, scalars, unary ops away from kinks
  { name: 'add (broadcast [3,17] + [17])', inputs: [[[3, 17], { seed: 1 }], [[17], { seed: 2 }]], fn: (a, b) => a.add(b) },
  { name: 'mul (transposed view)', inputs: [[[5, 3], { seed: 3 }], [[3, 5], { seed: 4 }]], fn: (a, b) => a.T.mul(b) },
  { name: 'div (denominator away from 0)', inputs: [[[4, 9], { seed: 5 }], [[4, 9], { seed: 6, away: 0.5 }]], fn: (a, b) => a.div(b) },
  { name: 'sub, pow and neg with scalars', inputs: [[[129], { seed: 7, lo: 0.2, hi: 2 }]], fn: (a) => a.pow(3).sub(1.5).neg() },
  { name: 'exp, log', inputs: [[[2, 17], { seed: 8, lo: 0.1, hi: 3 }]], fn: (a) => a.log().add(a.exp()) },
  { name: 'tanh, sigmoid', inputs: [[[33], { seed: 9 }]], fn: (a) => a.tanh().mul(a.sigmoid()) },
  // WGSL promises sin/cos only to 2⁻¹¹ absolute inside [-π, π]; lavapipe is far closer, but
  // SwiftShader's errors reach 2·10⁻⁴, so this check holds the GPU to what the spec guarantees.
  { name: 'sin, cos on [-π, π]', inputs: [[[33], { seed: 30, lo: -Math.PI, hi: Math.PI }]], fn: (a) => a.sin().add(a.cos()), tol: { gpuAtol: 2 ** -11, gpuRtol: 0 } },
  { name: 'relu (away from the kink)', inputs: [[[3, 17], { seed: 10, away: 0.05 }]], fn: (a) => a.relu() },
  { name: 'maximum, where', inputs: [[[17], { seed: 11 }], [[17], { seed: 12 }]], fn: (a, b) => a.maximum(b).where(a.gt(0), b.mul(2)) },
  // reductions over a dim, keepdim, all elements; max away from ties
  { name: 'sum over dim 1', inputs: [[[3, 129], { seed: 13 }]], fn: (a) => a.sum(1), tol: REDUCE },
  { name: 'mean over dim 0, keepdim', inputs: [[[17, 5], { seed: 14 }]], fn: (a) => a.mean(0, true), tol: REDUCE },
  { name: 'sum of all 1000 elements', inputs: [[[1000], { seed: 15 }]], fn: (a) => a.sum(), tol: REDUCE },
  { name: 'max over dim 1', inputs: [[[4, 17], { seed: 16 }]], fn: (a) => a.max(1), tol: REDUCE },
  // matmul: odd shapes, a transposed operand read in place, batched
  { name: 'matmul [17,33] @ [33,9]', inputs: [[[17, 33], { seed: 17 }], [[33, 9], { seed: 18 }]], fn: (a, b) => a.matmul(b), tol: REDUCE },
  { name: 'matmul a.T @ b', inputs: [[[33, 17], { seed: 19 }], [[33, 5], { seed: 20 }]], fn: (a, b) => a.T.matmul(b), tol: REDUCE },
  { name: 'matmul batched [2,3,7] @ [2,7,4]', inputs: [[[2, 3, 7], { seed: 21 }], [[2, 7, 4], { seed: 22 }]], fn: (a, b) => a.matmul(b), tol: REDUCE },
  // softmax family and the MLP's loss
  { name: 'softmax over dim 1', inputs: [[[3, 10], { seed: 23 }]], fn: (a) => a.softmax(1), tol: REDUCE },
  { name: 'logSoftmax over dim 1', inputs: [[[8, 10], { seed: 24 }]], fn: (a) => a.logSoftmax(1), tol: REDUCE },
  {
    name: 'crossEntropy (int32 targets)',
    inputs: [[[8, 10], { seed: 25 }], [[8], { seed: 26, lo: 0, hi: 10, dtype: 'int32', requiresGrad: false }]],
    fn: (logits, target) => wg.F.crossEntropy(logits, target),
    tol: REDUCE,
  },
  // the MLP's layer: F.linear (x @ Wᵀ + b), then relu
  {
    name: 'linear + relu [5,13] -> [5,7]',
    inputs: [[[5, 13], { seed: 27 }], [[7, 13], { seed: 28 }], [[7], { seed: 29, away: 0.3 }]],
    fn: (x, w, b) => wg.F.relu(wg.F.linear(x, w, b)),
    tol: REDUCE,
  },
  ];
}

/**
 * Runs the checks (optionally only those whose name contains one of `only`) on `wg`, which
 * must be initialised on WebGPU; never throws: each failure is a result with `ok: false`.
 */
export async function runOpChecks(wg: typeof Webgrad, opts: { only?: string[]; log?: (r: OpCheckResult) => void } = {}): Promise<OpCheckResult[]> {
  const results: OpCheckResult[] = [];
  const all = opChecks(wg);
  const checks = opts.only ? all.filter((c) => opts.only!.some((o) => c.name.includes(o))) : all;
  for (const check of checks) {
    const t0 = performance.now();
    const inputs = check.inputs.map(([shape, spec]) => {
      const dtype = spec.dtype ?? 'float32';
      const n = shape.reduce((a, b) => a * b, 1);
      return wg.tensor(values(n, spec), { shape, dtype, requiresGrad: spec.requiresGrad ?? dtype === 'float32' });
    });
    let r: OpCheckResult;
    try {
      const g = await wg.gradcheck(check.fn, inputs, { ...check.tol, gpu: true, raise: false });
      r = { name: check.name, ok: g.ok, maxError: g.maxError, maxGpuError: g.maxGpuError, ms: 0, ...(g.ok ? {} : { message: g.failures.join('\n') }) };
    } catch (e) {
      r = { name: check.name, ok: false, maxError: NaN, maxGpuError: NaN, ms: 0, message: `${(e as Error).name}: ${(e as Error).message}` };
    } finally {
      for (const x of inputs) x.dispose();
    }
    r.ms = performance.now() - t0;
    opts.log?.(r);
    results.push(r);
  }
  return results;
}
