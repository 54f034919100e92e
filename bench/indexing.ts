// Times the index ops (gather, advanced index, indexSelect, scatterAdd) and cat/stack on the
// tutorials' sizes and a few larger ones, and prints µs per op and GB/s (bytes the op must
// read and write, indices included, divided by the time).
//
//   npx tsx bench/indexing.ts            everything
//   npx tsx bench/indexing.ts --quick    fewer repeats
//   --only <text>                        only the cases whose name contains <text>
//
// Timing: 2 warm-up calls, then trials of `reps` calls between two rt.sync() (so small,
// dispatch-bound ops are timed at their throughput, not one sync's latency); the median trial
// is reported per call. Each call runs inside scope(), so its outputs go back to the pool.

import { Tensor, arange, cat, getBackend, init, randint, randn, scope, stack, tensor, zeros } from '../src/index.ts';
import { gpuRuntime } from '../src/tensor/backends.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? args[onlyIdx + 1]! : null;

await init();
const rt = gpuRuntime();

interface Row {
  name: string;
  us: number;
  bytes: number;
  dispatches: number;
}
const rows: Row[] = [];

async function bench(name: string, bytes: number, fn: () => unknown, reps = 20): Promise<void> {
  if (only !== null && !name.includes(only)) return;
  for (let w = 0; w < 2; w++) scope(() => void fn());
  await rt.sync();
  const d0 = rt.stats.dispatches;
  scope(() => void fn());
  const dispatches = rt.stats.dispatches - d0;
  const trials: number[] = [];
  const want = quick ? 3 : 7;
  const start = performance.now();
  while (trials.length < want && (trials.length < 3 || performance.now() - start < 2000)) {
    await rt.sync();
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) scope(() => void fn());
    await rt.sync();
    trials.push(((performance.now() - t0) * 1000) / reps);
  }
  trials.sort((a, b) => a - b);
  rows.push({ name, us: trials[trials.length >> 1]!, bytes, dispatches });
  process.stderr.write(`done: ${name}\n`);
}

const F32 = 4;

// ---- gather / index / indexSelect (forward) ---------------------------------------------------
{
  const n = 128;
  const preds = randn(n, 10);
  const targets = randint(0, 10, [n]);
  const rows_ = arange(n);
  // out n floats + two n-long index reads + n picked reads
  await bench('(reference: x.mul(2) [128,10], one elementwise dispatch)', 2 * n * 10 * F32, () => preds.mul(2), 200);
  await bench('index preds[arange(128), targets] [128,10]', 4 * n * F32, () => preds.index(rows_, targets), 200);
  const t2 = targets.reshape(n, 1);
  await bench('gather(1) [128,10] by [128,1]', 3 * n * F32, () => preds.gather(1, t2), 200);
  const big = randn(4096, 1000);
  const bigT = randint(0, 1000, [4096, 1]);
  await bench('gather(1) [4096,1000] by [4096,1]', 3 * 4096 * F32, () => big.gather(1, bigT), 100);
  const table = randn(50000, 128);
  const tokens = randint(0, 50000, [8192]);
  // 8192 rows of 128 read and written, plus the indices
  const dense = randn(8192, 128);
  await bench('(reference: contiguous clone [8192,128], vec4 copy)', 2 * 8192 * 128 * F32, () => dense.clone(), 10);
  await bench('indexSelect(0) [50000,128] 8192 rows', (2 * 8192 * 128 + 8192) * F32, () => table.indexSelect(0, tokens), 10);
  const cols = tensor(new Int32Array(512).map((_, i) => (i * 37) % 1000));
  await bench('index x[:, idx] [1024,1000] 512 cols', (2 * 1024 * 512 + 512) * F32, () => big.slice(0, 0, 1024).index(null, cols), 10);
  big.dispose();
  table.dispose();
}

// ---- scatter-add (the backward of the above) ---------------------------------------------------
{
  const n = 128;
  const g = randn(n, 1);
  const t = randint(0, 10, [n, 1]);
  // zero/copy the [128,10] destination (read + write) + n adds (read-modify-write) + indices
  await bench('scatterAdd(1) into [128,10] from [128,1]', (2 * n * 10 + 4 * n) * F32, () => zeros(n, 10).scatterAdd(1, t, g), 200);
  const dst = zeros(50000, 128);
  const src = randn(8192, 128);
  const tok = randint(0, 50000, [8192, 1]).expand(8192, 128);
  await bench('scatterAdd_(0) [8192,128] rows into [50000,128]', (3 * 8192 * 128 + 8192 * 128) * F32, () => dst.scatterAdd_(0, tok, src), 10);
  const hot = randint(0, 4, [8192, 1]).expand(8192, 128);
  await bench('scatterAdd_(0) [8192,128] rows into 4 rows (contention)', (3 * 8192 * 128 + 8192 * 128) * F32, () => dst.scatterAdd_(0, hot, src), 10);
  const preds = randn(n, 10, { requiresGrad: true });
  const targets = randint(0, 10, [n]);
  const ar = arange(n);
  await bench('tutorial loss fwd+bwd -mean(log(preds[arange, t]))', 0, () => {
    const p = preds.exp().index(ar, targets).log().mean().neg();
    p.backward();
    preds.grad!.dispose();
    preds.grad = null;
  }, 50);
  dst.dispose();
  src.dispose();
}

// ---- cat / stack ----------------------------------------------------------------------------
{
  const batches = Array.from({ length: 40 }, () => randn(128, 10));
  const bytes = 2 * 40 * 128 * 10 * F32;
  await bench('cat 40 x [128,10] dim 0', bytes, () => cat(batches), 20);
  await bench('stack 40 x [128,10] dim 0', bytes, () => stack(batches), 20);
  // What cat did first: one elementwise copy dispatch per input (now a buffer copy each).
  const be = getBackend('webgpu');
  await bench('  (alt: 40 copy dispatches, one per input)', bytes, () => {
    const out = new Tensor(be.alloc(40 * 128 * 10, 'float32'), [40 * 128, 10]);
    batches.forEach((b, i) => be.copy({ storage: out.storage, shape: b.shape, strides: out.strides, offset: i * 1280 }, b.layout));
    return out;
  }, 20);
  const a = randn(4096, 512);
  const b = randn(4096, 512);
  await bench('cat 2 x [4096,512] dim 1', 2 * 2 * 4096 * 512 * F32, () => cat([a, b], 1), 10);
  await bench('cat 2 x [4096,512] dim 0', 2 * 2 * 4096 * 512 * F32, () => cat([a, b], 0), 10);
}

// ---- the bounds-check readback: one op then a read -----------------------------------------------
{
  const x = randn(128, 10);
  const t = randint(0, 10, [128]);
  const ar = arange(128);
  const lat = async (name: string, fn: () => Tensor) => {
    if (only !== null && !name.includes(only)) return;
    const times: number[] = [];
    for (let i = 0; i < (quick ? 20 : 60); i++) {
      const t0 = performance.now();
      const y = fn();
      await y.data();
      times.push((performance.now() - t0) * 1000);
      y.dispose();
    }
    times.sort((p, q) => p - q);
    rows.push({ name, us: times[times.length >> 1]!, bytes: 0, dispatches: 1 });
  };
  await lat('latency: mul then read [128,10] (no flag)', () => x.mul(2));
  await lat('latency: index then read [128,10] (flag read back too)', () => x.index(ar, t));
}

console.log(`adapter: ${rt.adapterInfo}`);
const header = ['case', 'µs/op', 'GB/s', 'dispatches'];
const lines = [header, ...rows.map((r) => [r.name, r.us.toFixed(1), r.bytes ? (r.bytes / (r.us * 1e3)).toFixed(2) : '-', String(r.dispatches)])];
const widths = header.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
for (const l of lines) console.log(l.map((x, c) => (c >= 1 ? x.padStart(widths[c]!) : x.padEnd(widths[c]!))).join('  '));
process.exit(0);
