// Creating tensors, seeded randomness, readback and printing.
import { describe, expect, it } from 'vitest';
import { arange, eye, full, linspace, manualSeed, ones, rand, randint, randn, tensor, zeros, zerosLike, fromArray } from '../src/index.ts';
import { useGpu } from './helpers/gpu.ts';

useGpu();

describe('creation', () => {
  it('tensor() infers shape and dtype from nested arrays and typed arrays', async () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32'); // JS numbers are doubles; int32 only when asked
    expect(tensor([1, 2], { dtype: 'int32' }).dtype).toBe('int32');
    expect(tensor([true, false]).dtype).toBe('bool');
    expect(tensor(3.5).shape).toEqual([]);
    expect(await tensor(3.5).item()).toBe(3.5);
    expect(tensor(new Float32Array(6), { shape: [2, 3] }).shape).toEqual([2, 3]);
    expect(tensor(new Int32Array([1, 2])).dtype).toBe('int32');
    expect(await tensor([[1, 2], [3, 4]], { dtype: 'float32' }).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(tensor([]).shape).toEqual([0]);
  });

  it('rejects ragged arrays and bad shapes with the op name', () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(/tensor: ragged nested arrays: expected length 2 at \[1\], got 1/);
    expect(() => zeros(2, -1)).toThrow(/zeros: invalid size -1/);
  });

  it('zeros, ones, full, *Like, arange, linspace, eye', async () => {
    expect(await zeros(2, 2).toArray()).toEqual([[0, 0], [0, 0]]);
    expect(await ones([3], { dtype: 'int32' }).toArray()).toEqual([1, 1, 1]);
    expect(await full([2], 7.5).toArray()).toEqual([7.5, 7.5]);
    expect(await zerosLike(ones(2, 3)).toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(await arange(5).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(arange(5).dtype).toBe('int32');
    expect(await arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(await arange(5, 0, -2).toArray()).toEqual([5, 3, 1]);
    expect(await linspace(0, 1, 5).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(await eye(2, 3).toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
    expect(await fromArray([1, 2, 3, 4], [2, 2]).toArray()).toEqual([[1, 2], [3, 4]]);
  });

  it('manualSeed makes random ops reproducible, and GPU and CPU draw the same numbers', async () => {
    manualSeed(42);
    const a = await randn(1000).data();
    const u = await rand(5).data();
    manualSeed(42);
    const b = await randn(1000).data();
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(await rand(5).data())).toEqual(Array.from(u));
    manualSeed(42);
    const c = await randn(1000, { device: 'cpu' }).data();
    for (let i = 0; i < 1000; i++) expect(Math.abs(c[i]! - a[i]!)).toBeLessThan(1e-5);
  });

  it('rand, randn and randint have the right distributions', async () => {
    manualSeed(7);
    const u = Array.from(await rand(100000).data());
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(Math.abs(u.reduce((p, v) => p + v, 0) / u.length - 0.5)).toBeLessThan(0.01);
    const n = Array.from(await randn(100000).data());
    const mean = n.reduce((p, v) => p + v, 0) / n.length;
    const std = Math.sqrt(n.reduce((p, v) => p + (v - mean) ** 2, 0) / n.length);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(std - 1)).toBeLessThan(0.02);
    const r = randint(3, 9, [10000]);
    expect(r.dtype).toBe('int32');
    const rv = Array.from(await r.data());
    expect(new Set(rv)).toEqual(new Set([3, 4, 5, 6, 7, 8]));
  });
});

describe('readback and printing', () => {
  it('toArray, data, item, format like PyTorch', async () => {
    const t = tensor([[1, 2], [3, 4]], { dtype: 'float32', requiresGrad: true });
    expect(await t.format()).toBe('tensor([[1., 2.],\n        [3., 4.]], requires_grad=True)');
    expect(await t.sin().format()).toBe('tensor([[ 0.8415,  0.9093],\n        [ 0.1411, -0.7568]], grad_fn=<SinBackward0>)');
    expect(await tensor([1, 2], { dtype: 'int32' }).format()).toBe('tensor([1, 2], dtype=torch.int32)');
    expect(await t.sum().item()).toBe(10);
    expect(await t.T.toArray()).toEqual([[1, 3], [2, 4]]);
  });

  it('item() on many elements names the shape', async () => {
    await expect(tensor([1, 2, 3]).item()).rejects.toThrow(/item: a tensor with 3 elements \(shape \[3\]\) cannot be converted to a scalar/);
  });
});
