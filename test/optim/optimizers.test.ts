// Optimizers against a float64 reference written here from PyTorch's documented algorithms
// (torch.optim.SGD / Adam / AdamW / RMSprop pseudo-code), over several steps of a quadratic
// whose gradient depends on the parameters, on both backends. Also: one fused dispatch per
// parameter, parameter groups, validation before any update, and state dicts.
import { describe, expect, it } from 'vitest';
import { noGrad, optim, tensor, type BackendName, type Tensor } from '../../src/index.ts';
import { gpuRuntime } from '../../src/tensor/backends.ts';
import { useGpu } from '../helpers/gpu.ts';
import { hostValues } from '../helpers/data.ts';

useGpu();

type Cfg = Record<string, any> & { kind: 'sgd' | 'adam' | 'adamw' | 'rmsprop' };

/** Sizes: odd (scalar kernel), a multiple of 4 (vec4 kernel), and past a workgroup. */
const SHAPES = [[17], [3, 4], [129]];
const STEPS = 6;

/** loss = Σ a·p² + b·p, so ∂loss/∂p = 2a·p + b. */
const coef = (k: number) => ({ a: hostValues(SHAPES[k]!.reduce((x, y) => x * y, 1), { seed: 10 + k, lo: 0.1, hi: 1.5 }), b: hostValues(SHAPES[k]!.reduce((x, y) => x * y, 1), { seed: 20 + k, lo: -1, hi: 1 }) });

/** The float64 reference: PyTorch's documented update, one parameter at a time. */
function reference(cfg: Cfg, p0: Float32Array, a: Float32Array, b: Float32Array, steps: number): Float64Array {
  const n = p0.length;
  const p = Float64Array.from(p0);
  const m = new Float64Array(n); // momentum buffer / exp_avg / square_avg
  const v = new Float64Array(n); // exp_avg_sq / grad_avg
  const vmax = new Float64Array(n); // max_exp_avg_sq / rmsprop momentum buffer
  const lr = cfg.lr;
  const wd = cfg.weightDecay ?? (cfg.kind === 'adamw' ? 1e-2 : 0);
  for (let t = 1; t <= steps; t++) {
    for (let i = 0; i < n; i++) {
      let g = 2 * a[i]! * p[i]! + b[i]!;
      if (cfg.maximize) g = -g;
      if (cfg.kind === 'sgd') {
        if (wd) g += wd * p[i]!;
        const mu = cfg.momentum ?? 0;
        if (mu) {
          m[i] = t === 1 ? g : mu * m[i]! + (1 - (cfg.dampening ?? 0)) * g;
          g = cfg.nesterov ? g + mu * m[i]! : m[i]!;
        }
        p[i] = p[i]! - lr * g;
      } else if (cfg.kind === 'adam' || cfg.kind === 'adamw') {
        const [b1, b2] = cfg.betas ?? [0.9, 0.999];
        const eps = cfg.eps ?? 1e-8;
        if (cfg.kind === 'adamw') p[i] = p[i]! * (1 - lr * wd);
        else if (wd) g += wd * p[i]!;
        m[i] = b1 * m[i]! + (1 - b1) * g;
        v[i] = b2 * v[i]! + (1 - b2) * g * g;
        const mHat = m[i]! / (1 - b1 ** t);
        let vHat = v[i]! / (1 - b2 ** t);
        if (cfg.amsgrad) {
          vmax[i] = Math.max(vmax[i]!, v[i]!);
          vHat = vmax[i]! / (1 - b2 ** t);
        }
        p[i] = p[i]! - (lr * mHat) / (Math.sqrt(vHat) + eps);
      } else {
        const alpha = cfg.alpha ?? 0.99;
        const eps = cfg.eps ?? 1e-8;
        const mu = cfg.momentum ?? 0;
        if (wd) g += wd * p[i]!;
        m[i] = alpha * m[i]! + (1 - alpha) * g * g;
        let avg = m[i]!;
        if (cfg.centered) {
          v[i] = alpha * v[i]! + (1 - alpha) * g;
          avg -= v[i]! ** 2;
        }
        const d = Math.sqrt(avg) + eps;
        if (mu > 0) {
          vmax[i] = mu * vmax[i]! + g / d;
          p[i] = p[i]! - lr * vmax[i]!;
        } else p[i] = p[i]! - (lr * g) / d;
      }
    }
  }
  return p;
}

function make(cfg: Cfg, params: Tensor[]): optim.Optimizer<any> {
  const { kind, ...opts } = cfg;
  if (kind === 'sgd') return new optim.SGD(params, opts);
  if (kind === 'adam') return new optim.Adam(params, opts);
  if (kind === 'adamw') return new optim.AdamW(params, opts);
  return new optim.RMSprop(params, opts);
}

/** Runs `steps` optimizer steps on the quadratic on `device`; returns the final parameters. */
async function run(cfg: Cfg, device: BackendName, steps = STEPS): Promise<Float64Array[]> {
  const params = SHAPES.map((s, k) => tensor(hostValues(s.reduce((x, y) => x * y, 1), { seed: k + 1 }), { shape: s, device, requiresGrad: true }));
  const cs = SHAPES.map((s, k) => {
    const { a, b } = coef(k);
    return { a: tensor(a, { shape: s, device }), b: tensor(b, { shape: s, device }) };
  });
  const opt = make(cfg, params);
  for (let t = 0; t < steps; t++) {
    opt.zeroGrad();
    const loss = params.map((p, k) => p.square().mul(cs[k]!.a).add(p.mul(cs[k]!.b)).sum()).reduce((x, y) => x.add(y));
    loss.backward();
    opt.step();
  }
  const out = await Promise.all(params.map(async (p) => Float64Array.from(await p.data())));
  opt.dispose();
  for (const p of params) p.dispose();
  return out;
}

const CONFIGS: [string, Cfg][] = [
  ['SGD', { kind: 'sgd', lr: 0.1 }],
  ['SGD momentum + dampening + weight decay', { kind: 'sgd', lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }],
  ['SGD nesterov + weight decay', { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }],
  ['SGD maximize + momentum', { kind: 'sgd', lr: 0.01, momentum: 0.5, maximize: true }],
  ['Adam', { kind: 'adam', lr: 0.01 }],
  ['Adam weight decay + amsgrad', { kind: 'adam', lr: 0.02, weightDecay: 0.1, amsgrad: true, betas: [0.8, 0.99] }],
  ['Adam maximize', { kind: 'adam', lr: 0.01, maximize: true, eps: 1e-6 }],
  ['AdamW amsgrad', { kind: 'adamw', lr: 0.02, weightDecay: 0.1, amsgrad: true }],
  ['AdamW default decay', { kind: 'adamw', lr: 0.01 }],
  ['RMSprop', { kind: 'rmsprop', lr: 0.01 }],
  ['RMSprop centered + momentum + weight decay', { kind: 'rmsprop', lr: 0.005, alpha: 0.9, centered: true, momentum: 0.9, weightDecay: 0.01 }],
  ['RMSprop maximize + momentum', { kind: 'rmsprop', lr: 0.001, momentum: 0.5, maximize: true }],
];

describe('optimizer updates vs the float64 reference', () => {
  for (const [name, cfg] of CONFIGS) {
    it(`${name} (cpu and webgpu)`, async () => {
      const want = SHAPES.map((s, k) => {
        const n = s.reduce((x, y) => x * y, 1);
        const { a, b } = coef(k);
        return reference(cfg, hostValues(n, { seed: k + 1 }), a, b, STEPS);
      });
      const cpu = await run(cfg, 'cpu');
      const gpu = await run(cfg, 'webgpu');
      want.forEach((w, k) => {
        for (let i = 0; i < w.length; i++) {
          // The CPU backend is the same formula in float64: agreement to rounding.
          expect(Math.abs(cpu[k]![i]! - w[i]!), `${name}: cpu param ${k}[${i}]`).toBeLessThan(1e-12 + 1e-12 * Math.abs(w[i]!));
          // WebGPU is float32 through the forward, backward and update of each step.
          expect(Math.abs(gpu[k]![i]! - w[i]!), `${name}: webgpu param ${k}[${i}]: ${gpu[k]![i]} vs ${w[i]}`).toBeLessThan(2e-5 + 2e-5 * Math.abs(w[i]!));
        }
      });
    });
  }
});

describe('the reference itself agrees with PyTorch 1.13', () => {
  // torch (float64) on the same problem, 6 steps; first values of parameters 0 and 1:
  //   ps = [host(n, k+1).double().requires_grad_() for k, n in enumerate([17, 12, 129])]   # hostValues ported
  //   loss = sum((p*p*a + p*b).sum() ...); loss.backward(); opt.step()
  const TORCH: [Cfg, number[], number[]][] = [
    [CONFIGS[2]![1], [-0.17892050636359766, 0.05395769447350612, -0.4562119512668255], [-0.19026576469189824, -0.05206642715269301]],
    [CONFIGS[5]![1], [-0.8492897733104573, -1.1400233102793034, 0.9634294779485392], [-0.7621323348679307, -1.51372761444735]],
    [CONFIGS[7]![1], [-0.8379746148880336, -1.1253939651844704, 0.950926810676685], [-0.7517997604573219, -1.4946948673141023]],
    [CONFIGS[10]![1], [-0.7483564699751111, -1.0361323213893723, 0.8590382919263593], [-0.6622927744506635, -1.4089072129377405]],
  ];
  it('SGD nesterov, Adam amsgrad + weight decay, AdamW amsgrad, RMSprop centered + momentum', () => {
    for (const [cfg, p0, p1] of TORCH) {
      const got = [0, 1].map((k) => {
        const n = SHAPES[k]!.reduce((x, y) => x * y, 1);
        const { a, b } = coef(k);
        return reference(cfg, hostValues(n, { seed: k + 1 }), a, b, STEPS);
      });
      p0.forEach((v, i) => expect(got[0]![i]).toBeCloseTo(v, 12));
      p1.forEach((v, i) => expect(got[1]![i]).toBeCloseTo(v, 12));
    }
  });
});

describe('fused update', () => {
  it('is one dispatch per parameter, for every optimizer', async () => {
    const rt = gpuRuntime();
    for (const [, cfg] of CONFIGS) {
      const params = SHAPES.map((s, k) => tensor(hostValues(s.reduce((x, y) => x * y, 1), { seed: k }), { shape: s, requiresGrad: true }));
      const opt = make(cfg, params);
      for (const p of params) p.grad = p.onesLike();
      opt.step(); // the first step may allocate and zero state buffers
      const before = rt.stats.dispatches;
      opt.step();
      expect(rt.stats.dispatches - before, cfg.kind).toBe(params.length);
      opt.dispose();
      for (const p of params) {
        p.grad?.dispose();
        p.dispose();
      }
    }
  });

  it('bumps the version of the parameter it writes (a saved tensor modified by step() is caught)', async () => {
    const p = tensor([1, 2, 3], { requiresGrad: true });
    const opt = new optim.SGD([p], { lr: 0.1 });
    const y = p.square().sum(); // square saves p
    p.grad = tensor([1, 1, 1]);
    const v = p.version;
    opt.step();
    expect(p.version).toBe(v + 1);
    expect(() => y.backward()).toThrow(/modified by an in-place operation/);
    expect(await p.toArray()).toEqual([expect.closeTo(0.9, 6), expect.closeTo(1.9, 6), expect.closeTo(2.9, 6)]);
  });

  it('skips parameters whose grad is null', async () => {
    const [p, q] = [tensor([1, 2], { requiresGrad: true }), tensor([3, 4], { requiresGrad: true })];
    const opt = new optim.Adam([p, q], { lr: 0.1 });
    p.grad = tensor([1, -1]);
    opt.step();
    expect(await q.toArray()).toEqual([3, 4]);
    expect(opt.state.has(q)).toBe(false);
    expect(opt.state.get(p)!.step).toBe(1);
    expect(await p.toArray()).toEqual([expect.closeTo(0.9, 5), expect.closeTo(2.1, 5)]);
  });
});

describe('parameter groups', () => {
  it('each group uses its own options, defaults filling the rest', async () => {
    const p = tensor([1, 1], { requiresGrad: true });
    const q = tensor([1, 1], { requiresGrad: true });
    const opt = new optim.SGD([{ params: [p] }, { params: [q], lr: 0.5, momentum: 0.9 }], { lr: 0.1 });
    expect(opt.paramGroups[0]!.lr).toBe(0.1);
    expect(opt.paramGroups[1]).toMatchObject({ lr: 0.5, momentum: 0.9, dampening: 0, nesterov: false });
    for (let t = 0; t < 2; t++) {
      p.grad = tensor([1, 2]);
      q.grad = tensor([1, 2]);
      opt.step();
    }
    // p: 1 - 0.1·g twice; q: buffer g then 0.9·g + g = 1.9·g.
    expect(await p.toArray()).toEqual([expect.closeTo(0.8, 6), expect.closeTo(0.6, 6)]);
    expect(await q.toArray()).toEqual([expect.closeTo(1 - 0.5 * 2.9, 5), expect.closeTo(1 - 0.5 * 5.8, 5)]);
    opt.paramGroups[0]!.lr = 0; // schedulers change options between steps
    p.grad = tensor([1, 1]);
    q.grad = null;
    opt.step();
    expect(await p.toArray()).toEqual([expect.closeTo(0.8, 6), expect.closeTo(0.6, 6)]);
  });

  it('addParamGroup and a parameter in two groups', () => {
    const p = tensor([1], { requiresGrad: true });
    const opt = new optim.Adam([p]);
    expect(() => opt.addParamGroup({ params: [p], lr: 1 })).toThrow(/more than one parameter group/);
    opt.addParamGroup({ params: [tensor([2], { requiresGrad: true })], lr: 1 });
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([1e-3, 1]);
  });
});

describe('validation', () => {
  it('rejects a non-leaf, a tensor that does not require grad, and bad options', () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const nonLeaf = w.mul(2);
    expect(() => new optim.SGD([nonLeaf], { lr: 0.1 })).toThrow(/SGD: can't optimize a non-leaf tensor \(parameter 0 of group 0, shape \[2\]\): it was computed by MulBackward0/);
    expect(() => new optim.Adam([w, tensor([1, 2, 3])])).toThrow(/Adam: parameter 1 of group 0 \(shape \[3\]\) does not require grad/);
    expect(() => new optim.SGD([], { lr: 0.1 })).toThrow(/empty parameter list/);
    expect(() => new optim.SGD([w], { lr: -1 })).toThrow(/invalid learning rate value: -1/);
    expect(() => new optim.SGD([w], { lr: 0.1, nesterov: true })).toThrow(/Nesterov momentum requires a momentum and zero dampening/);
    expect(() => new optim.Adam([w], { betas: [1, 0.999] })).toThrow(/invalid beta parameter at index 0 value: 1/);
    expect(() => new optim.RMSprop([w], { alpha: -0.1 })).toThrow(/invalid alpha value/);
  });

  it('a failing step() updates no parameter', async () => {
    const ps = [tensor([1, 2], { requiresGrad: true }), tensor([3, 4], { requiresGrad: true }), tensor([5, 6], { requiresGrad: true })];
    const opt = new optim.SGD(ps, { lr: 1, momentum: 0.9 });
    ps[0]!.grad = tensor([1, 1]);
    ps[1]!.grad = tensor([1, 1]);
    ps[2]!.grad = tensor([1, 1, 1]); // wrong shape, found after two valid parameters
    expect(() => opt.step()).toThrow(/SGD: the gradient of parameter 2 of group 0 \(shape \[2\]\) has shape \[3\]/);
    ps[2]!.grad = tensor([1, 1], { device: 'cpu' });
    expect(() => opt.step()).toThrow(/is on 'cpu' but the parameter is on 'webgpu'/);
    ps[2]!.grad = tensor([1, 1], { dtype: 'int32' });
    expect(() => opt.step()).toThrow(/has dtype int32; expected float32/);
    expect(await ps[0]!.toArray()).toEqual([1, 2]);
    expect(await ps[1]!.toArray()).toEqual([3, 4]);
    expect(opt.state.size).toBe(0);
    // A tensor that stopped being a leaf (it cannot: leaves stay leaves) or was disposed.
    ps[2]!.grad = null;
    ps[2]!.dispose();
    expect(() => opt.step()).toThrow(/parameter 2 of group 0 \(shape \[2\]\) was disposed/);
    expect(await ps[0]!.toArray()).toEqual([1, 2]);
  });

  it('in-place use of a parameter outside noGrad still errors (the optimizer is the sanctioned path)', () => {
    const p = tensor([1, 2], { requiresGrad: true });
    expect(() => p.sub_(1)).toThrow(/leaf tensor that requires grad/);
    noGrad(() => p.sub_(1));
  });
});

describe('state dict', () => {
  it('round-trips: a restored optimizer continues exactly like the original', async () => {
    for (const cfg of [CONFIGS[2]![1], CONFIGS[5]![1], CONFIGS[10]![1]]) {
      const mk = () => [tensor([0.5, -1, 2, 0.25], { requiresGrad: true }), tensor([3, -2, 1], { requiresGrad: true })];
      const grads = (t: number) => [tensor([1, -2, 0.5, t]), tensor([-1, t * 0.5, 2])];
      const a = mk();
      const optA = make(cfg, a);
      for (let t = 0; t < 3; t++) {
        grads(t).forEach((g, k) => (a[k]!.grad = g));
        optA.step();
      }
      const sd = optA.stateDict();
      expect(Object.keys(sd.state)).toEqual(['0', '1']);
      expect(sd.paramGroups[0]!.params).toEqual([0, 1]);
      // A fresh optimizer on copies of the parameters, restored from the state dict.
      const b = await Promise.all(a.map(async (p) => tensor(await p.data(), { shape: p.shape, requiresGrad: true })));
      const optB = make(cfg, b);
      optB.loadStateDict(sd);
      expect(optB.state.get(b[0]!)!.step).toBe(3);
      expect(optB.state.get(b[0]!)!.buffers).not.toBe(optA.state.get(a[0]!)!.buffers);
      for (let t = 3; t < 6; t++) {
        grads(t).forEach((g, k) => (a[k]!.grad = g));
        grads(t).forEach((g, k) => (b[k]!.grad = g));
        optA.step();
        optB.step();
      }
      for (let k = 0; k < 2; k++) expect(await b[k]!.toArray()).toEqual(await a[k]!.toArray());
    }
  });

  it('rejects a state dict of another shape', () => {
    const p = tensor([1, 2], { requiresGrad: true });
    const opt = new optim.Adam([p]);
    p.grad = tensor([1, 1]);
    opt.step();
    const sd = opt.stateDict();
    const q = tensor([1, 2, 3], { requiresGrad: true });
    expect(() => new optim.Adam([q]).loadStateDict(sd)).toThrow(/state 0.expAvg has shape \[2\] but parameter 0 has shape \[3\]/);
    expect(() => new optim.Adam([q, p]).loadStateDict(sd)).toThrow(/parameter group \(0\) of 1 parameters that doesn't match the size of the optimizer's group \(2\)/);
  });

  it('zeroGrad disposes gradients by default, or zeroes them in place', async () => {
    const p = tensor([1, 2], { requiresGrad: true });
    const opt = new optim.SGD([p], { lr: 0.1 });
    p.square().sum().backward();
    const g = p.grad!;
    opt.zeroGrad({ setToNone: false });
    expect(p.grad).toBe(g);
    expect(await g.toArray()).toEqual([0, 0]);
    opt.zeroGrad();
    expect(p.grad).toBeNull();
    expect(g.disposed).toBe(true);
  });
});
