// Whole training loops: seed 002's from-scratch MLP and its module version give the same loss
// curve from the same weights and batches (on both backends), and a run resumed from a
// checkpoint of model + optimizer + scheduler + RNG reproduces the uninterrupted run.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  F, arange, defaultGenerator, disposeCheckpoint, load, manualSeed, memory, nn, noGrad, optim, rand, randint, save, scope, tensor,
  type BackendName, type Tensor,
} from '../../src/index.node.ts';
import { useGpu } from '../helpers/gpu.ts';

useGpu();

/** Small synthetic MNIST-shaped batches: [batch, 1, 28, 28] in [0, 1) and labels 0..9. */
function batches(n: number, batch: number, device: BackendName): [Tensor, Tensor][] {
  return Array.from({ length: n }, () => [rand([batch, 1, 28, 28], { device }), randint(0, 10, [batch], { device })]);
}

/** Seed 002, part 3: the same network with modules. */
class FullyConnected extends nn.Module {
  linear_1: nn.Linear;
  linear_2: nn.Linear;
  constructor(inputSize: number, hiddenSize: number, outputSize: number, device: BackendName) {
    super();
    this.linear_1 = new nn.Linear(inputSize, hiddenSize, { device });
    this.linear_2 = new nn.Linear(hiddenSize, outputSize, { bias: false, device });
  }
  override forward(x: Tensor): Tensor {
    x = x.reshape(-1, 28 * 28);
    const z = this.linear_1.call(x);
    x = F.relu(z);
    return this.linear_2.call(x); // logits: cross entropy applies the softmax
  }
}

describe("seed 002: from scratch vs modules", () => {
  for (const [device, steps, batch] of [['webgpu', 10, 128], ['cpu', 4, 16]] as [BackendName, number, number][]) {
    it(`the same weights and batches give the same loss curve (${device})`, async () => {
      manualSeed(7);
      const model = new FullyConnected(28 * 28, 500, 10, device);
      // Two batches seen in turn, so the (random) labels can be learned and the loss must fall.
      const two = batches(2, batch, device);
      const data = Array.from({ length: steps }, (_, i) => two[i % 2]!);
      const learningRate = 0.1;

      // Part 2's parameters, taken from the module's (W1 = weightᵀ: the tutorial multiplies x @ W1).
      const W1 = model.linear_1.weight.T.contiguous().detach().requiresGrad_();
      const b = model.linear_1.bias!.clone().detach().requiresGrad_();
      const W2 = model.linear_2.weight.T.contiguous().detach().requiresGrad_();
      const zero = tensor(0.0, { device });
      const relu = (x: Tensor) => x.maximum(zero);
      const softmax = (x: Tensor) => x.exp().div(x.exp().sum(-1, true));
      const scratch = (x: Tensor) => softmax(relu(x.reshape(-1, 28 * 28).matmul(W1).add(b)).matmul(W2));
      const crossEntropyLoss = (predictions: Tensor, targets: Tensor) =>
        predictions.index(arange(predictions.shape[0]!, undefined, 1, { device }), targets).log().mean().neg();

      const scratchLosses: number[] = [];
      for (const [images, labels] of data) {
        const loss = scope(() => {
          const l = crossEntropyLoss(scratch(images), labels);
          l.backward();
          noGrad(() => {
            for (const p of [W1, b, W2]) {
              p.sub_(p.grad!.mul(learningRate));
              p.grad!.zero_();
            }
          });
          return l.detach();
        });
        scratchLosses.push(await loss.item());
      }

      const optimizer = new optim.SGD(model.parameters(), { lr: learningRate });
      const moduleLosses: number[] = [];
      for (const [images, labels] of data) {
        const loss = scope(() => {
          const logits = model.call(images);
          const l = F.crossEntropy(logits, labels);
          l.backward();
          optimizer.step();
          optimizer.zeroGrad();
          return l.detach();
        });
        moduleLosses.push(await loss.item());
      }

      expect(moduleLosses[steps - 2]).toBeLessThan(moduleLosses[0]!); // it learns batch 0
      const tol = device === 'cpu' ? 1e-10 : 2e-5;
      moduleLosses.forEach((l, i) => expect(Math.abs(l - scratchLosses[i]!), `step ${i}: ${l} vs ${scratchLosses[i]}`).toBeLessThan(tol * Math.max(1, l)));
      // And the parameters end where the hand-written updates put them.
      const w1 = await model.linear_1.weight.T.contiguous().data();
      const s1 = await W1.data();
      let worst = 0;
      for (let i = 0; i < w1.length; i++) worst = Math.max(worst, Math.abs(w1[i]! - s1[i]!));
      expect(worst).toBeLessThan(device === 'cpu' ? 1e-12 : 1e-5);
    });
  }
});

describe('resume from a checkpoint', () => {
  /** An MLP with the pieces that carry state: dropout (RNG), batch norm (buffers), Adam (moments, steps). */
  const makeModel = () =>
    new nn.Sequential(new nn.Flatten(), new nn.Linear(784, 64), new nn.BatchNorm1d(64), new nn.ReLU(), new nn.Dropout(0.3), new nn.Linear(64, 10));
  const makeOpt = (m: nn.Module) => new optim.Adam(m.parameters(), { lr: 3e-3, weightDecay: 1e-4, amsgrad: true });
  const makeSched = (o: optim.Optimizer<any>) => new optim.StepLR(o, { stepSize: 3, gamma: 0.5 });

  function trainStep(model: nn.Module, opt: optim.Optimizer<any>, sched: optim.LRScheduler, x: Tensor, y: Tensor): Tensor {
    return scope(() => {
      opt.zeroGrad();
      const loss = F.crossEntropy(model.call(x), y);
      loss.backward();
      opt.step();
      sched.step();
      return loss.detach();
    });
  }

  it('model + optimizer + scheduler + RNG state: the resumed run reproduces the uninterrupted losses', async () => {
    manualSeed(11);
    const data = batches(8, 32, 'webgpu');

    // Uninterrupted: 8 steps.
    manualSeed(12);
    const m1 = makeModel();
    const o1 = makeOpt(m1);
    const s1 = makeSched(o1);
    const full: number[] = [];
    for (const [x, y] of data) full.push(await trainStep(m1, o1, s1, x, y).item());

    // Interrupted after 4 steps: save, then a fresh process-like start (other seed, other init).
    manualSeed(12);
    const m2 = makeModel();
    const o2 = makeOpt(m2);
    const s2 = makeSched(o2);
    const resumed: number[] = [];
    for (const [x, y] of data.slice(0, 4)) resumed.push(await trainStep(m2, o2, s2, x, y).item());
    const path = join(mkdtempSync(join(tmpdir(), 'webgrad-resume-')), 'ckpt.safetensors');
    await save({ model: m2.stateDict(), optimizer: o2.stateDict(), scheduler: s2.stateDict(), rng: defaultGenerator.getState(), step: 4 }, path);

    manualSeed(999);
    const m3 = makeModel();
    const o3 = makeOpt(m3);
    const s3 = makeSched(o3);
    const ck = await load(path);
    m3.loadStateDict(ck.model);
    o3.loadStateDict(ck.optimizer);
    s3.loadStateDict(ck.scheduler);
    defaultGenerator.setState(ck.rng);
    expect(ck.step).toBe(4);
    disposeCheckpoint(ck);
    for (const [x, y] of data.slice(4)) resumed.push(await trainStep(m3, o3, s3, x, y).item());

    expect(o3.paramGroups[0]!.lr).toBe(o1.paramGroups[0]!.lr);
    // float32 precision (in practice the same kernels on the same inputs give the same bits).
    resumed.forEach((l, i) => expect(Math.abs(l - full[i]!), `step ${i}: ${l} vs ${full[i]}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(full[i]!))));
    const p1 = await m1.stateDict()['5.weight']!.data();
    const p3 = await m3.stateDict()['5.weight']!.data();
    expect(Array.from(p3)).toEqual(Array.from(p1));
  });

  it('a training step leaves memory flat', async () => {
    manualSeed(3);
    const model = makeModel();
    const opt = makeOpt(model);
    const sched = makeSched(opt);
    const [x, y] = batches(1, 16, 'webgpu')[0]!;
    for (let i = 0; i < 2; i++) trainStep(model, opt, sched, x, y).dispose(); // state allocated
    const before = memory();
    for (let i = 0; i < 3; i++) trainStep(model, opt, sched, x, y).dispose();
    const after = memory();
    expect(after.liveTensors).toBe(before.liveTensors);
    expect(after.webgpu!.bytesInUse).toBe(before.webgpu!.bytesInUse);
  });
});
