// Learning-rate schedulers against PyTorch 1.13's values, and gradient clipping.
import { describe, expect, it } from 'vitest';
import { nn, optim, tensor, type BackendName } from '../../src/index.ts';
import { useGpu } from '../helpers/gpu.ts';

useGpu();

const param = () => tensor([0], { device: 'cpu', requiresGrad: true });

/** lr (and momentum / beta1) of group 0 before each of `n` steps, stepping optimizer then scheduler. */
function trace(opt: optim.Optimizer<any>, sched: optim.LRScheduler, n: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const g = opt.paramGroups[0] as Record<string, any>;
    out.push([g.lr, g.momentum ?? g.betas?.[0]]);
    opt.step();
    sched.step();
  }
  return out;
}

// Generated with PyTorch 1.13:
//   p = [nn.Parameter(torch.zeros(1))]; o = optim.SGD(p, lr=0.1, momentum=0.9); s = <scheduler>(o, ...)
//   for i in range(n): record o.param_groups[0]['lr'] (and momentum/betas[0]); o.step(); s.step()
describe('schedulers (PyTorch values)', () => {
  it('StepLR', () => {
    const opt = new optim.SGD([param()], { lr: 0.1, momentum: 0.9 });
    const lrs = trace(opt, new optim.StepLR(opt, { stepSize: 3, gamma: 0.5 }), 10).map(([lr]) => lr);
    const want = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125];
    lrs.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 15));
  });

  it('CosineAnnealingLR (past tMax it rises again, as PyTorch)', () => {
    const opt = new optim.SGD([param()], { lr: 0.1, momentum: 0.9 });
    const lrs = trace(opt, new optim.lrScheduler.CosineAnnealingLR(opt, { tMax: 4, etaMin: 0.01 }), 12).map(([lr]) => lr);
    const want = [0.1, 0.08681980515339464, 0.05500000000000001, 0.023180194846605363, 0.01, 0.023180194846605363, 0.05500000000000002, 0.08681980515339469, 0.10000000000000006, 0.0868198051533947, 0.05500000000000005, 0.023180194846605412];
    lrs.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 14));
  });

  it('OneCycleLR with SGD momentum (cos, two phases)', () => {
    const opt = new optim.SGD([param()], { lr: 0.1, momentum: 0.9 });
    const got = trace(opt, new optim.OneCycleLR(opt, { maxLr: 1.0, totalSteps: 10 }), 10);
    const want = [[0.040000000000000036, 0.95], [0.52, 0.8999999999999999], [1.0, 0.85], [0.9504846320134737, 0.854951556604879], [0.8117456539497631, 0.8688255099070633], [0.6112620219362893, 0.8888739533021842], [0.38874197806371075, 0.9111260466978157], [0.18825834605023697, 0.9311744900929366], [0.049519367986526286, 0.945048443395121], [4e-06, 0.95]];
    got.forEach(([lr, m], i) => {
      expect(lr).toBeCloseTo(want[i]![0]!, 14);
      expect(m).toBeCloseTo(want[i]![1]!, 14);
    });
  });

  it('OneCycleLR three phases, linear', () => {
    const opt = new optim.SGD([param()], { lr: 0.1, momentum: 0.9 });
    const got = trace(opt, new optim.OneCycleLR(opt, { maxLr: 1.0, totalSteps: 10, threePhase: true, annealStrategy: 'linear' }), 10);
    const want = [[0.04, 0.95], [0.52, 0.8999999999999999], [1.0, 0.85], [0.52, 0.8999999999999999], [0.040000000000000036, 0.95], [0.032000799999999996, 0.95], [0.024001599999999998, 0.95], [0.0160024, 0.95], [0.008003199999999995, 0.95], [3.9999999999970615e-06, 0.95]];
    got.forEach(([lr, m], i) => {
      expect(lr).toBeCloseTo(want[i]![0]!, 14);
      expect(m).toBeCloseTo(want[i]![1]!, 14);
    });
  });

  it("OneCycleLR with Adam cycles beta1 (epochs × stepsPerEpoch) and refuses to step past the end", () => {
    const opt = new optim.Adam([param()], { lr: 0.1 });
    const sched = new optim.OneCycleLR(opt, { maxLr: 0.01, epochs: 2, stepsPerEpoch: 3 });
    const got = trace(opt, sched, 6);
    const want = [[0.0003999999999999993, 0.95], [0.009944154354509118, 0.8505584586887436], [0.00811745653949763, 0.8688255099070633], [0.00462637102666975, 0.9037365046793212], [0.001334775301888306, 0.9366525935914912], [4e-08, 0.95]];
    got.forEach(([lr, b1], i) => {
      expect(lr).toBeCloseTo(want[i]![0]!, 15);
      expect(b1).toBeCloseTo(want[i]![1]!, 14);
    });
    expect((opt.paramGroups[0]!.betas as number[])[1]).toBe(0.999);
    expect(() => sched.step()).toThrow(/tried to step 7 times; the specified number of total steps is 6/);
  });

  it('state dict round-trip resumes the schedule', () => {
    const opt = new optim.SGD([param()], { lr: 0.1, momentum: 0.9 });
    const a = new optim.CosineAnnealingLR(opt, { tMax: 5 });
    a.step();
    a.step();
    const sd = JSON.parse(JSON.stringify(a.stateDict())); // survives checkpoint metadata (JSON)
    const opt2 = new optim.SGD([param()], { lr: 0.1, momentum: 0.9 });
    opt2.loadStateDict(JSON.parse(JSON.stringify(opt.stateDict())));
    const b = new optim.CosineAnnealingLR(opt2, { tMax: 5 });
    b.loadStateDict(sd);
    for (let i = 0; i < 4; i++) {
      a.step();
      b.step();
      expect(b.getLastLr()).toEqual(a.getLastLr());
      expect(opt2.paramGroups[0]!.lr).toBe(opt.paramGroups[0]!.lr);
    }
  });
});

describe('clipGradNorm_', () => {
  for (const device of ['cpu', 'webgpu'] as BackendName[]) {
    it(`2-norm, inf-norm and p-norm over several tensors (${device})`, async () => {
      const p = tensor([1, 1], { device, requiresGrad: true });
      const q = tensor([1], { device, requiresGrad: true });
      const r = tensor([1], { device, requiresGrad: true }); // no grad: ignored
      const setGrads = () => {
        p.grad = tensor([3, 4], { device });
        q.grad = tensor([12], { device });
      };
      setGrads();
      // torch.nn.utils.clip_grad_norm_([p, q], 6.5) → 13, grads · 6.5 / (13 + 1e-6)
      const total = nn.utils.clipGradNorm_([p, q, r], 6.5);
      expect(await total.item()).toBeCloseTo(13, 5);
      const c = 6.5 / (13 + 1e-6);
      expect(await p.grad!.toArray()).toEqual([expect.closeTo(3 * c, 6), expect.closeTo(4 * c, 6)]);
      expect(await q.grad!.toArray()).toEqual([expect.closeTo(12 * c, 5)]);
      setGrads();
      expect(await optim.clipGradNorm_([p, q], 100).item()).toBeCloseTo(13, 5); // below maxNorm: unchanged
      expect(await p.grad!.toArray()).toEqual([3, 4]);
      setGrads();
      expect(await nn.utils.clipGradNorm_([p, q], 6, Infinity).item()).toBe(12);
      expect(await q.grad!.toArray()).toEqual([expect.closeTo(6, 4)]);
      setGrads();
      expect(await nn.utils.clipGradNorm_([p, q], 100, 1).item()).toBeCloseTo(19, 5);
    });
  }
});
