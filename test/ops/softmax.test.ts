// softmax / logSoftmax: float64 reference and finite differences over odd sizes, batch 1, every
// dim, non-contiguous inputs, long rows (both kernel variants), ±1e4 logits, and the errors.
import { afterEach, describe, expect, it } from 'vitest';
import { F, gradcheck, logSoftmax, softmax, tensor, type Tensor } from '../../src/index.ts';
import { softmaxTuning } from '../../src/kernels/softmax.ts';
import { useGpu } from '../helpers/gpu.ts';
import { ODD_SIZES, hostValues, input } from '../helpers/data.ts';

useGpu();

// Row sums of n terms in float32: about n·2⁻²⁴ relative, so 1e-4 holds well past n = 1000.
const TOL = { gpuRtol: 1e-4, gpuAtol: 1e-5 };
const OPS = [
  ['softmax', (x: Tensor, d: number) => x.softmax(d)],
  ['logSoftmax', (x: Tensor, d: number) => x.logSoftmax(d)],
] as const;

afterEach(() => {
  softmaxTuning.forceLanes = 0;
  softmaxTuning.storeExp = null;
});

describe.each(OPS)('%s', (_name, op) => {
  it('matches the reference and finite differences over odd sizes and batch 1', async () => {
    for (const n of ODD_SIZES) {
      await gradcheck((x) => op(x, 1), [input([3, n], { seed: n })], TOL);
      await gradcheck((x) => op(x, -1), [input([1, n], { seed: n + 1 })], TOL);
    }
    await gradcheck((x) => op(x, 1), [input([128, 10], { seed: 5 })], TOL);
  });

  it('along every dim of a 3-D tensor, negative dims included', async () => {
    for (const d of [0, 1, 2, -1, -2, -3]) await gradcheck((x) => op(x, d), [input([3, 4, 5], { seed: 7 })], TOL);
  });

  it('on non-contiguous views (transposed, permuted, strided slices, broadcast)', async () => {
    await gradcheck((x) => op(x.T, 1), [input([7, 3], { seed: 8 })], TOL);
    await gradcheck((x) => op(x.permute(2, 0, 1), 0), [input([3, 4, 5], { seed: 9 })], TOL);
    await gradcheck((x) => op(x.slice(1, 1, 9, 3), 1), [input([4, 9], { seed: 10 })], TOL);
    await gradcheck((x) => op(x.expand(4, 6), 0), [input([1, 6], { seed: 11 })], TOL);
  });

  it('on 1-D, 0-d and empty inputs', async () => {
    await gradcheck((x) => op(x, 0), [input([17], { seed: 12 })], TOL);
    await gradcheck((x) => op(x, 0), [input([], { seed: 13 })], TOL);
    await gradcheck((x) => op(x, 1), [input([0, 5], { seed: 13 })], TOL);
    await gradcheck((x) => op(x, 1), [input([5, 0], { seed: 13 })], TOL);
  });

  it('over rows longer than a workgroup, with one lane and with a lane tree, both exp strategies', async () => {
    for (const storeExp of [true, false]) {
      softmaxTuning.storeExp = storeExp;
      for (const lanes of [1, 4, 64, 256]) {
        softmaxTuning.forceLanes = lanes;
        await gradcheck((x) => op(x, 1), [input([3, 5000], { seed: 14 })], TOL);
        await gradcheck((x) => op(x, 0), [input([1000, 3], { seed: 15 })], TOL);
        await gradcheck((x) => op(x, 1), [input([300, 10], { seed: 16 })], TOL);
      }
    }
  });

  it('stays finite for logits of ±1e4 (max subtraction)', async () => {
    const x = input([64, 10], { seed: 17, lo: -1e4, hi: 1e4 });
    await gradcheck((x) => op(x, 1), [x], TOL);
    const y = await op(x, 1).data();
    expect(y.every(Number.isFinite)).toBe(true);
  });
});

describe('softmax values', () => {
  it('gives rows that sum to 1, contiguous whatever the dim', async () => {
    const x = input([6, 5], { seed: 20, requiresGrad: false });
    for (const d of [0, 1]) {
      const y = softmax(x, d);
      expect(y.isContiguous()).toBe(true);
      const sums = (await y.sum(d).data()) as Float32Array;
      for (const s of sums) expect(s).toBeCloseTo(1, 6);
    }
  });

  it('equals the tutorial form exp(x) / exp(x).sum(-1, keepdim) and log of it', async () => {
    const x = input([128, 10], { seed: 21, requiresGrad: false });
    const e = x.exp();
    const byHand = await e.div(e.sum(-1, true)).data();
    const fused = await softmax(x, -1).data();
    const logFused = await logSoftmax(x, -1).data();
    for (let i = 0; i < fused.length; i++) {
      expect(Math.abs(fused[i]! - byHand[i]!)).toBeLessThan(1e-6);
      expect(Math.abs(logFused[i]! - Math.log(byHand[i]!))).toBeLessThan(1e-5);
    }
  });

  it('computes log-softmax of ±1e4 logits without losing precision', async () => {
    // Offsets of 1e4 quantise x itself (f32 ulp 1e-3), not the log-softmax: (x − m) is exact.
    const base = hostValues(10, { seed: 22 });
    const x = tensor(Array.from(base, (v) => v + 1e4));
    const got = await logSoftmax(x, 0).data();
    const xs = Array.from(await x.data());
    const m = Math.max(...xs);
    const lse = m + Math.log(xs.reduce((s, v) => s + Math.exp(v - m), 0));
    xs.forEach((v, i) => expect(Math.abs(got[i]! - (v - lse))).toBeLessThan(2e-6));
  });

  it('F forms and methods agree; grad_fn names match PyTorch', async () => {
    const x = input([2, 3], { seed: 23 });
    expect(await F.softmax(x, 1).toArray()).toEqual(await x.softmax(1).toArray());
    expect(await F.logSoftmax(x, 0).toArray()).toEqual(await x.logSoftmax(0).toArray());
    expect(x.softmax(1).gradFn!.name).toBe('SoftmaxBackward0');
    expect(x.logSoftmax(1).gradFn!.name).toBe('LogSoftmaxBackward0');
  });

  it('backward with createGraph gives the same gradient through Tensor ops', async () => {
    for (const op of OPS.map(([, f]) => f)) {
      const x = input([4, 6], { seed: 24 });
      const v = input([4, 6], { seed: 25, requiresGrad: false });
      op(x, 1).mul(v).sum().backward();
      const fused = await x.grad!.data();
      x.grad = null;
      op(x, 1).mul(v).sum().backward(undefined, { createGraph: true });
      const composed = await x.grad!.data();
      fused.forEach((g, i) => expect(Math.abs(g - composed[i]!)).toBeLessThan(1e-6));
    }
  });
});

describe('softmax errors', () => {
  it('name the op, the dim and the shape', () => {
    const x = tensor([[1, 2], [3, 4]]);
    expect(() => softmax(x, 2)).toThrow(/softmax: dim 2 is out of range for a tensor of rank 2/);
    expect(() => logSoftmax(x, -3)).toThrow(/logSoftmax: dim -3 is out of range/);
    expect(() => softmax(tensor([1, 2], { dtype: 'int32' }), 0)).toThrow(/softmax: input dtype int32 is not floating point; call \.float\(\) first/);
  });
});
