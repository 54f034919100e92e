// A user-defined optimizer written as the docs show (docs/optim.md): SGD with momentum in a
// dozen lines of tensor ops through the updateParam hook. It must match the built-in fused SGD
// (bit for bit on the float64 CPU backend, to float32 rounding on WebGPU), work with parameter
// groups and schedulers, round-trip its state dict, own its state across scopes, and leave
// memory flat.
import { describe, expect, it } from 'vitest';
import { memory, noGrad, optim, scope, tensor, type BackendName, type Tensor } from '../../src/index.ts';
import { useGpu } from '../helpers/gpu.ts';
import { hostValues } from '../helpers/data.ts';

useGpu();

interface MomentumOptions {
  lr: number;
  momentum: number;
}

/** torch.optim.SGD's momentum rule (dampening 0): b ← momentum·b + g (b = g at first), p ← p − lr·b. */
class MomentumSGD extends optim.Optimizer<MomentumOptions> {
  constructor(params: optim.ParamsInput<MomentumOptions>, opts: Partial<MomentumOptions> = {}) {
    super('MomentumSGD', params, { lr: 0.01, momentum: 0.9, ...opts });
  }
  protected override updateParam(p: Tensor, grad: Tensor, group: optim.ParamGroup<MomentumOptions>, state: optim.ParamState): void {
    const buf = state.buffers.momentumBuffer;
    if (buf === undefined) state.buffers.momentumBuffer = grad.clone();
    else buf.mul_(group.momentum).add_(grad);
    p.sub_(state.buffers.momentumBuffer!.mul(group.lr));
  }
}

const params = (device: BackendName) => [tensor(hostValues(17, { seed: 1 }), { device, requiresGrad: true }), tensor(hostValues(12, { seed: 2 }), { shape: [3, 4], device, requiresGrad: true })];
const grads = (t: number, device: BackendName) => [tensor(hostValues(17, { seed: 10 + t }), { device }), tensor(hostValues(12, { seed: 40 + t }), { shape: [3, 4], device })];

/** Steps `opt` (and `sched` after it) `n` times with the seeded gradients, from step `from`. */
function train(ps: Tensor[], opt: optim.Optimizer<any>, n: number, device: BackendName, sched?: optim.LRScheduler, from = 0): void {
  for (let t = from; t < from + n; t++) {
    opt.zeroGrad();
    grads(t, device).forEach((g, k) => (ps[k]!.grad = g));
    opt.step();
    sched?.step();
  }
}

const values = async (ps: Tensor[]): Promise<number[]> => (await Promise.all(ps.map(async (p) => Array.from(await p.data())))).flat();

describe('a user-defined optimizer (updateParam with tensor ops)', () => {
  for (const device of ['cpu', 'webgpu'] as BackendName[]) {
    it(`matches the built-in SGD with momentum over 8 steps, two parameter groups and StepLR (${device})`, async () => {
      const a = params(device);
      const b = params(device);
      const groups = (ps: Tensor[]) => [{ params: [ps[0]!] }, { params: [ps[1]!], lr: 0.05, momentum: 0.5 }];
      const builtin = new optim.SGD(groups(a), { lr: 0.1, momentum: 0.9 });
      const mine = new MomentumSGD(groups(b), { lr: 0.1 });
      expect(mine.paramGroups[1]).toMatchObject({ lr: 0.05, momentum: 0.5 });
      train(a, builtin, 8, device, new optim.StepLR(builtin, { stepSize: 3, gamma: 0.5 }));
      const sched = new optim.StepLR(mine, { stepSize: 3, gamma: 0.5 });
      train(b, mine, 8, device, sched);
      expect(sched.getLastLr()).toEqual([0.025, 0.0125]);
      const [want, got] = [await values(a), await values(b)];
      if (device === 'cpu') expect(got).toEqual(want); // the same float64 arithmetic, op for op
      else {
        // The fused kernel may contract momentum·b + g into one fma; the tensor ops round twice.
        want.forEach((w, i) => expect(Math.abs(got[i]! - w), `element ${i}: ${got[i]} vs ${w}`).toBeLessThan(1e-6 + 1e-6 * Math.abs(w)));
      }
      expect(mine.state.get(b[0]!)!.step).toBe(8);
      builtin.dispose();
      mine.dispose();
    });
  }

  it('round-trips its state dict: a restored optimizer continues bit for bit, and so does one loaded from the built-in SGD', async () => {
    const a = params('webgpu');
    const opt = new MomentumSGD(a, { lr: 0.1 });
    train(a, opt, 3, 'webgpu');
    const sd = opt.stateDict();
    expect(Object.keys(sd.state[0]!)).toEqual(['step', 'momentumBuffer']);
    expect(sd.paramGroups).toEqual([{ lr: 0.1, momentum: 0.9, params: [0, 1] }]);
    const b = params('webgpu');
    const resumed = new MomentumSGD(b);
    noGrad(() => b.forEach((p, k) => p.copy_(a[k]!))); // the parameters as they were at the save
    resumed.loadStateDict(sd);
    expect(resumed.paramGroups[0]!.lr).toBe(0.1);
    train(a, opt, 4, 'webgpu', undefined, 3);
    train(b, resumed, 4, 'webgpu', undefined, 3);
    expect(await values(b)).toEqual(await values(a));

    // The built-in SGD names its state as PyTorch does (momentumBuffer): the custom one can take it over.
    const c = params('cpu');
    const sgd = new optim.SGD(c, { lr: 0.1, momentum: 0.9 });
    train(c, sgd, 3, 'cpu');
    const d = params('cpu');
    noGrad(() => d.forEach((p, k) => p.copy_(c[k]!)));
    const taker = new MomentumSGD(d);
    taker.loadStateDict(sgd.stateDict());
    train(c, sgd, 3, 'cpu', undefined, 3);
    train(d, taker, 3, 'cpu', undefined, 3);
    expect(await values(d)).toEqual(await values(c));
    for (const o of [opt, resumed, sgd, taker]) o.dispose();
  });

  it('owns its state: kept out of a scope around step(), memory flat over steps, replaced buffers freed', async () => {
    const ps = params('webgpu');
    const opt = new MomentumSGD(ps, { lr: 0.1 });
    scope(() => train(ps, opt, 1, 'webgpu')); // state created inside a user's scope survives it
    expect(opt.state.get(ps[0]!)!.buffers.momentumBuffer!.disposed).toBe(false);
    train(ps, opt, 1, 'webgpu');
    const before = memory().liveTensors;
    train(ps, opt, 5, 'webgpu');
    expect(memory().liveTensors).toBe(before);

    /** A functional-style rule: each step stores a new tensor, and the old one must be freed. */
    class Functional extends optim.Optimizer {
      constructor(p: Tensor[]) {
        super('Functional', p, { lr: 0.1 });
      }
      protected override updateParam(p: Tensor, grad: Tensor, group: optim.ParamGroup<optim.BaseOptions>, state: optim.ParamState): void {
        state.buffers.avg = state.buffers.avg ? state.buffers.avg.mul(0.5).add(grad) : grad; // storing grad itself: copied
        state.scalars.calls = (state.scalars.calls ?? 0) + 1;
        p.sub_(state.buffers.avg.mul(group.lr));
      }
    }
    const f = new Functional(ps);
    train(ps, f, 2, 'webgpu');
    const mid = memory().liveTensors;
    train(ps, f, 5, 'webgpu');
    expect(memory().liveTensors).toBe(mid);
    opt.zeroGrad(); // disposes the gradients: the state must not have aliased them
    expect(f.state.get(ps[0]!)!.buffers.avg!.disposed).toBe(false);
    expect(f.stateDict().state[0]).toMatchObject({ step: 7, calls: 7 });
    opt.dispose();
    f.dispose();
  });

  it('validates before any update, passes the closure through, and names a missing rule', async () => {
    const ps = params('webgpu');
    const opt = new MomentumSGD(ps, { lr: 0.1 });
    const before = await values(ps);
    ps[0]!.grad = tensor(hostValues(17, { seed: 5 }));
    ps[1]!.grad = tensor([1, 2, 3]);
    expect(() => opt.step()).toThrow(/MomentumSGD: the gradient of parameter 1 of group 0 \(shape \[3, 4\]\) has shape \[3\]/);
    expect(await values(ps)).toEqual(before);
    expect(opt.state.size).toBe(0);
    expect(() => new MomentumSGD(ps, { lr: -1 })).toThrow(/MomentumSGD: invalid learning rate value: -1/);
    ps[1]!.grad = null;
    const loss = opt.step(() => ps[0]!.sum());
    expect(loss).toBeDefined();
    loss!.dispose();

    class NoRule extends optim.Optimizer {
      constructor(p: Tensor[]) {
        super('NoRule', p, { lr: 1 });
      }
    }
    expect(() => new NoRule(ps).step()).toThrow(/NoRule: has no update rule: a user-defined optimizer overrides updateParam/);
    opt.dispose();
  });
});
