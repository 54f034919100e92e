// Elementwise ops: WebGPU vs the float64 reference, and analytic vs finite-difference
// gradients (gradcheck does both), over odd sizes, broadcasting and non-contiguous views.
import { describe, expect, it } from 'vitest';
import { gradcheck, pow, tensor, where, type Tensor } from '../../src/index.ts';
import { useGpu } from '../helpers/gpu.ts';
import { ODD_SIZES, input, type InputSpec } from '../helpers/data.ts';

useGpu();

type UnaryName = 'neg' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'reciprocal' | 'square' | 'abs' | 'sin' | 'cos' | 'tanh' | 'sigmoid' | 'relu';
const UNARY: [UnaryName, InputSpec][] = [
  ['neg', {}],
  ['exp', {}],
  ['log', { lo: 0.2, hi: 3 }],
  ['sqrt', { lo: 0.2, hi: 3 }],
  ['rsqrt', { lo: 0.2, hi: 3 }],
  ['reciprocal', { lo: 0.3, hi: 3 }],
  ['square', {}],
  ['abs', { awayFromZero: 0.05 }],
  ['sin', {}],
  ['cos', {}],
  ['tanh', {}],
  ['sigmoid', { lo: -6, hi: 6 }],
  ['relu', { awayFromZero: 0.05 }],
];

describe('unary ops', () => {
  for (const [op, spec] of UNARY) {
    it(`${op}: forward and gradient over sizes ${ODD_SIZES.join(', ')}`, async () => {
      for (const n of ODD_SIZES) {
        await gradcheck((x) => (x[op] as () => Tensor).call(x), [input([n], { ...spec, seed: n })]);
      }
    });
    it(`${op}: on a transposed (non-contiguous) view`, async () => {
      await gradcheck((x) => (x.transpose(0, 1)[op] as () => Tensor).call(x.transpose(0, 1)), [input([3, 5], spec)]);
    });
  }

  it('vec4 fast path and the strided path agree with the reference on a large tensor', async () => {
    await gradcheck((x) => x.exp().sin(), [input([64, 1000], { seed: 9 })]);
    await gradcheck((x) => x.slice(1, 1, 999).exp(), [input([64, 1000], { seed: 9 })]);
  });

  it('sign, floor, ceil, round match torch (round half to even) and have zero gradient', async () => {
    const x = tensor([-2.5, -1.5, -0.5, 0, 0.5, 1.5, 2.5, 0.7], { requiresGrad: true });
    expect(await x.round().toArray()).toEqual([-2, -2, -0, 0, 0, 2, 2, 1]);
    expect(await x.floor().toArray()).toEqual([-3, -2, -1, 0, 0, 1, 2, 0]);
    expect(await x.ceil().toArray()).toEqual([-2, -1, -0, 0, 1, 2, 3, 1]);
    expect(await x.sign().toArray()).toEqual([-1, -1, -1, 0, 1, 1, 1, 1]);
    x.round().sum().backward();
    expect(await x.grad!.toArray()).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('kinks: relu and abs have gradient 0 at 0, as in PyTorch', async () => {
    const x = tensor([-1, 0, 2], { requiresGrad: true });
    x.relu().sum().backward();
    expect(await x.grad!.toArray()).toEqual([0, 0, 1]);
    const y = tensor([-1, 0, 2], { requiresGrad: true });
    y.abs().sum().backward();
    expect(await y.grad!.toArray()).toEqual([-1, 0, 1]);
  });

  it('stays finite for large magnitudes (tanh, sigmoid, exp overflow to inf)', async () => {
    const x = tensor([-1e4, -100, 100, 1e4]);
    expect(await x.tanh().toArray()).toEqual([-1, -1, 1, 1]);
    expect(await x.sigmoid().toArray()).toEqual([0, 0, 1, 1]);
    expect(await tensor([100]).exp().toArray()).toEqual([Infinity]);
  });
});

type BinaryName = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum';
const BIN: [BinaryName, InputSpec, InputSpec][] = [
  ['add', {}, {}],
  ['sub', {}, {}],
  ['mul', {}, {}],
  ['div', {}, { lo: 0.5, hi: 2 }],
  ['pow', { lo: 0.5, hi: 2 }, { lo: -2, hi: 2 }],
  ['maximum', { seed: 3 }, { seed: 4 }],
  ['minimum', { seed: 3 }, { seed: 4 }],
];
const SHAPE_PAIRS: [number[], number[]][] = [
  [[1], [1]],
  [[3], [3]],
  [[17], [1]],
  [[129], [129]],
  [[2, 1, 5], [3, 1]],
  [[4, 3], [3]],
  [[1, 3], [5, 1]],
  [[], [2, 3]],
];

describe('binary ops with broadcasting', () => {
  for (const [op, sa, sb] of BIN) {
    it(`${op}: broadcast shape pairs`, async () => {
      for (const [a, b] of SHAPE_PAIRS) {
        await gradcheck((x, y) => (x[op] as (o: Tensor) => Tensor).call(x, y), [input(a, { ...sa, seed: 5 + a.length }), input(b, { ...sb, seed: 11 + b.length })]);
      }
    });
    it(`${op}: non-contiguous operands and scalars on either side`, async () => {
      await gradcheck((x, y) => (x.mT[op] as (o: Tensor) => Tensor).call(x.mT, y.slice(0, 0, 4, 2)), [input([3, 2], sa), input([4, 3], { ...sb, seed: 7 })]);
      await gradcheck((x) => (x[op] as (o: number) => Tensor).call(x, 1.5), [input([17], sa)]);
    });
  }

  it('scalar on the left: rsub, rdiv, pow(2, x)', async () => {
    await gradcheck((x) => x.rsub(3), [input([5])]);
    await gradcheck((x) => x.rdiv(2), [input([5], { lo: 0.5, hi: 2 })]);
    await gradcheck((x) => pow(2, x), [input([5])]);
  });

  it('pow follows torch for negative bases and zero', async () => {
    const a = tensor([-2, -2, 0, 0, 0, 4]);
    const b = tensor([2, 3, 0, 2, -1, 0.5]);
    expect(await a.pow(b).toArray()).toEqual([4, -8, 1, 0, Infinity, 2]);
    expect(Number.isNaN(((await tensor([-2]).pow(0.5).toArray()) as number[])[0])).toBe(true);
  });

  it('maximum/minimum split the gradient on ties and propagate NaN', async () => {
    const a = tensor([1, 2, 3], { requiresGrad: true });
    const b = tensor([1, 5, 0], { requiresGrad: true });
    a.maximum(b).sum().backward();
    expect(await a.grad!.toArray()).toEqual([0.5, 0, 1]);
    expect(await b.grad!.toArray()).toEqual([0.5, 1, 0]);
    const m = (await tensor([NaN, 1]).maximum(tensor([0, NaN])).toArray()) as number[];
    expect(m.every(Number.isNaN)).toBe(true);
  });

  it('comparisons give bool tensors, on broadcast and strided operands', async () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]);
    const b = tensor([2, 5, 3]);
    expect(await a.gt(b).toArray()).toEqual([[false, false, false], [true, false, true]]);
    expect(await a.eq(b).toArray()).toEqual([[false, false, true], [false, true, false]]);
    expect(await a.T.le(tensor([[2], [5], [9]])).toArray()).toEqual([[true, false], [true, true], [true, true]]);
    expect(await a.ne(3).toArray()).toEqual([[true, true, false], [true, true, true]]);
    expect(await a.lt(3).logicalOr(a.ge(6)).toArray()).toEqual([[true, true, false], [false, false, true]]);
    expect(a.gt(b).dtype).toBe('bool');
    for (const op of ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const) {
      await gradcheck((x, y) => x[op](y).float(), [input([17], { seed: 1, requiresGrad: false }), input([17], { seed: 2, requiresGrad: false })]);
    }
  });

  it('dtype promotion follows torch: int op int stays int, int op float is float, div is float', async () => {
    const i = tensor([1, 2, 3], { dtype: 'int32' });
    expect(i.dtype).toBe('int32');
    expect(i.mul(2).dtype).toBe('int32');
    expect(i.add(0.5).dtype).toBe('float32');
    expect(await i.div(2).toArray()).toEqual([0.5, 1, 1.5]);
    expect(await i.add(tensor([0.5, 0.5, 0.5])).toArray()).toEqual([1.5, 2.5, 3.5]);
    expect(tensor([1, 2]).dtype).toBe('float32'); // JS numbers are doubles: float32 unless told
    expect(await tensor([true, false]).add(tensor([true, true])).toArray()).toEqual([2, 1]);
  });
});

describe('where', () => {
  it('selects with broadcasting and routes gradients to the chosen side', async () => {
    for (const [c, a, b] of [[[5], [5], [5]], [[3, 1], [1, 4], [4]], [[17], [1], [17]]] as number[][][]) {
      await gradcheck((cond, x, y) => where(cond.gt(0), x, y), [input(c, { seed: 3, requiresGrad: false }), input(a, { seed: 4 }), input(b, { seed: 5 })]);
    }
    await gradcheck((cond, x) => where(cond.gt(0), x, 0.5), [input([2, 3], { requiresGrad: false }), input([2, 3], { seed: 8 })]);
    await gradcheck((cond, x) => where(cond.gt(0), -1, x.T), [input([3, 2], { requiresGrad: false }), input([2, 3], { seed: 8 })]);
  });

  it("reproduces tutorial 003's loss: where(target == 1, 1 - p, p)", async () => {
    const p = tensor([0.9, 0.4, 0.2], { requiresGrad: true });
    const t = tensor([1, 0, 1]);
    const loss = where(t.eq(1), p.rsub(1), p).mean();
    expect(await loss.item()).toBeCloseTo((0.1 + 0.4 + 0.8) / 3, 6);
    loss.backward();
    const g = (await p.grad!.toArray()) as number[];
    [-1 / 3, 1 / 3, -1 / 3].forEach((v, i) => expect(g[i]).toBeCloseTo(v, 6));
  });
});

describe('casts', () => {
  it('float → int truncates toward zero, → bool is x != 0, and the float gradient passes through', async () => {
    const x = tensor([-1.7, -0.2, 0, 0.2, 2.9]);
    expect(await x.int().toArray()).toEqual([-1, 0, 0, 0, 2]);
    expect(await x.bool().toArray()).toEqual([true, true, false, true, true]);
    expect(await tensor([true, false]).float().toArray()).toEqual([1, 0]);
    await gradcheck((a) => a.float().mul(2), [input([4])]);
  });
});
