// Times the data pipeline: loading full MNIST from the gzipped IDX files, the embedded
// digits, and one epoch of DataLoader batches (shuffled, ToTensor + Normalize, uploaded,
// GPU synced at the end) through the batched path and the per-sample path; then a small
// training-like step per batch with and without prefetching.
//
//   npx tsx bench/data.ts [--root ../shared/data/mnist] [--batch-size 128] [--repeats 3]

import { parseArgs } from 'node:util';
import { data, init, manualSeed, randn, scope, shutdown, type Tensor } from '../src/index.ts';
import { gpuRuntime } from '../src/tensor/backends.ts';

const { values: args } = parseArgs({
  options: {
    root: { type: 'string', default: new URL('../../shared/data/mnist', import.meta.url).pathname },
    'batch-size': { type: 'string', default: '128' },
    repeats: { type: 'string', default: '3' },
  },
});
const B = Number(args['batch-size']);
const repeats = Number(args.repeats);

await init();
const rt = gpuRuntime();
console.log(`webgrad data bench on ${rt.adapterInfo}`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function time(label: string, fn: () => Promise<unknown> | unknown): Promise<number> {
  const runs: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await fn();
    runs.push(performance.now() - t0);
  }
  const m = median(runs);
  console.log(`${label.padEnd(58)} ${m.toFixed(0).padStart(6)} ms  (runs: ${runs.map((x) => x.toFixed(0)).join(', ')})`);
  return m;
}

const normalize = new data.Compose([new data.ToTensor(), new data.Normalize([0.1307], [0.3081])]);
await time('load MNIST train (60 000, gz: gunzip + parse + checks)', () => new data.MNIST({ root: args.root, train: true }));
await time('load MNIST test (10 000, gz)', () => new data.MNIST({ root: args.root, train: false }));
{
  // The package's JSON is parsed once per process and cached, so only the first load counts.
  const t0 = performance.now();
  new data.EmbeddedMNIST({ train: true });
  console.log(`${'load EmbeddedMNIST train (mnist package JSON, first load)'.padEnd(58)} ${(performance.now() - t0).toFixed(0).padStart(6)} ms`);
}

const train = new data.MNIST({ root: args.root, train: true, transform: normalize });
manualSeed(0);
async function epoch(ds: data.Dataset<[unknown, number]>, opts: { prefetch?: boolean } = {}): Promise<void> {
  for await (const [x, y] of new data.DataLoader(ds, { batchSize: B, shuffle: true, ...opts }) as data.DataLoader<unknown, Tensor[]>) {
    x!.dispose();
    y!.dispose();
  }
  await rt.sync();
}
await time(`epoch, batch ${B}, batched path (shuffle, ToTensor+Normalize, upload)`, () => epoch(train));
const perSample = new data.MNIST({ root: args.root, train: true, transform: new data.Compose([normalize, new data.Lambda((x: data.HostTensor) => x)]) });
await time(`epoch, batch ${B}, per-sample path (same, via get(i))`, () => epoch(perSample));

// A training-like step that reads a value back each batch, so prefetching can overlap.
const W = randn(784, 256);
async function trainLike(prefetch: boolean): Promise<void> {
  for await (const [x, y] of new data.DataLoader(train, { batchSize: B, shuffle: true, prefetch })) {
    const s = scope(() => x.reshape(-1, 784).matmul(W).relu().sum());
    await s.item();
    s.dispose();
    x.dispose();
    y.dispose();
  }
}
await time(`epoch + matmul [${B},784]@[784,256] + readback, prefetch on`, () => trainLike(true));
await time(`epoch + matmul [${B},784]@[784,256] + readback, prefetch off`, () => trainLike(false));
W.dispose();
shutdown();
process.exit(0);
