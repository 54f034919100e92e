// The autograd engine: the tutorial's lines, accumulation, graph freeing, version checks.
import { describe, expect, it } from 'vitest';
import { AutogradError, enableGrad, isGradEnabled, noGrad, ones, randn, tensor, zeros, manualSeed } from '../src/index.ts';
import { useGpu } from './helpers/gpu.ts';

useGpu();

const close = (got: unknown, want: number[], tol = 1e-6) => {
  const g = got as number[];
  expect(g.length).toBe(want.length);
  want.forEach((w, i) => expect(Math.abs(g[i]! - w)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(w))));
};

describe("tutorial 002's autograd lines", () => {
  it('the gradient of a.sin().sum() is cos(a); b.cos() gives -sin(b)', async () => {
    manualSeed(0);
    const a = randn(3, 4, { requiresGrad: true });
    const b = randn(3, 4, { requiresGrad: true });
    a.sin().sum().backward();
    b.cos().sum().backward();
    const av = (await a.data()) as Float32Array;
    const bv = (await b.data()) as Float32Array;
    close(Array.from((await a.grad!.data()) as Float32Array), Array.from(av, Math.cos));
    close(Array.from((await b.grad!.data()) as Float32Array), Array.from(bv, (x) => -Math.sin(x)));
  });

  it('a second backward accumulates (twice the gradient) and zero_() resets it', async () => {
    const a = tensor([0.1, 0.2, 0.3], { requiresGrad: true });
    a.sin().sum().backward();
    const once = Array.from((await a.grad!.data()) as Float32Array);
    a.sin().sum().backward();
    close(Array.from((await a.grad!.data()) as Float32Array), once.map((v) => 2 * v));
    a.grad!.zero_();
    expect(await a.grad!.toArray()).toEqual([0, 0, 0]);
  });

  it('noGrad records nothing and restores the mode, even after a throw', () => {
    const a = tensor([1, 2], { requiresGrad: true, dtype: 'float32' });
    const y = noGrad(() => a.mul(2));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(() => noGrad(() => { throw new Error('boom'); })).toThrow('boom');
    expect(isGradEnabled()).toBe(true);
    const z = noGrad(() => enableGrad(() => a.mul(2)));
    expect(z.requiresGrad).toBe(true);
  });

  it('a manual SGD step inside noGrad updates a leaf in place', async () => {
    const w = tensor([1, 2, 3], { requiresGrad: true, dtype: 'float32' });
    w.mul(w).sum().backward();
    noGrad(() => w.sub_(w.grad!.mul(0.1)));
    w.grad!.zero_();
    close((await w.toArray()) as number[], [0.8, 1.6, 2.4]);
    expect(w.isLeaf).toBe(true);
  });
});

describe('graph bookkeeping', () => {
  it('isLeaf, gradFn names and requiresGrad propagation', async () => {
    const a = tensor([1, 2], { requiresGrad: true, dtype: 'float32' });
    const b = tensor([3, 4], { dtype: 'float32' });
    const c = a.mul(b);
    expect(a.isLeaf).toBe(true);
    expect(c.isLeaf).toBe(false);
    expect(c.gradFn!.name).toBe('MulBackward0');
    expect(a.sin().sum().gradFn!.name).toBe('SumBackward0');
    expect(b.mul(2).requiresGrad).toBe(false);
    expect(await c.format()).toBe('tensor([3., 8.], grad_fn=<MulBackward0>)');
    expect(await a.format()).toBe('tensor([1., 2.], requires_grad=True)');
  });

  it('sums gradients reaching a tensor along several paths (diamond)', async () => {
    const x = tensor([2], { requiresGrad: true, dtype: 'float32' });
    const y = x.mul(x).add(x.mul(3)); // dy/dx = 2x + 3
    y.sum().backward();
    expect(await x.grad!.toArray()).toEqual([7]);
  });

  it('detach cuts the graph and shares storage', async () => {
    const x = tensor([1, 2], { requiresGrad: true, dtype: 'float32' });
    const d = x.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.storage).toBe(x.storage);
    const y = x.mul(d).sum();
    y.backward();
    expect(await x.grad!.toArray()).toEqual([1, 2]);
  });

  it('retainGraph allows a second backward; without it a clear error', async () => {
    const x = tensor([1, 2], { requiresGrad: true, dtype: 'float32' });
    const y = x.exp().sum();
    y.backward(undefined, { retainGraph: true });
    y.backward();
    expect(() => y.backward()).toThrow(/backward through the graph a second time/);
  });

  it('a non-scalar backward needs a gradient of its shape', async () => {
    const x = tensor([1, 2, 3], { requiresGrad: true, dtype: 'float32' });
    const y = x.mul(2);
    expect(() => y.backward()).toThrow(/only for scalar outputs, but the tensor has shape \[3\]/);
    y.backward(tensor([1, 10, 100], { dtype: 'float32' }));
    expect(await x.grad!.toArray()).toEqual([2, 20, 200]);
    expect(() => tensor([1, 2]).sum().backward()).toThrow(AutogradError);
  });

  it('an in-place edit of a tensor saved for backward is detected (version counter)', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true, dtype: 'float32' });
    const e = x.exp(); // saves its output
    const y = e.sum();
    noGrad(() => e.mul_(2));
    expect(() => y.backward()).toThrow(/modified by an in-place operation.*version 1; expected version 0/);
  });

  it('in-place ops on leaves that require grad need noGrad', () => {
    const x = tensor([1, 2], { requiresGrad: true, dtype: 'float32' });
    expect(() => x.add_(1)).toThrow(/leaf tensor that requires grad.*in-place/);
    expect(() => x.mul(2).add_(1)).toThrow(/in-place operations on tensors that are part of the autograd graph/);
    noGrad(() => x.add_(1));
  });

  it('gradients of broadcast inputs are summed back to their shapes', async () => {
    const w = ones(3, 1, { requiresGrad: true });
    const b = zeros(4, { requiresGrad: true });
    w.mul(b).add(b).sum().backward();
    expect(w.grad!.shape).toEqual([3, 1]);
    expect(b.grad!.shape).toEqual([4]);
    expect(await b.grad!.toArray()).toEqual([6, 6, 6, 6]); // d/db Σ(w·b + b) = Σ_rows (w + 1) = 3·2
  });

  it('only float tensors can require grad', () => {
    expect(() => tensor([1, 2], { dtype: 'int32', requiresGrad: true })).toThrow(/only float32 tensors can require gradients/);
  });
});

describe('higher-order gradients (createGraph)', () => {
  it('differentiates a gradient: d²/dx² of x³ is 6x', async () => {
    const x = tensor([0.5, -1, 2], { requiresGrad: true });
    x.pow(3).sum().backward(undefined, { createGraph: true });
    const g = x.grad!; // 3x², with a graph
    expect(g.requiresGrad).toBe(true);
    close(Array.from((await g.data()) as Float32Array), [0.75, 3, 12]);
    x.setGrad(null);
    g.sum().backward();
    close(Array.from((await x.grad!.data()) as Float32Array), [3, -6, 12]);
  });

  it('through ops that save their output (exp, tanh)', async () => {
    const x = tensor([0.3, -0.2], { requiresGrad: true });
    x.exp().sum().backward(undefined, { createGraph: true });
    const g1 = x.grad!; // e^x
    x.setGrad(null);
    g1.sum().backward();
    close(Array.from((await x.grad!.data()) as Float32Array), [Math.exp(0.3), Math.exp(-0.2)], 1e-5);

    const y = tensor([0.4], { requiresGrad: true });
    y.tanh().sum().backward(undefined, { createGraph: true });
    const t1 = y.grad!; // 1 - tanh²
    y.setGrad(null);
    t1.sum().backward();
    const th = Math.tanh(0.4);
    close(Array.from((await y.grad!.data()) as Float32Array), [-2 * th * (1 - th * th)], 1e-5);
  });
});
