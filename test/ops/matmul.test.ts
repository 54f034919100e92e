// matmul with PyTorch's 1-D and batch-broadcast rules; transposed operands read in place.
import { describe, expect, it } from 'vitest';
import { gradcheck, matmul, tensor } from '../../src/index.ts';
import { useGpu } from '../helpers/gpu.ts';
import { input } from '../helpers/data.ts';

useGpu();

const TOL = { gpuRtol: 1e-4, gpuAtol: 1e-4 };

describe('matmul', () => {
  it('2-D over odd sizes (1, 3, 17, 129) including non-multiples of every tile', async () => {
    const dims = [
      [1, 1, 1],
      [3, 17, 1],
      [17, 3, 129],
      [129, 17, 3],
      [1, 129, 17],
    ];
    for (const [m, k, n] of dims) {
      await gradcheck((a, b) => a.matmul(b), [input([m!, k!], { seed: m }), input([k!, n!], { seed: n })], TOL);
    }
  });

  it('transposed operands (views, no copies)', async () => {
    await gradcheck((a, b) => a.T.matmul(b), [input([17, 5]), input([17, 3], { seed: 2 })], TOL);
    await gradcheck((a, b) => a.matmul(b.T), [input([5, 17]), input([3, 17], { seed: 2 })], TOL);
    await gradcheck((a, b) => a.mT.matmul(b.mT), [input([2, 17, 5]), input([2, 3, 17], { seed: 2 })], TOL);
  });

  it('vector operands as in PyTorch', async () => {
    await gradcheck((a, b) => a.matmul(b), [input([7]), input([7], { seed: 2 })], TOL); // dot → 0-d
    await gradcheck((a, b) => a.matmul(b), [input([7]), input([7, 3], { seed: 2 })], TOL); // [3]
    await gradcheck((a, b) => a.matmul(b), [input([3, 7]), input([7], { seed: 2 })], TOL); // [3]
    await gradcheck((a, b) => a.matmul(b), [input([2, 3, 7]), input([7], { seed: 2 })], TOL); // [2, 3]
    expect(matmul(tensor([1, 2, 3]), tensor([4, 5, 6])).shape).toEqual([]);
  });

  it('batched with broadcast batch dims', async () => {
    await gradcheck((a, b) => a.matmul(b), [input([2, 3, 4]), input([2, 4, 5], { seed: 2 })], TOL);
    await gradcheck((a, b) => a.matmul(b), [input([2, 1, 3, 4]), input([3, 4, 2], { seed: 2 })], TOL);
    await gradcheck((a, b) => a.matmul(b), [input([3, 4]), input([2, 4, 5], { seed: 2 })], TOL);
    expect(matmul(input([2, 1, 3, 4]), input([5, 4, 2])).shape).toEqual([2, 5, 3, 2]);
  });

  it('larger shapes from the tutorials, against the reference (fast gradcheck)', async () => {
    await gradcheck((a, b) => a.matmul(b), [input([32, 784], { lo: 0, hi: 1 }), input([784, 50], { seed: 2, lo: -0.05, hi: 0.05 })], TOL);
    await gradcheck((a, b) => a.matmul(b), [input([1000, 17]), input([17, 129], { seed: 2 })], TOL);
  });

  it('an exact small product', async () => {
    const a = tensor([[1, 2], [3, 4]], { dtype: 'float32' });
    const b = tensor([[5, 6], [7, 8]], { dtype: 'float32' });
    expect(await a.matmul(b).toArray()).toEqual([[19, 22], [43, 50]]);
    expect(await a.mm(b.T).toArray()).toEqual([[17, 23], [39, 53]]);
  });
});
