import { describe, it, expect } from 'vitest';
import { cpuBackend } from '../../src/backend/cpu/index.ts';
import { tensor, values, view } from './helpers.ts';

describe('cpu reduce', () => {
  // x = [[1, 5, 2],
  //      [4, 0, 6]]
  const x = () => tensor([1, 5, 2, 4, 0, 6], [2, 3]);

  it('over the last dim', async () => {
    expect(await values(cpuBackend.reduce('sum', x(), 1, 'float32'))).toEqual([8, 10]);
    expect(await values(cpuBackend.reduce('mean', x(), 1, 'float32'))).toEqual([8 / 3, 10 / 3]);
    expect(await values(cpuBackend.reduce('prod', x(), 1, 'float32'))).toEqual([10, 0]);
    expect(await values(cpuBackend.reduce('max', x(), 1, 'float32'))).toEqual([5, 6]);
    expect(await values(cpuBackend.reduce('min', x(), 1, 'float32'))).toEqual([1, 0]);
    const am = cpuBackend.reduce('argmax', x(), 1, 'int32');
    expect(am.dtype).toBe('int32');
    expect(await values(am)).toEqual([1, 2]);
    expect(await values(cpuBackend.reduce('argmin', x(), 1, 'int32'))).toEqual([0, 1]);
  });

  it('over all dims gives one element; argmax is the flat position in the block', async () => {
    const s = cpuBackend.reduce('sum', x(), 2, 'float32');
    expect(s.numel).toBe(1);
    expect(await values(s)).toEqual([18]);
    expect(await values(cpuBackend.reduce('argmax', x(), 2, 'int32'))).toEqual([5]);
    expect(await values(cpuBackend.reduce('argmin', x(), 2, 'int32'))).toEqual([4]);
  });

  it('over the first dim through a transposed view (the tensor layer permutes it last)', async () => {
    const s = cpuBackend.upload([1, 5, 2, 4, 0, 6], 'float32');
    const xt = view(s, [3, 2], [1, 3]); // [[1,4],[5,0],[2,6]]
    expect(await values(cpuBackend.reduce('sum', xt, 1, 'float32'))).toEqual([5, 5, 8]);
    expect(await values(cpuBackend.reduce('argmax', xt, 1, 'int32'))).toEqual([1, 0, 1]);
  });

  it('over 2 of 3 dims with a broadcast (0-stride) dim and an offset', async () => {
    const s = cpuBackend.upload([9, 1, 2, 3, 4], 'float32');
    // [2, 2, 2] view: dim 0 broadcast, [[1,2],[3,4]] from offset 1
    const v = view(s, [2, 2, 2], [0, 2, 1], 1);
    expect(await values(cpuBackend.reduce('sum', v, 2, 'float32'))).toEqual([10, 10]);
    expect(await values(cpuBackend.reduce('argmax', v, 2, 'int32'))).toEqual([3, 3]);
  });

  it('reduceRank 0 copies', async () => {
    expect(await values(cpuBackend.reduce('sum', x(), 0, 'float32'))).toEqual([1, 5, 2, 4, 0, 6]);
  });

  it('arg reductions take the first of ties; NaN wins and propagates', async () => {
    expect(await values(cpuBackend.reduce('argmax', tensor([3, 7, 7, 1, 7]), 1, 'int32'))).toEqual([1]);
    expect(await values(cpuBackend.reduce('argmin', tensor([3, 1, 7, 1]), 1, 'int32'))).toEqual([1]);
    const withNaN = tensor([1, NaN, 9, NaN]);
    expect(await values(cpuBackend.reduce('argmax', withNaN, 1, 'int32'))).toEqual([1]);
    expect(await values(cpuBackend.reduce('argmin', withNaN, 1, 'int32'))).toEqual([1]);
    expect(await values(cpuBackend.reduce('max', withNaN, 1, 'float32'))).toEqual([NaN]);
    expect(await values(cpuBackend.reduce('min', withNaN, 1, 'float32'))).toEqual([NaN]);
    expect(await values(cpuBackend.reduce('sum', withNaN, 1, 'float32'))).toEqual([NaN]);
  });

  it('int32 sum and prod wrap; bool sums count', async () => {
    expect(await values(cpuBackend.reduce('sum', tensor([2 ** 31 - 1, 1], [2], 'int32'), 1, 'int32'))).toEqual([-(2 ** 31)]);
    // 65536 · 65536 = 2^32 wraps to 0
    expect(await values(cpuBackend.reduce('prod', tensor([65536, 65536, 3], [3], 'int32'), 1, 'int32'))).toEqual([0]);
    expect(await values(cpuBackend.reduce('sum', tensor([1, 0, 1, 1], [4], 'bool'), 1, 'int32'))).toEqual([3]);
    expect(await values(cpuBackend.reduce('mean', tensor([1, 2], [2], 'int32'), 1, 'float32'))).toEqual([1.5]);
  });

  it('empty blocks: sum 0, prod 1, mean NaN, max/min/arg throw naming the op', async () => {
    const empty = view(cpuBackend.alloc(0, 'float32'), [2, 0]);
    expect(await values(cpuBackend.reduce('sum', empty, 1, 'float32'))).toEqual([0, 0]);
    expect(await values(cpuBackend.reduce('prod', empty, 1, 'float32'))).toEqual([1, 1]);
    expect(await values(cpuBackend.reduce('mean', empty, 1, 'float32'))).toEqual([NaN, NaN]);
    for (const op of ['max', 'min', 'argmax', 'argmin'] as const) {
      expect(() => cpuBackend.reduce(op, empty, 1, 'float32')).toThrow(new RegExp(`cpu\\.reduce\\(${op}\\).*empty`));
    }
  });

  it('rejects a reduceRank above the rank', () => {
    expect(() => cpuBackend.reduce('sum', x(), 3, 'float32')).toThrow(/cpu\.reduce\(sum\): cannot reduce the last 3 dims of a view of shape \[2, 3\]/);
  });
});
