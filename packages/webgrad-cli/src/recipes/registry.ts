// The CLI's recipes: one entry per tutorial experiment with the tutorial's hyper-parameters,
// data, model, loss, optimizer and log lines. The models and raw-tensor helpers they use are
// the ones the examples use (models.ts, scratch.ts); the loops that run them are trainer.ts.
//   import { RECIPES, getRecipe } from './registry.ts';

import { F, data, optim, type nn, type Tensor } from 'webgrad';
import { mnistPair, tinyPair, trainValidationSplit, type DataChoice } from './data.ts';
import { FullyConnected, NeuralNet, PoolingCNN, SimpleNN, TinyCNN } from './models.ts';
import { Linear37, ManualSGD, ScratchMLP, TwoLayer37, crossEntropyLoss, mnistLoss } from './scratch.ts';

/** What steps the parameters: an optim.Optimizer, or the tutorials' manual update. */
export interface Stepper {
  step(): void;
  zeroGrad(): void;
  stateDict(): any;
  loadStateDict(s: any): void;
}

/** A sample as the loaders give it: an image (or a flat 784 row) and its label. */
export type RecipeDataset = data.Dataset<[data.HostTensor, number | data.HostTensor]>;

export interface RecipeData {
  train: RecipeDataset;
  /** The test set, or the validation split for the recipes whose tutorial validates. */
  eval: RecipeDataset;
  source: string;
}

export interface Hyper {
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
}

/** One epoch's numbers, as metrics.json stores them. */
export interface EpochMetrics {
  epoch: number;
  /** Mean training loss over the epoch's batches. */
  trainLoss: number;
  /** Mean loss per evaluation sample. */
  evalLoss: number;
  /** Fraction of evaluation samples classified right (003: mean of batch accuracies, as the tutorial). */
  evalAccuracy: number;
  /** Seconds of training (the evaluation excluded). */
  seconds: number;
  evalSeconds: number;
}

export interface Recipe {
  id: string;
  /** Other names accepted on the command line. */
  aliases: string[];
  title: string;
  /** The tutorial's text file (the five PyTorch MNIST tutorials this project reproduces). */
  tutorial: string;
  /** The example script with the same experiment. */
  example: string;
  defaults: Hyper;
  /** 'test' or 'validation', for the logs and plots. */
  evalName: 'test' | 'validation';
  evalBatchSize: number;
  /** Display name of each class index (003: 0 → "7", 1 → "3"). */
  classNames: string[];
  /** The tutorial's reported result, for `webgrad recipes`. */
  reported: string;
  data(choice: DataChoice): RecipeData;
  model(): nn.Module;
  optimizer(model: nn.Module, lr: number): Stepper;
  /** The model input for a loader batch (000 and 004 flatten the images in their loops). */
  input(x: Tensor): Tensor;
  loss(output: Tensor, target: Tensor): Tensor;
  /** Predicted class per sample, int32 [B]. */
  predict(output: Tensor): Tensor;
  /**
   * 'overall': right / samples; 'batch-mean': the mean of the batches' accuracies, as tutorial
   * 003's validate_epoch computes it (its last batch is smaller, so the two differ slightly).
   */
  accuracyMode: 'overall' | 'batch-mean';
  /** The tutorial's per-batch log line, printed every `every` batches. */
  batchLog?: { every: number; line(a: { epoch: number; batch: number; seen: number; size: number; batches: number; loss: number }): string };
  /** The tutorial's per-epoch log line(s). */
  epochLog(m: EpochMetrics, evalSize: number): string;
}

const digits = Array.from({ length: 10 }, (_, d) => String(d));
const flatten = (x: Tensor): Tensor => x.view(x.shape[0]!, -1);
const same = (x: Tensor): Tensor => x;
const argmax1 = (out: Tensor): Tensor => out.argmax(1);
const sgd = (momentum = 0) => (model: nn.Module, lr: number) => new optim.SGD(model.parameters(), { lr, momentum });
const pct = (x: number, d = 1) => `${(100 * x).toFixed(d)}%`;

/** `loss: 0.301234  [ 6400/60000]` every 100 batches (tutorial 000's train_loop). */
const lossEvery100 = {
  every: 100,
  line: ({ loss, seen, size }: { loss: number; seen: number; size: number }) =>
    `loss: ${loss.toFixed(6).padStart(7)}  [${String(seen).padStart(5)}/${String(size).padStart(5)}]`,
};

/** Tutorial 001's `Train Epoch: 1 [640/60000 (1.07%)]  Loss: 2.30123`, every 10 batches. */
const trainEpochLine = {
  every: 10,
  line: ({ epoch, batch, seen, size, batches, loss }: { epoch: number; batch: number; seen: number; size: number; batches: number; loss: number }) =>
    `Train Epoch: ${epoch} [${seen}/${size} (${((100 * batch) / batches).toFixed(2)}%)]\tLoss: ${loss.toFixed(5)}`,
};

const cnnTransform = () => new data.Compose([new data.ToTensor(), new data.Normalize([0.1307], [0.3081])]);

function splitData(choice: DataChoice): RecipeData {
  const { train, source } = mnistPair(choice, new data.ToTensor());
  const [tr, val] = trainValidationSplit(train);
  return { train: tr, eval: val, source };
}

function testData(choice: DataChoice, transform: data.TransformLike<data.HostTensor, data.HostTensor>): RecipeData {
  const { train, test, source } = mnistPair(choice, transform);
  return { train, eval: test, source };
}

function tinyData(choice: DataChoice): RecipeData {
  const { train, valid, source } = tinyPair(choice);
  return { train, eval: valid, source };
}

const cnn = (id: string, aliases: string[], title: string, example: string, reported: string, model: () => nn.Module): Recipe => ({
  id,
  aliases,
  title,
  tutorial: '001_ba66d84109ea3a08.txt',
  example,
  // Not shown by the tutorial: the classic PyTorch MNIST example's SGD(lr 0.01, momentum 0.5).
  defaults: { epochs: 100, batchSize: 64, lr: 0.01, seed: 0 },
  evalName: 'test',
  evalBatchSize: 1000,
  classNames: digits,
  reported,
  data: (c) => testData(c, cnnTransform()),
  model,
  optimizer: sgd(0.5),
  input: same,
  loss: (out, t) => F.nllLoss(out, t),
  predict: argmax1,
  accuracyMode: 'overall',
  batchLog: trainEpochLine,
  epochLog: (m, n) =>
    `Test set: Avg. loss: ${m.evalLoss.toFixed(5)}, Accuracy: ${Math.round(m.evalAccuracy * n)}/${n} (${pct(m.evalAccuracy, 2)})`,
});

const threeVsSeven = (id: string, aliases: string[], title: string, example: string, reported: string, model: () => nn.Module): Recipe => ({
  id,
  aliases,
  title,
  tutorial: '003_78b16949bc2063c3.txt',
  example,
  defaults: { epochs: 20, batchSize: 256, lr: 1, seed: 100 },
  evalName: 'validation',
  evalBatchSize: 256,
  classNames: ['7', '3'],
  reported,
  data: tinyData,
  model,
  optimizer: (m, lr) => new ManualSGD(m.parameters(), lr),
  input: same,
  loss: mnistLoss,
  predict: (out) => out.sigmoid().gt(0.5).int().view(-1),
  accuracyMode: 'batch-mean',
  epochLog: (m) => `Epoch ${m.epoch - 1} accuracy: ${Math.round(m.evalAccuracy * 1e4) / 1e4}`,
});

/** Every recipe, in the order of the tutorials. */
export const RECIPES: readonly Recipe[] = [
  {
    id: '000',
    aliases: ['000-simple-nn', 'simple-nn'],
    title: 'SimpleNN 784-128-10, SGD lr 0.01 (tutorial 000)',
    tutorial: '000_4b8c0f21cdfe8834.txt',
    example: 'examples/000-simple-nn.ts',
    defaults: { epochs: 5, batchSize: 100, lr: 0.01, seed: 0 },
    evalName: 'test',
    evalBatchSize: 100,
    classNames: digits,
    reported: 'test accuracy 90.5 %, avg loss 0.341',
    data: (c) => testData(c, new data.Compose([new data.ToTensor()])),
    model: () => new SimpleNN(28 * 28, 128, 10),
    optimizer: sgd(),
    input: flatten,
    loss: (out, t) => F.crossEntropy(out, t),
    predict: argmax1,
    accuracyMode: 'overall',
    batchLog: lossEvery100,
    epochLog: (m) => `Test Error: \n Accuracy: ${pct(m.evalAccuracy)}, Avg loss: ${m.evalLoss.toFixed(6).padStart(8)} \n`,
  },
  cnn('001-tiny', ['001-tiny-cnn', 'tiny-cnn'], 'Tiny CNN, two 1-channel 3×3 convolutions (tutorial 001)', 'examples/001-tiny-cnn.ts', 'test 96.74 % (9674/10000), avg loss 0.108', () => new TinyCNN()),
  cnn('001-pool', ['001-pooling-cnn', 'pooling-cnn'], 'CNN with max pooling and dropout (tutorial 001)', 'examples/001-pooling-cnn.ts', 'test 99.37 % (9937/10000), avg loss 0.0237', () => new PoolingCNN()),
  {
    id: '002-scratch',
    aliases: ['002-mlp-from-scratch', 'scratch'],
    title: 'MLP 784-500-10 from raw tensors, manual SGD lr 0.1 (tutorial 002, part 2)',
    tutorial: '002_eeb7919d4ade13c8.txt',
    example: 'examples/002-mlp-from-scratch.ts',
    defaults: { epochs: 40, batchSize: 128, lr: 0.1, seed: 7 },
    evalName: 'validation',
    evalBatchSize: 128,
    classNames: digits,
    reported: 'validation accuracy 98.04 % (epoch 1: 91.56 %)',
    data: splitData,
    model: () => new ScratchMLP(),
    optimizer: (m, lr) => new ManualSGD(m.parameters(), lr),
    input: same,
    loss: crossEntropyLoss,
    predict: argmax1,
    accuracyMode: 'overall',
    epochLog: (m) => `Training Loss: ${m.trainLoss.toFixed(4)}, Validation Loss: ${m.evalLoss.toFixed(4)}, Accuracy: ${m.evalAccuracy.toFixed(4)}`,
  },
  {
    id: '002-modules',
    aliases: ['002-mlp-modules', 'modules'],
    title: 'FullyConnected 784-500-10 with nn modules, optim.SGD lr 0.1 (tutorial 002, part 3)',
    tutorial: '002_eeb7919d4ade13c8.txt',
    example: 'examples/002-mlp-modules.ts',
    defaults: { epochs: 40, batchSize: 128, lr: 0.1, seed: 7 },
    evalName: 'validation',
    evalBatchSize: 128,
    classNames: digits,
    reported: 'validation accuracy 97.90 % (epoch 1: 90.54 %)',
    data: splitData,
    model: () => new FullyConnected(28 * 28, 500, 10),
    optimizer: sgd(),
    input: same,
    loss: (out, t) => F.crossEntropy(out, t),
    predict: argmax1,
    accuracyMode: 'overall',
    epochLog: (m) => `Training Loss: ${m.trainLoss.toFixed(4)}, Validation Loss: ${m.evalLoss.toFixed(4)}, Accuracy: ${m.evalAccuracy.toFixed(4)}`,
  },
  threeVsSeven('003-linear', ['003-linear-3v7', 'linear'], '3-vs-7 linear model x@w+b, lr 1 (tutorial 003)', 'examples/003-linear-3v7.ts', 'validation accuracy 93.48 %', () => new Linear37()),
  threeVsSeven('003-two-layer', ['003-two-layer-3v7', 'two-layer'], '3-vs-7 two-layer net 784-30-1, lr 1 (tutorial 003)', 'examples/003-two-layer-3v7.ts', 'validation accuracy 96.02 %', () => new TwoLayer37()),
  {
    id: '004',
    aliases: ['004-adam-mlp', 'adam'],
    title: 'NeuralNet 784-128-128-10, Adam lr 0.001 (tutorial 004)',
    tutorial: '004_c05f1281b3dd7d4e.txt',
    example: 'examples/004-adam-mlp.ts',
    defaults: { epochs: 10, batchSize: 64, lr: 0.001, seed: 0 },
    evalName: 'test',
    evalBatchSize: 64,
    classNames: digits,
    reported: 'train loss 0.113 at epoch 10, test accuracy 96.1 %',
    data: (c) => testData(c, new data.ToTensor()),
    model: () => new NeuralNet(),
    optimizer: (m, lr) => new optim.Adam(m.parameters(), { lr }),
    input: flatten,
    loss: (out, t) => F.crossEntropy(out, t),
    predict: argmax1,
    accuracyMode: 'overall',
    epochLog: (m) => `Epoch: ${m.epoch}, Loss: ${m.trainLoss.toFixed(3)}  (test accuracy: ${m.evalAccuracy.toFixed(3)})`,
  },
];

/** The recipe called `name` (its id or an alias), or undefined. */
export function findRecipe(name: string): Recipe | undefined {
  const n = name.toLowerCase();
  return RECIPES.find((r) => r.id === n || r.aliases.includes(n));
}

/** A recipe name that is not one: the message lists the valid ones. */
export class UnknownRecipeError extends Error {
  override name = 'UnknownRecipeError';
  constructor(readonly recipe: string) {
    super(`unknown recipe "${recipe}". Valid recipes: ${RECIPES.map((r) => r.id).join(', ')} (see \`webgrad recipes\`)`);
  }
}

/** The recipe called `name`; throws UnknownRecipeError listing the valid ones. */
export function getRecipe(name: string): Recipe {
  const r = findRecipe(name);
  if (!r) throw new UnknownRecipeError(name);
  return r;
}
