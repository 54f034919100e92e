// F.linear with the bias fused into the matmul epilogue (issue #7): every kernel variant, the
// transposed-product path (narrow outputs), batched inputs and strided biases, against the
// float64 reference with gradients; the grad_fn and dispatch count show the fusion.
import { afterEach, describe, expect, it } from 'vitest';
import { F, gradcheck, nn } from '../../src/index.ts';
import { gpuRuntime } from '../../src/tensor/backends.ts';
import { REGISTER_NO_SUBGROUPS, TILED_DEFAULT, setMatmulConfig } from '../../src/kernels/matmul.ts';
import { useGpu } from '../helpers/gpu.ts';
import { input } from '../helpers/data.ts';

useGpu();
afterEach(() => setMatmulConfig(null));

const TOL = { gpuRtol: 1e-4, gpuAtol: 1e-4 };
const lin = (x: import('../../src/index.ts').Tensor, w: import('../../src/index.ts').Tensor, b: import('../../src/index.ts').Tensor) => F.linear(x, w, b);

describe('F.linear (fused bias)', () => {
  it('odd sizes, wide and narrow outputs (the transposed product puts the bias on rows)', async () => {
    for (const [m, k, n] of [[1, 1, 1], [3, 17, 10], [17, 3, 129], [129, 17, 3], [64, 33, 500]] as const) {
      await gradcheck(lin, [input([m, k], { seed: m }), input([n, k], { seed: n }), input([n], { seed: 7 })], TOL);
    }
  });

  it('every kernel variant', async () => {
    for (const cfg of [TILED_DEFAULT, REGISTER_NO_SUBGROUPS, { variant: 'register' as const, rows: 8, cols: 4, workgroup: 16, subgroups: true }]) {
      setMatmulConfig(cfg);
      await gradcheck(lin, [input([37, 20]), input([10, 20], { seed: 2 }), input([10], { seed: 3 })], TOL);
      await gradcheck(lin, [input([5, 20]), input([70, 20], { seed: 2 }), input([70], { seed: 3 })], TOL);
    }
  });

  it('batched and 1-D inputs, strided bias and weight views', async () => {
    await gradcheck(lin, [input([2, 3, 8]), input([6, 8], { seed: 2 }), input([6], { seed: 3 })], TOL);
    await gradcheck(lin, [input([8]), input([6, 8], { seed: 2 }), input([6], { seed: 3 })], TOL);
    await gradcheck((x, w, b) => F.linear(x, w.T, b.slice(0, 0, 12, 2)), [input([4, 8]), input([8, 6], { seed: 2 }), input([12], { seed: 3 })], TOL);
  });

  it('is one dispatch forward and records AddmmBackward0 (as PyTorch for 2-D inputs)', () => {
    const layer = new nn.Linear(16, 12);
    const x = input([4, 16]);
    const rt = gpuRuntime();
    const d0 = rt.stats.dispatches;
    const y = layer.call(x);
    expect(rt.stats.dispatches - d0).toBe(1);
    expect(y.gradFn?.name).toBe('AddmmBackward0');
    expect(y.shape).toEqual([4, 12]);
    y.dispose();
    x.dispose();
    layer.dispose();
  });
});

describe('F.linear with a fused activation', () => {
  const acts = ['relu', 'sigmoid', 'tanh'] as const;
  type T = import('../../src/index.ts').Tensor;

  it('relu / sigmoid / tanh in the epilogue match the reference with gradients, wide and narrow outputs', async () => {
    for (const activation of acts) {
      const f = (x: T, w: T, b: T) => F.linear(x, w, b, { activation });
      // The narrow output runs as the transposed product (bias per row).
      await gradcheck(f, [input([17, 9], { seed: 1 }), input([129, 9], { seed: 2 }), input([129], { seed: 3 })], TOL);
      await gradcheck(f, [input([129, 17], { seed: 4 }), input([3, 17], { seed: 5 }), input([3], { seed: 6 })], TOL);
    }
  });

  it('relu on the other kernel variants, batched inputs, a strided bias and without a bias', async () => {
    const f = (x: T, w: T, b: T) => F.linear(x, w, b, { activation: 'relu' });
    for (const cfg of [TILED_DEFAULT, REGISTER_NO_SUBGROUPS]) {
      setMatmulConfig(cfg);
      await gradcheck(f, [input([37, 20]), input([10, 20], { seed: 2 }), input([10], { seed: 3 })], TOL);
    }
    setMatmulConfig(null);
    await gradcheck((x: T, w: T, b: T) => f(x, w, b.slice(0, 0, 12, 2)), [input([2, 3, 8]), input([6, 8], { seed: 2 }), input([12], { seed: 3 })], TOL);
    await gradcheck((x: T, w: T) => F.linear(x, w, null, { activation: 'relu' }), [input([5, 8]), input([6, 8], { seed: 2 })], TOL);
  });

  it('equals the unfused activation of the linear layer, in one dispatch', async () => {
    const x = input([33, 16]);
    const w = input([12, 16], { seed: 2 });
    const b = input([12], { seed: 3 });
    const rt = gpuRuntime();
    for (const activation of acts) {
      const d0 = rt.stats.dispatches;
      const fused = F.linear(x, w, b, { activation });
      expect(rt.stats.dispatches - d0).toBe(1);
      const plain = F.linear(x, w, b)[activation]();
      const [a, c] = [await fused.data(), await plain.data()];
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - c[i]!)).toBeLessThan(1e-5);
      fused.dispose();
      plain.dispose();
    }
    [x, w, b].forEach((t) => t.dispose());
  });

  it('rejects an unknown activation before enqueueing anything', () => {
    const x = input([2, 3]);
    const w = input([4, 3]);
    // @ts-expect-error: not a fused activation
    expect(() => F.linear(x, w, null, { activation: 'gelu' })).toThrow(/linear: activation must be one of 'relu', 'sigmoid', 'tanh', got "gelu"/);
    x.dispose();
    w.dispose();
  });
});
