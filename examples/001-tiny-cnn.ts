// Tutorial 001, first network ("A journey through Neural Networks – part 2"): two one-channel
// 3×3 convolutions, Linear(576, 100), dropout, Linear(100, 10), log_softmax; NLL loss, SGD
// (lr 0.01, momentum 0.5: the tutorial shows no optimizer, so this is the classic PyTorch MNIST
// example's choice), Normalize(0.1307, 0.3081), batch 64, 100 epochs. The tutorial reaches
// `Test set: Avg. loss: 0.10831, Accuracy: 9674/10000 (96.74%)`.
//   npx tsx examples/001-tiny-cnn.ts [--data DIR] [--epochs 100] [--seed 0] [--limit N]
// Its one-channel convolutions start almost dead: depending on the seed it may sit at chance
// (11.35 %) for a few epochs before it learns, as PyTorch's does with seed 0.

import { TinyCNN } from '../packages/webgrad-cli/src/recipes/models.ts';
import { runIfMain } from './lib/cli.ts';
import { trainCnn } from './lib/mnist-cnn.ts';

export const main = (argv: string[] = []) => trainCnn(argv, () => new TinyCNN());

runIfMain(import.meta.url, main);
