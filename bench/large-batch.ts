// Batches larger than one storage binding, on real data. pytorch/examples' MNIST CNN
// (mnist/main.py: conv 1→32 3×3, conv 32→64 3×3, maxpool 2, dropout, fc 9216→128, fc 128→10)
// evaluates the 10 000 test digits at its default test batch of 1000 — conv2's output,
// [1000, 64, 24, 24] floats (147 MB), is over lavapipe's 128 MiB binding, so conv2d, ReLU and
// max pooling run in parts (src/kernels/split.ts) — and at batches of 250 that fit: same loss,
// same predictions, and the time of each. Then makemore's full-training-set loss (tanh of
// [182625, 200], @ [200, 27], cross entropy) whole and in chunks of 40000 rows. The CNN is
// untrained (seeded init): this measures the large-batch path, not accuracy.
//
//   npx tsx bench/large-batch.ts [--root ../shared/data/mnist] [--repeats 3]
//   npx tsx bench/large-batch.ts --sweep [--max-mib 1024] [--only elementwise,softmax]
// --sweep: for each op family, doubles a tensor from 64 MiB until it fails or passes
// --max-mib, printing ms per size and the first refusal (the largest sizes that run).

import { parseArgs } from 'node:util';
import { DeviceLimitError, F, cat, data, full, init, manualSeed, nn, noGrad, randint, randn, scope, shutdown, type Tensor } from '../src/index.ts';
import { gpuRuntime } from '../src/tensor/backends.ts';

const { values: args } = parseArgs({
  options: {
    root: { type: 'string', default: new URL('../../shared/data/mnist', import.meta.url).pathname },
    repeats: { type: 'string', default: '3' },
    sweep: { type: 'boolean', default: false },
    'max-mib': { type: 'string', default: '1024' },
    only: { type: 'string' },
  },
});

await init();
const rt = gpuRuntime();
console.log(`webgrad large-batch bench on ${rt.adapterInfo}; maxStorageBufferBindingSize ${rt.limits.maxStorageBufferBindingSize}, maxBufferSize ${rt.limits.maxBufferSize}`);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** pytorch/examples mnist/main.py's Net; in eval mode dropout is the identity. */
class Net extends nn.Module {
  conv1 = new nn.Conv2d(1, 32, 3);
  conv2 = new nn.Conv2d(32, 64, 3);
  dropout1 = new nn.Dropout(0.25);
  dropout2 = new nn.Dropout(0.5);
  fc1 = new nn.Linear(9216, 128);
  fc2 = new nn.Linear(128, 10);
  override forward(x: Tensor): Tensor {
    let h = F.relu(this.conv1.forward(x));
    h = F.relu(this.conv2.forward(h));
    h = this.dropout1.forward(F.maxPool2d(h, 2)).flatten(1);
    h = this.dropout2.forward(F.relu(this.fc1.forward(h)));
    return F.logSoftmax(this.fc2.forward(h), 1);
  }
}

async function mnistEval(): Promise<void> {
  const transform = new data.Compose([new data.ToTensor(), new data.Normalize([0.1307], [0.3081])]);
  const test = new data.MNIST({ root: args.root, train: false, transform });
  manualSeed(1);
  const model = new Net();
  model.eval();
  // The test set on the GPU once, so the timings are the model's.
  const [x, y] = (() => {
    for (const batch of new data.DataLoader(test, { batchSize: test.length })) return batch as [Tensor, Tensor];
    throw new Error('empty test set');
  })();
  const run = async (batch: number): Promise<{ ms: number; loss: number; correct: number }> => {
    const t0 = performance.now();
    // One scope per batch, as an eval loop frees each batch's activations before the next.
    let totals: Tensor | null = null;
    for (let k = 0; k * batch < test.length; k++) {
      const part = noGrad(() => scope(() => {
        const xb = x.narrow(0, k * batch, Math.min(batch, test.length - k * batch));
        const yb = y.narrow(0, k * batch, xb.shape[0]!);
        const out = model.forward(xb);
        const s = cat([F.nllLoss(out, yb, { reduction: 'sum' }).reshape([1]), out.argmax(1).eq(yb).sum().float().reshape([1])]);
        return totals ? totals.add(s) : s;
      }));
      totals?.dispose();
      totals = part;
    }
    const [loss, correct] = [totals!.narrow(0, 0, 1), totals!.narrow(0, 1, 1)];
    const [l, c] = [await loss.item(), await correct.item()];
    for (const t of [loss, correct, totals!]) t.dispose();
    return { ms: performance.now() - t0, loss: l / test.length, correct: c };
  };
  for (const batch of [1000, 250]) {
    await run(batch); // warm-up: pipelines compiled
    const runs: { ms: number; loss: number; correct: number }[] = [];
    for (let r = 0; r < Number(args.repeats); r++) runs.push(await run(batch));
    const ms = median(runs.map((r) => r.ms));
    console.log(`MNIST CNN eval, 10000 test digits, batch ${String(batch).padStart(4)}: ${ms.toFixed(0).padStart(6)} ms  ` +
      `${(test.length / ms * 1000).toFixed(0).padStart(5)} images/s  avg loss ${runs[0]!.loss.toFixed(6)}  correct ${runs[0]!.correct}/${test.length}`);
  }
}

async function makemore(): Promise<void> {
  manualSeed(2);
  const N = 182625;
  const emb = randn([N, 30]);
  const W1 = randn([30, 200]).mul(0.2);
  const b1 = randn([200]).mul(0.1);
  const W2 = randn([200, 27]).mul(0.1);
  const b2 = randn([27]).mul(0.1);
  const Y = randint(0, 27, [N]);
  const whole = (): Tensor => noGrad(() => scope(() => F.crossEntropy(emb.matmul(W1).add(b1).tanh().matmul(W2).add(b2), Y)));
  const chunked = (): Tensor => noGrad(() => scope(() => cat(emb.split(40000).map((e, k) =>
    F.crossEntropy(e.matmul(W1).add(b1).tanh().matmul(W2).add(b2), Y.narrow(0, k * 40000, e.shape[0]!), { reduction: 'sum' }).reshape([1]))).sum().div(N)));
  for (const [label, f] of [['whole [182625, 200]', whole], ['chunks of 40000 rows', chunked]] as const) {
    await f().item();
    const ms: number[] = [];
    let loss = 0;
    for (let r = 0; r < Number(args.repeats); r++) {
      const t0 = performance.now();
      loss = await f().item();
      ms.push(performance.now() - t0);
    }
    console.log(`makemore full-set loss, ${label.padEnd(22)}: ${median(ms).toFixed(0).padStart(6)} ms  loss ${loss.toFixed(6)}`);
  }
}

/** One op family at growing sizes: `make(bytes)` builds inputs and returns the op to time and a check of its result. */
async function sweep(family: string, make: (bytes: number) => { run: () => Tensor; check: (out: Tensor) => Promise<boolean>; inputs: Tensor[]; shape: string }): Promise<void> {
  if (args.only && !args.only.split(',').includes(family)) return;
  const max = Number(args['max-mib']) * 2 ** 20;
  for (let bytes = 64 * 2 ** 20; bytes <= max; bytes *= 2) {
    let inputs: Tensor[] = [];
    try {
      const c = make(bytes);
      inputs = c.inputs;
      const t0 = performance.now();
      const out = noGrad(() => scope(c.run));
      const ok = await c.check(out);
      const ms = performance.now() - t0;
      out.dispose();
      console.log(`${family.padEnd(14)} ${(bytes / 2 ** 20).toFixed(0).padStart(5)} MiB ${c.shape.padEnd(24)} ${ok ? 'ok   ' : 'WRONG'} ${ms.toFixed(0).padStart(7)} ms`);
      if (!ok) return;
    } catch (e) {
      const why = e instanceof DeviceLimitError ? `${e.name} (${e.limit})` : (e as Error).message.split('\n')[0]!.slice(0, 120);
      console.log(`${family.padEnd(14)} ${(bytes / 2 ** 20).toFixed(0).padStart(5)} MiB refused: ${why}`);
      return;
    } finally {
      for (const t of inputs) t.dispose();
      await rt.sync().catch(() => {});
      rt.pool.trim();
    }
  }
}

async function sweeps(): Promise<void> {
  const floats = (bytes: number): number => bytes / 4;
  await sweep('elementwise', (b) => {
    const x = full([floats(b)], 1);
    // min and max, not a sum: a float32 sum of 2^28 threes rounds.
    return {
      inputs: [x], shape: `[${floats(b)}]`, run: () => { const y = x.mul(2).add(1); return y.min().reshape([1]).sub(3).abs().add(y.max().sub(3).abs()); },
      check: async (o) => (await o.item()) === 0,
    };
  });
  await sweep('reduction', (b) => {
    const x = full([floats(b) / 1024, 1024], 1);
    return { inputs: [x], shape: `[${floats(b) / 1024}, 1024] sum(1)`, run: () => x.sum(1).max(), check: async (o) => (await o.item()) === 1024 };
  });
  await sweep('matmul', (b) => {
    const m = floats(b) / 256;
    const a = full([m, 256], 1 / 256);
    const w = full([256, 256], 1);
    return { inputs: [a, w], shape: `[${m}, 256] @ [256, 256]`, run: () => a.matmul(w).mean(), check: async (o) => Math.abs((await o.item()) - 1) < 1e-4 };
  });
  await sweep('conv2d', (b) => {
    const n = Math.round(floats(b) / (64 * 24 * 24));
    const x = full([n, 32, 26, 26], 1);
    const w = full([64, 32, 3, 3], 1 / 288);
    return { inputs: [x, w], shape: `[${n}, 32, 26, 26] → 64 ch`, run: () => F.conv2d(x, w).mean(), check: async (o) => Math.abs((await o.item()) - 1) < 1e-4 };
  });
  await sweep('softmax', (b) => {
    const rows = floats(b) / 1024;
    const x = full([rows, 1024], 0.5);
    return { inputs: [x], shape: `[${rows}, 1024]`, run: () => x.softmax(1).sum(1).mean(), check: async (o) => Math.abs((await o.item()) - 1) < 1e-4 };
  });
  await sweep('crossEntropy', (b) => {
    const rows = floats(b) / 1024;
    const x = full([rows, 1024], 0.5);
    const t = full([rows], 3, { dtype: 'int32' });
    return { inputs: [x, t], shape: `[${rows}, 1024]`, run: () => F.crossEntropy(x, t), check: async (o) => Math.abs((await o.item()) - Math.log(1024)) < 1e-3 };
  });
}

if (args.sweep) await sweeps();
else {
  await mnistEval();
  await makemore();
}
shutdown();
process.exit(0);
