// Reductions: every dim combination with keepdim, odd sizes, non-contiguous inputs.
import { describe, expect, it } from 'vitest';
import { gradcheck, tensor } from '../../src/index.ts';
import { useGpu } from '../helpers/gpu.ts';
import { ODD_SIZES, input } from '../helpers/data.ts';

useGpu();

// A float32 reduction of n terms is accurate to about n·2⁻²⁴ relative; 1e-4 covers n ≤ 1000.
const REDUCE_TOL = { gpuRtol: 1e-4, gpuAtol: 1e-4 };

describe.each(['sum', 'mean', 'max', 'min'] as const)('%s', (op) => {
  it('over all dims, each dim and dim lists, with and without keepdim', async () => {
    const dims: (number | number[] | undefined)[] = [undefined, 0, 1, -1, [0, 2], [1, 2], [0, 1, 2]];
    for (const dim of dims) {
      for (const keepdim of [false, true]) {
        await gradcheck((x) => x[op](dim, keepdim), [input([3, 4, 5], { seed: 2 })], REDUCE_TOL);
      }
    }
  });
  it('over odd sizes and a long row', async () => {
    for (const n of [...ODD_SIZES, 1000]) {
      await gradcheck((x) => x[op](-1), [input([2, n], { seed: n })], REDUCE_TOL);
      await gradcheck((x) => x[op](0), [input([n, 3], { seed: n })], REDUCE_TOL);
    }
  });
  it('on non-contiguous and broadcast views', async () => {
    await gradcheck((x) => x.permute(2, 0, 1)[op]([0, 2]), [input([3, 4, 5], { seed: 4 })], REDUCE_TOL);
    await gradcheck((x) => x.expand(6, 3, 5)[op](0), [input([1, 3, 5], { seed: 4 })], REDUCE_TOL);
    await gradcheck((x) => x.slice(1, 1, 5, 2)[op](1), [input([3, 6], { seed: 4 })], REDUCE_TOL);
  });
});

describe('max/min ties and reference values', () => {
  it('share the gradient equally between tied maxima (torch.amax)', async () => {
    const x = tensor([[1, 3, 3], [2, 0, 1]], { requiresGrad: true });
    x.max(1).sum().backward();
    expect(await x.grad!.toArray()).toEqual([[0, 0.5, 0.5], [1, 0, 0]]);
  });
  it('sum of int32 and bool gives int32', async () => {
    const i = tensor([[1, 2], [3, 4]], { dtype: 'int32' });
    expect(i.sum(0).dtype).toBe('int32');
    expect(await i.sum(0).toArray()).toEqual([4, 6]);
    const s = tensor([true, false, true]).sum();
    expect(s.dtype).toBe('int32');
    expect(await s.item()).toBe(2);
  });
  it('sums a 1M-element tensor accurately', async () => {
    const x = tensor(new Float32Array(1 << 20).fill(0.5));
    expect(await x.sum().item()).toBe(1 << 19);
    expect(await x.mean().item()).toBe(0.5);
  });
});

describe('argmax / argmin', () => {
  it('return int32 positions, first on ties, along a dim or flattened', async () => {
    const x = tensor([[1, 5, 5], [7, 0, 7], [2, 2, 2]]);
    expect(await x.argmax(1).toArray()).toEqual([1, 0, 0]);
    expect(await x.argmin(1).toArray()).toEqual([0, 1, 0]);
    expect(await x.argmax(0).toArray()).toEqual([1, 0, 1]);
    expect(await x.argmax().item()).toBe(3);
    expect(await x.argmax(1, true).toArray()).toEqual([[1], [0], [0]]);
    expect(x.argmax(1).dtype).toBe('int32');
  });
  it('agree with the reference over odd sizes and strided views', async () => {
    for (const n of [...ODD_SIZES, 1000]) {
      await gradcheck((x) => x.argmax(-1).float(), [input([3, n], { seed: n, requiresGrad: false })]);
      await gradcheck((x) => x.T.argmin(0).float(), [input([n, 3], { seed: n, requiresGrad: false })]);
    }
  });
});
