// The training script of tutorial 001, shared by its two networks (001-tiny-cnn.ts,
// 001-pooling-cnn.ts). The tutorial shows the data pipeline, the models, and the logs, not
// the optimizer or the loop; those follow the classic PyTorch MNIST example it builds on
// (pytorch/examples' mnist, as in Gregor Koehler's walk-through): SGD(lr=0.01, momentum=0.5),
// F.nll_loss on the log-softmax output, train batch 64, test batch 1000,
// Normalize((0.1307,), (0.3081,)), a `Train Epoch` line every 10 batches and a `Test set` line
// after every epoch (printed with the tutorial's decimals).

import { F, data, noGrad, optim, scope, type nn, type Tensor } from '../../src/index.node.ts';
import { mnistPair } from '../../packages/webgrad-cli/src/recipes/data.ts';
import { readAll, setup, since } from './cli.ts';

// MNIST's mean and standard deviation (the tutorial's dataset_mean, dataset_std).
const datasetMean = 0.1307;
const datasetStd = 0.3081;
const learningRate = 0.01;
const momentum = 0.5;
const logInterval = 10;
const batchSizeTest = 1000;

export async function trainCnn(argv: string[], makeModel: () => nn.Module) {
  const { epochs: nEpochs, dataDir, limit, batchSize, log } = await setup(argv, { epochs: 100, batchSize: 64 });

  // Load and normalize the train and test data
  const transform = new data.Compose([new data.ToTensor(), new data.Normalize([datasetMean], [datasetStd])]);
  const { train, test, source } = mnistPair({ dataDir, limit }, transform);
  log(`data: ${train.length} training and ${test.length} test images from ${source}`);
  const trainLoader = new data.DataLoader(train, { batchSize, shuffle: true });
  const testLoader = new data.DataLoader(test, { batchSize: batchSizeTest, shuffle: false });

  const network = makeModel();
  const optimizer = new optim.SGD(network.parameters(), { lr: learningRate, momentum });

  const batchLosses: number[] = [];
  const epochLosses: number[] = [];
  const testAccuracy: number[] = [];
  const testLosses: number[] = [];
  const epochSeconds: number[] = [];

  async function trainEpoch(epoch: number): Promise<void> {
    network.train();
    const losses: Tensor[] = [];
    let batchIdx = 0;
    for await (const [x, target] of trainLoader) {
      const loss = scope(() => {
        optimizer.zeroGrad();
        const output = network.call(x);
        const loss = F.nllLoss(output, target);
        loss.backward();
        optimizer.step();
        return loss.detach();
      });
      if (batchIdx % logInterval === 0) {
        const n = train.length;
        const pct = (100 * batchIdx) / trainLoader.length;
        log(`Train Epoch: ${epoch} [${batchIdx * x.shape[0]!}/${n} (${pct.toFixed(2)}%)]\tLoss: ${(await loss.item()).toFixed(5)}`);
      }
      losses.push(loss);
      x.dispose();
      target.dispose();
      batchIdx++;
    }
    const values = await readAll(losses);
    batchLosses.push(...values);
    epochLosses.push(values.reduce((s, v) => s + v, 0) / values.length);
  }

  async function testEpoch(): Promise<void> {
    network.eval();
    let testLoss = 0;
    let correct = 0;
    for await (const [x, target] of testLoader) {
      const [loss, hits] = noGrad(() =>
        scope(() => {
          const output = network.call(x);
          const pred = output.argmax(1);
          return [F.nllLoss(output, target, { reduction: 'sum' }), pred.eq(target).int().sum()];
        }),
      );
      testLoss += await loss.item();
      correct += await hits.item();
      for (const t of [loss, hits, x, target]) t.dispose();
    }
    const n = test.length;
    testLoss /= n;
    testLosses.push(testLoss);
    testAccuracy.push(correct / n);
    log(`\nTest set: Avg. loss: ${testLoss.toFixed(5)}, Accuracy: ${correct}/${n} (${((100 * correct) / n).toFixed(2)}%)\n`);
  }

  for (let epoch = 1; epoch <= nEpochs; epoch++) {
    const t0 = performance.now();
    await trainEpoch(epoch);
    epochSeconds.push(since(t0));
    log(`(epoch ${epoch}: ${epochSeconds.at(-1)!.toFixed(1)} s)`);
    await testEpoch();
  }
  return { batchLosses, epochLosses, testLosses, testAccuracy, epochSeconds };
}
