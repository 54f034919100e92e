// Losses: crossEntropy, nllLoss, binaryCrossEntropy(WithLogits), mseLoss against the float64
// reference, finite differences, PyTorch 1.13's numbers, the tutorial's hand-written form, and
// the errors.
import { afterEach, describe, expect, it } from 'vitest';
import {
  F, arange, binaryCrossEntropy, binaryCrossEntropyWithLogits, crossEntropy, gradcheck, logSoftmax, memory, mseLoss, nllLoss, noGrad, scope,
  softmax, tensor, type Tensor,
} from '../../src/index.ts';
import { softmaxTuning } from '../../src/kernels/softmax.ts';
import { lossTuning } from '../../src/kernels/losses.ts';
import { useGpu } from '../helpers/gpu.ts';
import { collectGarbage } from '../helpers/gc.ts';
import { hostValues, input } from '../helpers/data.ts';

useGpu();

const TOL = { gpuRtol: 1e-4, gpuAtol: 1e-5 };
const saved = { ...lossTuning.elemsPerGroup };
afterEach(() => {
  softmaxTuning.forceLanes = 0;
  Object.assign(lossTuning.elemsPerGroup, saved);
});

/** int32 class indices in [0, c) (seeded), with `ignored` positions set to -100. */
function labels(n: number, c: number, seed = 1, ignored: number[] = []): Tensor {
  const v = Array.from(hostValues(n, { seed, lo: 0, hi: c }), (x) => Math.min(c - 1, Math.floor(x)));
  for (const i of ignored) v[i] = -100;
  return tensor(v, { dtype: 'int32' });
}

/** Probability rows (softmax of seeded values) of shape [n, c], no grad by default. */
function probs(n: number, c: number, seed = 1, requiresGrad = false): Tensor {
  const raw = input([n, c], { seed, requiresGrad: false });
  const p = raw.softmax(1);
  return requiresGrad ? p.detach().requiresGrad_() : p;
}

async function close(got: Tensor, want: number[], tol = 1e-5): Promise<void> {
  const g = Array.from(await got.data());
  expect(g.length).toBe(want.length);
  g.forEach((v, i) => {
    if (!Number.isFinite(want[i]!)) expect(v).toBe(want[i]);
    else expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i]!)));
  });
}

describe('crossEntropy', () => {
  it('matches the reference and finite differences over shapes, reductions, odd sizes, batch 1', async () => {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      await gradcheck((x, t) => crossEntropy(x, t, { reduction }), [input([3, 17], { seed: 1 }), labels(3, 17, 1)], TOL);
      await gradcheck((x, t) => crossEntropy(x, t, { reduction }), [input([1, 10], { seed: 2 }), labels(1, 10, 2)], TOL);
      await gradcheck((x, t) => crossEntropy(x, t, { reduction }), [input([2, 3, 4], { seed: 3 }), tensor([[0, 2, 1, 2], [1, 1, 0, 0]], { dtype: 'int32' })], TOL);
    }
    await gradcheck((x, t) => crossEntropy(x, t), [input([128, 10], { seed: 4 }), labels(128, 10, 4)], TOL);
    await gradcheck((x, t) => crossEntropy(x, t), [input([5], { seed: 5 }), tensor(3, { dtype: 'int32' })], TOL);
    await gradcheck((x, t) => crossEntropy(x, t, { labelSmoothing: 0.1 }), [input([2, 5, 2, 3], { seed: 6 }), labels(12, 5, 6).reshape(2, 2, 3)], TOL);
  });

  it('on non-contiguous logits', async () => {
    await gradcheck((x, t) => crossEntropy(x.T, t), [input([10, 6], { seed: 7 }), labels(6, 10, 7)], TOL);
    await gradcheck((x, t) => crossEntropy(x.slice(1, 0, 14, 2), t, { reduction: 'none' }), [input([4, 14], { seed: 8 }), labels(4, 7, 8)], TOL);
    await gradcheck((x, t) => crossEntropy(x.expand(5, 4), t, { labelSmoothing: 0.3 }), [input([1, 4], { seed: 9 }), labels(5, 4, 9)], TOL);
  });

  it('with weights, ignored targets, label smoothing and their combinations', async () => {
    const w = input([7], { seed: 10, lo: 0.2, hi: 2, requiresGrad: false });
    const t = labels(9, 7, 11, [2, 5]);
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      await gradcheck((x, t, w) => crossEntropy(x, t, { reduction, labelSmoothing: 0.25, weight: w }), [input([9, 7], { seed: 12 }), t, w], TOL);
      await gradcheck((x, t) => crossEntropy(x, t, { reduction, ignoreIndex: 3 }), [input([9, 7], { seed: 13 }), labels(9, 7, 14)], TOL);
    }
    await gradcheck((x, t, w) => crossEntropy(x, t, { weight: w }), [input([9, 7], { seed: 12 }), t, w], TOL);
    await gradcheck((x, t) => crossEntropy(x, t, { labelSmoothing: 0.25, ignoreIndex: 3 }), [input([9, 7], { seed: 13 }), labels(9, 7, 14)], TOL);
  });

  it('with class-probability targets (gradient for the targets too)', async () => {
    const w = input([6], { seed: 15, lo: 0.2, hi: 2, requiresGrad: false });
    for (const reduction of ['mean', 'none'] as const) {
      await gradcheck((x, q) => crossEntropy(x, q, { reduction }), [input([4, 6], { seed: 16 }), probs(4, 6, 17, true)], TOL);
      await gradcheck((x, q, w) => crossEntropy(x, q, { reduction, labelSmoothing: 0.2, weight: w }), [input([4, 6], { seed: 18 }), probs(4, 6, 19, true), w], TOL);
    }
  });

  it('over long rows and many rows, every kernel variant (lanes, split reduction)', async () => {
    for (const lanes of [1, 256]) {
      softmaxTuning.forceLanes = lanes;
      await gradcheck((x, t) => crossEntropy(x, t, { labelSmoothing: 0.1 }), [input([3, 5000], { seed: 20 }), labels(3, 5000, 20)], TOL);
    }
    softmaxTuning.forceLanes = 8;
    await gradcheck((x, q) => crossEntropy(x, q, { reduction: 'sum' }), [input([2, 700], { seed: 21 }), probs(2, 700, 22)], TOL);
    await gradcheck((x, t) => crossEntropy(x.T, t, { reduction: 'none' }), [input([40, 3], { seed: 22 }), labels(3, 40, 22)], TOL);
    // Split into many workgroups plus a finalize pass.
    lossTuning.elemsPerGroup.software = lossTuning.elemsPerGroup.hardware = 64;
    const w = input([7], { seed: 23, lo: 0.2, hi: 2, requiresGrad: false });
    await gradcheck((x, t, w) => crossEntropy(x, t, { weight: w }), [input([300, 7], { seed: 24 }), labels(300, 7, 25, [0, 17, 299]), w], TOL);
    await gradcheck((x, t) => crossEntropy(x, t, { reduction: 'sum' }), [input([300, 7], { seed: 26 }), labels(300, 7, 27)], TOL);
    await gradcheck((x, y) => mseLoss(x, y), [input([70, 30], { seed: 28 }), input([70, 30], { seed: 29, requiresGrad: false })], TOL);
  });

  it('equals nllLoss(logSoftmax(x)) and the tutorial hand-written form to 1e-5, at ±1e4 too', async () => {
    const n = 128;
    const C = 10;
    const t = labels(n, C, 30);
    const onehot = t.unsqueeze(1).eq(arange(C)).float();
    const tutorial = (x: Tensor) => softmax(x, 1).log().mul(onehot).sum(1).mean().neg();
    for (const offset of [0, 1e4, -1e4]) {
      const x = input([n, C], { seed: 31 });
      const shifted = x.add(offset).detach().requiresGrad_();
      const forms = [(x: Tensor) => crossEntropy(x, t), (x: Tensor) => nllLoss(logSoftmax(x, 1), t), tutorial];
      const losses: number[] = [];
      const grads: Float32Array[] = [];
      for (const f of forms) {
        shifted.grad = null;
        const l = f(shifted);
        losses.push(await l.item());
        l.backward();
        grads.push((await shifted.grad!.data()) as Float32Array);
      }
      for (const k of [1, 2]) {
        expect(Math.abs(losses[k]! - losses[0]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, losses[0]!));
        grads[k]!.forEach((g, i) => expect(Math.abs(g - grads[0]![i]!)).toBeLessThanOrEqual(1e-5));
      }
    }
  });

  it('keeps loss and gradient finite for logits of ±1e4 where softmax underflows', async () => {
    const x = input([64, 10], { seed: 32, lo: -1e4, hi: 1e4 });
    const t = labels(64, 10, 33);
    await gradcheck((x, t) => crossEntropy(x, t, { labelSmoothing: 0.1 }), [x, t], TOL);
    const l = crossEntropy(x, t);
    l.backward();
    expect(Number.isFinite(await l.item())).toBe(true);
    expect((await x.grad!.data()).every(Number.isFinite)).toBe(true);
  });

  it('an empty batch gives NaN for the mean and 0 for the sum (PyTorch)', async () => {
    const x = tensor(new Float32Array(0), { shape: [0, 5] });
    const t = tensor(new Int32Array(0));
    expect(await crossEntropy(x, t).item()).toBeNaN();
    expect(await crossEntropy(x, t, { reduction: 'sum' }).item()).toBe(0);
    expect(crossEntropy(x, t, { reduction: 'none' }).shape).toEqual([0]);
    expect(await crossEntropy(input([2, 5]), tensor([-100, -100], { dtype: 'int32' })).item()).toBeNaN();
  });
});

// Expected numbers from PyTorch 1.13 (float64), produced by:
//   x = torch.tensor([[1.5, -0.3, 2.2, 0.1], [0.0, 3.1, -1.2, 0.7], [-2.0, 0.4, 0.9, 1.8]], dtype=torch.float64, requires_grad=True)
//   t = torch.tensor([2, 1, 0]); w = torch.tensor([0.5, 2.0, 1.0, 3.0], dtype=torch.float64)
//   l = F.cross_entropy(x, t, **kw); l.sum().backward(); print(l, x.grad)
describe('crossEntropy / nllLoss against PyTorch 1.13', () => {
  const X = [[1.5, -0.3, 2.2, 0.1], [0.0, 3.1, -1.2, 0.7], [-2.0, 0.4, 0.9, 1.8]];
  const T = [2, 1, 0];
  const W = [0.5, 2.0, 1.0, 3.0];
  const cases: [string, number[], Parameters<typeof crossEntropy>[2], number[], number[]][] = [
    ['mean', T, {}, [1.66220297], [0.09730518, 0.01608444, -0.13738477, 0.02399516, 0.01306529, -0.04331073, 0.00393519, 0.02631026, -0.32888287, 0.04905828, 0.08088343, 0.19894115]],
    ['sum', T, { reduction: 'sum' }, [4.9866089], [0.29191553, 0.04825331, -0.41215432, 0.07198548, 0.03919586, -0.1299322, 0.01180557, 0.07893077, -0.9866486, 0.14717485, 0.2426503, 0.59682344]],
    ['none', T, { reduction: 'none' }, [0.53129081, 0.13918414, 4.31613395], [0.29191553, 0.04825331, -0.41215432, 0.07198548, 0.03919586, -0.1299322, 0.01180557, 0.07893077, -0.9866486, 0.14717485, 0.2426503, 0.59682344]],
    ['weight', T, { weight: 'W' as never }, [0.84792173], [0.08340444, 0.01378666, -0.11775838, 0.02056728, 0.02239763, -0.07424697, 0.00674604, 0.0451033, -0.1409498, 0.02102498, 0.03466433, 0.08526049]],
    ['weight, none', T, { weight: 'W' as never, reduction: 'none' }, [0.53129081, 0.27836827, 2.15806697], [0.29191553, 0.04825331, -0.41215432, 0.07198548, 0.07839172, -0.25986439, 0.02361113, 0.15786154, -0.4933243, 0.07358742, 0.12132515, 0.29841172]],
    ['ignore -100', [2, -100, 0], {}, [2.42371238], [0.14595776, 0.02412666, -0.20607716, 0.03599274, 0, 0, 0, 0, -0.4933243, 0.07358742, 0.12132515, 0.29841172]],
    ['ignoreIndex 1, weight', T, { ignoreIndex: 1, weight: 'W' as never }, [1.79290519], [0.19461035, 0.03216887, -0.27476955, 0.04799032, 0, 0, 0, 0, -0.32888287, 0.04905828, 0.08088343, 0.19894115]],
    ['smoothing 0.2', T, { labelSmoothing: 0.2 }, [1.76220297], [0.08063851, -0.00058223, -0.08738477, 0.00732849, -0.00360138, 0.00668927, -0.01273148, 0.00964359, -0.27888287, 0.03239162, 0.06421677, 0.18227448]],
    ['smoothing, weight', T, { labelSmoothing: 0.2, weight: 'W' as never }, [1.22137964], [0.08668713, -0.01306144, -0.05390675, -0.01971895, 0.01441487, -0.00717699, -0.00779265, 0.00055478, -0.11866292, 0.00191479, 0.03597756, 0.08077057]],
    ['smoothing, weight, ignore', [2, -100, 3], { labelSmoothing: 0.2, weight: 'W' as never }, [0.71666679], [0.07585124, -0.01142876, -0.0471684, -0.01725408, 0, 0, 0, 0, 0.00284564, 0.07526287, 0.15280552, -0.23091403]],
    ['smoothing, weight, ignore, sum', [2, -100, 3], { labelSmoothing: 0.2, weight: 'W' as never, reduction: 'sum' }, [2.86666717], [0.30340497, -0.04571502, -0.18867361, -0.06901633, 0, 0, 0, 0, 0.01138257, 0.30105146, 0.61122208, -0.92365611]],
    ['smoothing, weight, ignore, none', [2, -100, 3], { labelSmoothing: 0.2, weight: 'W' as never, reduction: 'none' }, [1.18020217, 0, 1.68646501], [0.30340497, -0.04571502, -0.18867361, -0.06901633, 0, 0, 0, 0, 0.01138257, 0.30105146, 0.61122208, -0.92365611]],
  ];
  it.each(cases)('cross_entropy %s', async (_name, t, opts, loss, grad) => {
    for (const device of ['webgpu', 'cpu'] as const) {
      const x = tensor(X, { device, requiresGrad: true });
      const o = { ...opts, weight: opts!.weight ? tensor(W, { device }) : null };
      const l = crossEntropy(x, tensor(t, { dtype: 'int32', device }), o);
      await close(l, loss);
      l.sum().backward();
      await close(x.grad!, grad);
    }
  });

  //   q = torch.tensor([[0.1, 0.2, 0.3, 0.4], [0.0, 1.0, 0.0, 0.0], [0.25, 0.25, 0.5, 0.0]], dtype=torch.float64, requires_grad=True)
  //   l = F.cross_entropy(x, q, **kw); l.sum().backward(); print(l, x.grad, q.grad)
  it('cross_entropy with probability targets (and their gradient)', async () => {
    const Q = [[0.1, 0.2, 0.3, 0.4], [0.0, 1.0, 0.0, 0.0], [0.25, 0.25, 0.5, 0.0]];
    const probCases: [Parameters<typeof crossEntropy>[2], number[], number[], number[]][] = [
      [{}, [1.44886963], [0.06397184, -0.05058223, 0.09594856, -0.10933817, 0.01306529, -0.04331073, 0.00393519, 0.02631026, -0.07888287, -0.03427505, -0.08578323, 0.19894115],
        [0.41043027, 1.01043027, 0.17709694, 0.87709694, 1.07972805, 0.04639471, 1.47972805, 0.84639471, 1.43871132, 0.63871132, 0.47204465, 0.17204465]],
      [{ labelSmoothing: 0.1, weight: 'W' as never }, [2.43928546],
        [0.16741601, -0.10582476, 0.27739803, -0.33898928, 0.02147396, -0.04749731, -0.00061053, 0.02663388, -0.03643737, -0.10902318, -0.0632953, 0.20875585],
        [0.18469362, 1.81877449, 0.15938724, 2.36816173, 0.48587762, 0.08351048, 1.33175524, 2.28526572, 0.64742009, 1.14968037, 0.42484018, 0.46452055]],
      [{ reduction: 'none', weight: 'W' as never }, [4.59101709, 0.27836827, 2.20565069],
        [0.51923528, -0.30590604, 0.84629908, -1.05962831, 0.07839172, -0.25986439, 0.02361113, 0.15786154, -0.10997967, -0.33442829, -0.22701841, 0.67142638],
        [0.61564541, 6.06258163, 0.53129081, 7.89387244, 1.61959207, 0.27836827, 4.43918414, 7.61755241, 2.15806697, 3.83226789, 1.41613395, 1.54840184]],
    ];
    for (const [opts, loss, gx, gq] of probCases) {
      const x = tensor(X, { requiresGrad: true });
      const q = tensor(Q, { requiresGrad: true });
      const l = crossEntropy(x, q, { ...opts, weight: opts!.weight ? tensor(W) : null });
      await close(l, loss);
      l.sum().backward();
      await close(x.grad!, gx);
      await close(q.grad!, gq);
    }
  });

  //   lp = torch.log_softmax(x.detach(), 1).requires_grad_(); l = F.nll_loss(lp, t, **kw)
  it('nll_loss', async () => {
    const nllCases: [Parameters<typeof nllLoss>[2], number[], number[]][] = [
      [{}, [1.66220297], [0, 0, -0.33333333, 0, 0, -0.33333333, 0, 0, -0.33333333, 0, 0, 0]],
      [{ weight: 'W' as never }, [0.84792173], [0, 0, -0.28571429, 0, 0, -0.57142857, 0, 0, -0.14285714, 0, 0, 0]],
      [{ weight: 'W' as never, ignoreIndex: 0 }, [0.26988636], [0, 0, -0.33333333, 0, 0, -0.66666667, 0, 0, 0, 0, 0, 0]],
      [{ weight: 'W' as never, reduction: 'none' }, [0.53129081, 0.27836827, 2.15806697], [0, 0, -1, 0, 0, -2, 0, 0, -0.5, 0, 0, 0]],
    ];
    for (const [opts, loss, grad] of nllCases) {
      const lp = logSoftmax(tensor(X), 1).detach().requiresGrad_();
      const l = nllLoss(lp, tensor(T, { dtype: 'int32' }), { ...opts, weight: opts!.weight ? tensor(W) : null });
      await close(l, loss);
      l.sum().backward();
      await close(lp.grad!, grad);
    }
  });

  //   x3 = torch.tensor([[[0.2, -1.0], [1.0, 0.5], [-0.4, 2.0]], [[1.1, 0.3], [-0.7, 0.0], [0.6, -1.5]]], dtype=torch.float64)  # [2, 3, 2]
  //   F.cross_entropy(x3, torch.tensor([[2, 0], [1, -100]]), weight=w[:3], label_smoothing=0.1)
  it('cross_entropy over [N, C, d] with weight, smoothing and an ignored target', async () => {
    const x = tensor([[[0.2, -1.0], [1.0, 0.5], [-0.4, 2.0]], [[1.1, 0.3], [-0.7, 0.0], [0.6, -1.5]]], { requiresGrad: true });
    const l = crossEntropy(x, tensor([[2, 0], [1, -100]], { dtype: 'int32' }), { weight: tensor([0.5, 2.0, 1.0]), labelSmoothing: 0.1 });
    await close(l, [2.27622857]);
    l.backward();
    await close(x.grad!, [0.07219863, -0.12700082, 0.1522312, 0.00933273, -0.22442983, 0.11766809, 0.30430792, 0, -0.48224443, 0, 0.17793652, 0]);
  });

  it('nllLoss matches the reference and finite differences', async () => {
    const w = input([5], { seed: 40, lo: 0.2, hi: 2, requiresGrad: false });
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      await gradcheck((x, t, w) => nllLoss(x, t, { reduction, weight: w }), [input([6, 5], { seed: 41 }), labels(6, 5, 42, [3]), w], TOL);
      await gradcheck((x, t) => nllLoss(x, t, { reduction, ignoreIndex: 1 }), [input([2, 5, 3], { seed: 43 }), labels(6, 5, 44).reshape(2, 3)], TOL);
    }
  });
});

// PyTorch 1.13 (float64):
//   p = torch.tensor([0.0, 0.2, 0.7, 1.0, 0.999]); y = torch.tensor([0.0, 1.0, 0.3, 0.0, 1.0]); bw = torch.tensor([1.0, 2.0, 0.5, 1.0, 3.0])
//   F.binary_cross_entropy(p, y, **kw)  (p, y requires_grad; l.sum().backward())
//   z = torch.tensor([[-3.0, 0.5, 120.0], [0.0, -120.0, 2.5]]); yz = torch.tensor([[0.0, 1.0, 0.0], [0.5, 1.0, 1.0]])
//   pw = torch.tensor([2.0, 0.5, 3.0]); zw = torch.tensor([[1.0], [2.0]])
//   F.binary_cross_entropy_with_logits(z, yz, **kw)
//   a = torch.tensor([[1.0, 2.0], [3.0, -1.0]]); b = torch.tensor([[0.5, 2.5], [1.0, 1.0]]); F.mse_loss(a, b, reduction=r)
describe('elementwise losses against PyTorch 1.13', () => {
  it('binary_cross_entropy clamps its logs at -100; the target gradient is unclamped', async () => {
    const P = [0.0, 0.2, 0.7, 1.0, 0.999];
    const Y = [0.0, 1.0, 0.3, 0.0, 1.0];
    const BW = [1.0, 2.0, 0.5, 1.0, 3.0];
    const cases: [Parameters<typeof binaryCrossEntropy>[2], number[], number[], number[]][] = [
      [{}, [20.51204437], [0, -1, 0.38095238, 200000000799.16058, -0.2002002], [Infinity, 0.27725887, -0.16945957, -Infinity, -1.38135096]],
      [{ weight: 'BW' as never, reduction: 'none' }, [0, 3.21887582, 0.47489172, 100, 0.0030015], [0, -10, 0.95238095, 1000000003995.8029, -3.003003],
        [Infinity, 2.77258872, -0.42364893, -Infinity, -20.72026434]],
      [{ reduction: 'sum' }, [102.56022186], [0, -5, 1.9047619, 1000000003995.8029, -1.001001], [Infinity, 1.38629436, -0.84729786, -Infinity, -6.90675478]],
    ];
    for (const [opts, loss, gp, gy] of cases) {
      const p = tensor(P, { requiresGrad: true });
      const y = tensor(Y, { requiresGrad: true });
      const l = binaryCrossEntropy(p, y, { ...opts, weight: opts!.weight ? tensor(BW) : null });
      // 0.999 in float32 is 0.99900001…: its log(1 − p) moves by 1e-5 relative.
      await close(l, loss, 1e-4);
      l.sum().backward();
      await close(p.grad!, gp, 1e-4);
      await close(y.grad!, gy, 1e-4);
    }
  });

  it('binary_cross_entropy_with_logits with posWeight [C] and weight [N, 1] broadcast, logits of ±120', async () => {
    const Z = [[-3.0, 0.5, 120.0], [0.0, -120.0, 2.5]];
    const YZ = [[0.0, 1.0, 0.0], [0.5, 1.0, 1.0]];
    const cases: [Parameters<typeof binaryCrossEntropyWithLogits>[2], number[], number[], number[]][] = [
      [{}, [40.21578354], [0.00790431, -0.06292344, 0.16666667, 0, -0.16666667, -0.01264303], [0.5, -0.08333333, -20, 0, 20, -0.41666667]],
      [{ posWeight: 'PW' as never }, [30.26033597], [0.00790431, -0.03146172, 0.16666667, -0.04166667, -0.08333333, -0.03792909], [1.00809789, -0.12283975, -20, 0.11552453, 10, -0.39037009]],
      [{ posWeight: 'PW' as never, weight: 'ZW' as never, reduction: 'none' }, [0.04858735, 0.23703849, 120, 2.07944154, 120, 0.47333841],
        [0.04742587, -0.18877033, 1, -0.5, -1, -0.45514908], [6.04858735, -0.73703849, -120, 1.38629436, 120, -4.68444106]],
    ];
    for (const [opts, loss, gz, gy] of cases) {
      const z = tensor(Z, { requiresGrad: true });
      const y = tensor(YZ, { requiresGrad: true });
      const l = binaryCrossEntropyWithLogits(z, y, { ...opts, posWeight: opts!.posWeight ? tensor([2.0, 0.5, 3.0]) : null, weight: opts!.weight ? tensor([[1.0], [2.0]]) : null });
      await close(l, loss);
      l.sum().backward();
      await close(z.grad!, gz);
      await close(y.grad!, gy);
    }
  });

  it('mse_loss', async () => {
    const cases = [
      ['mean', [2.125], [0.25, -0.25, 1, -1]],
      ['sum', [8.5], [1, -1, 4, -4]],
      ['none', [0.25, 0.25, 4, 4], [1, -1, 4, -4]],
    ] as const;
    for (const [reduction, loss, ga] of cases) {
      const a = tensor([[1.0, 2.0], [3.0, -1.0]], { requiresGrad: true });
      const b = tensor([[0.5, 2.5], [1.0, 1.0]], { requiresGrad: true });
      const l = mseLoss(a, b, { reduction });
      await close(l, [...loss]);
      l.sum().backward();
      await close(a.grad!, [...ga]);
      await close(b.grad!, ga.map((v) => -v));
    }
  });
});

describe('elementwise losses: reference and finite differences', () => {
  it('over reductions, weights, odd sizes and non-contiguous inputs', async () => {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      const p = input([3, 17], { seed: 50, lo: 0.05, hi: 0.95 });
      const y = input([3, 17], { seed: 51, lo: 0, hi: 1 });
      const w = input([17], { seed: 52, lo: 0.2, hi: 2, requiresGrad: false });
      await gradcheck((p, y, w) => binaryCrossEntropy(p, y, { reduction, weight: w }), [p, y, w], TOL);
      await gradcheck((z, y, w, pw) => binaryCrossEntropyWithLogits(z.T, y.T, { reduction, weight: w, posWeight: pw }),
        [input([5, 3], { seed: 53 }), input([5, 3], { seed: 54, lo: 0, hi: 1 }), input([5, 1], { seed: 55, lo: 0.5, hi: 2, requiresGrad: false }).T, input([5], { seed: 56, lo: 0.5, hi: 3, requiresGrad: false })], TOL);
      await gradcheck((a, b) => mseLoss(a.slice(1, 0, 9, 2), b, { reduction }), [input([4, 9], { seed: 57 }), input([4, 5], { seed: 58 })], TOL);
      await gradcheck((a, b) => F.mseLoss(a, b, { reduction }), [input([1], { seed: 59 }), input([1], { seed: 60 })], TOL);
    }
  });
});

describe('loss memory', () => {
  it('forward/backward steps through every loss leave memory() flat (saved stats freed)', async () => {
    const x = input([16, 5], { seed: 70 });
    const p = input([16, 5], { seed: 71, lo: 0.1, hi: 0.9 });
    const y = input([16, 5], { seed: 72, lo: 0, hi: 1, requiresGrad: false });
    const t = labels(16, 5, 73, [4]);
    const w = input([5], { seed: 74, lo: 0.5, hi: 2, requiresGrad: false });
    const step = () =>
      scope(() => {
        crossEntropy(x, t, { weight: w, labelSmoothing: 0.1 }).backward();
        crossEntropy(x, y.softmax(1), { reduction: 'sum' }).backward();
        nllLoss(x.logSoftmax(1), t, { reduction: 'none' }).sum().backward();
        binaryCrossEntropy(p, y, { weight: w }).backward();
        binaryCrossEntropyWithLogits(x, y, { posWeight: w }).backward();
        mseLoss(x, y).backward();
        x.softmax(0).sum().backward();
        noGrad(() => crossEntropy(x, t)); // no graph: forward's stats must still be freed
        x.grad!.dispose();
        p.grad!.dispose();
        x.grad = null;
        p.grad = null;
      });
    step();
    await x.data();
    await collectGarbage(); // earlier tests' garbage must not be finalized inside the measured window
    const before = memory();
    for (let i = 0; i < 5; i++) step();
    await x.data();
    const after = memory();
    expect(after.liveTensors).toBe(before.liveTensors);
    expect(after.webgpu!.liveBuffers).toBe(before.webgpu!.liveBuffers);
    expect(after.webgpu!.bytesInUse).toBe(before.webgpu!.bytesInUse);
  });
});

describe('loss errors', () => {
  it('targets out of range: at once on the CPU, at the next readback on WebGPU', async () => {
    const xc = tensor([[1, 2, 3], [4, 5, 6]], { device: 'cpu' });
    expect(() => crossEntropy(xc, tensor([0, 3], { dtype: 'int32', device: 'cpu' }))).toThrow(
      /crossEntropy: target 3 at position \[1\] is out of range for 3 classes \(logits shape \[2, 3\]\): class indices must lie in \[0, 2\] or equal ignoreIndex -100/,
    );
    const x = tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true });
    const l = crossEntropy(x, tensor([-1, 1], { dtype: 'int32' }));
    await expect(l.item()).rejects.toThrow(/crossEntropy: target -1 at position \[0\] is out of range for 3 classes/);
    // The error is reported once; later work runs normally.
    expect(await crossEntropy(x, tensor([2, 1], { dtype: 'int32' })).item()).toBeGreaterThan(0);
    const n = nllLoss(x, tensor([0, 7], { dtype: 'int32' }), { reduction: 'none' });
    await expect(n.data()).rejects.toThrow(/nllLoss: target 7 at position \[1\] is out of range for 3 classes \(log-probabilities shape \[2, 3\]\)/);
  });

  it('wrong dtypes and shapes name both shapes', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(() => crossEntropy(x, tensor([0, 1]))).toThrow(/crossEntropy: target must hold int32 class indices of shape \[2\] \(or float32 class probabilities of shape \[2, 3\]\), got float32 of shape \[2\]/);
    expect(() => crossEntropy(x, tensor([0, 1, 2], { dtype: 'int32' }))).toThrow(/crossEntropy: target shape \[3\] does not match logits shape \[2, 3\]: class-index targets need shape \[2\]/);
    expect(() => nllLoss(x, tensor([[0.5, 0.5, 0], [0, 1, 0]]))).toThrow(/nllLoss: target must hold int32 class indices of shape \[2\], got float32 of shape \[2, 3\]/);
    expect(() => crossEntropy(x, tensor([0, 1], { dtype: 'int32' }), { weight: tensor([1, 2]) })).toThrow(/crossEntropy: weight shape \[2\] does not match the 3 classes of logits shape \[2, 3\]; expected \[3\]/);
    expect(() => crossEntropy(x, tensor([0, 1], { dtype: 'int32' }), { labelSmoothing: 1.5 })).toThrow(/labelSmoothing must be in \[0, 1\], got 1.5/);
    expect(() => crossEntropy(x, tensor([[0.5, 0.5, 0], [0, 1, 0]]), { ignoreIndex: 1 })).toThrow(/ignoreIndex is not supported for probability/);
    expect(() => crossEntropy(x, tensor([0, 1], { dtype: 'int32' }), { reduction: 'avg' as never })).toThrow(/reduction must be 'none', 'mean' or 'sum', got 'avg'/);
    expect(() => crossEntropy(tensor([[1, 2]], { dtype: 'int32' }), tensor([0], { dtype: 'int32' }))).toThrow(/crossEntropy: input dtype int32 is not floating point/);
    expect(() => binaryCrossEntropy(tensor([0.5, 0.2]), tensor([1, 0, 1]))).toThrow(/binaryCrossEntropy: target shape \[3\] differs from input shape \[2\]/);
    expect(() => mseLoss(tensor([0.5, 0.2]), tensor([1, 0], { dtype: 'int32' }))).toThrow(/mseLoss: target dtype int32 is not floating point/);
    expect(() => binaryCrossEntropyWithLogits(tensor([[1, 2]]), tensor([[1, 0]]), { posWeight: tensor([1, 2, 3]) })).toThrow(
      /binaryCrossEntropyWithLogits: shapes \[1, 2\] and \[3\] cannot be broadcast together/,
    );
    expect(() => binaryCrossEntropy(tensor([0.5]), tensor([1]), { weight: tensor([1], { requiresGrad: true }) })).toThrow(
      /binaryCrossEntropy: the loss is not differentiable with respect to 'weight' \(as in PyTorch\); pass weight.detach\(\)/,
    );
  });
});
