// Tutorial 002, part 3 ("Deep learning à la torch"): the same network with modules:
// FullyConnected = Linear(784, 500) → F.relu → Linear(500, 10, bias=False), F.crossEntropy on
// the logits, optim.SGD(lr=0.1); MNIST's training set split 55 000 / 5 000, batch 128, 40
// epochs. Prints `Training Loss: …, Validation Loss: …, Accuracy: …` per epoch.
//   npx tsx examples/002-mlp-modules.ts [--data DIR] [--epochs 40] [--seed 7] [--limit N]

import { F, cat, data, noGrad, optim, scope, type Tensor } from '../src/index.node.ts';
import { FullyConnected } from '../packages/webgrad-cli/src/recipes/models.ts';
import { accuracy } from '../packages/webgrad-cli/src/recipes/scratch.ts';
import { mnistPair, trainValidationSplit } from '../packages/webgrad-cli/src/recipes/data.ts';
import { readAll, runIfMain, setup, since } from './lib/cli.ts';

export async function main(argv: string[] = []) {
  const { epochs: nEpochs, dataDir, limit, batchSize, log } = await setup(argv, { epochs: 40, batchSize: 128, seed: 7 });

  const { train: mnistTrain, source } = mnistPair({ dataDir, limit }, new data.ToTensor());
  const [trainData, validationData] = trainValidationSplit(mnistTrain);
  log(`data: ${trainData.length} training and ${validationData.length} validation images from ${source}`);
  const trainLoader = new data.DataLoader(trainData, { batchSize, shuffle: true });
  const valLoader = new data.DataLoader(validationData, { batchSize, shuffle: false });

  const model = new FullyConnected(28 * 28, 500, 10);
  const learningRate = 0.1;
  // Stochastic gradient descent, in order to faithfully reproduce the results of part 2.
  const optimizer = new optim.SGD(model.parameters(), { lr: learningRate });

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
        const logits = model.call(images);
        const loss = F.crossEntropy(logits, labels);
        loss.backward();
        optimizer.step();
        optimizer.zeroGrad();
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
      const [probs, loss] = noGrad(() =>
        scope(() => {
          const logits = model.call(images);
          return [F.softmax(logits, 1), F.crossEntropy(logits, labels)];
        }),
      );
      valLosses.push(loss);
      valPreds.push(probs);
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
