// conv2d: gradients against finite differences (float64 reference) and every WebGPU kernel
// variant against the reference (the small cases run on the 'direct' kernels by default), over odd sizes, padding (numbers, 'same', 'valid'), stride,
// dilation, groups, batch 1, no bias and strided views; the tutorials' shapes at batch 64; an
// exact case computed by PyTorch; and the errors, raised before anything is enqueued.
import { afterEach, describe, expect, it } from 'vitest';
import { F, conv2d, getBackend, gradcheck, memory, tensor, type Conv2dOptions, type Tensor } from '../../src/index.ts';
import { GPU_CONFIG, SOFTWARE_CONFIG, setConvConfig, type ConvConfig } from '../../src/kernels/conv.ts';
import type { GpuRuntime } from '../../src/device/runtime.ts';
import { useGpu } from '../helpers/gpu.ts';
import { hostValues, input } from '../helpers/data.ts';

useGpu();
afterEach(() => setConvConfig(null));

// Sums of up to Cin·kH·kW ≈ 500 float32 products: ~1e-5 relative to the largest term.
const TOL = { gpuAtol: 1e-4, gpuRtol: 1e-4 };

interface Case {
  x: number[];
  w: number[];
  bias: boolean;
  opts: Conv2dOptions;
}

// Small shapes, each exercising something: odd sizes, every padding form, stride > 1 (also with
// input rows never read), dilation, groups (depthwise too), batch 1, no bias, 1×1 and even kernels.
const CASES: Case[] = [
  { x: [2, 3, 7, 9], w: [4, 3, 3, 3], bias: true, opts: {} },
  { x: [1, 2, 5, 7], w: [3, 2, 3, 2], bias: false, opts: { padding: 1 } },
  { x: [2, 2, 6, 5], w: [3, 2, 4, 4], bias: true, opts: { padding: 'same' } },
  { x: [1, 3, 5, 5], w: [2, 3, 5, 5], bias: true, opts: { padding: 'valid' } },
  { x: [2, 2, 9, 8], w: [3, 2, 3, 3], bias: true, opts: { stride: 2, padding: 1 } },
  { x: [1, 2, 8, 9], w: [2, 2, 2, 3], bias: false, opts: { stride: [3, 2], padding: [0, 2] } },
  { x: [1, 2, 9, 9], w: [2, 2, 3, 3], bias: true, opts: { dilation: 2, padding: 'same' } },
  { x: [2, 1, 7, 8], w: [2, 1, 2, 3], bias: true, opts: { dilation: [3, 1], stride: [1, 2] } },
  { x: [1, 4, 5, 6], w: [6, 2, 3, 3], bias: true, opts: { groups: 2, padding: [1, 2] } },
  { x: [2, 3, 6, 6], w: [3, 1, 3, 3], bias: false, opts: { groups: 3, padding: 1 } },
  { x: [1, 5, 4, 3], w: [7, 5, 1, 1], bias: true, opts: {} },
];

const name = (c: Case): string => `x ${JSON.stringify(c.x)} w ${JSON.stringify(c.w)}${c.bias ? ' +bias' : ''} ${JSON.stringify(c.opts)}`;

function operands(c: Case, seed = 1): Tensor[] {
  const t = [input(c.x, { seed }), input(c.w, { seed: seed + 1, lo: -1, hi: 1 })];
  if (c.bias) t.push(input([c.w[0]!], { seed: seed + 2 }));
  return t;
}

const fn =
  (opts: Conv2dOptions) =>
  (x: Tensor, w: Tensor, b?: Tensor): Tensor =>
    conv2d(x, w, b ?? null, opts);

describe('conv2d gradients', () => {
  it.each(CASES.map((c) => [name(c), c] as const))('%s', async (_n, c) => {
    await gradcheck(fn(c.opts), operands(c), TOL);
  });

  it('a 3-D input is one unbatched image; F.conv2d is the same op', async () => {
    await gradcheck((x, w, b) => F.conv2d(x, w, b, { padding: 1 }), [input([2, 5, 4]), input([3, 2, 3, 3], { seed: 2 }), input([3], { seed: 3 })], TOL);
    expect(conv2d(input([2, 5, 4]), input([3, 2, 3, 3])).shape).toEqual([3, 3, 2]);
  });

  it('reads strided views in place (permuted input, sliced weight)', async () => {
    await gradcheck((x, w) => conv2d(x.permute(0, 3, 1, 2), w.slice(0, 0, 6, 2), null, { padding: 1 }), [input([2, 5, 6, 3]), input([6, 3, 3, 3], { seed: 2 })], TOL);
  });
});

// Every kernel variant on this adapter, forward and both gradients against the reference, on a
// few of the cases (each variant × shape compiles its own pipelines, about a second each on llvmpipe).
// The default sends these small problems to 'direct' (minFlops); minFlops 0 forces each variant.
describe.each([
  ['register (llvmpipe tiles)', { ...SOFTWARE_CONFIG, minFlops: 0 }, [CASES[4]!, CASES[8]!]],
  ['register (GPU tiles)', { ...GPU_CONFIG, minFlops: 0 }, [CASES[2]!]],
  // Workgroup memory (forward and stride-1 input gradient; one pipeline serves every shape):
  // padding, stride, dilation, groups and a 1×1 kernel.
  ['tiled', { ...GPU_CONFIG, forward: { variant: 'tiled' }, inputGrad: { variant: 'tiled' }, minFlops: 0 }, [CASES[0]!, CASES[2]!, CASES[5]!, CASES[6]!, CASES[8]!, CASES[10]!]],
  ['register, odd tiles', {
    forward: { variant: 'register', rows: 4, cols: 3, outRows: 3, workgroup: 8, batchFast: false, subgroups: false },
    inputGrad: { variant: 'register', rows: 12, cols: 5, outRows: 1, workgroup: 32, batchFast: true, subgroups: true },
    weightGrad: { variant: 'register', rows: 3, khRows: 2, cols: 8, workgroup: 8, targetInvocations: 7 },
    minFlops: 0,
  }, [CASES[1]!]],
] as [string, ConvConfig, Case[]][])('variant %s', (_v, config, cases) => {
  it('matches the reference', async () => {
    setConvConfig(config);
    for (const c of cases) await gradcheck(fn(c.opts), operands(c, 7), { ...TOL, fast: true });
  });
});

describe('conv2d with a fused activation', () => {
  const acts = ['relu', 'sigmoid', 'tanh'] as const;

  it('relu / sigmoid / tanh in the direct and register kernels match the reference, gradients included', async () => {
    // Small cases run on the direct kernels by default; the register ones are forced after (each
    // activation there is a large pipeline to compile, so two of them).
    for (const activation of acts) await gradcheck(fn({ ...CASES[0]!.opts, activation }), operands(CASES[0]!, 11), { ...TOL, fast: true });
    setConvConfig({ ...SOFTWARE_CONFIG, minFlops: 0 });
    await gradcheck(fn({ ...CASES[0]!.opts, activation: 'relu' }), operands(CASES[0]!, 12), { ...TOL, fast: true });
    await gradcheck(fn({ ...CASES[4]!.opts, activation: 'tanh' }), operands(CASES[4]!, 13), { ...TOL, fast: true });
  });

  it('equals the separate activation on the tutorial conv1 at batch 64, one dispatch fewer', async () => {
    const x = input([64, 1, 28, 28], { requiresGrad: false });
    const w = input([20, 1, 5, 5], { seed: 2, requiresGrad: false });
    const b = input([20], { seed: 3, requiresGrad: false });
    const rt = (getBackend('webgpu') as unknown as { runtime: GpuRuntime }).runtime;
    for (const activation of acts) {
      const d0 = rt.stats.dispatches;
      const fused = conv2d(x, w, b, { activation });
      const d1 = rt.stats.dispatches;
      const plain = conv2d(x, w, b)[activation]();
      expect(rt.stats.dispatches - d1).toBe(d1 - d0 + 1);
      const [a, c] = [await fused.data(), await plain.data()];
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - c[i]!));
      expect(worst).toBeLessThan(1e-5);
      fused.dispose();
      plain.dispose();
    }
    [x, w, b].forEach((t) => t.dispose());
  });

  it('rejects an unknown activation before enqueueing anything', () => {
    const x = input([1, 1, 4, 4], { requiresGrad: false });
    const w = input([1, 1, 3, 3], { requiresGrad: false });
    // @ts-expect-error: not a fused activation
    expect(() => conv2d(x, w, null, { activation: 'elu' })).toThrow(/conv2d: activation must be one of 'relu', 'sigmoid', 'tanh', got "elu"/);
    x.dispose();
    w.dispose();
  });
});

describe('the tutorial shapes at batch 64', () => {
  // Forward and both gradients on WebGPU against the float64 reference, element by element.
  it.each([
    ['1→1, 3×3 on 28×28 (tiny CNN)', [64, 1, 28, 28], [1, 1, 3, 3]],
    ['1→20, 5×5 on 28×28 (conv1)', [64, 1, 28, 28], [20, 1, 5, 5]],
    ['20→30, 5×5 on 12×12 (conv2)', [64, 20, 12, 12], [30, 20, 5, 5]],
  ] as [string, number[], number[]][])('%s', async (_n, xs, ws) => {
    const run = async (device: 'cpu' | 'webgpu'): Promise<Float64Array[]> => {
      const x = tensor(hostValues(xs.reduce((a, b) => a * b), { seed: 3, lo: -1, hi: 1 }), { shape: xs, device, requiresGrad: true });
      const w = tensor(hostValues(ws.reduce((a, b) => a * b), { seed: 4, lo: -0.2, hi: 0.2 }), { shape: ws, device, requiresGrad: true });
      const b = tensor(hostValues(ws[0]!, { seed: 5 }), { device, requiresGrad: true });
      const y = conv2d(x, w, b);
      const gy = tensor(hostValues(y.numel, { seed: 6 }), { shape: y.shape, device });
      y.backward(gy);
      const r = [];
      for (const t of [y, x.grad!, w.grad!, b.grad!]) r.push(Float64Array.from(await t.data()));
      for (const t of [x, w, b, y, gy]) t.dispose();
      return r;
    };
    const want = await run('cpu');
    const got = await run('webgpu');
    ['output', 'input grad', 'weight grad', 'bias grad'].forEach((what, k) => {
      const scale = want[k]!.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
      let worst = 0;
      let at = 0;
      want[k]!.forEach((v, i) => {
        const e = Math.abs(got[k]![i]! - v);
        if (e > worst) [worst, at] = [e, i];
      });
      // Weight and bias gradients sum 64·Ho·Wo terms: float32 error grows with that length.
      const tol = (k >= 2 ? 1e-4 : 2e-5) * scale;
      expect(worst, `${what}[${at}]: webgpu ${got[k]![at]}, cpu ${want[k]![at]}`).toBeLessThanOrEqual(tol);
    });
  });
});

describe('conv2d values', () => {
  it('an exact case computed by PyTorch', async () => {
    // import torch; import torch.nn.functional as F
    // x = (torch.arange(40.) % 7 - 3).reshape(1, 2, 4, 5).requires_grad_()
    // w = (torch.arange(36.) % 5 - 2).reshape(3, 2, 2, 3).requires_grad_()
    // b = torch.tensor([1., -1., 0.5], requires_grad=True)
    // y = F.conv2d(x, w, b, stride=(2, 1), padding=(1, 0))
    // y.backward((torch.arange(27.) % 5 - 2).reshape(y.shape))
    const x = tensor(Array.from({ length: 40 }, (_, i) => (i % 7) - 3), { shape: [1, 2, 4, 5], requiresGrad: true });
    const w = tensor(Array.from({ length: 36 }, (_, i) => (i % 5) - 2), { shape: [3, 2, 2, 3], requiresGrad: true });
    const b = tensor([1, -1, 0.5], { requiresGrad: true });
    const y = conv2d(x, w, b, { stride: [2, 1], padding: [1, 0] });
    y.backward(tensor(Array.from({ length: 27 }, (_, i) => (i % 5) - 2), { shape: [1, 3, 3, 3] }));
    expect(await y.toArray()).toEqual([[
      [[10, -4, -4], [-9, -12, 13], [8, 5, 2]],
      [[2, 6, 3], [-4, 4, -9], [-7, -3, 1]],
      [[-2.5, -5.5, -1.5], [-0.5, 13.5, -7.5], [6.5, 2.5, -1.5]],
    ]]);
    expect(await x.grad!.toArray()).toEqual([[
      [[-6, -2, 10, 5, -4], [-4, -3, 6, 4, 3], [1, 1, -7, -9, 6], [6, -9, -7, 1, 1]],
      [[-5, 8, 7, -9, 3], [1, 0, 5, 3, -6], [1, -1, -8, 5, 2], [-5, -3, 4, 3, 1]],
    ]]);
    expect(await w.grad!.toArray()).toEqual([
      [[[16, 3, -3], [6, 4, 16]], [[1, 16, 3], [-6, 6, 4]]],
      [[[2, -5, -5], [4, 6, -6]], [[16, 2, -5], [16, 4, 6]]],
      [[[-7, -8, -2], [-3, -2, -8]], [[1, -7, -8], [3, -3, -2]]],
    ]);
    expect(await b.grad!.toArray()).toEqual([-2, -1, 0]);
  });

  it("'same' keeps the size and puts an odd remainder after (PyTorch)", async () => {
    // torch: F.conv2d(torch.ones(1, 1, 3, 4), torch.ones(1, 1, 2, 2), padding='same') → rows/cols padded after only.
    const y = conv2d(tensor(new Array(12).fill(1), { shape: [1, 1, 3, 4] }), tensor([1, 1, 1, 1], { shape: [1, 1, 2, 2] }), null, { padding: 'same' });
    expect(await y.toArray()).toEqual([[[[4, 4, 4, 2], [4, 4, 4, 2], [2, 2, 2, 1]]]]);
  });

  it('second derivatives (createGraph) match finite differences of the gradient', async () => {
    // H(w) = Σ ∂L/∂x + Σ ∂L/∂w with L = Σ conv2d(x, w)²: its gradient runs the backward rules of
    // both gradient ops; compared with central differences of H in float64 on the reference.
    const xv = hostValues(2 * 2 * 4 * 5, { seed: 1 });
    const wv = hostValues(3 * 2 * 3 * 3, { seed: 2, lo: -1, hi: 1 });
    const opts: Conv2dOptions = { padding: 1 };
    const H = async (w0: Float32Array | Float64Array, device: 'cpu' | 'webgpu', second: boolean): Promise<{ h: number; dw: Float64Array | null }> => {
      const x = tensor(xv, { shape: [2, 2, 4, 5], device, requiresGrad: true });
      const w = tensor(w0, { shape: [3, 2, 3, 3], device, requiresGrad: true });
      const y = conv2d(x, w, null, opts);
      const sq = y.square();
      const loss = sq.sum();
      loss.backward(undefined, { createGraph: second });
      const gx = x.grad!;
      const gw = w.grad!;
      const hs = [gx.sum(), gw.sum()];
      const h = hs[0]!.add(hs[1]!);
      const value = (await h.data())[0]!;
      let dw: Float64Array | null = null;
      if (second) {
        x.setGrad(null);
        w.setGrad(null);
        h.backward();
        dw = Float64Array.from(await w.grad!.data());
      }
      for (const t of [x, w, y, sq, loss, gx, gw, ...hs, h]) t.dispose();
      w.grad?.dispose();
      return { h: value, dw };
    };
    const eps = 1e-6;
    const analytic = (await H(wv, 'cpu', true)).dw!;
    const onGpu = (await H(wv, 'webgpu', true)).dw!;
    for (let j = 0; j < wv.length; j++) {
      const plus = Float64Array.from(wv);
      const minus = Float64Array.from(wv);
      plus[j]! += eps;
      minus[j]! -= eps;
      const numeric = ((await H(plus, 'cpu', false)).h - (await H(minus, 'cpu', false)).h) / (2 * eps);
      expect(Math.abs(analytic[j]! - numeric), `d H / d w[${j}]: analytic ${analytic[j]}, numeric ${numeric}`).toBeLessThanOrEqual(1e-5 + 1e-3 * Math.abs(numeric));
      expect(Math.abs(onGpu[j]! - analytic[j]!), `webgpu d H / d w[${j}]`).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(analytic[j]!)));
    }
  });

  it('frees what it does not return: memory is flat over forward and backward', async () => {
    const x = input([4, 3, 9, 9]);
    const w = input([5, 3, 3, 3], { seed: 2 });
    const b = input([5], { seed: 3 });
    const step = () => {
      const y = conv2d(x, w, b, { padding: 1 });
      const sq = y.square();
      const loss = sq.sum();
      loss.backward();
      for (const t of [y, sq, loss, x.grad!, w.grad!, b.grad!]) t.dispose();
      for (const t of [x, w, b]) t.setGrad(null);
    };
    step();
    const before = memory();
    step();
    step();
    expect(memory().liveTensors).toBe(before.liveTensors);
    expect(memory().webgpu!.bytesInUse).toBe(before.webgpu!.bytesInUse);
  });
});

describe('conv2d errors (raised before anything is enqueued)', () => {
  const rt = (): GpuRuntime => (getBackend('webgpu') as unknown as { runtime: GpuRuntime }).runtime;
  const throwsFirst = (f: () => unknown, message: RegExp | string): void => {
    const before = rt().stats.dispatches;
    expect(f).toThrow(message);
    expect(rt().stats.dispatches).toBe(before);
  };
  const x = (shape: number[]) => input(shape, { requiresGrad: false });

  it('channel mismatch names both shapes', () => {
    throwsFirst(() => conv2d(x([64, 3, 28, 28]), x([20, 1, 5, 5])), 'conv2d: input [64, 3, 28, 28] has 3 channels but weight [20, 1, 5, 5] expects 1 (groups=1)');
    throwsFirst(() => conv2d(x([2, 4, 8, 8]), x([6, 4, 3, 3]), null, { groups: 2 }), 'conv2d: input [2, 4, 8, 8] has 4 channels but weight [6, 4, 3, 3] expects 8 (groups=2)');
  });

  it('a kernel larger than the padded input', () => {
    throwsFirst(() => conv2d(x([1, 1, 4, 4]), x([1, 1, 5, 5])), /conv2d: kernel 5×5 of weight \[1, 1, 5, 5\] is larger than the padded input 4×4/);
    throwsFirst(() => conv2d(x([1, 1, 4, 4]), x([1, 1, 3, 3]), null, { dilation: 2 }), /kernel 3×3 \(5×5 dilated\) .* larger than the padded input 4×4/);
    expect(conv2d(x([1, 1, 4, 4]), x([1, 1, 5, 5]), null, { padding: 1 }).shape).toEqual([1, 1, 2, 2]);
  });

  it('input and weight ranks', () => {
    throwsFirst(() => conv2d(x([28, 28]), x([1, 1, 3, 3])), 'conv2d: expected a 4-D input [N, C, H, W] (or 3-D [C, H, W] unbatched), got [28, 28]');
    throwsFirst(() => conv2d(x([1, 1, 1, 8, 8]), x([1, 1, 3, 3])), /expected a 4-D input .* got \[1, 1, 1, 8, 8\]/);
    throwsFirst(() => conv2d(x([1, 1, 8, 8]), x([1, 3, 3])), 'conv2d: expected a 4-D weight [Cout, Cin/groups, kH, kW], got [1, 3, 3]');
  });

  it('bad groups', () => {
    throwsFirst(() => conv2d(x([1, 4, 8, 8]), x([4, 4, 3, 3]), null, { groups: 0 }), 'conv2d: groups must be a positive integer, got 0');
    throwsFirst(() => conv2d(x([1, 4, 8, 8]), x([4, 4, 3, 3]), null, { groups: 1.5 }), /groups must be a positive integer, got 1.5/);
    throwsFirst(() => conv2d(x([1, 4, 8, 8]), x([6, 1, 3, 3]), null, { groups: 4 }), 'conv2d: weight [6, 1, 3, 3] has 6 output channels, not divisible by groups=4');
  });

  it('wrong dtypes', () => {
    const i32 = tensor([[[[1, 2], [3, 4]]]], { dtype: 'int32' });
    throwsFirst(() => conv2d(i32, x([1, 1, 1, 1])), 'conv2d: input has dtype int32; conv2d takes float32 (cast with .float() first)');
    throwsFirst(() => conv2d(x([1, 1, 2, 2]), i32), 'conv2d: weight has dtype int32; conv2d takes float32 (cast with .float() first)');
    throwsFirst(() => conv2d(x([1, 1, 2, 2]), x([2, 1, 1, 1]), tensor([1, 2], { dtype: 'int32' })), /conv2d: bias has dtype int32/);
  });

  it('bad bias and options', () => {
    throwsFirst(() => conv2d(x([1, 1, 8, 8]), x([4, 1, 3, 3]), x([3])), 'conv2d: bias [3] does not match weight [4, 1, 3, 3]: expected [4]');
    throwsFirst(() => conv2d(x([1, 1, 8, 8]), x([4, 1, 3, 3]), null, { padding: 'same', stride: 2 }), /padding='same' is not supported for strided convolutions/);
    throwsFirst(() => conv2d(x([1, 1, 8, 8]), x([4, 1, 3, 3]), null, { padding: -1 }), /padding must be an integer >= 0/);
    throwsFirst(() => conv2d(x([1, 1, 8, 8]), x([4, 1, 3, 3]), null, { stride: [1, 0] }), /stride must be an integer >= 1 or a pair/);
    throwsFirst(() => conv2d(x([1, 1, 8, 8]), x([4, 1, 3, 3]), null, { padding: 'full' as 'same' }), /padding must be a number, a pair \[h, w\], 'valid' or 'same'/);
  });
});
