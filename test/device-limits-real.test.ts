// Real programs over lavapipe's 128 MiB storage binding, at full size: pytorch/examples' MNIST
// CNN evaluating a test batch of 1000 (conv2's output is 147 MB) and makemore's full-training-
// set loss ([182625, 200] tanh activations, 146 MB), each against the same computation in
// chunks that fit one binding; and the original report: `w.add_(1)` queued, then `ones(40e6)`.
// Inputs are generated with the programs' shapes (bench/large-batch.ts runs real MNIST).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { F, init, manualSeed, nn, noGrad, ones, randint, randn, scope, shutdown, zeros, type Tensor } from '../src/index.ts';
import { gpuRuntime } from '../src/tensor/backends.ts';
import type { GpuStorage } from '../src/kernels/storage.ts';

beforeAll(async () => {
  await init();
});
afterAll(() => shutdown());

const overBinding = (t: Tensor): boolean => (t.storage as GpuStorage).buffer.size > gpuRuntime().limits.maxStorageBufferBindingSize;

/** pytorch/examples mnist/main.py's Net (eval mode: dropout is the identity). */
class Net extends nn.Module {
  conv1 = new nn.Conv2d(1, 32, 3, { stride: 1 });
  conv2 = new nn.Conv2d(32, 64, 3, { stride: 1 });
  dropout1 = new nn.Dropout(0.25);
  dropout2 = new nn.Dropout(0.5);
  fc1 = new nn.Linear(9216, 128);
  fc2 = new nn.Linear(128, 10);
  override forward(x: Tensor): Tensor {
    let h = F.relu(this.conv1.forward(x));
    h = F.relu(this.conv2.forward(h));
    h = F.maxPool2d(h, 2);
    h = this.dropout1.forward(h).flatten(1);
    h = F.relu(this.fc1.forward(h));
    h = this.dropout2.forward(h);
    return F.logSoftmax(this.fc2.forward(h), 1);
  }
}

describe('programs over one storage binding run to the right values', () => {
  it("the original report: with w.add_(1) queued, ones(40e6) works and w keeps its update", async () => {
    const w = zeros([4]);
    w.add_(1);
    const big = ones([40e6]);
    expect(overBinding(big)).toBe(true);
    expect(await big.sum().item()).toBe(40e6);
    expect(Array.from(await w.data())).toEqual([1, 1, 1, 1]);
    big.dispose();
  });

  it('pytorch/examples MNIST CNN: a test batch of 1000 (forward, summed NLL, argmax) equals batches of 250', async () => {
    manualSeed(1);
    const model = new Net();
    model.eval();
    // conv2's output, [1000, 64, 24, 24] floats, is over one binding: conv2d, ReLU and max pooling run in parts.
    expect(1000 * 64 * 24 * 24 * 4).toBeGreaterThan(gpuRuntime().limits.maxStorageBufferBindingSize);
    const x = randn([1000, 1, 28, 28]).mul(0.3081).add(0.1307);
    const target = randint(0, 10, [1000]);
    const [loss, perSample, pred] = noGrad(() => scope(() => {
      const out = model.forward(x);
      return [F.nllLoss(out, target, { reduction: 'sum' }), F.nllLoss(out, target, { reduction: 'none' }), out.argmax(1)];
    }));
    const all = await perSample.data();
    const preds = await pred.data();
    const total = await loss.item();
    expect(Math.abs(total - Array.from(all).reduce((a, b) => a + b, 0))).toBeLessThanOrEqual(1e-5 * Math.abs(total));
    // The first and last 250 (on both sides of where the batch was cut), as batches of 250.
    for (const start of [0, 750]) {
      const [l, p] = noGrad(() => scope(() => {
        const out = model.forward(x.narrow(0, start, 250));
        return [F.nllLoss(out, target.narrow(0, start, 250), { reduction: 'none' }), out.argmax(1)];
      }));
      const want = await l.data();
      want.forEach((v, i) => expect(Math.abs(all[start + i]! - v)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v))));
      expect(Array.from(preds.subarray(start, start + 250))).toEqual(Array.from(await p.data()));
    }
  });

  it("makemore's full-training-set loss: [182625, 200] tanh, @ [200, 27], crossEntropy equals chunks that fit one binding", async () => {
    manualSeed(2);
    const N = 182625;
    const emb = randn([N, 30]);
    const W1 = randn([30, 200]).mul(0.2);
    const b1 = randn([200]).mul(0.1);
    const W2 = randn([200, 27]).mul(0.1);
    const b2 = randn([27]).mul(0.1);
    const Y = randint(0, 27, [N]);
    const [loss, perRow, h] = noGrad(() => scope(() => {
      const hidden = emb.matmul(W1).add(b1).tanh();
      const logits = hidden.matmul(W2).add(b2);
      return [F.crossEntropy(logits, Y), F.crossEntropy(logits, Y, { reduction: 'none' }), hidden];
    }));
    expect(overBinding(h)).toBe(true);
    h.dispose();
    const rows = await perRow.data();
    const full = await loss.item();
    expect(Math.abs(full - Array.from(rows).reduce((a, b) => a + b, 0) / N)).toBeLessThanOrEqual(1e-5 * full);
    // The first and last 40000 rows (on both sides of where the rows were cut) in chunks that fit.
    for (const start of [0, N - 40000]) {
      const l = noGrad(() => scope(() => F.crossEntropy(emb.narrow(0, start, 40000).matmul(W1).add(b1).tanh().matmul(W2).add(b2), Y.narrow(0, start, 40000), { reduction: 'none' })));
      const want = await l.data();
      want.forEach((v, i) => expect(Math.abs(rows[start + i]! - v)).toBeLessThanOrEqual(1e-5 * Math.max(1, v)));
    }
  });
});
