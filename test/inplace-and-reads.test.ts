// Two small contracts. In-place writes into a view whose elements share memory (an expanded
// tensor) are refused, as in PyTorch, by every in-place op that writes distinct values, copy_
// and the optimizers; fill_/zero_ stay allowed (PyTorch allows them). And reads are promises
// that settle: a read started before dispose() resolves whichever method it is, and every
// async API rejects (never throws at the call) on bad input.
import { describe, expect, it } from 'vitest';
import { F, ValueError, oneHotAsync, optim, parseSafetensors, serializeSafetensors, tensor, zeros, type Tensor } from '../src/index.ts';
import { hasInternalOverlap } from '../src/shape.ts';
import { useGpu } from './helpers/gpu.ts';

useGpu();

// torch 1.13: torch.zeros(3).expand(2, 3).add_(1) raises RuntimeError: unsupported operation:
// more than one element of the written-to tensor refers to a single memory location. Please
// clone() the tensor before performing the operation. (fill_ and zero_ succeed.)
const OVERLAP = /unsupported operation: more than one element of the written-to tensor \(.*shape \[2, 3\], strides \[0, 1\]\) refers to a single memory location\. Please clone\(\) the tensor before performing the operation\./;

describe('in-place writes into self-overlapping views', () => {
  it('hasInternalOverlap: broadcast dims and interleaved strides overlap; slices, transposes, gaps do not', () => {
    expect(hasInternalOverlap([2, 3], [0, 1])).toBe(true);
    expect(hasInternalOverlap([1, 3], [0, 1])).toBe(false); // a stride-0 dim of size 1 reaches one element
    expect(hasInternalOverlap([0, 3], [0, 1])).toBe(false);
    expect(hasInternalOverlap([3, 2], [1, 3])).toBe(false); // a transpose
    expect(hasInternalOverlap([2, 2], [6, 2])).toBe(false); // a strided slice
    expect(hasInternalOverlap([3, 2], [1, 1])).toBe(true); // offsets 0..3 reached by 6 elements
    expect(hasInternalOverlap([3, 2], [2, 3])).toBe(false); // offsets 0, 3, 2, 5, 4, 7: interleaved but distinct
    expect(hasInternalOverlap([3, 3], [2, 3])).toBe(false); // 0 2 4 3 5 7 6 8 10
    expect(hasInternalOverlap([4, 3], [2, 3])).toBe(true); // [3, 0] and [0, 2] are both offset 6
  });

  it('add_, sub_, mul_, div_, copy_ and scatterAdd_ refuse; nothing is written', async () => {
    const base = zeros(3);
    const x = base.expand(2, 3);
    const ops: [string, (t: Tensor) => unknown][] = [
      ['add_', (t) => t.add_(1)],
      ['sub_', (t) => t.sub_(tensor([1, 2, 3]), 2)],
      ['mul_', (t) => t.mul_(2)],
      ['div_', (t) => t.div_(2)],
      ['copy_', (t) => t.copy_(tensor([[1, 2, 3], [4, 5, 6]]))],
      ['copy_', (t) => t.copy_(tensor([1, 2, 3]))],
      ['scatterAdd_', (t) => t.scatterAdd_(1, tensor([[0], [1]], { dtype: 'int32' }), tensor([[1], [2]]))],
    ];
    for (const [name, run] of ops) {
      expect(() => run(x), name).toThrow(ValueError);
      expect(() => run(x), name).toThrow(new RegExp(`^${name}: ${OVERLAP.source}`));
    }
    expect(await base.toArray()).toEqual([0, 0, 0]);
    expect(base.version).toBe(0);
  });

  it('fill_, zero_ and copy_ of a number are allowed (every element gets the same value), as in PyTorch', async () => {
    const base = zeros(3);
    const x = base.expand(2, 3);
    x.fill_(2);
    expect(await base.toArray()).toEqual([2, 2, 2]);
    x.copy_(5);
    expect(await x.toArray()).toEqual([[5, 5, 5], [5, 5, 5]]);
    x.zero_();
    expect(await base.toArray()).toEqual([0, 0, 0]);
    // Views without overlap still write in place.
    const m = zeros(2, 3);
    m.T.add_(tensor([[1, 2], [3, 4], [5, 6]]));
    m.slice(1, 0, 3, 2).mul_(10);
    expect(await m.toArray()).toEqual([[10, 3, 50], [20, 4, 60]]);
  });

  it('optimizers refuse an expanded parameter before updating anything', async () => {
    const ok = tensor([1, 2, 3], { requiresGrad: true });
    const bad = zeros(3).expand(2, 3).requiresGrad_();
    ok.grad = tensor([1, 1, 1]);
    bad.grad = tensor([[1, 1, 1], [1, 1, 1]]);
    for (const opt of [new optim.SGD([ok, bad], { lr: 0.1, momentum: 0.9 }), new optim.Adam([ok, bad], { lr: 0.1 })]) {
      expect(() => opt.step()).toThrow(new RegExp(`^${opt.constructor.name}: ${OVERLAP.source.replace('\\(.*shape', '\\(parameter 1 of group 0, shape')}`));
      expect(await ok.toArray()).toEqual([1, 2, 3]);
    }
  });
});

describe('reads', () => {
  it('a read started before dispose() resolves, whichever read it is', async () => {
    const make = () => tensor([[1.5, 2], [3, 4]]);
    const reads: [string, (t: Tensor) => Promise<unknown>, unknown][] = [
      ['data', async (t) => [...(await t.data())], [1.5, 2, 3, 4]],
      ['toArray', (t) => t.toArray(), [[1.5, 2], [3, 4]]],
      ['item', (t) => t.sum().item(), 10.5],
      ['format', (t) => t.format(), 'tensor([[1.5000, 2.0000],\n        [3.0000, 4.0000]])'],
      ['toDevice', async (t) => (await t.toDevice('cpu')).toArray(), [[1.5, 2], [3, 4]]],
    ];
    for (const [name, read, want] of reads) {
      const t = make();
      const p = read(t);
      t.dispose();
      await expect(p, name).resolves.toEqual(want);
    }
    // A bool tensor's toArray needs its dtype after the data arrive: taken before too.
    const b = tensor([true, false]);
    const p = b.toArray();
    b.dispose();
    expect(await p).toEqual([true, false]);
    // So does serialising a checkpoint (it reads every tensor).
    const w = make();
    const bytes = serializeSafetensors({ w });
    w.dispose();
    expect(await parseSafetensors(await bytes).tensors.w!.toArray()).toEqual([[1.5, 2], [3, 4]]);
    // A read started after dispose() rejects with a DisposedError naming the read.
    const gone = make();
    gone.dispose();
    await expect(gone.toArray()).rejects.toThrow(/toArray: tensor of shape \[2, 2\] was disposed/);
  });

  it('async APIs reject instead of throwing at the call', async () => {
    const v = tensor([1, 2]);
    const gone = tensor([1]);
    gone.dispose();
    const calls: [string, () => Promise<unknown>, RegExp][] = [
      ['item of a non-scalar', () => v.item(), /item: a tensor with 2 elements \(shape \[2\]\) cannot be converted to a scalar/],
      ['item of a disposed tensor', () => gone.item(), /item: tensor of shape \[1\] was disposed/],
      ['data of a disposed tensor', () => gone.data(), /data: tensor of shape \[1\] was disposed/],
      ['format of a disposed tensor', () => gone.format(), /format: tensor of shape \[1\] was disposed/],
      ['print of a disposed tensor', () => gone.print(), /format: tensor of shape \[1\] was disposed/],
      ['toDevice of a disposed tensor', () => gone.toDevice('cpu'), /toDevice: tensor of shape \[1\] was disposed/],
      ['oneHotAsync of floats', () => oneHotAsync(v), /oneHot/],
      ['F.oneHotAsync of floats', () => F.oneHotAsync(v), /oneHot/],
      ['CPU data of a disposed tensor', () => { const c = tensor([1], { device: 'cpu' }); c.dispose(); return c.data(); }, /disposed/],
    ];
    for (const [name, call, error] of calls) {
      let p: Promise<unknown> | undefined;
      expect(() => (p = call()), name).not.toThrow();
      await expect(p, name).rejects.toThrow(error);
    }
  });
});
