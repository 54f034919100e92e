// Tutorial 002, part 2 ("Neural networks with PyTorch"): a fully-connected network from
// scratch with raw tensors: W1 = randn(784, 500)/√784, b = zeros(500), W2 = randn(500, 10)/√500,
// a hand-written softmax and cross-entropy (`preds[arange(n), targets]`), and manual SGD
// (lr 0.1) inside noGrad; MNIST's training set split 55 000 / 5 000 by randomSplit, batch 128,
// 40 epochs. Prints `Training Loss: …, Validation Loss: …, Accuracy: …` per epoch.
//   npx tsx examples/002-mlp-from-scratch.ts [--data DIR] [--epochs 40] [--seed 7] [--limit N]
// Without --data it trains on the embedded digits (7 996, split 7 330 / 666 in the same ratio).

import { cat, data, noGrad, randn, scope, sqrt, tensor, zeros, type Tensor } from '../src/index.node.ts';
import { accuracy, crossEntropyLoss, relu, softmax } from '../packages/webgrad-cli/src/recipes/scratch.ts';
import { mnistPair, trainValidationSplit } from '../packages/webgrad-cli/src/recipes/data.ts';
import { readAll, runIfMain, setup, since } from './lib/cli.ts';

export async function main(argv: string[] = []) {
  // torch.manual_seed(7), as the tutorial
  const { epochs: nEpochs, dataDir, limit, batchSize, log } = await setup(argv, { epochs: 40, batchSize: 128, seed: 7 });

  const { train: mnistTrain, source } = mnistPair({ dataDir, limit }, new data.ToTensor());
  // Split the training set into training and validation
  const [trainData, validationData] = trainValidationSplit(mnistTrain);
  log(`data: ${trainData.length} training and ${validationData.length} validation images from ${source}`);
  const trainLoader = new data.DataLoader(trainData, { batchSize, shuffle: true });
  const valLoader = new data.DataLoader(validationData, { batchSize, shuffle: false });

  const inputSize = 28 * 28;
  const hiddenSize = 500;
  const nClasses = 10;

  // Input to hidden
  const W1 = scope(() => randn(inputSize, hiddenSize).div(sqrt(tensor(inputSize))));
  W1.requiresGrad_();
  const b = zeros(hiddenSize, { requiresGrad: true });
  // Hidden to output
  const W2 = scope(() => randn(hiddenSize, nClasses).div(sqrt(tensor(hiddenSize))));
  W2.requiresGrad_();

  /** Neural network model. */
  function model(x: Tensor): Tensor {
    x = x.reshape(-1, 28 * 28); // Flatten the image
    let z = x.matmul(W1).add(b); // First linear transformation
    x = relu(z); // Hidden layer activation
    z = x.matmul(W2); // Second linear transformation
    return softmax(z); // Output layer activation
  }

  const learningRate = 0.1;
  const trainingLoss: number[] = [];
  const validationLoss: number[] = [];
  const validationAccuracy: number[] = [];
  const batchLosses: number[] = [];
  const epochSeconds: number[] = [];

  for (let epoch = 0; epoch < nEpochs; epoch++) {
    const t0 = performance.now();
    const losses: Tensor[] = [];
    for await (const [images, labels] of trainLoader) {
      const loss = scope(() => {
        const preds = model(images);
        const loss = crossEntropyLoss(preds, labels);
        loss.backward();
        // Gradient descent step
        noGrad(() => {
          // Update parameters
          W1.sub_(W1.grad!.mul(learningRate));
          b.sub_(b.grad!.mul(learningRate));
          W2.sub_(W2.grad!.mul(learningRate));
          // Reset gradients
          W1.grad!.zero_();
          b.grad!.zero_();
          W2.grad!.zero_();
        });
        return loss.detach();
      });
      losses.push(loss); // epoch_loss += loss.item(), read once per epoch
      images.dispose();
      labels.dispose();
    }
    const values = await readAll(losses);
    batchLosses.push(...values);
    trainingLoss.push(values.reduce((s, v) => s + v, 0) / trainLoader.length);
    epochSeconds.push(since(t0));

    const valLosses: Tensor[] = [];
    const valPreds: Tensor[] = [];
    const valTargets: Tensor[] = [];
    for await (const [images, labels] of valLoader) {
      const [preds, loss] = noGrad(() =>
        scope(() => {
          const preds = model(images);
          return [preds, crossEntropyLoss(preds, labels)];
        }),
      );
      valLosses.push(loss);
      valPreds.push(preds);
      valTargets.push(labels);
      images.dispose();
    }
    const valAcc = await scope(() => accuracy(cat(valPreds), cat(valTargets))).item();
    for (const t of [...valPreds, ...valTargets]) t.dispose();
    const v = await readAll(valLosses);
    validationLoss.push(v.reduce((s, x) => s + x, 0) / valLoader.length);
    validationAccuracy.push(valAcc);

    log(
      `Training Loss: ${trainingLoss.at(-1)!.toFixed(4)}, Validation Loss: ${validationLoss.at(-1)!.toFixed(4)}, Accuracy: ${valAcc.toFixed(4)}` +
        `  (epoch ${epoch + 1}: ${epochSeconds.at(-1)!.toFixed(1)} s)`,
    );
  }
  return { batchLosses, trainingLoss, validationLoss, validationAccuracy, epochSeconds };
}

runIfMain(import.meta.url, main);
