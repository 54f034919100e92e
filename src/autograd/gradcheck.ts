// gradcheck: proves an op's backward rule against central finite differences, computed in
// float64 on the CPU reference backend (float32 on a GPU cannot resolve eps = 1e-6), then
// checks the WebGPU forward and backward against the CPU ones at float32 tolerance.

import { WebgradError, fmtShape } from '../errors.ts';
import { cpuBackend } from '../backend/cpu/index.ts';
import { getBackend } from '../tensor/backends.ts';
import { Tensor } from '../tensor/tensor.ts';
import { scope } from '../tensor/scope.ts';

import { noGrad } from './grad-mode.ts';

/** Options of `gradcheck`: step, tolerances, and whether to compare the GPU too. */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6, PyTorch's). */
  eps?: number;
  /** Tolerances of analytic vs numeric gradients: |a - n| <= atol + rtol |n| (defaults 1e-5, 1e-3). */
  atol?: number;
  /** Relative tolerance of analytic vs numeric gradients (default 1e-3); see `atol`. */
  rtol?: number;
  /** Also compare WebGPU forward/backward with the CPU reference (default: when WebGPU is initialised). */
  gpu?: boolean;
  /**
   * Float32 tolerances of GPU vs CPU: |g - c| <= gpuAtol·max(1, max|c|) + gpuRtol |c| (defaults 1e-6, 1e-5,
   * right for elementwise ops; reductions and matmul accumulate rounding over their length: pass ~1e-4).
   */
  gpuAtol?: number;
  /** Relative float32 tolerance of GPU vs CPU (default 1e-5); see `gpuAtol`. */
  gpuRtol?: number;
  /**
   * Compare one random projection uᵀJv instead of the full Jacobian (PyTorch's fast_mode):
   * 2 forwards and 1 backward whatever the size. Default: on when inputs × outputs > 4096.
   */
  fast?: boolean;
  /** Throw a GradcheckError on failure (default true); else return the result. */
  raise?: boolean;
}

/** What `gradcheck` found (returned when `raise: false`). */
export interface GradcheckResult {
  /** True when every gradient was within tolerance. */
  ok: boolean;
  /** Largest |analytic - numeric| seen. */
  maxError: number;
  /** Largest |gpu - cpu| seen (0 when the GPU check did not run). */
  maxGpuError: number;
  /** One line per failing element (first 20). */
  failures: string[];
}

/**
 * Thrown by {@link gradcheck} (unless `raise: false`) when an analytic gradient disagrees with
 * finite differences, or the WebGPU forward/backward with the CPU reference, beyond the
 * tolerances. The message lists up to 20 failing elements: which input, which pass, the
 * values on both sides.
 * @example try { await gradcheck((x) => x.sin(), [x]); } catch (e) { if (e instanceof GradcheckError) console.log(e.message); }
 */
export class GradcheckError extends WebgradError {
  /** `'GradcheckError'`, so `e.name` tells the kind of error. */
  override name = 'GradcheckError';
}

interface HostInput {
  values: Float64Array;
  shape: readonly number[];
  dtype: Tensor['dtype'];
  requiresGrad: boolean;
}

function build(h: HostInput, values: ArrayLike<number>, device: 'cpu' | 'webgpu'): Tensor {
  const t = new Tensor(getBackend(device).upload(values, h.dtype), h.shape, undefined, 0, { track: false });
  if (h.requiresGrad) t.requiresGrad_(true);
  return t;
}

async function readF64(t: Tensor): Promise<Float64Array> {
  return Float64Array.from(await t.data());
}

/** Deterministic pseudo-random projection weights in [-1, 1]. */
function projection(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

/**
 * Checks `fn`'s gradients with respect to every input that requires grad.
 * @example await gradcheck((x) => x.sin().sum(), [randn(3, { requiresGrad: true })]);
 */
export async function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: readonly Tensor[], opts: GradcheckOptions = {}): Promise<GradcheckResult> {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-3;
  const failures: string[] = [];
  const fail = (msg: string) => {
    if (failures.length < 20) failures.push(msg);
  };
  const host: HostInput[] = [];
  for (const x of inputs) host.push({ values: await readF64(x), shape: x.shape, dtype: x.dtype, requiresGrad: x.requiresGrad });

  // 1. Output on the CPU reference.
  const cpuIn = host.map((h) => build(h, h.values, 'cpu'));
  // fn's intermediates are freed at once (backward keeps what it saved): no tensors are left
  // for the GC, which matters in a browser page that runs many checks on one device.
  const cpuOut = scope(() => fn(...cpuIn));
  const outShape = cpuOut.shape;
  const nOut = cpuOut.numel;
  const outValues = await readF64(cpuOut);
  const differentiable = cpuOut.requiresGrad;
  const nIn = host.reduce((p, h) => p + (h.requiresGrad ? h.values.length : 0), 0);
  const fast = opts.fast ?? nIn * nOut > 4096;
  let maxError = 0;

  /** fn at inputs shifted by `delta` times the direction `dirs` (float64, CPU, no graph). */
  const evalShifted = async (dirs: (Float64Array | null)[], delta: number): Promise<Float64Array> => {
    const args = host.map((h, i) => {
      const d = dirs[i];
      if (!d) return build(h, h.values, 'cpu');
      const v = h.values.slice();
      for (let j = 0; j < v.length; j++) v[j]! += delta * d[j]!;
      return build(h, v, 'cpu');
    });
    const y = noGrad(() => scope(() => fn(...args)));
    const out = await readF64(y);
    y.dispose();
    for (const a of args) a.dispose();
    return out;
  };
  /** Input gradients of uᵀ·fn on the CPU (zeros where an input got none). */
  const vjp = async (u: Float64Array): Promise<Float64Array[]> => {
    for (const x of cpuIn) {
      x.grad?.dispose();
      x.setGrad(null);
    }
    const g = new Tensor(cpuBackend.upload(u, 'float32'), outShape, undefined, 0, { track: false });
    cpuOut.backward(g, { retainGraph: true });
    g.dispose();
    const out: Float64Array[] = [];
    for (let i = 0; i < host.length; i++) {
      const grad = cpuIn[i]!.grad;
      out.push(grad ? await readF64(grad) : new Float64Array(host[i]!.values.length));
    }
    return out;
  };

  if (differentiable && !fast) {
    // 2a. Full Jacobians: one backward per output element, two forwards per input element.
    const analytic: Float64Array[] = host.map((h) => new Float64Array(h.values.length * nOut));
    for (let k = 0; k < nOut; k++) {
      const onehot = new Float64Array(nOut);
      onehot[k] = 1;
      const gs = await vjp(onehot);
      gs.forEach((gv, i) => gv.forEach((v, j) => (analytic[i]![j * nOut + k] = v)));
    }
    for (let i = 0; i < host.length; i++) {
      const h = host[i]!;
      if (!h.requiresGrad) continue;
      for (let j = 0; j < h.values.length; j++) {
        const dirs = host.map((_, ii) => (ii === i ? Float64Array.from({ length: h.values.length }, (_, jj) => (jj === j ? 1 : 0)) : null));
        const plus = await evalShifted(dirs, eps);
        const minus = await evalShifted(dirs, -eps);
        for (let k = 0; k < nOut; k++) {
          const numeric = (plus[k]! - minus[k]!) / (2 * eps);
          const a = analytic[i]![j * nOut + k]!;
          const err = Math.abs(a - numeric);
          maxError = Math.max(maxError, err);
          if (!(err <= atol + rtol * Math.abs(numeric))) {
            fail(`input ${i} (shape ${fmtShape(h.shape)}): d out[${k}] / d in[${j}]: analytic ${a}, numeric ${numeric} (backward)`);
          }
        }
      }
    }
  } else if (differentiable) {
    // 2b. One projection: uᵀ J v numerically vs (Jᵀu)·v analytically.
    const u = projection(nOut, 777);
    const dirs = host.map((h, i) => (h.requiresGrad ? projection(h.values.length, 31 + i) : null));
    const plus = await evalShifted(dirs, eps);
    const minus = await evalShifted(dirs, -eps);
    let numeric = 0;
    for (let k = 0; k < nOut; k++) numeric += (u[k]! * (plus[k]! - minus[k]!)) / (2 * eps);
    const gs = await vjp(u);
    let analytic = 0;
    let scale = 0;
    gs.forEach((gv, i) => {
      const d = dirs[i];
      if (d) gv.forEach((v, j) => ((analytic += v * d[j]!), (scale += Math.abs(v * d[j]!))));
    });
    const err = Math.abs(analytic - numeric);
    maxError = err;
    // The projection sums many terms: scale the tolerance by their magnitude.
    if (!(err <= atol * Math.max(1, scale) + rtol * Math.abs(numeric))) {
      fail(`projection uᵀJv: analytic ${analytic}, numeric ${numeric} (backward, fast mode)`);
    }
  }

  // 3. WebGPU forward and backward against the CPU reference, with one random projection.
  let maxGpuError = 0;
  let useGpu = opts.gpu;
  if (useGpu === undefined) {
    try {
      getBackend('webgpu');
      useGpu = true;
    } catch {
      useGpu = false;
    }
  }
  if (useGpu) {
    const gAtol = opts.gpuAtol ?? 1e-6;
    const gRtol = opts.gpuRtol ?? 1e-5;
    const compare = (what: string, got: Float64Array, want: Float64Array) => {
      let scale = 1;
      for (const w of want) if (Number.isFinite(w)) scale = Math.max(scale, Math.abs(w));
      for (let e = 0; e < want.length; e++) {
        const err = Math.abs(got[e]! - want[e]!);
        const bothNaN = Number.isNaN(got[e]!) && Number.isNaN(want[e]!);
        const sameInf = got[e] === want[e];
        if (bothNaN || sameInf) continue;
        maxGpuError = Math.max(maxGpuError, err);
        if (!(err <= gAtol * scale + gRtol * Math.abs(want[e]!))) fail(`${what}[${e}]: webgpu ${got[e]}, cpu ${want[e]}`);
      }
    };
    const gpuIn = host.map((h) => build(h, h.values, 'webgpu'));
    const gpuOut = scope(() => fn(...gpuIn));
    if (gpuOut.shape.join() !== outShape.join()) fail(`output shape: webgpu ${fmtShape(gpuOut.shape)}, cpu ${fmtShape(outShape)} (forward)`);
    else compare('output (forward)', await readF64(gpuOut), outValues);
    if (differentiable) {
      const u = projection(nOut, 12345);
      for (const x of cpuIn) {
        x.grad?.dispose();
        x.setGrad(null);
      }
      const uc = new Tensor(cpuBackend.upload(u, 'float32'), outShape, undefined, 0, { track: false });
      cpuOut.backward(uc, { retainGraph: true });
      const ug = new Tensor(getBackend('webgpu').upload(u, 'float32'), outShape, undefined, 0, { track: false });
      gpuOut.backward(ug);
      for (let i = 0; i < host.length; i++) {
        if (!host[i]!.requiresGrad) continue;
        const gc = cpuIn[i]!.grad;
        const gg = gpuIn[i]!.grad;
        if (!gc || !gg) {
          if (gc || gg) fail(`input ${i}: gradient present on ${gc ? 'cpu' : 'webgpu'} only (backward)`);
          continue;
        }
        compare(`input ${i} gradient (backward)`, await readF64(gg), await readF64(gc));
      }
      uc.dispose();
      ug.dispose();
    }
    gpuOut.dispose();
    for (const x of gpuIn) {
      x.grad?.dispose();
      x.dispose();
    }
  }
  cpuOut.dispose();
  for (const x of cpuIn) {
    x.grad?.dispose();
    x.dispose();
  }
  const result: GradcheckResult = { ok: failures.length === 0, maxError, maxGpuError, failures };
  if (!result.ok && opts.raise !== false) {
    throw new GradcheckError(`gradcheck failed:\n  ${failures.join('\n  ')}`);
  }
  return result;
}

