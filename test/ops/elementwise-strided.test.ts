// The strided elementwise paths of issue #7 against the float64 reference: rank-specialised
// kernels with reciprocal division, and 4 inner elements per thread when the innermost dim is a
// multiple of 4 (views read as vec4, broadcast ones splatted), including misaligned views that
// must fall back to one element per thread.
import { describe, expect, it } from 'vitest';
import { gradcheck, tensor, where } from '../../src/index.ts';
import { useGpu } from '../helpers/gpu.ts';
import { hostValues, input } from '../helpers/data.ts';

useGpu();

const TOL = { gpuRtol: 1e-5, gpuAtol: 1e-6 };

describe('strided elementwise', () => {
  it('broadcast rows and columns with the inner dim a multiple of 4 (vec4 + splat)', async () => {
    await gradcheck((a, b) => a.add(b), [input([5, 8]), input([8], { seed: 2 })], TOL);
    await gradcheck((a, b) => a.mul(b), [input([3, 12]), input([3, 1], { seed: 2 })], TOL);
    await gradcheck((a, b) => a.sub(b), [input([2, 3, 16]), input([3, 16], { seed: 2 })], TOL);
    await gradcheck((a, b) => a.div(b), [input([4, 4]), input([4, 1], { seed: 2, lo: 1, hi: 2 })], TOL);
    // Rows of 16 and 48: four vec4s per thread along the row.
    await gradcheck((a, b) => a.add(b), [input([5, 16]), input([16], { seed: 2 })], TOL);
    await gradcheck((a, b, c) => where(a.gt(0), b, c), [input([3, 48]), input([3, 1], { seed: 2 }), input([48], { seed: 3 })], TOL);
    await gradcheck((a, b) => a.slice(1, 0, 32).mul(b), [input([6, 36]), input([6, 32], { seed: 2 })], TOL);
  });

  it('aligned and misaligned slices, permutes and transposes', async () => {
    await gradcheck((a, b) => a.slice(1, 0, 8).add(b), [input([6, 12]), input([6, 8], { seed: 2 })], TOL); // row stride 12: vec4
    await gradcheck((a, b) => a.slice(1, 1, 9).add(b), [input([6, 12]), input([6, 8], { seed: 2 })], TOL); // offset 1: scalar
    await gradcheck((a, b) => a.slice(1, 0, 8).add(b), [input([6, 10]), input([6, 8], { seed: 2 })], TOL); // row stride 10: scalar
    await gradcheck((a) => a.permute(1, 0, 2).mul(2), [input([3, 5, 8])], TOL);
    await gradcheck((a, b) => a.T.add(b), [input([8, 6]), input([6, 8], { seed: 2 })], TOL);
    await gradcheck((a) => a.expand([3, 4, 8]).exp(), [input([4, 1])], TOL);
  });

  it('transposed operands in 4×4 blocks (row- and column-major views, scalars, offsets)', async () => {
    await gradcheck((a, b) => a.T.add(b), [input([12, 8]), input([8, 12], { seed: 2 })], TOL);
    await gradcheck((a) => a.T.contiguous(), [input([16, 20])], TOL);
    await gradcheck((a, b, c) => where(a.T.gt(0), b.T.mul(2), c), [input([8, 4]), input([8, 4], { seed: 2 }), input([4, 8], { seed: 3 })], TOL);
    await gradcheck((a, b) => a.narrow(0, 4, 8).T.sub(b.narrow(1, 4, 8)), [input([16, 4]), input([4, 16], { seed: 2 })], TOL);
    await gradcheck((a) => a.mT.contiguous(), [input([2, 4, 8])], TOL); // rank 3: strided form
    const x = tensor(Int32Array.from({ length: 32 }, (_, i) => i), { shape: [4, 8], dtype: 'int32' });
    const t = x.T.add(1);
    expect(await t.toArray()).toEqual(Array.from({ length: 8 }, (_, c) => Array.from({ length: 4 }, (_, r) => r * 8 + c + 1)));
    x.dispose();
    t.dispose();
  });

  it('ranks 1 to 6 and odd sizes', async () => {
    for (const shape of [[17], [3, 17], [2, 3, 5], [2, 1, 3, 4, 5], [2, 2, 2, 2, 3, 5]]) {
      const perm = shape.map((_, i) => shape.length - 1 - i);
      await gradcheck((a) => a.permute(...perm).sin(), [input(shape)], TOL);
    }
  });

  it('contiguous maps of 4096 elements and more (four vec4s per thread on CPU adapters), tails and offsets', async () => {
    await gradcheck((a, b) => a.mul(b), [input([4100]), input([4100], { seed: 2 })], { ...TOL, fast: true });
    await gradcheck((a) => a.exp(), [input([3, 2732])], { ...TOL, fast: true }); // 2049 vec4s
    await gradcheck((a, b) => a.narrow(0, 4, 8192).add(b), [input([8200]), input([8192], { seed: 2 })], { ...TOL, fast: true });
  });

  it('int32, bool and where with three strided operands', async () => {
    const a = tensor(hostValues(24, { dtype: 'int32', lo: -5, hi: 5 }), { shape: [2, 12], dtype: 'int32' });
    const b = tensor(hostValues(12, { dtype: 'int32', lo: -5, hi: 5, seed: 3 }), { shape: [12], dtype: 'int32' });
    const sum = a.add(b);
    const av = await a.toArray() as number[][];
    const bv = await b.toArray() as number[];
    expect(await sum.toArray()).toEqual(av.map((row) => row.map((v, j) => v + bv[j]!)));
    const cond = a.gt(0);
    const w = where(cond, a.float(), b.float().mul(10));
    expect(await w.toArray()).toEqual(av.map((row) => row.map((v, j) => (v > 0 ? v : bv[j]! * 10))));
    for (const t of [a, b, sum, cond, w]) t.dispose();
  });

  it('a large transposed copy (beyond the f32 fast-division range) stays exact', async () => {
    const r = 4100;
    const c = 4100; // 16.8M elements ≥ 2^24: exact integer division
    const x = tensor(Float32Array.from({ length: r * c }, (_, i) => i % 65521), { shape: [r, c] });
    const t = x.T.contiguous();
    const d = await t.data();
    for (const [i, j] of [[0, 0], [r - 1, c - 1], [17, 4099], [4099, 3], [2048, 2049]] as const) expect(d[j * r + i]).toBe((i * c + j) % 65521);
    x.dispose();
    t.dispose();
  });
});
