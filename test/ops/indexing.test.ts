// Indexing ops: gather, indexSelect, advanced index, scatterAdd (+ in place), oneHot, maskedFill.
// Gradients against finite differences and WebGPU against the float64 reference, with repeated
// indices (their gradients must accumulate), odd sizes, non-contiguous inputs, negative dims;
// the tutorial's `preds[arange(n), targets]`; and the errors.
import { describe, expect, it } from 'vitest';
import {
  F, arange, gather, getBackend, gradcheck, indexSelect, memory, noGrad, oneHot, oneHotAsync, scatterAdd, scope, tensor, zeros, type Tensor,
} from '../../src/index.ts';
import { indexTuning } from '../../src/kernels/indexing.ts';
import { useGpu } from '../helpers/gpu.ts';
import { collectGarbage } from '../helpers/gc.ts';
import { ODD_SIZES, input } from '../helpers/data.ts';

useGpu();

/** An int32 tensor of `shape` with seeded values in [lo, hi) (small ranges force repeats). */
function idx(shape: readonly number[], hi: number, seed = 1, lo = 0, device: 'webgpu' | 'cpu' = 'webgpu'): Tensor {
  let s = (seed * 2654435761) >>> 0 || 1;
  const n = shape.reduce((p, d) => p * d, 1);
  const v = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = lo + Math.floor((s / 2 ** 32) * (hi - lo));
  }
  return tensor(v, { shape, device });
}
const i32 = (data: number[] | number[][], device: 'webgpu' | 'cpu' = 'webgpu') => tensor(data, { dtype: 'int32', device });

describe('gather', () => {
  it('matches torch.gather on a small example', async () => {
    // torch.arange(12.).view(3, 4).gather(1, torch.tensor([[0, 0], [3, 1], [2, 2]])) → [[0, 0], [7, 5], [10, 10]]
    const x = arange(12).float().reshape(3, 4);
    expect(await x.gather(1, i32([[0, 0], [3, 1], [2, 2]])).toArray()).toEqual([[0, 0], [7, 5], [10, 10]]);
    // x.gather(0, torch.tensor([[2, 0, 1, 1]])) → [[8, 1, 6, 7]]
    expect(await gather(x, 0, i32([[2, 0, 1, 1]])).toArray()).toEqual([[8, 1, 6, 7]]);
  });

  it('gradients over dims (negative too), repeats and odd sizes', async () => {
    for (const dim of [0, 1, -1, -2]) {
      const d = dim < 0 ? dim + 2 : dim;
      const index = idx(d === 1 ? [3, 6] : [6, 4], d === 1 ? 5 : 3, 7 + d);
      await gradcheck((x, i) => x.gather(dim, i).mul(i.float().add(1)), [input([3, 4 + d], { seed: 2 }), index]);
    }
    for (const n of ODD_SIZES) {
      await gradcheck((x, i) => x.gather(1, i), [input([2, n], { seed: n }), idx([2, n + 2], n, n)]);
      await gradcheck((x, i) => x.gather(0, i), [input([n, 3], { seed: n }), idx([1, 3], n, n)]);
    }
  });

  it('on non-contiguous inputs and indices, 3-D, and batch 1', async () => {
    await gradcheck((x, i) => x.T.gather(0, i), [input([5, 3]), idx([4, 5], 3, 3)]);
    await gradcheck((x, i) => x.gather(1, i.T), [input([4, 6]), idx([3, 4], 6, 5)]);
    await gradcheck((x, i) => x.slice(1, 1, 7, 2).gather(1, i.slice(0, 0, 4, 2)), [input([2, 8]), idx([4, 5], 3, 9)]);
    await gradcheck((x, i) => x.gather(2, i), [input([2, 3, 5]), idx([2, 2, 7], 5, 11)]);
    await gradcheck((x, i) => x.gather(1, i), [input([1, 10]), idx([1, 1], 10, 12)]);
  });

  it('accumulates the gradient of repeated indices', async () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true });
    x.gather(1, i32([[2, 2, 2, 0], [1, 1, 0, 1]])).sum().backward();
    expect(await x.grad!.toArray()).toEqual([[1, 0, 3], [1, 3, 0]]);
  });

  it('gathers int32 and bool tensors', async () => {
    const x = arange(6).reshape(2, 3);
    const g = x.gather(1, i32([[2], [0]]));
    expect(g.dtype).toBe('int32');
    expect(await g.toArray()).toEqual([[2], [3]]);
    expect(await tensor([true, false, true]).gather(0, i32([1, 2])).toArray()).toEqual([false, true]);
  });

  it('reports wrong dtypes and shapes before running', () => {
    const x = input([3, 4]);
    expect(() => x.gather(1, tensor([[0, 1]]))).toThrow(/gather: index must be an int32 tensor, got float32; call \.int\(\) first/);
    expect(() => x.gather(1, i32([0, 1]))).toThrow(/gather: index has 1 dims \(shape \[2\]\) but the input has 2 \(shape \[3, 4\]\)/);
    expect(() => x.gather(1, idx([4, 1], 4))).toThrow(/gather: index shape \[4, 1\] is larger than the input shape \[3, 4\] in dim 0/);
    expect(() => x.gather(2, idx([3, 1], 4))).toThrow(/gather: dim 2 is out of range/);
  });
});

describe('indexSelect', () => {
  it('selects rows and columns with repeats, matching the reference', async () => {
    // torch.arange(12.).view(3, 4).index_select(1, torch.tensor([3, 0, 3])) → [[3, 0, 3], [7, 4, 7], [11, 8, 11]]
    expect(await arange(12).float().reshape(3, 4).indexSelect(1, i32([3, 0, 3])).toArray()).toEqual([[3, 0, 3], [7, 4, 7], [11, 8, 11]]);
    for (const dim of [0, 1, 2, -1]) {
      await gradcheck((x, i) => x.indexSelect(dim, i), [input([3, 4, 5], { seed: 5 }), idx([7], 3, 13 + dim)]);
    }
    await gradcheck((x, i) => x.T.indexSelect(0, i), [input([3, 17]), idx([5], 17, 2)]);
    await gradcheck((x, i) => x.indexSelect(0, i.slice(0, 0, 6, 3)), [input([4, 3]), idx([6], 4, 3)]);
    // A 0-d index keeps the dim with size 1 (torch: x.index_select(0, torch.tensor(1)).shape == [1, 4]).
    expect(arange(12).reshape(3, 4).indexSelect(0, tensor(1, { dtype: 'int32' })).shape).toEqual([1, 4]);
  });

  it('rejects a 2-D index and a float index', () => {
    expect(() => input([3, 4]).indexSelect(0, idx([2, 2], 3))).toThrow(/indexSelect: index must be 1-D \(or 0-d\), got shape \[2, 2\]/);
    expect(() => input([3, 4]).indexSelect(0, tensor([1]))).toThrow(/indexSelect: index must be an int32 tensor/);
  });
});

describe('index (advanced indexing)', () => {
  it("the tutorial's preds[arange(n), targets] equals the reference and a one-hot mask", async () => {
    for (const n of [1, 3, 17, 128]) {
      const preds = input([n, 10], { seed: n, lo: 0.05, hi: 1 });
      const targets = idx([n], 10, n + 1);
      const picked = preds.index(arange(n), targets);
      const masked = preds.mul(oneHot(targets, 10).float()).sum(1);
      expect(picked.shape).toEqual([n]);
      expect(await picked.toArray()).toEqual(await masked.toArray());
      // The tutorial's loss, -mean(log(preds[arange(n), targets])), and its gradient.
      await gradcheck((p, r, t) => p.index(r, t).log().mean().neg(), [preds, arange(n), targets]);
    }
    // Reference values: torch.tensor([[.1, .2, .7], [.5, .3, .2]])[torch.arange(2), torch.tensor([2, 0])] → [0.7, 0.5]
    const p = tensor([[0.1, 0.2, 0.7], [0.5, 0.3, 0.2]]);
    expect(await p.index(arange(2), i32([2, 0])).toArray()).toEqual([Math.fround(0.7), 0.5]);
  });

  it('follows PyTorch result shapes: in place when adjacent, first when split by a slice', () => {
    const x = zeros(2, 3, 4);
    const i = i32([0, 1]);
    // torch: x[:, i].shape == [2, 2, 4]; x[:, :, i] == [2, 3, 2]; x[i, :, i] == [2, 3]; x[i.view(2, 1), i] == [2, 2, 4]
    expect(x.index(null, i).shape).toEqual([2, 2, 4]);
    expect(x.index(null, null, i).shape).toEqual([2, 3, 2]);
    expect(x.index(i, null, i).shape).toEqual([2, 3]);
    expect(x.index(i.reshape(2, 1), i).shape).toEqual([2, 2, 4]);
    expect(x.index(i).shape).toEqual([2, 3, 4]);
    expect(x.index(idx([2, 3], 2)).shape).toEqual([2, 3, 3, 4]);
    expect(x.index(null).shape).toEqual([2, 3, 4]);
  });

  it('gradients for every layout: slices, broadcasting, negative values, non-contiguous', async () => {
    const x = () => input([4, 5, 3], { seed: 3 });
    await gradcheck((t, i) => t.index(null, i), [x(), idx([6], 5, 1)]);
    await gradcheck((t, i) => t.index(null, null, i), [x(), idx([2, 3], 3, 2)]);
    await gradcheck((t, i, j) => t.index(i, null, j), [x(), idx([5], 4, 3), idx([5], 3, 4)]);
    await gradcheck((t, i, j) => t.index(i, j), [x(), idx([3, 1], 4, 5), idx([1, 4], 5, 6)]);
    await gradcheck((t, i, j, k) => t.index(i, j, k), [x(), idx([7], 4, 7), idx([7], 5, 8), idx([1], 3, 9)]);
    // Negative values count from the end (torch: x[torch.tensor([-1])] is the last row).
    await gradcheck((t, i) => t.index(i), [x(), idx([6], 4, 10, -4)]);
    await gradcheck((t, i) => t.permute(2, 0, 1).index(null, i), [x(), idx([3], 4, 11)]);
    await gradcheck((t, i) => t.index(i.T), [input([9]), idx([4, 2], 9, 12)]);
  });

  it('accumulates repeated indices in backward', async () => {
    const x = tensor([10, 20, 30], { requiresGrad: true });
    x.index(i32([0, 0, 2, 0])).mul(tensor([1, 2, 3, 4])).sum().backward();
    expect(await x.grad!.toArray()).toEqual([7, 0, 3]);
    const y = tensor([[1, 2], [3, 4]], { requiresGrad: true });
    y.index(i32([1, 1, 1]), i32([0, 0, 1])).sum().backward();
    expect(await y.grad!.toArray()).toEqual([[0, 0], [2, 1]]);
  });

  it('reports bad indices', () => {
    const x = input([3, 4]);
    expect(() => x.index(idx([2], 3), idx([2], 4), idx([2], 4))).toThrow(/index: too many indices for a tensor of 2 dims \(shape \[3, 4\]\): got 3/);
    expect(() => x.index(tensor([true, false, true]))).toThrow(/index: indices\[0\] is a bool mask/);
    expect(() => x.index(null, tensor([1, 2]))).toThrow(/index: indices\[1\] must be an int32 tensor, got float32/);
    expect(() => x.index(idx([2], 3), idx([3], 4))).toThrow(/index: shapes \[2\] and \[3\] cannot be broadcast/);
  });
});

describe('scatterAdd', () => {
  it('matches torch.scatter_add, repeats accumulating', async () => {
    // torch.zeros(3, 3).scatter_add(0, torch.tensor([[0, 1], [0, 0]]), torch.ones(3, 3)) → [[2, 1, 0], [0, 1, 0], [0, 0, 0]]
    expect(await scatterAdd(zeros(3, 3), 0, i32([[0, 1], [0, 0]]), tensor([[1, 1, 1], [1, 1, 1], [1, 1, 1]])).toArray()).toEqual([[2, 1, 0], [0, 1, 0], [0, 0, 0]]);
    const ints = zeros([4], { dtype: 'int32' }).scatterAdd(0, i32([3, 3, 0, 3]), i32([1, 2, 3, 4]));
    expect(ints.dtype).toBe('int32');
    expect(await ints.toArray()).toEqual([3, 0, 0, 7]);
  });

  it('gradients with respect to input and src, over dims, odd sizes, non-contiguous and larger src', async () => {
    for (const dim of [0, 1, -1]) {
      await gradcheck((x, i, s) => x.scatterAdd(dim, i, s).mul(x), [input([3, 4], { seed: 1 }), idx([3, 4], dim === 0 ? 3 : 4, 2 + dim), input([3, 4], { seed: 9 })]);
    }
    for (const n of ODD_SIZES) await gradcheck((x, i, s) => x.scatterAdd(1, i, s), [input([2, n]), idx([2, n + 3], n, n), input([2, n + 3], { seed: 4 })]);
    await gradcheck((x, i, s) => x.T.scatterAdd(0, i, s.T), [input([3, 5]), idx([4, 3], 5, 6), input([3, 4], { seed: 3 })]);
    // src larger than index: only index's extent is read; the rest of src gets zero gradient.
    await gradcheck((x, i, s) => x.scatterAdd(1, i, s), [input([3, 4]), idx([2, 3], 4, 8), input([3, 5], { seed: 5 })]);
  });

  it('adds a million values into three bins exactly (atomic float adds under contention)', async () => {
    const n = 1 << 20;
    const bins = idx([n], 3, 21);
    const out = zeros(3).scatterAdd(0, bins, tensor(new Float32Array(n).fill(1)));
    const counts = [0, 0, 0];
    for (const b of (await bins.data()) as Int32Array) counts[b]!++;
    expect(await out.toArray()).toEqual(counts);
  });

  it('scatterAdd_ writes in place, bumps the version, and follows the in-place rules', async () => {
    const x = zeros(2, 3);
    const v0 = x.version;
    x.scatterAdd_(1, i32([[2, 2], [0, 1]]), tensor([[1, 2], [3, 4]]));
    expect(await x.toArray()).toEqual([[0, 0, 3], [3, 4, 0]]);
    expect(x.version).toBe(v0 + 1);
    // Into a strided view: the base sees it.
    const base = zeros(3, 2);
    base.T.scatterAdd_(1, i32([[0, 0, 2]]), tensor([[1, 1, 5]]));
    expect(await base.toArray()).toEqual([[2, 0], [0, 0], [5, 0]]);
    // Source aliasing the destination is read before it is written.
    const a = tensor([1, 2, 3]);
    a.scatterAdd_(0, i32([0, 0, 0]), a);
    expect(await a.toArray()).toEqual([7, 2, 3]);
    const leaf = zeros(3).requiresGrad_();
    expect(() => leaf.scatterAdd_(0, i32([0]), tensor([1]))).toThrow(/scatterAdd_: a leaf tensor that requires grad/);
    noGrad(() => leaf.scatterAdd_(0, i32([0]), tensor([1])));
    expect(await leaf.toArray()).toEqual([1, 0, 0]);
    expect(() => zeros(1).expand(3).scatterAdd_(0, i32([0]), tensor([1]))).toThrow(/scatterAdd_: unsupported operation: more than one element of the written-to tensor \(shape \[3\], strides \[0\]\) refers to a single memory location/);
  });

  it('reports dtype and shape errors', () => {
    expect(() => zeros(3).scatterAdd(0, i32([0]), tensor([1], { dtype: 'int32' }))).toThrow(/scatterAdd: src dtype int32 differs from the input dtype float32/);
    expect(() => zeros(3, 3).scatterAdd(0, idx([2, 2], 3), input([2, 1]))).toThrow(/scatterAdd: src shape \[2, 1\] must have 2 dims and be at least the index shape \[2, 2\]/);
  });
});

describe('out-of-range indices', () => {
  it('throw at once on the CPU, naming op, value, position and size', async () => {
    const cpuX = tensor([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]], { device: 'cpu' });
    expect(() => cpuX.gather(1, i32([[0], [4], [1]], 'cpu'))).toThrow(/gather: index 4 is out of bounds for dim 1 with size 4 \(index element \[1, 0\] of shape \[3, 1\]\)/);
    expect(() => cpuX.gather(1, i32([[0], [-1], [1]], 'cpu'))).toThrow(/gather: index -1 is out of bounds for dim 1 with size 4/);
    expect(() => cpuX.indexSelect(0, i32([0, 3], 'cpu'))).toThrow(/indexSelect: index 3 is out of bounds for dim 0 with size 3 \(index element 1\)/);
    expect(() => cpuX.index(tensor([0, 1, 2], { dtype: 'int32', device: 'cpu' }), i32([1, 2, 9], 'cpu'))).toThrow(
      /index: index 9 is out of bounds for dim 1 with size 4 \(indices\[1\], element \[2\] of shape \[3\]\)/,
    );
    expect(() => cpuX.index(i32([-4], 'cpu'))).toThrow(/index: index -4 is out of bounds for dim 0 with size 3/);
    const dst = zeros([3], { device: 'cpu' });
    expect(() => dst.scatterAdd_(0, i32([0, 5], 'cpu'), tensor([1, 1], { device: 'cpu' }))).toThrow(/scatterAdd_: index 5 is out of bounds for dim 0 with size 3/);
    expect(await dst.toArray()).toEqual([0, 0, 0]); // validated before anything was written
  });

  it('are flagged by the WebGPU kernel and thrown by the next readback', async () => {
    const x = arange(12).float().reshape(3, 4);
    const bad = x.gather(1, i32([[0], [4], [1]]));
    await expect(bad.toArray()).rejects.toThrow(/gather: index 4 is out of bounds for dim 1 with size 4 \(index element \[1, 0\] of shape \[3, 1\]\)/);
    // The device is usable afterwards, and good indices read back normally.
    expect(await x.gather(1, i32([[0], [3], [1]])).toArray()).toEqual([[0], [7], [9]]);
    const picked = x.index(arange(3), i32([1, 2, 7]));
    await expect(picked.toArray()).rejects.toThrow(/index: index 7 is out of bounds for dim 1 with size 4 \(indices\[1\], element \[2\] of shape \[3\]\)/);
    const dst = zeros(3);
    dst.scatterAdd_(0, i32([0, -1]), tensor([1, 1]));
    await expect(dst.toArray()).rejects.toThrow(/scatterAdd_: index -1 is out of bounds for dim 0 with size 3/);
    expect(await dst.toArray()).toEqual([1, 0, 0]); // the valid add happened, the bad one was skipped
    await expect(oneHot(i32([0, 3]), 3).toArray()).rejects.toThrow(/oneHot: class value 3 at position \[1\] is out of range: values must be in \[0, numClasses\) = \[0, 3\)/);
    expect(await x.sum().item()).toBe(66);
  });
});

describe('oneHot', () => {
  it('encodes like F.one_hot (int32), for any input shape and on the CPU', async () => {
    // torch.nn.functional.one_hot(torch.tensor([[0, 2], [1, 1]]), 3)
    const y = F.oneHot(i32([[0, 2], [1, 1]]), 3);
    expect(y.dtype).toBe('int32');
    expect(await y.toArray()).toEqual([[[1, 0, 0], [0, 0, 1]], [[0, 1, 0], [0, 1, 0]]]);
    expect(await oneHot(i32([2, 0], 'cpu'), 4).toArray()).toEqual([[0, 0, 1, 0], [1, 0, 0, 0]]);
    expect(oneHot(tensor(new Int32Array(0)), 3).shape).toEqual([0, 3]);
    expect(await oneHot(tensor(2, { dtype: 'int32' }), 3).toArray()).toEqual([0, 0, 1]);
    await gradcheck((t) => oneHot(t.T, 5).float(), [idx([3, 4], 5, 3)]);
  });

  it('infers numClasses with oneHotAsync and asks for it otherwise', async () => {
    const y = await oneHotAsync(i32([1, 4]));
    expect(y.shape).toEqual([2, 5]);
    expect(await (await F.oneHotAsync(i32([0, 1]), 3)).toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
    expect(() => oneHot(i32([1]), -1)).toThrow(/oneHot: numClasses = -1 \(infer from the data\) needs a readback of the max; pass numClasses, or use `await oneHotAsync\(x\)`/);
    expect(() => oneHot(tensor([1]), 3)).toThrow(/oneHot: input must be an int32 tensor, got float32/);
    expect(() => oneHot(i32([1]), 0)).toThrow(/oneHot: numClasses is 0/);
    await expect(oneHotAsync(tensor(new Int32Array(0)))).rejects.toThrow(/oneHot: cannot infer numClasses from an empty tensor/);
    expect(() => oneHot(i32([0, 5], 'cpu'), 3)).toThrow(/oneHot: class value 5 at position \[1\] is out of range/);
  });
});

describe('maskedFill', () => {
  it('fills where the mask is true, with gradient elsewhere', async () => {
    // torch.tensor([[1., -2.], [3., -4.]]).masked_fill(torch.tensor([True, False]), 9) → [[9, -2], [9, -4]]
    expect(await tensor([[1, -2], [3, -4]]).maskedFill(tensor([true, false]), 9).toArray()).toEqual([[9, -2], [9, -4]]);
    await gradcheck((x, m) => x.maskedFill(m, -1).mul(x), [input([3, 5]), input([5], { dtype: 'bool' })]);
    expect(() => input([2]).maskedFill(tensor([1, 0]), 0)).toThrow(/maskedFill: mask must be a bool tensor/);
    expect(() => input([2]).maskedFill(tensor([[true, false], [true, true]]), 0)).toThrow(/maskedFill: mask of shape \[2, 2\] does not broadcast to the input shape \[2\]/);
  });
});

describe('kernel variants and memory', () => {
  it('one element per thread (the GPU setting) and runs of 2 agree with the reference too', async () => {
    const saved = indexTuning.perThreadSoftware;
    try {
      for (const per of [1, 2, 8]) {
        indexTuning.perThreadSoftware = per;
        await gradcheck((x, i) => x.gather(1, i), [input([3, 16]), idx([3, 24], 16, per)]);
        await gradcheck((x, i, j) => x.index(i, null, j), [input([4, 8, 6]), idx([5], 4, per), idx([5], 6, per + 1)]);
        await gradcheck((x, i, s) => x.scatterAdd(0, i, s), [input([3, 8]), idx([5, 8], 3, per), input([5, 8], { seed: per })]);
        const bad = arange(8).float().reshape(1, 8).gather(1, i32([[0, 1, 2, 3, 4, 5, 9, 7]]));
        await expect(bad.toArray()).rejects.toThrow(/gather: index 9 is out of bounds for dim 1 with size 8 \(index element \[0, 6\]/);
      }
    } finally {
      indexTuning.perThreadSoftware = saved;
    }
  });

  it('a loop of tutorial loss steps leaves memory() flat', async () => {
    const preds = input([32, 10], { lo: 0.1, hi: 1 });
    const targets = idx([32], 10, 3);
    const rows = arange(32);
    const step = () =>
      scope(() => {
        const loss = preds.index(rows, targets).log().mean().neg();
        loss.backward();
        preds.grad!.dispose();
        preds.grad = null;
        return loss.detach();
      });
    const settle = async () => {
      const l = step();
      await l.item();
      l.dispose();
    };
    await settle();
    await collectGarbage(); // earlier tests' garbage must not be finalized inside the measured window
    const before = memory();
    for (let i = 0; i < 50; i++) step().dispose();
    await settle();
    const after = memory();
    expect(after.liveTensors).toBe(before.liveTensors);
    expect(after.webgpu!.liveBuffers).toBe(before.webgpu!.liveBuffers);
    expect(after.webgpu!.bytesInUse).toBe(before.webgpu!.bytesInUse);
    expect(after.webgpu!.bytesAllocated).toBe(before.webgpu!.bytesAllocated);
  });
});

describe('free functions', () => {
  it('gather / indexSelect / scatterAdd agree with the methods and run on the CPU backend', async () => {
    const x = tensor([[1, 2], [3, 4]], { device: 'cpu' });
    expect(await indexSelect(x, 0, i32([1], 'cpu')).toArray()).toEqual([[3, 4]]);
    expect(getBackend('cpu').name).toBe('cpu');
  });
});
