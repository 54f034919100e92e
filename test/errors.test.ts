// Bad input gets an error naming the op and the shapes, and nothing is half done.
import { describe, expect, it } from 'vitest';
import { DisposedError, ShapeError, DTypeError, noGrad, tensor, zeros, ones } from '../src/index.ts';
import { useGpu } from './helpers/gpu.ts';

useGpu();

describe('errors', () => {
  it('mismatched matmul shapes', () => {
    expect(() => zeros(64, 784).matmul(zeros(500, 10))).toThrow(ShapeError);
    expect(() => zeros(64, 784).matmul(zeros(500, 10))).toThrow('matmul: shapes [64, 784] and [500, 10] do not align (784 != 500)');
    expect(() => zeros(2, 3, 4).matmul(zeros(3, 4, 5))).toThrow(/matmul: shapes \[2\] and \[3\] cannot be broadcast/);
  });
  it('mismatched broadcast shapes', () => {
    expect(() => zeros(2, 3).add(zeros(4))).toThrow('add: shapes [2, 3] and [4] cannot be broadcast together (dim -1: 3 vs 4)');
  });
  it('wrong dtype', () => {
    const i = tensor([[1, 2]], { dtype: 'int32' });
    expect(() => i.matmul(tensor([[1], [2]]))).toThrow(DTypeError);
    expect(() => i.matmul(tensor([[1], [2]]))).toThrow(/matmul: expects float32 operands, got int32 and float32/);
    expect(() => i.mean()).toThrow(/mean: input dtype int32 is not floating point/);
    expect(() => i.add_(0.5)).toThrow(/add_: result type float32 can't be cast to the desired output type int32/);
  });
  it('a disposed tensor', async () => {
    const t = zeros(2, 3);
    t.dispose();
    expect(() => t.add(1)).toThrow(DisposedError);
    expect(() => t.add(1)).toThrow('add: tensor of shape [2, 3] was disposed');
    await expect(t.toArray()).rejects.toThrow(/toArray: tensor of shape \[2, 3\] was disposed/);
    t.dispose(); // idempotent
  });
  it('an in-place op that fails changes nothing', async () => {
    const t = ones(3);
    expect(() => noGrad(() => t.add_(zeros(2, 3)))).toThrow(/add_: output with shape \[3\] doesn't match the broadcast shape \[2, 3\]/);
    expect(await t.toArray()).toEqual([1, 1, 1]);
    expect(t.version).toBe(0);
  });
});
