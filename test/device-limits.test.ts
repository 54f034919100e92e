// Tensors larger than one storage binding, tested small: the device is opened with webgrad
// planning for a 64 KiB binding (init({ limits })), so tensors of a few hundred KiB take the
// same split paths that 128 MiB ones take on lavapipe (test/device-limits-real.test.ts runs
// those at full size). Every op family is checked against the float64 CPU reference, forward
// and backward (gradcheck), on odd shapes, broadcast and transposed views; an op that cannot
// be cut to fit must throw a DeviceLimitError where it is called, with nothing recorded or
// allocated and the work queued before it intact, and its advice must work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeviceLimitError, F, cat, crossEntropy, gradcheck, init, logSoftmax, manualSeed, maxPool2d, memory, mseLoss, nllLoss, noGrad, randn,
  scope, shutdown, softmax, tensor, zeros, type Tensor,
} from '../src/index.ts';
import { gpuRuntime } from '../src/tensor/backends.ts';
import type { GpuStorage } from '../src/kernels/storage.ts';
import { input } from './helpers/data.ts';

const CAP = 1 << 16;
const BUFFER_CAP = 1 << 22;

beforeAll(async () => {
  await init({ limits: { maxStorageBufferBindingSize: CAP, maxBufferSize: BUFFER_CAP } });
});
afterAll(() => shutdown());

/** Bytes of a tensor's buffer: the checks below only mean something when it exceeds the binding. */
function bufferBytes(t: Tensor): number {
  return (t.storage as GpuStorage).buffer.size;
}

const TOL = { gpuAtol: 1e-5, gpuRtol: 1e-4 };

describe('ops over several bindings give the reference values (forward and backward)', () => {
  it('limits: the device plans with the caps, and inputs below exceed them', () => {
    const l = gpuRuntime().limits;
    expect(l.maxStorageBufferBindingSize).toBe(CAP);
    expect(l.maxBufferSize).toBe(BUFFER_CAP);
    expect(l.minStorageBufferOffsetAlignment).toBeGreaterThan(0);
    const probe = input([129, 517]);
    expect(bufferBytes(probe)).toBeGreaterThan(CAP);
    probe.dispose();
  });

  // First after the probe, so no garbage of earlier tests is collected (and counted) meanwhile.
  it('nothing leaks: split ops leave memory where it was', async () => {
    const x = input([129, 517], { seed: 21, requiresGrad: false });
    const w = input([517, 200], { seed: 22, requiresGrad: false });
    await x.data();
    const before = memory();
    for (let i = 0; i < 3; i++) {
      const s = noGrad(() => scope(() => x.matmul(w).relu().softmax(1).sum(0)));
      expect((await s.data()).length).toBe(200);
      s.dispose();
    }
    x.dispose();
    w.dispose();
    const after = memory();
    expect(after.liveTensors).toBe(before.liveTensors - 2);
    expect(after.webgpu!.liveBuffers).toBe(before.webgpu!.liveBuffers - 2);
  });

  it('elementwise: unary, binary with broadcasting, transposed and offset views, where, in-place', async () => {
    const a = input([129, 517], { seed: 1 });
    const b = input([517], { seed: 2 });
    const c = input([517, 129], { seed: 3 });
    await gradcheck((x, y) => x.mul(y).add(1).tanh(), [a, b], TOL);
    await gradcheck((x, y) => x.add(y.t()).exp(), [a, c], TOL);
    // An offset view (rows 5..) of a buffer over the limit: windows start on aligned offsets.
    await gradcheck((x) => x.narrow(0, 5, 120).sigmoid(), [a], TOL);
    await gradcheck((x, y) => x.maximum(y.t().mul(0.5)), [a, c], TOL);
    const big = zeros([70001]);
    big.add_(2);
    const d = await big.data();
    expect(d.every((v) => v === 2)).toBe(true);
  });

  it('reductions: over kept and reduced dims, full, arg ops and int32', async () => {
    const a = input([129, 517], { seed: 4 });
    for (const f of [(x: Tensor) => x.sum(1), (x: Tensor) => x.sum(0), (x: Tensor) => x.mean(), (x: Tensor) => x.max(1), (x: Tensor) => x.t().mean(0)]) {
      await gradcheck(f, [a], { gpuAtol: 1e-5, gpuRtol: 1e-4 });
    }
    const long = input([3, 40001], { seed: 5, requiresGrad: false });
    const host = await long.data();
    const want = [0, 1, 2].map((r) => {
      let best = 0;
      for (let j = 1; j < 40001; j++) if (host[r * 40001 + j]! > host[r * 40001 + best]!) best = j;
      return best;
    });
    expect(Array.from(await long.argmax(1).data())).toEqual(want);
    const ints = input([70003], { seed: 6, dtype: 'int32', lo: -5, hi: 5 });
    const hi = await ints.data();
    expect(await ints.sum().item()).toBe(Array.from(hi).reduce((s, v) => s + v, 0));
    expect(await ints.max().item()).toBe(Math.max(...Array.from(hi)));
  });

  it('matmul: rows, columns, batches and the inner dim (partial products added) with bias and activation', async () => {
    const a = input([300, 257], { seed: 7 });
    const b = input([257, 129], { seed: 8 });
    await gradcheck((x, y) => x.matmul(y), [a, b], TOL);
    // x @ wᵀ + bias with a fused activation: the F.linear path.
    const w = input([133, 257], { seed: 9 });
    const bias = input([133], { seed: 10 });
    await gradcheck((x, ww, bb) => F.linear(x, ww, bb, { activation: 'tanh' }), [a, w, bias], TOL);
    // A long inner dim: aᵀ @ g, as in a weight gradient (K = 5000 rows of a).
    const tall = input([5000, 7], { seed: 11 });
    const g = input([5000, 5], { seed: 12 });
    await gradcheck((x, y) => x.t().matmul(y), [tall, g], { gpuAtol: 1e-4, gpuRtol: 1e-4 });
    // Batched, with a broadcast right operand.
    const batched = input([4, 70, 257], { seed: 13 });
    await gradcheck((x, y) => x.matmul(y), [batched, b], TOL);
  });

  it('conv2d with bias and ReLU, its input and weight gradients; max pooling and its gradient', async () => {
    const x = input([9, 3, 40, 41], { seed: 14 });
    const w = input([16, 3, 3, 3], { seed: 15 });
    const bias = input([16], { seed: 16 });
    await gradcheck((xx, ww, bb) => F.conv2d(xx, ww, bb, { padding: 1, activation: 'relu' }), [x, w, bias], { gpuAtol: 1e-4, gpuRtol: 1e-4 });
    await gradcheck((xx) => maxPool2d(xx, 2), [x], TOL);
    // One image over a binding: its input channels add up (bias and activation after the sum),
    // and pooling cuts channels.
    const wide = input([2, 12, 40, 41], { seed: 26 });
    await gradcheck((xx, ww, bb) => F.conv2d(xx, ww, bb, { activation: 'sigmoid' }), [wide, input([4, 12, 3, 3], { seed: 27 }), input([4], { seed: 28 })], { gpuAtol: 1e-4, gpuRtol: 1e-4 });
    await gradcheck((xx) => F.avgPool2d(maxPool2d(xx, 2), 2), [input([1, 16, 64, 65], { seed: 29 })], TOL);
  });

  it('softmax, logSoftmax, crossEntropy and nllLoss over many rows, with weights and ignored targets', async () => {
    const x = input([3001, 17], { seed: 17 });
    const t = tensor(Array.from({ length: 3001 }, (_, i) => (i % 97 === 0 ? -100 : (i * 7) % 17)), { dtype: 'int32' });
    const wt = input([17], { seed: 18, lo: 0.5, hi: 2, requiresGrad: false });
    await gradcheck((v) => softmax(v, 1), [x], TOL);
    // Along a middle dim: parts cut the dims before and after it.
    await gradcheck((v) => logSoftmax(v, 1), [input([5, 17, 1000], { seed: 19 })], TOL);
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      await gradcheck((v, tt, ww) => crossEntropy(v, tt, { reduction, weight: ww }), [x, t, wt], TOL);
      await gradcheck((v, tt) => nllLoss(logSoftmax(v, 1), tt, { reduction }), [x, t], TOL);
    }
    await gradcheck((v, y) => mseLoss(v, y), [x, input([3001, 17], { seed: 20, requiresGrad: false })], TOL);
    // Probability targets with label smoothing.
    const q = softmax(input([3001, 17], { seed: 30, requiresGrad: false }), 1);
    await gradcheck((v, qq) => crossEntropy(v, qq, { labelSmoothing: 0.1 }), [x, q], TOL);
  });

  it('random draws and dropout give the same numbers as on the CPU reference', async () => {
    manualSeed(7);
    const g = await randn([70001]).data();
    manualSeed(7);
    const c = await randn([70001], { device: 'cpu' }).data();
    expect(Array.from(g.subarray(0, 8)).map((v) => v.toFixed(5))).toEqual(Array.from(c.subarray(0, 8)).map((v) => v.toFixed(5)));
    let worst = 0;
    for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(g[i]! - c[i]!));
    expect(worst).toBeLessThan(1e-5);
    const ones = tensor(new Float32Array(50001).fill(1));
    manualSeed(3);
    const dg = await F.dropout(ones, 0.3).data();
    manualSeed(3);
    const dc = await F.dropout(tensor(new Float32Array(50001).fill(1), { device: 'cpu' }), 0.3).data();
    expect(Array.from(dg)).toEqual(Array.from(dc, (v) => Math.fround(v)));
  });

});

describe('an op that cannot fit is refused up front', () => {
  it('throws a DeviceLimitError naming op, size and limit, synchronously, with queued work intact and nothing leaked', async () => {
    // One softmax row of 20000 floats (80 kB) is more than one 64 KiB binding: no cut helps.
    const x = input([2, 20000], { seed: 23, requiresGrad: false });
    const w = zeros([4]);
    w.add_(1); // queued, not yet submitted
    const before = memory();
    let err: unknown;
    try {
      softmax(x, 1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DeviceLimitError);
    const e = err as DeviceLimitError;
    expect(e.op).toBe('softmax');
    expect(e.limit).toBe('maxStorageBufferBindingSize');
    expect(e.max).toBe(CAP);
    expect(e.bytes).toBeGreaterThanOrEqual(80000);
    expect(e.message).toMatch(/^softmax: .*\[1, 20000\].*80000 bytes.*maxStorageBufferBindingSize of 65536 bytes/s);
    expect(memory()).toEqual(before);
    expect(Array.from(await w.data())).toEqual([1, 1, 1, 1]);
    // Its advice: run the op on the CPU device, which has no binding limit.
    expect(e.message).toContain("toDevice('cpu')");
    const onCpu = softmax(await x.toDevice('cpu'), 1);
    const rows = await onCpu.sum(1).data();
    expect(Math.abs(rows[0]! - 1)).toBeLessThan(1e-9);
    // And the device keeps working.
    expect(Array.from(await w.add(1).data())).toEqual([2, 2, 2, 2]);
  });

  it('an output over maxBufferSize is refused before anything runs; the advice (split the batch) works', async () => {
    const x = input([1000, 200], { seed: 24, requiresGrad: false });
    const wt = input([200, 1100], { seed: 25, requiresGrad: false });
    const before = memory();
    let err: unknown;
    try {
      x.matmul(wt); // [1000, 1100] floats: 4.4 MB over the 4 MiB buffer cap
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DeviceLimitError);
    const e = err as DeviceLimitError;
    expect([e.op, e.limit, e.bytes, e.max]).toEqual(['matmul', 'maxBufferSize', 4400000, BUFFER_CAP]);
    expect(e.message).toMatch(/\[1, 1000, 1100\].*split the batch/s);
    expect(memory()).toEqual(before);
    // Following the advice: the product in batches, each consumed (here summed) before the next.
    let total = 0;
    for (const part of x.split(400)) total += await part.matmul(wt).sum().item();
    const want = await noGrad(() => x.sum(0).matmul(wt).sum()).item();
    expect(Math.abs(total - want)).toBeLessThan(1e-3 * Math.max(1, Math.abs(want)));
  });

  it('an allocation over maxBufferSize throws before allocating; smaller tensors work', async () => {
    const before = memory();
    expect(() => zeros([1_200_000])).toThrow(DeviceLimitError);
    try {
      zeros([1_200_000]);
    } catch (e) {
      const d = e as DeviceLimitError;
      expect([d.op, d.limit, d.bytes, d.max]).toEqual(['alloc', 'maxBufferSize', 4800000, BUFFER_CAP]);
      expect(d.message).toMatch(/4800000 bytes.*maxBufferSize of 4194304 bytes.*smaller tensors/);
    }
    expect(memory()).toEqual(before);
    const parts = [zeros([600_000]), zeros([600_000])];
    expect(await cat(parts.map((p) => p.sum().reshape([1]))).sum().item()).toBe(0);
  });

  it('a dispatch binding more than the limit is refused before it is recorded; the same kernel on a smaller buffer runs', async () => {
    const rt = gpuRuntime();
    const w = zeros([4]);
    w.add_(3);
    const k = rt.kernel('fill_test', `@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(1) fn main() { out[0] = 7.0; }`);
    const big = zeros([20000]); // 80 kB buffer: over the 64 KiB binding
    expect(() => rt.dispatch(k, [(big.storage as GpuStorage).buffer], null, [1])).toThrow(/fill_test: kernel would bind .* over this device's maxStorageBufferBindingSize of 65536 bytes .*nothing was recorded/s);
    const small = zeros([8]);
    rt.dispatch(k, [(small.storage as GpuStorage).buffer], null, [1]);
    expect((await small.data())[0]).toBe(7);
    expect(Array.from(await w.data())).toEqual([3, 3, 3, 3]);
  });
});
