// Tutorial 003, the neural network: `simple_net` = xb @ w1 + b1 → max(0) → @ w2 + b2
// (784-30-1, every tensor from init_params: randn, std 1) on MNIST_TINY's 3s and 7s, the same
// sigmoid loss and manual step (lr 1, batch 256), 20 epochs; prints `Epoch i accuracy: 0.9602`.
//   npx tsx examples/003-two-layer-3v7.ts [--data DIR] [--epochs 20] [--seed 100] [--limit N]
// Like the linear model, the result swings with the seed (PyTorch: 45.1–92.7 % over seeds 0–19).

import type { Tensor } from '../src/index.node.ts';
import { initParams } from '../packages/webgrad-cli/src/recipes/scratch.ts';
import { readAll, runIfMain, setup } from './lib/cli.ts';
import { loaders, trainEpoch, validateEpoch } from './lib/mnist-tiny.ts';

export async function main(argv: string[] = []) {
  // torch.manual_seed(100), as the tutorial
  const opts = await setup(argv, { epochs: 20, batchSize: 256, seed: 100 });
  const { log } = opts;
  const { dl, validDl } = loaders(opts, log);

  // initialize random weights
  const w1 = initParams([28 * 28, 30]);
  const b1 = initParams(30);
  const w2 = initParams([30, 1]);
  const b2 = initParams(1);

  // Here's a simple Neural Network.
  function simpleNet(xb: Tensor): Tensor {
    let res = xb.matmul(w1).add(b1); // Linear
    res = res.maximum(0.0); // ReLu
    res = res.matmul(w2).add(b2); // Linear
    return res;
  }

  const params = [w1, b1, w2, b2];
  const lr = 1;
  const accuracy: number[] = [];
  const batchLosses: number[] = [];
  for (let i = 0; i < opts.epochs; i++) {
    batchLosses.push(...(await readAll(await trainEpoch(dl, simpleNet, lr, params))));
    accuracy.push(await validateEpoch(validDl, simpleNet));
    log(`Epoch ${i} accuracy: ${accuracy.at(-1)}`);
  }
  return { batchLosses, accuracy };
}

runIfMain(import.meta.url, main);
