import { describe, it, expect } from 'vitest';
import type { View } from '../../src/backend/types.ts';
import { cpuBackend } from '../../src/backend/cpu/index.ts';
import { tensor, values, view } from './helpers.ts';

/** Naive oracle over plain nested arrays: out[b][i][j] = Σ_k a[b][i][k] · b[b][k][j]. */
function naive(a: number[][][], b: number[][][]): number[] {
  const out: number[] = [];
  for (let bi = 0; bi < a.length; bi++) {
    for (let i = 0; i < a[bi]!.length; i++) {
      for (let j = 0; j < b[bi]![0]!.length; j++) {
        let acc = 0;
        for (let k = 0; k < b[bi]!.length; k++) acc += a[bi]![i]![k]! * b[bi]![k]![j]!;
        out.push(acc);
      }
    }
  }
  return out;
}

/** Reads a rank-3 view into nested arrays. */
async function nested(v: View): Promise<number[][][]> {
  const flat = Array.from(await cpuBackend.read(v));
  const [B, M, N] = v.shape as [number, number, number];
  return Array.from({ length: B }, (_, b) => Array.from({ length: M }, (_, i) => flat.slice((b * M + i) * N, (b * M + i + 1) * N)));
}

describe('cpu matmul', () => {
  it('a 2x3 by 3x2 product by hand', async () => {
    // [[1,2,3],[4,5,6]] @ [[7,8],[9,10],[11,12]] = [[58,64],[139,154]]
    const out = cpuBackend.matmul(tensor([1, 2, 3, 4, 5, 6], [1, 2, 3]), tensor([7, 8, 9, 10, 11, 12], [1, 3, 2]));
    expect(out.dtype).toBe('float32');
    expect(await values(out)).toEqual([58, 64, 139, 154]);
  });

  it('a transposed (strided) operand with a broadcast batch matches the naive loop', async () => {
    const B = 3, M = 4, K = 5, N = 2;
    // a: [B, M, K] contiguous, values with fractions
    const a = tensor(Array.from({ length: B * M * K }, (_, i) => (i % 7) - 3.25), [B, M, K]);
    // b: one [N, K] matrix viewed transposed as [K, N] and broadcast over the batch, from offset 3
    const bStore = cpuBackend.upload([99, 99, 99, ...Array.from({ length: N * K }, (_, i) => i * 0.5 - 2)], 'float32');
    const b = view(bStore, [B, K, N], [0, 1, K], 3);
    const out = cpuBackend.matmul(a, b);
    expect(await values(out)).toEqual(naive(await nested(a), await nested(b)));
  });

  it('a strided left operand (transposed [K, M] per batch) and K = 0', async () => {
    const s = cpuBackend.upload(Array.from({ length: 2 * 3 * 2 }, (_, i) => i + 1), 'float32');
    const aT = view(s, [2, 2, 3], [6, 1, 2]); // each batch [3, 2] transposed
    const b = tensor([1, 0, 0, 1, 1, 1, 2, 0, 0, 2, 1, -1], [2, 3, 2]);
    expect(await values(cpuBackend.matmul(aT, b))).toEqual(naive(await nested(aT), await nested(b)));
    const zero = cpuBackend.matmul(view(cpuBackend.alloc(0, 'float32'), [1, 2, 0]), view(cpuBackend.alloc(0, 'float32'), [1, 0, 3]));
    expect(await values(zero)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('rejects misaligned shapes and wrong ranks', () => {
    const a = tensor([1, 2, 3, 4, 5, 6], [1, 2, 3]);
    expect(() => cpuBackend.matmul(a, tensor([1, 2, 3, 4], [1, 2, 2]))).toThrow(/cpu\.matmul: shapes \[1, 2, 3\] and \[1, 2, 2\] do not align/);
    expect(() => cpuBackend.matmul(tensor([1, 2], [2]), a)).toThrow(/cpu\.matmul: expected rank-3/);
  });
});
