// Tutorial 000 ("Exploring Neural Networks with Pytorch"): SimpleNN, a 784-128-10 MLP trained
// with CrossEntropyLoss and SGD(lr=0.01), batch 100, 5 epochs; logs the loss every 100 batches,
// then `Test Error: Accuracy: 90.5%, Avg loss: 0.34…` and the histogram of predictions against
// labels (as counts here; `webgrad train 000` draws it).
//   npx tsx examples/000-simple-nn.ts [--data DIR] [--epochs 5] [--seed 0] [--limit N]

import { data, nn, noGrad, optim, scope, type Tensor } from '../src/index.node.ts';
import { SimpleNN } from '../packages/webgrad-cli/src/recipes/models.ts';
import { mnistPair } from '../packages/webgrad-cli/src/recipes/data.ts';
import { readAll, runIfMain, setup, since } from './lib/cli.ts';

export async function main(argv: string[] = []) {
  const { epochs, dataDir, limit, batchSize, log } = await setup(argv, { epochs: 5, batchSize: 100 });

  // Define transformations for the dataset
  const transform = new data.Compose([new data.ToTensor()]);
  // Load training and testing datasets
  const { train: trainDataset, test: testDataset, source } = mnistPair({ dataDir, limit }, transform);
  log(`data: ${trainDataset.length} training and ${testDataset.length} test images from ${source}`);
  // Create DataLoaders
  const trainLoader = new data.DataLoader(trainDataset, { batchSize, shuffle: true });
  const testLoader = new data.DataLoader(testDataset, { batchSize, shuffle: false });

  const inputSize = 28 * 28; // Example: 28x28 images
  const hiddenSize = 128;
  const outputSize = 10; // Example: 10 classes
  const model = new SimpleNN(inputSize, hiddenSize, outputSize);

  const lossFn = new nn.CrossEntropyLoss();
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.01 });

  /** Training loop for one epoch; returns every batch's loss. */
  async function trainLoop(dataloader: typeof trainLoader, model: SimpleNN, lossFn: nn.CrossEntropyLoss, optimizer: optim.SGD): Promise<Float32Array> {
    const size = dataloader.dataset.length;
    model.train();
    const losses: Tensor[] = [];
    let batch = 0;
    for await (const [X, y] of dataloader) {
      const loss = scope(() => {
        // Flatten images into vectors
        const x = X.view(X.shape[0]!, -1);
        // Forward pass
        const pred = model.call(x);
        const loss = lossFn.call(pred, y);
        // Backpropagation
        optimizer.zeroGrad();
        loss.backward();
        optimizer.step();
        return loss.detach();
      });
      // Log progress
      if (batch % 100 === 0) {
        const lossCurrent = await loss.item();
        log(`loss: ${lossCurrent.toFixed(6).padStart(7)}  [${String(batch * X.shape[0]!).padStart(5)}/${String(size).padStart(5)}]`);
      }
      losses.push(loss);
      X.dispose();
      y.dispose();
      batch++;
    }
    return readAll(losses);
  }

  const batchLosses: number[] = [];
  const epochSeconds: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const t0 = performance.now();
    batchLosses.push(...(await trainLoop(trainLoader, model, lossFn, optimizer)));
    epochSeconds.push(since(t0));
    log(`(epoch ${epoch + 1}: ${epochSeconds.at(-1)!.toFixed(1)} s)`);
  }

  async function testLoop(dataloader: typeof testLoader, model: SimpleNN, lossFn: nn.CrossEntropyLoss) {
    model.eval();
    const size = dataloader.dataset.length;
    const numBatches = dataloader.length;
    let testLoss = 0;
    let correct = 0;
    const allPreds: number[] = [];
    const allLabels: number[] = [];
    for await (const [X, y] of dataloader) {
      const [loss, hits, predicted] = noGrad(() =>
        scope(() => {
          const x = X.view(X.shape[0]!, -1);
          const pred = model.call(x);
          return [lossFn.call(pred, y), pred.argmax(1).eq(y).float().sum(), pred.argmax(1)];
        }),
      );
      testLoss += await loss.item();
      correct += await hits.item();
      allPreds.push(...(await predicted.data()));
      allLabels.push(...(await y.data()));
      for (const t of [loss, hits, predicted, X, y]) t.dispose();
    }
    testLoss /= numBatches;
    correct /= size;
    return { testLoss, correct, allPreds, allLabels };
  }

  const { testLoss, correct: testAcc, allPreds: pred, allLabels: lab } = await testLoop(testLoader, model, lossFn);
  log(`Test Error: \n Accuracy: ${(100 * testAcc).toFixed(1)}%, Avg loss: ${testLoss.toFixed(6).padStart(8)} \n`);
  log(`(${Math.round(testAcc * testDataset.length)}/${testDataset.length} test images right)`);

  // The tutorial's histogram of predictions against labels, as counts per digit.
  const count = (xs: number[]) => Array.from({ length: 10 }, (_, d) => xs.filter((v) => v === d).length);
  log(`digit        ${Array.from({ length: 10 }, (_, d) => String(d).padStart(5)).join('')}`);
  log(`Predictions  ${count(pred).map((c) => String(c).padStart(5)).join('')}`);
  log(`Labels       ${count(lab).map((c) => String(c).padStart(5)).join('')}`);
  return { batchLosses, epochSeconds, testLoss, testAcc };
}

runIfMain(import.meta.url, main);
