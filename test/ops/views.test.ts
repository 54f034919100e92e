// Views share storage and route gradients back through their layout.
import { describe, expect, it } from 'vitest';
import { arange, gradcheck, tensor } from '../../src/index.ts';
import { useGpu } from '../helpers/gpu.ts';
import { input } from '../helpers/data.ts';

useGpu();

describe('view ops', () => {
  it('reshape / view / flatten / unsqueeze / squeeze', async () => {
    await gradcheck((x) => x.reshape(4, 3).mul(2), [input([3, 4])]);
    await gradcheck((x) => x.view(-1).mul(2), [input([3, 4])]);
    await gradcheck((x) => x.T.reshape(12).mul(2), [input([3, 4])]); // needs a copy
    await gradcheck((x) => x.flatten(1).mul(2), [input([2, 3, 4])]);
    await gradcheck((x) => x.unsqueeze(1).mul(2), [input([3, 4])]);
    await gradcheck((x) => x.unsqueeze(-1).squeeze().mul(2), [input([1, 3, 1])]);
    expect(input([1, 3, 1]).squeeze(0).shape).toEqual([3, 1]);
    expect(input([2, 3, 4]).flatten().shape).toEqual([24]);
  });

  it('permute / transpose / T / mT', async () => {
    await gradcheck((x, w) => x.permute(2, 0, 1).mul(w.reshape(5, 1, 1)), [input([3, 4, 5]), tensor([1, 2, 3, 4, 5])]);
    await gradcheck((x) => x.transpose(0, 2).exp(), [input([3, 4, 5])]);
    expect(input([2, 3, 4]).T.shape).toEqual([4, 3, 2]);
    expect(input([2, 3, 4]).mT.shape).toEqual([2, 4, 3]);
  });

  it('expand sums the gradient over broadcast dims', async () => {
    await gradcheck((x, w) => x.expand(4, 3, 5).mul(w), [input([3, 1]), input([4, 3, 5], { seed: 3, requiresGrad: false })]);
  });

  it('slice / narrow / select with steps and negative indices', async () => {
    await gradcheck((x) => x.slice(1, 1, 7, 2).exp(), [input([3, 8])]);
    await gradcheck((x) => x.slice(0, -2).exp(), [input([5, 2])]);
    await gradcheck((x) => x.narrow(1, 2, 3).exp(), [input([3, 8])]);
    await gradcheck((x) => x.select(0, -1).exp(), [input([3, 8])]);
    expect(await arange(10).slice(0, 1, 8, 3).toArray()).toEqual([1, 4, 7]);
  });

  it('views share storage: writing through a view changes the base', async () => {
    const base = arange(6).float().reshape(2, 3);
    base.T.select(0, 1).fill_(-1);
    expect(await base.toArray()).toEqual([[0, -1, 2], [3, -1, 5]]);
    const c = base.T.contiguous();
    expect(c.isContiguous()).toBe(true);
    expect(await c.toArray()).toEqual([[0, 3], [-1, -1], [2, 5]]);
  });

  it('reports impossible views and bad shapes', () => {
    expect(() => input([3, 4]).T.view(12)).toThrow(/view: size \[12\] is not compatible/);
    expect(() => input([3, 4]).reshape(5, -1)).toThrow(/reshape: shape \[5, -1\] is invalid for input of size 12/);
    expect(() => input([3, 4]).expand(3, 5)).toThrow(/expand: the expanded size 5 must match the existing size 4/);
    expect(() => input([3, 4]).permute(0, 0)).toThrow(/permute/);
  });
});
