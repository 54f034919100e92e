// cat / stack (copies into slices of the output; backward slices the gradient) and split /
// chunk (views): gradients, WebGPU vs the float64 reference, PyTorch's rules for empty tensors,
// dtype promotion and uneven splits, and the errors.
import { describe, expect, it } from 'vitest';
import { arange, cat, chunk, gradcheck, split, stack, tensor, zeros, type Tensor } from '../../src/index.ts';
import { useGpu } from '../helpers/gpu.ts';
import { ODD_SIZES, input } from '../helpers/data.ts';

useGpu();

describe('cat', () => {
  it('joins along any dim (negative too), with gradients', async () => {
    for (const dim of [0, 1, 2, -1, -3]) {
      const shapes = [0, 1, 2].map((k) => [3, 4, 2].map((s, d) => (d === (dim + 3) % 3 ? k + 1 : s)));
      await gradcheck((a, b, c) => cat([a, b, c], dim).exp(), shapes.map((s, k) => input(s, { seed: k + 1 })));
    }
  });

  it('over odd sizes, batch 1, a single input and non-contiguous inputs', async () => {
    for (const n of ODD_SIZES) {
      await gradcheck((a, b) => cat([a, b], 1).exp(), [input([2, n], { seed: n }), input([2, 1], { seed: n + 1 })]);
      await gradcheck((a, b) => cat([a, b]).exp(), [input([n, 3], { seed: n }), input([1, 3], { seed: n + 2 })]);
    }
    await gradcheck((a) => cat([a]).exp(), [input([1, 5])]);
    await gradcheck((a, b) => cat([a.T, b.slice(1, 0, 6, 2)], 0).exp(), [input([3, 4]), input([2, 6], { seed: 3 })]);
    await gradcheck((a, b) => cat([a.permute(1, 0, 2), b.expand(4, 2, 3)], 2).exp(), [input([2, 4, 3]), input([1, 2, 3], { seed: 4 })]);
  });

  it("reproduces the tutorial's torch.cat(val_preds) of 40 batches", async () => {
    const batches: Tensor[] = [];
    const labels: Tensor[] = [];
    for (let b = 0; b < 40; b++) {
      batches.push(input([b === 39 ? 8 : 128, 10], { seed: b, requiresGrad: false }));
      labels.push(tensor(new Int32Array(b === 39 ? 8 : 128).map((_, i) => (i * 7 + b) % 10)));
    }
    const preds = cat(batches);
    const targets = cat(labels);
    expect(preds.shape).toEqual([39 * 128 + 8, 10]);
    expect(targets.dtype).toBe('int32');
    const flat = (await preds.data()) as Float32Array;
    let at = 0;
    for (const b of batches) {
      const part = (await b.data()) as Float32Array;
      expect(flat.subarray(at, at + part.length)).toEqual(part);
      at += part.length;
    }
    const acc = await preds.argmax(1).eq(targets).float().mean().item();
    expect(acc).toBeGreaterThanOrEqual(0);
    await gradcheck((...xs) => cat(xs), batches.slice(0, 5).map((b, i) => input(b.shape, { seed: 50 + i })));
  });

  it('skips 1-D empty tensors and keeps other empty ones, like PyTorch', async () => {
    // torch.cat([torch.empty(0), torch.ones(2, 3)]).shape == [2, 3]
    const a = input([2, 3]);
    expect(await cat([zeros(0), a, zeros(0)]).toArray()).toEqual(await a.toArray());
    // torch.cat([torch.zeros(0, 3), torch.ones(2, 3)]).shape == [2, 3]; torch.cat([empty(0), empty(0)]).shape == [0]
    expect(cat([zeros(0, 3), a]).shape).toEqual([2, 3]);
    expect(cat([zeros(0), zeros(0)]).shape).toEqual([0]);
    expect(cat([zeros(0, 3), zeros(0, 3)]).shape).toEqual([0, 3]);
    await gradcheck((e, x) => cat([e, x, e]).exp(), [input([0]), input([2, 3])]);
  });

  it('promotes dtypes across inputs', async () => {
    // torch.cat([torch.ones(2, dtype=torch.int32), torch.ones(2)]).dtype == torch.float32
    const f = cat([tensor([1, 2], { dtype: 'int32' }), tensor([0.5])]);
    expect(f.dtype).toBe('float32');
    expect(await f.toArray()).toEqual([1, 2, 0.5]);
    const i = cat([tensor([true, false]), tensor([7], { dtype: 'int32' })]);
    expect(i.dtype).toBe('int32');
    expect(await i.toArray()).toEqual([1, 0, 7]);
    await gradcheck((x, k) => cat([x, k]).mul(2), [input([3]), input([2], { dtype: 'int32' })]);
  });

  it('names the offending shapes and dim', () => {
    expect(() => cat([input([2, 3]), input([2, 4])])).toThrow(/cat: sizes must match except in dim 0: entry 0 has shape \[2, 3\], entry 1 has shape \[2, 4\] \(dim 1: 3 vs 4\)/);
    expect(() => cat([input([2, 3]), input([2, 3, 1])], 1)).toThrow(/cat: tensors must have the same number of dims: entry 0 has shape \[2, 3\], entry 1 has shape \[2, 3, 1\]/);
    expect(() => cat([zeros(0, 3), input([2, 3])], 1)).toThrow(/cat: sizes must match except in dim 1: entry 0 has shape \[0, 3\], entry 1 has shape \[2, 3\] \(dim 0: 0 vs 2\)/);
    expect(() => cat([input([2, 3])], 2)).toThrow(/cat: dim 2 is out of range for a tensor of rank 2/);
    expect(() => cat([])).toThrow(/cat: expected a non-empty array of tensors/);
    expect(() => cat([tensor(1), tensor(2)])).toThrow(/cat: zero-dimensional tensor \(entry 0\) cannot be concatenated/);
  });
});

describe('stack', () => {
  it('stacks along a new dim anywhere, with gradients', async () => {
    for (const dim of [0, 1, 2, -1, -3]) {
      await gradcheck((a, b) => stack([a, b, a], dim).exp(), [input([3, 4]), input([3, 4], { seed: 2 })]);
    }
    expect(stack([zeros(2, 3), zeros(2, 3)], -1).shape).toEqual([2, 3, 2]);
    await gradcheck((a, b) => stack([a.T, b]).exp(), [input([4, 3]), input([3, 4], { seed: 5 })]);
    expect(await stack([tensor([1, 2], { dtype: 'int32' }), tensor([3, 4], { dtype: 'int32' })], 1).toArray()).toEqual([[1, 3], [2, 4]]);
  });

  it('needs equal shapes', () => {
    // torch: stack expects each tensor to be equal size, but got [2, 3] at entry 0 and [2, 4] at entry 1
    expect(() => stack([input([2, 3]), input([2, 4])])).toThrow(/stack: expects each tensor to be equal size, but got \[2, 3\] at entry 0 and \[2, 4\] at entry 1/);
    expect(() => stack([input([2, 3])], 3)).toThrow(/stack: dim 3 is out of range/);
  });
});

describe('split / chunk', () => {
  const sizes = (ts: Tensor[], dim = 0) => ts.map((t) => t.shape[dim]);

  it('follow PyTorch for uneven pieces', () => {
    // [t.shape for t in torch.split(torch.arange(5), 2)] → [2, 2, 1]; torch.chunk(torch.arange(6), 4) → [2, 2, 2]
    expect(sizes(split(arange(5), 2))).toEqual([2, 2, 1]);
    expect(sizes(split(arange(5), 7))).toEqual([5]);
    expect(sizes(split(arange(5), [1, 0, 4]))).toEqual([1, 0, 4]);
    expect(sizes(chunk(arange(6), 4))).toEqual([2, 2, 2]);
    expect(sizes(chunk(arange(5), 4))).toEqual([2, 2, 1]);
    expect(sizes(chunk(arange(6), 3))).toEqual([2, 2, 2]);
    expect(sizes(chunk(zeros(0), 3))).toEqual([0, 0, 0]);
    expect(sizes(split(zeros(0), 0))).toEqual([0]);
    expect(sizes(arange(12).reshape(3, 4).split(3, -1), 1)).toEqual([3, 1]);
    expect(sizes(arange(12).reshape(3, 4).chunk(2, 1), 1)).toEqual([2, 2]);
  });

  it('return views sharing storage, and gradients flow back', async () => {
    const x = zeros(2, 6);
    const [, b] = x.chunk(3, 1);
    b!.fill_(1);
    expect(await x.toArray()).toEqual([[0, 0, 1, 1, 0, 0], [0, 0, 1, 1, 0, 0]]);
    await gradcheck((t) => { const [p, q, r] = t.split([1, 3, 2], 1); return cat([r!.exp(), p!, q!.mul(3)], 1); }, [input([3, 6])]);
    await gradcheck((t) => { const ps = t.T.chunk(4); return stack([ps[0]!, ps[2]!]).sin(); }, [input([3, 7])]);
  });

  it('reject bad sizes', () => {
    expect(() => split(arange(4), 0)).toThrow(/split: split size can only be 0 if dim 0 has size 0, but it has size 4/);
    expect(() => split(arange(4), [1, 2])).toThrow(/split: section sizes \[1, 2\] must sum exactly to 4 .* but sum to 3/);
    expect(() => chunk(arange(4), 0)).toThrow(/chunk: chunks must be a positive integer, got 0/);
    expect(() => split(tensor(1), 1)).toThrow(/split: cannot split a 0-d tensor/);
  });
});
