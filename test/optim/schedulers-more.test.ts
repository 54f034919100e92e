// MultiStepLR, ExponentialLR, LambdaLR, LinearLR, SequentialLR, ChainedScheduler and
// ReduceLROnPlateau against PyTorch 1.13's learning rates over 35 steps (two parameter
// groups), the closed forms behind step(epoch), schedulers composing on one optimizer, state
// dicts that resume a schedule exactly, and bad arguments.
import { describe, expect, it } from 'vitest';
import { optim, parseCheckpoint, serializeCheckpoint, tensor } from '../../src/index.ts';
import { TORCH_CLOSED_FORM, TORCH_LRS, TORCH_PLATEAU } from './torch-schedulers.ts';

/** torch.optim.SGD([{'params': [p]}, {'params': [q], 'lr': 0.03}], lr=0.1, momentum=0.9), on the CPU. */
const sgd = () => new optim.SGD([{ params: [tensor([0], { device: 'cpu', requiresGrad: true })] }, { params: [tensor([0], { device: 'cpu', requiresGrad: true })], lr: 0.03 }], { lr: 0.1, momentum: 0.9 });

const lrsOf = (o: optim.Optimizer<any>): number[] => o.paramGroups.map((g) => g.lr);

/**
 * Equal to PyTorch's float64 value: exactly where both sides do the same arithmetic (the
 * chainable forms multiply), to the last bit or two where a pow or cos comes from another libm.
 */
function expectLrs(got: number[], want: readonly number[], what: string): void {
  want.forEach((w, i) => expect(Math.abs(got[i]! - w), `${what} group ${i}: ${got[i]} vs torch ${w}`).toBeLessThanOrEqual(4 * Number.EPSILON * Math.abs(w)));
}

/** Steps optimizer then scheduler 35 times, checking the lr at each epoch and getLastLr() after each step. */
function expectSchedule(name: string, o: optim.Optimizer<any>, step: () => void, last: () => number[]): void {
  const want = TORCH_LRS[name]!;
  expect(want).toHaveLength(36);
  expectLrs(lrsOf(o), want[0]!, `${name} epoch 0`);
  for (let e = 1; e <= 35; e++) {
    o.step();
    step();
    expectLrs(lrsOf(o), want[e]!, `${name} epoch ${e}`);
    expectLrs(last(), want[e]!, `${name} getLastLr() after step ${e}`);
  }
}

/** The cases of TORCH_LRS, built as the generator builds them. */
const CASES: [string, (o: optim.Optimizer<any>) => optim.LRScheduler][] = [
  ['MultiStepLR', (o) => new optim.MultiStepLR(o, { milestones: [12, 5, 20, 12], gamma: 0.5 })],
  ['ExponentialLR', (o) => new optim.ExponentialLR(o, { gamma: 0.9 })],
  ['LambdaLR', (o) => new optim.LambdaLR(o, { lrLambda: [(e) => 1 / (1 + e), (e) => 0.95 ** e] })],
  ['LinearLR warm-up', (o) => new optim.LinearLR(o, { startFactor: 0.25, totalIters: 8 })],
  ['LinearLR decay', (o) => new optim.LinearLR(o, { startFactor: 1.0, endFactor: 0.1, totalIters: 10 })],
  ['SequentialLR linear, exponential', (o) => new optim.SequentialLR(o, { schedulers: [new optim.LinearLR(o, { startFactor: 0.1, totalIters: 5 }), new optim.ExponentialLR(o, { gamma: 0.9 })], milestones: [5] })],
  [
    'SequentialLR exponential, lambda, multistep, step',
    (o) =>
      new optim.SequentialLR(o, {
        schedulers: [new optim.ExponentialLR(o, { gamma: 0.8 }), new optim.LambdaLR(o, { lrLambda: (e) => 1 + e }), new optim.MultiStepLR(o, { milestones: [3, 6], gamma: 0.5 }), new optim.StepLR(o, { stepSize: 4, gamma: 0.7 })],
        milestones: [4, 10, 22],
      }),
  ],
  ['SequentialLR linear, cosine', (o) => new optim.SequentialLR(o, { schedulers: [new optim.LinearLR(o, { startFactor: 0.5, totalIters: 3 }), new optim.CosineAnnealingLR(o, { tMax: 10, etaMin: 0.001 })], milestones: [6] })],
  [
    'ChainedScheduler linear, exponential, multistep',
    (o) => new optim.ChainedScheduler([new optim.LinearLR(o, { startFactor: 0.2, totalIters: 6 }), new optim.ExponentialLR(o, { gamma: 0.9 }), new optim.MultiStepLR(o, { milestones: [10, 25], gamma: 0.3 })]),
  ],
];

describe('learning rates as PyTorch 1.13, 35 steps, two groups', () => {
  for (const [name, mk] of CASES) {
    it(name, () => {
      const o = sgd();
      const s = mk(o);
      expectSchedule(name, o, () => s.step(), () => s.getLastLr());
    });
  }

  it('StepLR and ExponentialLR on one optimizer compose (the chainable form)', () => {
    const o = sgd();
    const a = new optim.StepLR(o, { stepSize: 4, gamma: 0.5 });
    const b = new optim.ExponentialLR(o, { gamma: 0.95 });
    expectSchedule('StepLR and ExponentialLR on one optimizer', o, () => (a.step(), b.step()), () => b.getLastLr());
  });

  it('step(epoch) jumps with the closed form where PyTorch has one (LambdaLR has none)', () => {
    const mk: Record<string, (o: optim.Optimizer<any>) => optim.LRScheduler> = {
      StepLR: (o) => new optim.StepLR(o, { stepSize: 3, gamma: 0.5 }),
      MultiStepLR: (o) => new optim.MultiStepLR(o, { milestones: [2, 5, 5, 10], gamma: 0.5 }),
      ExponentialLR: (o) => new optim.ExponentialLR(o, { gamma: 0.9 }),
      LinearLR: (o) => new optim.LinearLR(o, { startFactor: 0.25, totalIters: 8 }),
      CosineAnnealingLR: (o) => new optim.CosineAnnealingLR(o, { tMax: 10, etaMin: 0.01 }),
      LambdaLR: (o) => new optim.LambdaLR(o, { lrLambda: (e) => 0.5 + e }),
    };
    expect(Object.keys(mk).sort()).toEqual(Object.keys(TORCH_CLOSED_FORM).sort());
    for (const [name, want] of Object.entries(TORCH_CLOSED_FORM)) {
      const o = sgd();
      const s = mk[name]!(o);
      [3, 7, 2, 12, 0, 30, 5].forEach((epoch, i) => {
        s.step(epoch);
        expect(s.lastEpoch).toBe(epoch);
        expectLrs(lrsOf(o), want[i]!, `${name}.step(${epoch})`);
      });
    }
  });
});

// The metric sequence of the generator (torch.optim.lr_scheduler.ReduceLROnPlateau).
const METRICS = [1.0, 0.9, 0.95, 0.9, 0.91, 0.89999, 0.88, 0.88, 0.88, 0.88, 0.87, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.4, 0.4, 0.4, 0.4, 0.4, Number.NaN, 0.4, 0.4, 0.4, 0.4];
const PLATEAU: Record<string, optim.ReduceLROnPlateauOptions> = {
  'min rel': { factor: 0.5, patience: 2 },
  'min abs cooldown minLr': { factor: 0.3, patience: 1, threshold: 0.01, thresholdMode: 'abs', cooldown: 2, minLr: [0.01, 0.005] },
  'max rel': { mode: 'max', factor: 0.5, patience: 0, threshold: 0.05 },
  'max abs eps': { mode: 'max', thresholdMode: 'abs', factor: 0.9, patience: 1, eps: 0.005, threshold: 0 },
};

describe('ReduceLROnPlateau as PyTorch 1.13', () => {
  for (const [name, opts] of Object.entries(PLATEAU)) {
    it(`${name}: 35 metrics (a NaN among them)`, () => {
      const o = sgd();
      const s = new optim.ReduceLROnPlateau(o, opts);
      expect(s.getLastLr()).toEqual([0.1, 0.03]);
      METRICS.forEach((m, i) => {
        s.step(m);
        expectLrs(s.getLastLr(), TORCH_PLATEAU[name]![i]!, `${name} after metric ${i}`);
        expect(lrsOf(o)).toEqual(s.getLastLr());
      });
    });
  }

  it('resumes from its state dict through a checkpoint (best = ±Infinity survives), and rejects bad options', async () => {
    const o = sgd();
    const a = new optim.ReduceLROnPlateau(o, PLATEAU['min abs cooldown minLr']);
    const sd0 = a.stateDict();
    expect(sd0.best).toBe(Infinity);
    METRICS.slice(0, 12).forEach((m) => a.step(m));
    const ck = parseCheckpoint(await serializeCheckpoint({ opt: o.stateDict() as never, sched: a.stateDict() as never, fresh: sd0 as never }));
    expect(ck.fresh.best).toBe(Infinity);
    const o2 = sgd();
    o2.loadStateDict(ck.opt);
    const b = new optim.ReduceLROnPlateau(o2);
    b.loadStateDict(ck.sched);
    for (const m of METRICS.slice(12)) {
      a.step(m);
      b.step(m);
      expect(b.getLastLr()).toEqual(a.getLastLr());
    }
    expect(() => new optim.ReduceLROnPlateau(o, { factor: 1 })).toThrow(/ReduceLROnPlateau: factor should be < 1.0, got 1/);
    expect(() => new optim.ReduceLROnPlateau(o, { mode: 'up' as 'min' })).toThrow(/mode up is unknown/);
    expect(() => new optim.ReduceLROnPlateau(o, { minLr: [0.1] })).toThrow(/expected 2 minLrs, got 1/);
    expect(() => b.loadStateDict({ ...b.stateDict(), thresholdMode: 'x' })).toThrow(/threshold mode x is unknown/);
    expect(b.thresholdMode).toBe('abs');
    expect(() => a.step(tensor([1], { device: 'cpu' }) as unknown as number)).toThrow(/expects the metric as a number/);
  });
});

describe('state dicts resume a schedule exactly', () => {
  for (const [name, mk] of CASES) {
    it(`${name}: saved after 7 steps (through a checkpoint), loaded into a fresh optimizer and scheduler`, async () => {
      const o = sgd();
      const a = mk(o);
      for (let i = 0; i < 7; i++) a.step();
      const ck = parseCheckpoint(await serializeCheckpoint({ opt: o.stateDict() as never, sched: a.stateDict() as never }));
      // As in PyTorch: build the optimizer and the scheduler, then load both states.
      const o2 = sgd();
      const b = mk(o2);
      o2.loadStateDict(ck.opt);
      b.loadStateDict(ck.sched);
      expect(lrsOf(o2)).toEqual(lrsOf(o));
      for (let i = 7; i < 35; i++) {
        a.step();
        b.step();
        expect(b.getLastLr(), `${name} step ${i + 1}`).toEqual(a.getLastLr());
        expect(lrsOf(o2)).toEqual(lrsOf(o));
      }
    });
  }

  it("LambdaLR's state dict holds no functions, as PyTorch (a null per group)", () => {
    const o = sgd();
    const s = new optim.LambdaLR(o, { lrLambda: (e) => 0.9 ** e });
    const sd = s.stateDict();
    expect(sd.lrLambdas).toEqual([null, null]);
    expect(JSON.parse(JSON.stringify(sd))).toEqual(sd);
    s.loadStateDict(sd);
    expect(typeof s.lrLambdas[0]).toBe('function');
  });

  it('SequentialLR and ChainedScheduler nest their schedulers\' state dicts, and check their count', () => {
    const o = sgd();
    const seq = CASES[5]![1](o) as optim.SequentialLR;
    const sd = seq.stateDict();
    expect(Object.keys(sd)).toEqual(expect.arrayContaining(['lastEpoch', 'milestones', 'schedulers']));
    expect((sd.schedulers as object[])[1]).toMatchObject({ gamma: 0.9 });
    expect(() => seq.loadStateDict({ ...sd, schedulers: [] })).toThrow(/SequentialLR.loadStateDict: expects the states of 2 schedulers/);
  });
});

describe('bad arguments', () => {
  it('name the scheduler and the value at fault', () => {
    const o = sgd();
    const other = sgd();
    expect(() => new optim.MultiStepLR(o, { milestones: [1.5] })).toThrow(/MultiStepLR: milestones must be a list of integer epochs/);
    expect(() => new optim.LambdaLR(o, { lrLambda: [(e) => e] })).toThrow(/LambdaLR: expected 2 lrLambdas \(one per parameter group\), but got 1/);
    expect(() => new optim.LinearLR(o, { startFactor: 0 })).toThrow(/LinearLR: starting multiplicative factor expected to be greater than 0/);
    expect(() => new optim.LinearLR(o, { endFactor: 1.5 })).toThrow(/ending multiplicative factor expected to be between 0 and 1/);
    const lin = new optim.LinearLR(o);
    expect(() => new optim.SequentialLR(o, { schedulers: [lin, new optim.ExponentialLR(other, { gamma: 0.9 })], milestones: [3] })).toThrow(/SequentialLR: expects all schedulers to belong to the same optimizer/);
    expect(() => new optim.SequentialLR(o, { schedulers: [lin], milestones: [3] })).toThrow(/number of schedulers 1 and the number of milestones to be equal to 1/);
    expect(() => new optim.ChainedScheduler([lin, new optim.ExponentialLR(other, { gamma: 0.9 })])).toThrow(/ChainedScheduler: expects all schedulers to belong to the same optimizer, but got schedulers at index 0 and 1/);
    expect(() => new optim.ChainedScheduler([])).toThrow(/non-empty list/);
    expect(() => lin.step(1.5)).toThrow(/LinearLR.step: epoch must be an integer/);
  });

  it('every scheduler is exported under optim.lrScheduler too, as torch.optim.lr_scheduler', () => {
    for (const k of ['MultiStepLR', 'ExponentialLR', 'LambdaLR', 'LinearLR', 'SequentialLR', 'ChainedScheduler', 'ReduceLROnPlateau'] as const) expect(optim.lrScheduler[k]).toBe(optim[k]);
  });
});
