import { describe, it, expect } from 'vitest';
import { cpuBackend, CpuStorage } from '../../src/backend/cpu/index.ts';
import { tensor, values, view } from './helpers.ts';

describe('cpu storage', () => {
  it('upload keeps doubles for float32, truncates int32 toward zero with wrap, maps bool to 0/1', async () => {
    expect(await values(cpuBackend.upload([0.1, -2.5, 1e300], 'float32'))).toEqual([0.1, -2.5, 1e300]);
    // 2^31 wraps to -2^31, like a C int32 cast; NaN → 0
    expect(await values(cpuBackend.upload([2.7, -2.7, 2 ** 31, NaN], 'int32'))).toEqual([2, -2, -(2 ** 31), 0]);
    expect(await values(cpuBackend.upload([0, -0, 3, -0.5, NaN], 'bool'))).toEqual([0, 0, 1, 1, 1]);
  });

  it('read returns Float64Array for float32 and Int32Array for int32/bool', async () => {
    expect(await cpuBackend.read(tensor([1.5]))).toBeInstanceOf(Float64Array);
    expect(await cpuBackend.read(tensor([1], [1], 'int32'))).toBeInstanceOf(Int32Array);
    expect(await cpuBackend.read(tensor([1], [1], 'bool'))).toBeInstanceOf(Int32Array);
  });

  it('read walks strided, offset, 0-stride and rank-0 views in row-major order', async () => {
    const s = cpuBackend.upload([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 'float32');
    // transpose of a [3, 4] matrix
    expect(Array.from(await cpuBackend.read(view(s, [4, 3], [1, 4])))).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    // rows 1..2, every other column, starting at column 1: offset 5, strides [4, 2]
    expect(Array.from(await cpuBackend.read(view(s, [2, 2], [4, 2], 5)))).toEqual([5, 7, 9, 11]);
    // row 2 broadcast over 3 rows
    expect(Array.from(await cpuBackend.read(view(s, [3, 2], [0, 1], 8)))).toEqual([8, 9, 8, 9, 8, 9]);
    expect(Array.from(await cpuBackend.read(view(s, [], [], 7)))).toEqual([7]);
    expect(Array.from(await cpuBackend.read(view(s, [0, 3], [3, 1])))).toEqual([]);
  });

  it('rejects views that leave their storage (the read rejects: it never throws at the call)', async () => {
    const s = cpuBackend.upload([1, 2, 3], 'float32');
    await expect(cpuBackend.read(view(s, [2], [1], 2))).rejects.toThrow(/cpu\.read.*outside its storage of 3/);
    await expect(cpuBackend.read(view(s, [2], [1, 1]))).rejects.toThrow(/cpu\.read.*strides/);
  });

  it('refcounts, frees on the last release, and reports memory', async () => {
    const before = cpuBackend.memory();
    const s = cpuBackend.alloc(10, 'int32');
    expect(s).toBeInstanceOf(CpuStorage);
    expect(s.version).toBe(0);
    expect(s.refs).toBe(1);
    expect(cpuBackend.memory()).toEqual({
      liveBuffers: before.liveBuffers + 1,
      bytesInUse: before.bytesInUse + 80,
      bytesAllocated: before.bytesAllocated + 80,
    });
    s.retain();
    s.release();
    expect(s.disposed).toBe(false);
    s.release();
    expect(s.disposed).toBe(true);
    expect(cpuBackend.memory()).toEqual(before);
    expect(() => (s as CpuStorage).data).toThrow(/released/);
    expect(() => s.release()).toThrow(/already freed/);
    await expect(cpuBackend.read(view(s, [10]))).rejects.toThrow(/cpu\.read.*freed/);
  });

  it('alloc validates numel and dtype', () => {
    expect(() => cpuBackend.alloc(-1, 'float32')).toThrow(/cpu\.alloc/);
    expect(() => cpuBackend.alloc(1, 'float64' as never)).toThrow(/cpu\.alloc/);
  });
});
