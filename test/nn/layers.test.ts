// Layers: each wraps its F function (or composes tensor ops) with PyTorch's semantics; batch
// and layer norm are checked against PyTorch's numbers and by gradcheck on both backends.
import { describe, expect, it } from 'vitest';
import { F, gradcheck, manualSeed, nn, noGrad, ones, tensor, type BackendName } from '../../src/index.ts';
import { useGpu } from '../helpers/gpu.ts';
import { input } from '../helpers/data.ts';

useGpu();

const close = (got: ArrayLike<number>, want: readonly number[], tol: number) => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(Math.abs(got[i]! - w), `element ${i}: ${got[i]} vs ${w}`).toBeLessThan(tol * (1 + Math.abs(w))));
};

describe('Linear, Conv2d, pooling, Flatten, Identity', () => {
  it('Linear is x Wᵀ + b; bias: false has none', async () => {
    const fc = new nn.Linear(3, 2);
    const x = tensor([[1, 2, 3], [-1, 0, 2]]);
    const w = (await fc.weight.toArray()) as number[][];
    const b = (await fc.bias!.toArray()) as number[];
    const y = (await fc.call(x).toArray()) as number[][];
    const xs = [[1, 2, 3], [-1, 0, 2]];
    xs.forEach((row, i) => w.forEach((wr, j) => expect(y[i]![j]).toBeCloseTo(row.reduce((s, v, k) => s + v * wr[k]!, b[j]!), 5)));
    const nb = new nn.Linear(3, 2, { bias: false });
    expect(nb.bias).toBeNull();
    expect(nb.parameters()).toHaveLength(1);
    expect(nb.call(x).shape).toEqual([2, 2]);
  });

  it("Conv2d → MaxPool2d → ReLU: seed 001's shapes, and gradients reach every parameter", () => {
    manualSeed(0);
    const conv1 = new nn.Conv2d(1, 20, 5);
    const conv2 = new nn.Conv2d(20, 30, 5);
    const pool = new nn.MaxPool2d(2);
    const x = input([2, 1, 28, 28], { lo: 0, hi: 1, requiresGrad: false });
    let h = pool.call(conv1.call(x)).relu();
    expect(h.shape).toEqual([2, 20, 12, 12]);
    h = pool.call(conv2.call(h)).relu();
    expect(h.shape).toEqual([2, 30, 4, 4]);
    expect(new nn.Flatten().call(h).shape).toEqual([2, 480]);
    h.sum().backward();
    for (const p of [...conv1.parameters(), ...conv2.parameters()]) expect(p.grad?.shape).toEqual(p.shape);
  });

  it('Conv2d options reach F.conv2d; pooling layers equal their F functions', async () => {
    const x = input([1, 2, 7, 7], { requiresGrad: false });
    const conv = new nn.Conv2d(2, 4, 3, { stride: 2, padding: 1, groups: 2 });
    const want = F.conv2d(x, conv.weight, conv.bias, { stride: 2, padding: 1, groups: 2 });
    expect(await conv.call(x).toArray()).toEqual(await want.toArray());
    expect(conv.weight.shape).toEqual([4, 1, 3, 3]);
    expect(new nn.Conv2d(2, 4, 3, { padding: 'same' }).call(x).shape).toEqual([1, 4, 7, 7]);
    expect(await new nn.MaxPool2d(3, { stride: 2, padding: 1 }).call(x).toArray()).toEqual(await F.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }).toArray());
    expect(await new nn.AvgPool2d(2, { ceilMode: true, countIncludePad: false }).call(x).toArray()).toEqual(
      await F.avgPool2d(x, { kernelSize: 2, ceilMode: true, countIncludePad: false }).toArray(),
    );
    expect(() => new nn.Conv2d(3, 4, 3, { groups: 2 })).toThrow(/inChannels \(3\) must be divisible by groups \(2\)/);
  });

  it('Identity returns its input; Flatten keeps the batch dim', () => {
    const x = ones([2, 3, 4]);
    expect(new nn.Identity().call(x)).toBe(x);
    expect(new nn.Flatten().call(x).shape).toEqual([2, 12]);
    expect(new nn.Flatten(0, 1).call(x).shape).toEqual([6, 4]);
  });
});

describe('activations and dropout', () => {
  it('ReLU, Sigmoid, Tanh, GELU, Softmax, LogSoftmax equal their functions', async () => {
    const x = input([3, 5], { requiresGrad: false });
    expect(await new nn.ReLU().call(x).toArray()).toEqual(await x.relu().toArray());
    expect(await new nn.Sigmoid().call(x).toArray()).toEqual(await x.sigmoid().toArray());
    expect(await new nn.Tanh().call(x).toArray()).toEqual(await x.tanh().toArray());
    expect(await new nn.GELU('tanh').call(x).toArray()).toEqual(await F.gelu(x, { approximate: 'tanh' }).toArray());
    expect(await new nn.Softmax(1).call(x).toArray()).toEqual(await F.softmax(x, 1).toArray());
    expect(await new nn.LogSoftmax(0).call(x).toArray()).toEqual(await F.logSoftmax(x, 0).toArray());
    // No dim: PyTorch's legacy implicit dim (1 for 2-D input).
    expect(await new nn.Softmax().call(x).toArray()).toEqual(await F.softmax(x, 1).toArray());
  });

  it('Dropout zeroes ~p in training, scales the rest by 1/(1−p), is the identity in eval', async () => {
    manualSeed(5);
    const d = new nn.Dropout(0.25);
    const x = ones([100, 100]);
    const y = await d.call(x).data();
    const zeros = y.filter((v) => v === 0).length;
    expect(zeros / y.length).toBeGreaterThan(0.22);
    expect(zeros / y.length).toBeLessThan(0.28);
    expect(y.filter((v) => v !== 0).every((v) => Math.abs(v - 1 / 0.75) < 1e-6)).toBe(true);
    d.eval();
    expect(await d.call(x).data()).toEqual(await x.data());
    expect(() => new nn.Dropout(1.5)).toThrow(/between 0 and 1/);
  });

  it('Dropout2d zeroes whole channels', async () => {
    manualSeed(6);
    const y = (await new nn.Dropout2d().call(ones([4, 8, 3, 3])).toArray()) as number[][][][];
    for (const n of y) for (const c of n) {
      const flat = c.flat();
      expect(flat.every((v) => v === 0) || flat.every((v) => v === 2)).toBe(true);
    }
  });
});

/** x[i] = 2·sin(0.37 i), the input the PyTorch snippets below use. */
const sinInput = (shape: number[], device?: BackendName) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 2), { shape, device });
};

describe('BatchNorm and LayerNorm', () => {
  // PyTorch 1.13 (float64):
  //   x = torch.tensor([sin(i*0.37)*2 for i in range(24)]).double().reshape(2,3,2,2)
  //   bn = nn.BatchNorm2d(3).double(); bn.weight/bias = float64 [1.5, -0.5, 2.0] / [0.1, 0.2, -0.3]
  //   y = bn(x); bn(x*0.5+1); print(y, bn.running_mean, bn.running_var); bn.eval(); print(bn(x)[:8])
  const Y = [0.5093980444920533, 1.254906832417907, 1.8995145032378196, 2.3559764326976014, -0.36273003358006756, -0.323689602278079, -0.1378719541322016, 0.16957336389101424, -0.6192129795433505, -1.7053043130549892, -2.7165587315363866, -3.5161076934550177, -1.476199109821826, -1.5423950224492853, -1.3308903688626326, -0.8703113117116379, 1.1615552424092213, 0.7530871992514918, 0.34565968423895077, -0.005583899800329795, 1.500804031331394, 1.7894342908294805, 1.6799049898819616, 1.1870404055469068];
  const RM = [0.044397030767916255, 0.23918072364840803, 0.18084245384672237];
  const RV = [1.0883034710126922, 0.9132639792253993, 1.0512753047690362];
  const YE = [0.03616363011151247, 1.0760627437694663, 1.9752163907810885, 2.6119283431437967, -0.7169540074578007, -0.6807425201288747, -0.508389572507045, -0.22322232750869764];

  for (const device of ['cpu', 'webgpu'] as BackendName[]) {
    it(`BatchNorm2d: batch statistics, running statistics (unbiased), eval mode (${device})`, async () => {
      const tol = device === 'cpu' ? 1e-12 : 1e-5;
      const bn = new nn.BatchNorm2d(3, { device });
      noGrad(() => {
        bn.weight!.copy_(tensor([1.5, -0.5, 2.0], { device }));
        bn.bias!.copy_(tensor([0.1, 0.2, -0.3], { device }));
      });
      const x = sinInput([2, 3, 2, 2], device);
      close(await bn.call(x).data(), Y, tol);
      bn.call(x.mul(0.5).add(1));
      close(await bn.runningMean!.data(), RM, tol);
      close(await bn.runningVar!.data(), RV, tol);
      expect(await bn.numBatchesTracked!.item()).toBe(2);
      bn.eval();
      close((await bn.call(x).data()).slice(0, 8), YE, tol);
      expect(await bn.numBatchesTracked!.item()).toBe(2); // eval does not count
    });
  }

  it('BatchNorm1d with momentum null keeps a cumulative average', async () => {
    // x1 = tensor([cos(i*0.5) for i in range(12)]).reshape(4,3); bn = nn.BatchNorm1d(3, momentum=None); bn(x1); bn(x1*2)
    const x = tensor(Array.from({ length: 12 }, (_, i) => Math.cos(i * 0.5)), { shape: [4, 3] });
    const bn = new nn.BatchNorm1d(3, { momentum: null });
    bn.call(x);
    bn.call(x.mul(2));
    close(await bn.runningMean!.data(), [-0.04876916038632086, -0.0717595411816274, -0.0771806835941797], 1e-5);
    close(await bn.runningVar!.data(), [1.6877462019136116, 1.576325133167745, 1.5438587807600745], 1e-5);
    expect(() => bn.call(ones([1, 3]))).toThrow(/expected more than 1 value per channel when training/);
    expect(() => bn.call(ones([4, 5]))).toThrow(/expected 3 channels in dim 1, got input of shape \[4, 5\]/);
    expect(() => new nn.BatchNorm2d(3).call(ones([4, 3]))).toThrow(/expected 4D input/);
  });

  it('BatchNorm gradients (train mode) and LayerNorm gradients pass gradcheck on both backends', async () => {
    await gradcheck(
      (x, w, b) => {
        const bn = new nn.BatchNorm2d(3, { device: x.device });
        bn.weight = w as nn.Parameter;
        bn.bias = b as nn.Parameter;
        return bn.call(x);
      },
      [input([4, 3, 2, 3]), input([3], { seed: 2 }), input([3], { seed: 3 })],
      { gpuAtol: 1e-4, gpuRtol: 1e-3 },
    );
    await gradcheck(
      (x, w, b) => {
        const ln = new nn.LayerNorm([2, 3], { device: x.device });
        ln.weight = w as nn.Parameter;
        ln.bias = b as nn.Parameter;
        return ln.call(x);
      },
      [input([4, 2, 3]), input([2, 3], { seed: 2 }), input([2, 3], { seed: 3 })],
      { gpuAtol: 1e-4, gpuRtol: 1e-3 },
    );
  });

  it('LayerNorm over the last dims matches PyTorch', async () => {
    // ln = nn.LayerNorm([2, 2]).double(); ln(x)[:8] with x as above
    const x = sinInput([2, 3, 2, 2]);
    const ln = new nn.LayerNorm([2, 2]);
    close((await ln.call(x).data()).slice(0, 8), [-1.4318861042691415, -0.3596318732777752, 0.5674977777208989, 1.2240201998260185, 0.9463569090958881, 0.7607447847578587, -0.12269853955029507, -1.5844031543034514], 1e-5);
    expect(() => ln.call(ones([2, 3]))).toThrow(/does not end with the normalized shape \[2, 2\]/);
  });
});

describe('losses as modules', () => {
  it('equal their F functions, options included; class weights are buffers', async () => {
    const logits = input([6, 4], { requiresGrad: false });
    const labels = tensor([0, 3, 1, 2, 2, 0], { dtype: 'int32' });
    const weight = tensor([1, 2, 0.5, 1]);
    const ce = new nn.CrossEntropyLoss({ weight, labelSmoothing: 0.1 });
    expect(await ce.call(logits, labels).item()).toBe(await F.crossEntropy(logits, labels, { weight, labelSmoothing: 0.1 }).item());
    expect(Object.keys(ce.stateDict())).toEqual(['weight']);
    expect(Object.keys(new nn.CrossEntropyLoss().stateDict())).toEqual([]);
    const lp = F.logSoftmax(logits, 1);
    expect(await new nn.NLLLoss({ reduction: 'sum' }).call(lp, labels).item()).toBe(await F.nllLoss(lp, labels, { reduction: 'sum' }).item());
    const p = logits.sigmoid();
    const t = input([6, 4], { seed: 9, lo: 0, hi: 1, requiresGrad: false });
    expect(await new nn.MSELoss().call(p, t).item()).toBe(await F.mseLoss(p, t).item());
    expect(await new nn.BCELoss().call(p, t).item()).toBe(await F.binaryCrossEntropy(p, t).item());
    const pw = tensor([1, 2, 3, 4]);
    expect(await new nn.BCEWithLogitsLoss({ posWeight: pw }).call(logits, t).item()).toBe(await F.binaryCrossEntropyWithLogits(logits, t, { posWeight: pw }).item());
  });
});
