// The CLI's training and evaluation loops over any recipe: one epoch of
// zeroGrad → forward → loss → backward → step per batch (each step in a scope, losses read
// back once per epoch or every `readEvery` batches for the progress display), and an
// evaluation pass that returns loss, accuracy and every prediction. Prints nothing itself:
// hooks receive the numbers and the tutorial's log lines.

import { cat, noGrad, scope, stack, type data, type nn, type Tensor } from 'webgrad';
import type { Recipe, Stepper } from './registry.ts';

type Batch = [Tensor, Tensor];
export type BatchLoader = data.DataLoader<any, Batch>;

/** Every tensor's single value in one readback (reading each would stall the GPU queue once per batch); disposes them. */
export async function readAll(values: Tensor[]): Promise<Float32Array> {
  if (values.length === 0) return new Float32Array(0);
  const all = stack(values);
  const out = Float32Array.from(await all.data());
  all.dispose();
  for (const v of values) v.dispose();
  return out;
}

export interface TrainHooks {
  /** After each batch; `loss` is the batch's loss when it was read back, else undefined. */
  onBatch?(batch: number, batches: number, loss: number | undefined): void;
  /** The tutorial's per-batch log lines. */
  log?(line: string): void;
  /** Read a loss back for onBatch every N batches (default 20; 0: never). */
  readEvery?: number;
}

export interface EpochResult {
  /** Mean of the batch losses. */
  loss: number;
  batchLosses: Float32Array;
  seconds: number;
}

/** One training epoch of `recipe` over `loader`. `epoch` counts from 1 (for the logs). */
export async function trainEpoch(recipe: Recipe, model: nn.Module, opt: Stepper, loader: BatchLoader, epoch: number, hooks: TrainHooks = {}): Promise<EpochResult> {
  const t0 = performance.now();
  model.train();
  const readEvery = hooks.readEvery ?? 20;
  const size = loader.dataset.length;
  const batches = loader.length;
  const losses: Tensor[] = [];
  let batch = 0;
  let seen = 0;
  for await (const [x, y] of loader) {
    const loss = scope(() => {
      opt.zeroGrad();
      const output = model.call(recipe.input(x));
      const l = recipe.loss(output, y);
      l.backward();
      opt.step();
      return l.detach();
    });
    const n = x.shape[0]!;
    x.dispose();
    y.dispose();
    let value: number | undefined;
    const logNow = recipe.batchLog !== undefined && batch % recipe.batchLog.every === 0;
    if (logNow || (readEvery > 0 && batch % readEvery === 0)) value = await loss.item();
    if (logNow && value !== undefined) hooks.log?.(recipe.batchLog!.line({ epoch, batch, seen: batch * n, size, batches, loss: value }));
    losses.push(loss);
    seen += n;
    batch++;
    hooks.onBatch?.(batch, batches, value);
  }
  const batchLosses = await readAll(losses);
  const loss = batchLosses.reduce((s, v) => s + v, 0) / Math.max(1, batchLosses.length);
  return { loss, batchLosses, seconds: (performance.now() - t0) / 1000 };
}

export interface EvalResult {
  /** Mean loss per sample. */
  loss: number;
  /** Fraction right (overall, or the mean of the batches' accuracies for 'batch-mean' recipes). */
  accuracy: number;
  correct: number;
  count: number;
  /** Predicted class of every sample, in loader order. */
  preds: Int32Array;
  /** True class of every sample, in loader order. */
  labels: Int32Array;
  seconds: number;
}

/** Runs `model` over `loader` in eval mode without gradients. */
export async function evaluate(recipe: Recipe, model: nn.Module, loader: BatchLoader): Promise<EvalResult> {
  const t0 = performance.now();
  model.eval();
  const lossSums: Tensor[] = [];
  const hits: Tensor[] = [];
  const preds: Tensor[] = [];
  const labels: Tensor[] = [];
  const sizes: number[] = [];
  for await (const [x, y] of loader) {
    const n = x.shape[0]!;
    const [l, p, h, t] = noGrad(() =>
      scope(() => {
        const output = model.call(recipe.input(x));
        const target = y.view(-1);
        const predicted = recipe.predict(output);
        return [recipe.loss(output, y).mul(n), predicted, predicted.eq(target).float().sum(), target.int()];
      }),
    );
    lossSums.push(l);
    preds.push(p);
    hits.push(h);
    labels.push(t);
    sizes.push(n);
    x.dispose();
    y.dispose();
  }
  const count = sizes.reduce((a, b) => a + b, 0);
  const lossValues = await readAll(lossSums);
  const hitValues = await readAll(hits);
  const catRead = async (ts: Tensor[]) => {
    if (ts.length === 0) return new Int32Array(0);
    const all = cat(ts);
    const v = Int32Array.from(await all.data());
    all.dispose();
    for (const t of ts) t.dispose();
    return v;
  };
  const predValues = await catRead(preds);
  const labelValues = await catRead(labels);
  const correct = hitValues.reduce((a, b) => a + b, 0);
  const accuracy =
    recipe.accuracyMode === 'batch-mean'
      ? Array.from(hitValues, (h, i) => h / sizes[i]!).reduce((a, b) => a + b, 0) / Math.max(1, sizes.length)
      : correct / Math.max(1, count);
  return {
    loss: lossValues.reduce((a, b) => a + b, 0) / Math.max(1, count),
    accuracy,
    correct,
    count,
    preds: predValues,
    labels: labelValues,
    seconds: (performance.now() - t0) / 1000,
  };
}
