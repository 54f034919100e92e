// Tutorial 003's data and loops, shared by its two models (003-linear-3v7.ts,
// 003-two-layer-3v7.ts): MNIST_TINY's 3s and 7s as `dset` / `valid_dset`, DataLoaders of batch
// 256, and fastai-style `train_epoch` / `validate_epoch` with the manual update
// `p.data -= p.grad * lr`.

import { data, noGrad, scope, stack, type Tensor } from '../../src/index.node.ts';
import { tinyPair } from '../../packages/webgrad-cli/src/recipes/data.ts';
import { batchAccuracy, mnistLoss } from '../../packages/webgrad-cli/src/recipes/scratch.ts';
import type { ExampleOptions } from './cli.ts';

export type Model = (xb: Tensor) => Tensor;

/** dl (shuffled) and valid_dl over the rebuilt MNIST_TINY. */
export function loaders(opts: ExampleOptions, log: (...a: unknown[]) => void) {
  const { train: dset, valid: validDset, source } = tinyPair({ dataDir: opts.dataDir, limit: opts.limit });
  log(`data: ${dset.length} training and ${validDset.length} validation images (3s and 7s) from ${source}`);
  const dl = new data.DataLoader(dset, { batchSize: opts.batchSize, shuffle: true });
  const validDl = new data.DataLoader(validDset, { batchSize: opts.batchSize });
  return { dl, validDl };
}

/** calc_grad: predict, loss, backward. Returns the loss (detached). */
function calcGrad(xb: Tensor, yb: Tensor, model: Model): Tensor {
  return scope(() => {
    const preds = model(xb);
    const loss = mnistLoss(preds, yb);
    loss.backward();
    return loss.detach();
  });
}

/** One epoch of the tutorial's gradient descent; returns each batch's loss (unread). */
export async function trainEpoch(dl: data.DataLoader<any, [Tensor, Tensor]>, model: Model, lr: number, params: Tensor[]): Promise<Tensor[]> {
  const losses: Tensor[] = [];
  for await (const [xb, yb] of dl) {
    losses.push(calcGrad(xb, yb, model));
    noGrad(() =>
      scope(() => {
        for (const p of params) {
          p.sub_(p.grad!.mul(lr)); // p.data -= p.grad * lr
          p.grad!.zero_();
        }
      }),
    );
    xb.dispose();
    yb.dispose();
  }
  return losses;
}

/** The mean of the validation batches' accuracies, rounded to 4 decimals (Python's round). */
export async function validateEpoch(validDl: data.DataLoader<any, [Tensor, Tensor]>, model: Model): Promise<number> {
  const accs: Tensor[] = [];
  for await (const [xb, yb] of validDl) {
    accs.push(noGrad(() => scope(() => batchAccuracy(model(xb), yb))));
    xb.dispose();
    yb.dispose();
  }
  const mean = scope(() => stack(accs).mean());
  const value = await mean.item();
  for (const t of [mean, ...accs]) t.dispose();
  return Math.round(value * 1e4) / 1e4;
}
