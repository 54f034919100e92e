import { describe, it, expect } from 'vitest';
import type { BinaryOp, UnaryOp } from '../../src/backend/types.ts';
import { cpuBackend } from '../../src/backend/cpu/index.ts';
import { tensor, values, view } from './helpers.ts';

describe('cpu unary', () => {
  const xs = [-2.5, -1, -0.5, 0, 0.5, 1.5, 2.5, 3];
  // Expected values written out by hand (torch semantics); transcendental ones via Math.
  const cases: [UnaryOp, number[]][] = [
    ['identity', xs],
    ['neg', [2.5, 1, 0.5, -0, -0.5, -1.5, -2.5, -3]],
    ['abs', [2.5, 1, 0.5, 0, 0.5, 1.5, 2.5, 3]],
    ['sign', [-1, -1, -1, 0, 1, 1, 1, 1]],
    ['square', [6.25, 1, 0.25, 0, 0.25, 2.25, 6.25, 9]],
    ['relu', [0, 0, 0, 0, 0.5, 1.5, 2.5, 3]],
    ['floor', [-3, -1, -1, 0, 0, 1, 2, 3]],
    ['ceil', [-2, -1, -0, 0, 1, 2, 3, 3]],
    // half to even: -2.5 → -2, -0.5 → -0, 0.5 → 0, 1.5 → 2, 2.5 → 2
    ['round', [-2, -1, -0, 0, 0, 2, 2, 3]],
    ['logicalNot', [0, 0, 0, 1, 0, 0, 0, 0]],
    ['exp', xs.map(Math.exp)],
    ['sin', xs.map(Math.sin)],
    ['cos', xs.map(Math.cos)],
    ['tanh', xs.map(Math.tanh)],
    ['sigmoid', xs.map((x) => 1 / (1 + Math.exp(-x)))],
  ];
  for (const [op, expected] of cases) {
    it(`${op}`, async () => {
      expect(await values(cpuBackend.unary(op, tensor(xs), 'float32'))).toEqual(expected);
    });
  }

  it('log, sqrt, rsqrt, reciprocal on positives, zero and negatives', async () => {
    const x = tensor([4, 1, 0, -1]);
    expect(await values(cpuBackend.unary('log', x, 'float32'))).toEqual([Math.log(4), 0, -Infinity, NaN]);
    expect(await values(cpuBackend.unary('sqrt', x, 'float32'))).toEqual([2, 1, 0, NaN]);
    expect(await values(cpuBackend.unary('rsqrt', x, 'float32'))).toEqual([0.5, 1, Infinity, NaN]);
    expect(await values(cpuBackend.unary('reciprocal', x, 'float32'))).toEqual([0.25, 1, Infinity, -1]);
  });

  it('sigmoid saturates to exact 0 and 1 and relu/sign handle NaN like torch', async () => {
    expect(await values(cpuBackend.unary('sigmoid', tensor([-1000, 0, 1000]), 'float32'))).toEqual([0, 0.5, 1]);
    expect(await values(cpuBackend.unary('relu', tensor([NaN]), 'float32'))).toEqual([NaN]);
    expect(await values(cpuBackend.unary('sign', tensor([NaN]), 'float32'))).toEqual([0]);
  });

  it('identity casts: float → int32 truncates toward zero, anything → bool is != 0', async () => {
    const x = tensor([2.9, -2.9, 0, -0.1, NaN]);
    expect(await values(cpuBackend.unary('identity', x, 'int32'))).toEqual([2, -2, 0, 0, 0]);
    expect(await values(cpuBackend.unary('identity', x, 'bool'))).toEqual([1, 1, 0, 1, 1]);
    expect(await values(cpuBackend.unary('identity', tensor([0, 1], [2], 'bool'), 'float32'))).toEqual([0, 1]);
  });

  it('computes in int32 on int input (wrapping) and in float for transcendental ops', async () => {
    const x = tensor([-(2 ** 31), 65536, -3, 4], [4], 'int32');
    // -(-2^31) and |-2^31| wrap to -2^31; 65536² = 2^32 wraps to 0
    expect(await values(cpuBackend.unary('neg', x, 'int32'))).toEqual([-(2 ** 31), -65536, 3, -4]);
    expect(await values(cpuBackend.unary('abs', x, 'int32'))).toEqual([-(2 ** 31), 65536, 3, 4]);
    expect(await values(cpuBackend.unary('square', x, 'int32'))).toEqual([0, 0, 9, 16]);
    expect(await values(cpuBackend.unary('sqrt', tensor([4, 2], [2], 'int32'), 'float32'))).toEqual([2, Math.SQRT2]);
  });

  it('reads strided input and writes contiguous output', async () => {
    const s = cpuBackend.upload([1, 2, 3, 4, 5, 6], 'float32');
    expect(await values(cpuBackend.unary('neg', view(s, [3, 2], [1, 3]), 'float32'))).toEqual([-1, -4, -2, -5, -3, -6]);
  });
});

describe('cpu binary', () => {
  const a = [1, -2, 3, NaN, 0];
  const b = [2, -2, -1, 1, -0];
  const cases: [BinaryOp, number[]][] = [
    ['add', [3, -4, 2, NaN, 0]],
    ['sub', [-1, 0, 4, NaN, 0]],
    ['mul', [2, 4, -3, NaN, -0]],
    ['div', [0.5, 1, -3, NaN, NaN]],
    ['pow', [1, 0.25, 1 / 3, NaN, 1]],
    ['maximum', [2, -2, 3, NaN, 0]],
    ['minimum', [1, -2, -1, NaN, -0]],
    ['eq', [0, 1, 0, 0, 1]],
    ['ne', [1, 0, 1, 1, 0]],
    ['lt', [1, 0, 0, 0, 0]],
    ['le', [1, 1, 0, 0, 1]],
    ['gt', [0, 0, 1, 0, 0]],
    ['ge', [0, 1, 1, 0, 1]],
    ['logicalAnd', [1, 1, 1, 1, 0]],
    ['logicalOr', [1, 1, 1, 1, 0]],
  ];
  for (const [op, expected] of cases) {
    it(`${op}`, async () => {
      const isCmp = !['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'].includes(op);
      const out = cpuBackend.binary(op, tensor(a), tensor(b), [5], 'float32', isCmp ? 'bool' : 'float32');
      expect(out.dtype).toBe(isCmp ? 'bool' : 'float32');
      expect(await values(out)).toEqual(expected);
    });
  }

  it('pow(0, 0) = 1, pow(-8, 1/3) = NaN as Math.pow', async () => {
    expect(await values(cpuBackend.binary('pow', tensor([0, -8]), tensor([0, 1 / 3]), [2], 'float32', 'float32'))).toEqual([1, NaN]);
  });

  it('scalars on either side', async () => {
    const x = tensor([1, 2, 3]);
    expect(await values(cpuBackend.binary('sub', x, 10, [3], 'float32', 'float32'))).toEqual([-9, -8, -7]);
    expect(await values(cpuBackend.binary('sub', 10, x, [3], 'float32', 'float32'))).toEqual([9, 8, 7]);
    expect(await values(cpuBackend.binary('mul', 2, 3, [2, 2], 'float32', 'float32'))).toEqual([6, 6, 6, 6]);
  });

  it('broadcast (0-stride) and strided operands', async () => {
    const row = cpuBackend.upload([10, 20, 30], 'float32');
    const mat = cpuBackend.upload([1, 2, 3, 4, 5, 6], 'float32');
    // [2, 3] + row broadcast over dim 0
    expect(await values(cpuBackend.binary('add', view(mat, [2, 3]), view(row, [2, 3], [0, 1]), [2, 3], 'float32', 'float32')))
      .toEqual([11, 22, 33, 14, 25, 36]);
    // column [2, 1] (offset 1 of row: 20, 30) broadcast over dim 1 times transposed [3,2] → [2,3] view of mat
    const col = view(row, [2, 3], [1, 0], 1);
    const matT = view(mat, [2, 3], [1, 2]); // mat viewed as [3, 2] then transposed: [[1,3,5],[2,4,6]]
    expect(await values(cpuBackend.binary('mul', col, matT, [2, 3], 'float32', 'float32'))).toEqual([20, 60, 100, 60, 120, 180]);
  });

  it('int32 add/sub/mul wrap and comparisons give bool', async () => {
    const big = tensor([2 ** 31 - 1, -(2 ** 31), 65536, 7], [4], 'int32');
    expect(await values(cpuBackend.binary('add', big, 1, [4], 'int32', 'int32'))).toEqual([-(2 ** 31), -(2 ** 31) + 1, 65537, 8]);
    expect(await values(cpuBackend.binary('sub', big, 1, [4], 'int32', 'int32'))).toEqual([2 ** 31 - 2, 2 ** 31 - 1, 65535, 6]);
    expect(await values(cpuBackend.binary('mul', big, big, [4], 'int32', 'int32'))).toEqual([1, 0, 0, 49]);
    expect(await values(cpuBackend.binary('gt', big, 7, [4], 'int32', 'bool'))).toEqual([1, 0, 1, 0]);
    // true division, truncated toward zero only by the int32 output cast
    expect(await values(cpuBackend.binary('div', tensor([7, -7], [2], 'int32'), 2, [2], 'int32', 'float32'))).toEqual([3.5, -3.5]);
    expect(await values(cpuBackend.binary('div', tensor([7, -7], [2], 'int32'), 2, [2], 'int32', 'int32'))).toEqual([3, -3]);
  });

  it('bool logical ops', async () => {
    const p = tensor([0, 0, 1, 1], [4], 'bool');
    const q = tensor([0, 1, 0, 1], [4], 'bool');
    expect(await values(cpuBackend.binary('logicalAnd', p, q, [4], 'bool', 'bool'))).toEqual([0, 0, 0, 1]);
    expect(await values(cpuBackend.binary('logicalOr', p, q, [4], 'bool', 'bool'))).toEqual([0, 1, 1, 1]);
  });

  it('rejects operands not broadcast to the output shape', () => {
    expect(() => cpuBackend.binary('add', tensor([1, 2]), tensor([1, 2, 3]), [2], 'float32', 'float32')).toThrow(
      /cpu\.binary: operand b has shape \[3\] but the output shape is \[2\]/,
    );
  });
});

describe('cpu where', () => {
  it('selects per element with broadcast cond and scalars', async () => {
    const cond = cpuBackend.upload([1, 0, 1], 'bool');
    const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    // cond [3] broadcast over 2 rows
    expect(await values(cpuBackend.where(view(cond, [2, 3], [0, 1]), a, -1, [2, 3], 'float32'))).toEqual([1, -1, 3, 4, -1, 6]);
    expect(await values(cpuBackend.where(view(cond, [3]), 7, 8, [3], 'int32'))).toEqual([7, 8, 7]);
    expect(() => cpuBackend.where(view(cond, [3]), a, 0, [2, 3], 'float32')).toThrow(/cpu\.where: operand cond/);
  });
});

describe('cpu copy', () => {
  it('writes into a strided destination, casting to its dtype', async () => {
    const s = cpuBackend.upload([0, 0, 0, 0, 0, 0], 'int32');
    cpuBackend.copy(view(s, [3], [2], 1), tensor([1.9, -2.9, 3]));
    expect(await values(s)).toEqual([0, 1, 0, -2, 0, 3]);
    cpuBackend.copy(view(s, [2], [2], 0), 9);
    expect(await values(s)).toEqual([9, 1, 9, -2, 0, 3]);
  });

  it('reads all of an overlapping source before writing (shift right by one)', async () => {
    const s = cpuBackend.upload([1, 2, 3, 4, 5], 'float32');
    // s[1:5] = s[0:4]: an element-by-element forward loop would smear 1 everywhere
    cpuBackend.copy(view(s, [4], [1], 1), view(s, [4], [1], 0));
    expect(await values(s)).toEqual([1, 1, 2, 3, 4]);
  });

  it('in-place transpose of a square matrix through aliasing views', async () => {
    const s = cpuBackend.upload([1, 2, 3, 4, 5, 6, 7, 8, 9], 'float32');
    cpuBackend.copy(view(s, [3, 3]), view(s, [3, 3], [1, 3]));
    expect(await values(s)).toEqual([1, 4, 7, 2, 5, 8, 3, 6, 9]);
  });

  it('rejects a source of another shape', () => {
    const s = cpuBackend.alloc(4, 'float32');
    expect(() => cpuBackend.copy(view(s, [4]), tensor([1, 2]))).toThrow(/cpu\.copy: source shape \[2\] differs from destination shape \[4\]/);
  });
});
