// Tutorial 003 ("Neural Network Foundations (Part 1)"), the linear model: tell 3s from 7s in
// MNIST_TINY (709 training images) with `xb @ weights + bias`, weights from init_params
// (randn, std 1), sigmoid + `where(target == 1, 1 - p, p).mean()` as the loss, batch 256, the
// manual step `p.data -= p.grad * lr` with lr 1, 20 epochs; prints `Epoch i accuracy: 0.9348`.
//   npx tsx examples/003-linear-3v7.ts [--data DIR] [--epochs 20] [--seed 100] [--limit N]
// The std-1 initialisation saturates the sigmoid, so the result swings with the seed (PyTorch:
// 54.6–92.5 % over seeds 0–19); judge a run against that spread.

import type { Tensor } from '../src/index.node.ts';
import { initParams } from '../packages/webgrad-cli/src/recipes/scratch.ts';
import { readAll, runIfMain, setup } from './lib/cli.ts';
import { loaders, trainEpoch, validateEpoch } from './lib/mnist-tiny.ts';

export async function main(argv: string[] = []) {
  // torch.manual_seed(100), as the tutorial
  const opts = await setup(argv, { epochs: 20, batchSize: 256, seed: 100 });
  const { log } = opts;
  const { dl, validDl } = loaders(opts, log);

  // Here is the function to minimize: xw + b
  const weights = initParams([28 * 28, 1]);
  const bias = initParams(1);
  const linear1 = (xb: Tensor) => xb.matmul(weights).add(bias);

  log(`validate_epoch(linear1) before training: ${await validateEpoch(validDl, linear1)}`);
  const params = [weights, bias];
  const lr = 1;
  const accuracy: number[] = [];
  const batchLosses: number[] = [];
  for (let i = 0; i < opts.epochs; i++) {
    batchLosses.push(...(await readAll(await trainEpoch(dl, linear1, lr, params))));
    accuracy.push(await validateEpoch(validDl, linear1));
    log(`Epoch ${i} accuracy: ${accuracy.at(-1)}`);
  }
  return { batchLosses, accuracy };
}

runIfMain(import.meta.url, main);
