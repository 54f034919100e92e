import { describe, it, expect } from 'vitest';
import { cpuBackend, philox4x32_10, philoxBlocks, mulhilo32 } from '../../src/backend/cpu/index.ts';
import { values } from './helpers.ts';

const hex = (words: number[]) => words.map((w) => w.toString(16).padStart(8, '0')).join(' ');

describe('philox4x32_10', () => {
  it('mulhilo32 is the exact 64-bit product', () => {
    for (const [a, b] of [[0xffffffff, 0xffffffff], [0xd2511f53, 0x12345678], [0, 0xffffffff], [0x10000, 0x10000]] as const) {
      const p = BigInt(a) * BigInt(b);
      expect(mulhilo32(a, b)).toEqual([Number(p >> 32n), Number(p & 0xffffffffn)]);
    }
  });

  // Known-answer vectors from Random123's kat_vectors (philox4x32 10 rounds).
  it('matches the Random123 known answers', () => {
    expect(hex(philox4x32_10([0, 0, 0, 0], [0, 0]))).toBe('6627e8d5 e169c58d bc57ac4c 9b00dbd8');
    expect(hex(philox4x32_10([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff]))).toBe(
      '408f276d 41c83b0e a20bc7c6 6d5451fd',
    );
    expect(hex(philox4x32_10([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]))).toBe(
      'd16cfe09 94fdcceb 5001e420 24126ea1',
    );
  });
});

describe('cpu random', () => {
  const state = { key: [0x1234, 0xabcd] as const, counter: 0 };

  it('philoxBlocks counts 4 values per block (2 for normal)', () => {
    expect(philoxBlocks('uniform', 9)).toBe(3);
    expect(philoxBlocks('randint', 8)).toBe(2);
    expect(philoxBlocks('normal', 5)).toBe(3);
    expect(philoxBlocks('normal', 0)).toBe(0);
  });

  it('uniform follows the fixed block/word mapping', async () => {
    const u = await values(cpuBackend.random('uniform', 6, 'float32', state, -1, 3));
    const blocks = [philox4x32_10([0, 0, 0, 0], state.key), philox4x32_10([1, 0, 0, 0], state.key)];
    const expected = [0, 1, 2, 3, 4, 5].map((i) => -1 + ((blocks[i >> 2]![i % 4]! >>> 8) * 2 ** -24) * 4);
    expect(u).toEqual(expected);
  });

  it('normal follows the fixed mapping (Box–Muller cosine branch)', async () => {
    const z = await values(cpuBackend.random('normal', 3, 'float32', state, 1, 2));
    const w = [philox4x32_10([0, 0, 0, 0], state.key), philox4x32_10([1, 0, 0, 0], state.key)];
    const bm = (w0: number, w1: number) =>
      1 + 2 * Math.sqrt(-2 * Math.log(((w0 >>> 8) + 1) * 2 ** -24)) * Math.cos(2 * Math.PI * (w1 >>> 8) * 2 ** -24);
    expect(z).toEqual([bm(w[0]![0], w[0]![1]), bm(w[0]![2], w[0]![3]), bm(w[1]![0], w[1]![1])]);
  });

  it('the counter splits into lo/hi words and offsets the stream', async () => {
    const c = 2 ** 32 + 5; // lo 5, hi 1
    const u = await values(cpuBackend.random('uniform', 5, 'float32', { key: state.key, counter: c }, 0, 1));
    const w4 = philox4x32_10([6, 1, 0, 0], state.key)[0];
    expect(u[4]).toBe((w4 >>> 8) * 2 ** -24);
    // the same state gives the same bits; a later counter continues the stream
    const all = await values(cpuBackend.random('uniform', 8, 'float32', state, 0, 1));
    const tail = await values(cpuBackend.random('uniform', 4, 'float32', { key: state.key, counter: 1 }, 0, 1));
    expect(all.slice(4)).toEqual(tail);
  });

  it('uniform stays in [a, b) with mean near the middle', async () => {
    const n = 100_000;
    const u = await values(cpuBackend.random('uniform', n, 'float32', state, 2, 5));
    expect(Math.min(...u)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...u)).toBeLessThan(5);
    const mean = u.reduce((s, v) => s + v, 0) / n;
    expect(Math.abs(mean - 3.5)).toBeLessThan(0.02); // std of the mean: 3/√12/√n ≈ 0.0027
  });

  it('100k normals have mean a and std b within tolerance', async () => {
    const n = 100_000;
    const z = await values(cpuBackend.random('normal', n, 'float32', { key: [7, 9], counter: 123 }, 3, 2));
    const mean = z.reduce((s, v) => s + v, 0) / n;
    const std = Math.sqrt(z.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
    expect(Math.abs(mean - 3)).toBeLessThan(0.03); // std of the mean: 2/√n ≈ 0.0063
    expect(Math.abs(std - 2)).toBeLessThan(0.03);
    expect(z.every(Number.isFinite)).toBe(true);
  });

  it('randint gives int32 values in [a, b), hitting every one', async () => {
    const r = cpuBackend.random('randint', 10_000, 'int32', state, -3, 4);
    expect(r.dtype).toBe('int32');
    const v = await values(r);
    expect(new Set(v)).toEqual(new Set([-3, -2, -1, 0, 1, 2, 3]));
    expect(v.every(Number.isInteger)).toBe(true);
  });

  it('validates its arguments', () => {
    expect(() => cpuBackend.random('randint', 4, 'int32', state, 5, 5)).toThrow(/cpu\.random\(randint\).*low < high/);
    expect(() => cpuBackend.random('normal', 4, 'float32', state, 0, -1)).toThrow(/cpu\.random\(normal\).*std/);
    expect(() => cpuBackend.random('uniform', -1, 'float32', state, 0, 1)).toThrow(/cpu\.random\(uniform\).*numel/);
  });
});
