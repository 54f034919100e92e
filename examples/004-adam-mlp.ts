// Tutorial 004 ("How to Build a Neural Network from Scratch with PyTorch"): NeuralNet, a
// 784-128-128-10 MLP, CrossEntropyLoss and Adam(lr=0.001), batch 64, 10 epochs; prints the
// model tree, `Epoch: 1, Loss: 0.519` per epoch and `Test accuracy: 0.961`.
//   npx tsx examples/004-adam-mlp.ts [--data DIR] [--epochs 10] [--seed 0] [--limit N]

import { F, data, nn, noGrad, optim, randn, scope, type Tensor } from '../src/index.node.ts';
import { NeuralNet } from '../packages/webgrad-cli/src/recipes/models.ts';
import { mnistPair } from '../packages/webgrad-cli/src/recipes/data.ts';
import { readAll, runIfMain, setup, since } from './lib/cli.ts';

export async function main(argv: string[] = []) {
  const { epochs, dataDir, limit, batchSize, log } = await setup(argv, { epochs: 10, batchSize: 64 });

  // MNIST training and test datasets
  const { train: trainData, test: testData, source } = mnistPair({ dataDir, limit }, new data.ToTensor());
  log(`data: ${trainData.length} training and ${testData.length} test images from ${source}`);
  const trainLoader = new data.DataLoader(trainData, { batchSize, shuffle: true });
  const testLoader = new data.DataLoader(testData, { batchSize, shuffle: false });

  const model = new NeuralNet();
  log(model.toString());

  // The final layer outputs 10 raw values (logits); softmax turns them into probabilities.
  const probsShape = scope(() => {
    const x = randn(64, 784); // random input batch
    const logits = model.call(x);
    const probs = F.softmax(logits, 1);
    return probs.shape;
  });
  log(`[${probsShape.join(', ')}]`);

  const criterion = new nn.CrossEntropyLoss();
  const optimizer = new optim.Adam(model.parameters(), { lr: 0.001 });

  const epochLosses: number[] = [];
  const batchLosses: number[] = [];
  const epochSeconds: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const t0 = performance.now();
    model.train();
    const losses: Tensor[] = [];
    for await (const [images, labels] of trainLoader) {
      const loss = scope(() => {
        const x = images.view(images.shape[0]!, -1); // flatten images
        optimizer.zeroGrad();
        const preds = model.call(x);
        const loss = criterion.call(preds, labels);
        loss.backward();
        optimizer.step();
        return loss.detach();
      });
      losses.push(loss); // total_loss += loss.item(), read once per epoch
      images.dispose();
      labels.dispose();
    }
    const values = await readAll(losses);
    batchLosses.push(...values);
    const totalLoss = values.reduce((a, b) => a + b, 0);
    epochLosses.push(totalLoss / trainLoader.length);
    epochSeconds.push(since(t0));
    log(`Epoch: ${epoch + 1}, Loss: ${epochLosses.at(-1)!.toFixed(3)}  (${epochSeconds.at(-1)!.toFixed(1)} s)`);
  }

  // Evaluating the trained model
  model.eval();
  let correct = 0;
  let total = 0;
  for await (const [images, labels] of testLoader) {
    const hits = noGrad(() =>
      scope(() => {
        const x = images.view(images.shape[0]!, -1);
        const preds = model.call(x).argmax(1);
        return preds.eq(labels).int().sum();
      }),
    );
    correct += await hits.item();
    total += labels.shape[0]!;
    for (const t of [hits, images, labels]) t.dispose();
  }
  log(`Test accuracy: ${(correct / total).toFixed(3)}`);
  return { batchLosses, epochLosses, epochSeconds, testAcc: correct / total };
}

runIfMain(import.meta.url, main);
