// npm run bench: every kernel family and the tutorials' training steps, webgrad beside
// TensorFlow.js's webgpu backend on the same adapter in the same process, as ms, GFLOP/s or
// GB/s and the ratio; plus dispatch overhead per op in a chain of 100 small ops, pipelines
// compiled during a training epoch, and the autotuned choice beside the fixed default.
//
//   npm run bench                        everything (long on a CPU adapter)
//   npm run bench -- --quick             fewer sizes and repeats
//   npm run bench -- --filter matmul     only cases whose "family case" text contains it (repeatable, any of them)
//   npm run bench -- --json out.json     also write the rows as JSON
//   npm run bench -- --no-tf             webgrad only
//   npm run bench -- --readme            rewrite the results table of docs/benchmarks.md and the
//                                        summary line of README.md with this run
//   npx tsx bench/run.ts --readme-from out.json   rewrite them from a saved run (no benchmarking)
//
// Timing (bench/lib/harness.ts): two warm-up runs per side (compiles, starts autotuning, whose
// results are awaited), then samples of back-to-back runs ended by one GPU sync, alternating
// webgrad / webgrad default / TF.js so that load on a shared machine hits each alike; medians.
// Numbers from a busy machine are noisy: compare the ratios of one run, not runs.

import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { setupTf, tfPipelines, tfSync, type Tf } from './lib/tf.ts';
import { table, timeSides, type Row, type Side, type Timing } from './lib/harness.ts';
import { CONV_TUTORIAL, MATMUL_TUTORIAL, POOL_TUTORIAL, SOFTMAX_SHAPES, matmulSquares, type ConvCase, type MatmulCase } from './cases.ts';

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    filter: { type: 'string', multiple: true },
    json: { type: 'string' },
    'no-tf': { type: 'boolean', default: false },
    readme: { type: 'boolean', default: false },
    'readme-from': { type: 'string' },
  },
});
const quick = opt.quick!;
const README = new URL('../README.md', import.meta.url);
const RESULTS = new URL('../docs/benchmarks.md', import.meta.url);

/** Replaces the text between `<!-- name:start -->` and `<!-- name:end -->` of a file. */
function rewriteSection(file: URL, name: string, body: string): void {
  const text = readFileSync(file, 'utf8');
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  const shown = file.href.slice(new URL('../', import.meta.url).href.length);
  if (a < 0 || b < a) throw new Error(`${shown} has no ${start} … ${end} section`);
  writeFileSync(file, text.slice(0, a + start.length) + body + text.slice(b));
  console.log(`${shown}: ${name} section rewritten`);
}

/** "1.3–37×": the range of TF.js ms / webgrad ms over `rows` (wall time). */
function ratioRange(rows: Row[]): string {
  const r = rows.filter((x) => x.webgrad && x.tf).map((x) => x.tf! / x.webgrad!);
  if (r.length === 0) return 'not compared';
  const f = (v: number) => (v >= 10 ? v.toFixed(0) : v.toFixed(1));
  return `${f(Math.min(...r))}–${f(Math.max(...r))}×`;
}

/** Rewrites the results table of docs/benchmarks.md and the one-line summary in README.md. */
function writeReadme(rows: Row[], meta: { adapter: string; tfAdapter: string; date: string; quick: boolean; extras: string[] }): void {
  const body = [
    '',
    `Measured ${meta.date}${meta.quick ? ' (--quick)' : ''} on **${meta.adapter}** (TF.js: ${meta.tfAdapter}), one process,`,
    'medians of alternating samples. "TF.js ms / webgrad ms" above 1 means webgrad is faster. "default ms" is webgrad with',
    'autotuning off (WEBGRAD_AUTOTUNE=0). On a shared CPU adapter the absolute numbers move with the load; the ratios hold better.',
    '',
    table(rows, true),
    '',
    ...meta.extras.map((e) => `- ${e}`),
    '',
  ].join('\n');
  rewriteSection(RESULTS, 'bench', body);
  const steps = rows.filter((r) => r.family === 'train step');
  const kernels = rows.filter((r) => r.family !== 'train step' && r.family !== 'dispatch');
  const adapter = meta.adapter.split(' / ').slice(0, 3).join(' / ');
  rewriteSection(README, 'bench-summary', `\n**Benchmarks** (${meta.date}, ${adapter}): TensorFlow.js's WebGPU backend on the same adapter takes ${ratioRange(kernels)} webgrad's time per kernel and ${ratioRange(steps)} per training step of the tutorials' models; every row in [docs/benchmarks.md](docs/benchmarks.md).\n`);
}

if (opt['readme-from']) {
  const saved = JSON.parse(readFileSync(opt['readme-from'], 'utf8')) as { rows: Row[]; adapter: string; tfAdapter: string; date: string; quick: boolean; extras: string[] };
  writeReadme(saved.rows, saved);
  process.exit(0);
}

// TF.js first: it puts the shared Dawn instance on navigator.gpu, which webgrad's init() then uses.
let tf: Tf | null = null;
let tfAdapter = 'not run (--no-tf)';
if (!opt['no-tf']) {
  const r = await setupTf();
  if (r.tf) {
    tf = r.tf;
    tfAdapter = r.adapter;
  } else tfAdapter = `unavailable: ${r.reason}`;
}

const wg = await import('../src/index.ts');
const { F, optim, noGrad, scope, tensor, manualSeed } = wg;
const { gpuRuntime } = await import('../src/tensor/backends.ts');
const { matmulConfig } = await import('../src/kernels/matmul.ts');
const { elementwiseTuning } = await import('../src/kernels/elementwise.ts');
const models = await import('../packages/webgrad-cli/src/recipes/models.ts');
const scratch = await import('../packages/webgrad-cli/src/recipes/scratch.ts');
type Tensor = import('../src/index.ts').Tensor;
type T4 = import('@tensorflow/tfjs-core').Tensor4D;

await wg.init();
const rt = gpuRuntime();
manualSeed(0);
const adapter = rt.adapterInfo;
console.log(`webgrad adapter: ${adapter}`);
console.log(`TF.js adapter:   ${tfAdapter}`);
console.log(`autotune: ${rt.tuner.mode}${rt.tuner.file ? ` (cache ${rt.tuner.file})` : ''}; subgroups: ${rt.device.features.has('subgroups') ? 'yes' : 'no'}; default matmul: ${JSON.stringify(matmulConfig(rt))}`);

const filters = opt.filter ?? [];
const want = (family: string, name: string): boolean => filters.length === 0 || filters.some((f) => `${family} ${name}`.toLowerCase().includes(f.toLowerCase()));
const rows: Row[] = [];
const extras: string[] = [];

const wgSync = async (): Promise<void> => {
  await rt.sync();
  await rt.tuner.settle();
};
const tfSide = (run: () => void): Side | null => (tf ? { run, sync: () => tfSync(tf!) } : null);
const wgSide = (run: () => void): Side => ({ run, sync: wgSync });
/** The same webgrad run with autotuning off: the fixed default. */
const defaultSide = (run: () => void): Side => ({
  run: () => {
    const mode = rt.tuner.mode;
    rt.tuner.mode = 'off';
    try {
      run();
    } finally {
      rt.tuner.mode = mode;
    }
  },
  sync: wgSync,
});

/** Times one case and prints its row as it completes. */
async function bench(row: Omit<Row, 'webgrad' | 'tf' | 'webgradDefault' | 'choice'>, w: () => void, t: (() => void) | null, opts: { tuned?: boolean } = {}): Promise<void> {
  if (!want(row.family, row.case)) return;
  rt.tuner.used.clear();
  const sides = [wgSide(w), opts.tuned && rt.tuner.mode !== 'off' ? defaultSide(w) : null, t ? tfSide(t) : null];
  let res: (Timing | null)[];
  try {
    res = await timeSides(sides, { quick });
  } catch (e) {
    console.log(`${row.family} ${row.case}: failed: ${(e as Error).message.split('\n')[0]}`);
    return;
  }
  const r: Row = { ...row, webgrad: res[0]!.wall, tf: res[2]?.wall ?? null, webgradCpu: res[0]!.cpu, tfCpu: res[2]?.cpu ?? null };
  if (opts.tuned) {
    const used = [...rt.tuner.used.values()];
    r.webgradDefault = res[1]?.wall ?? null;
    r.choice = [...new Set(used.map((u) => u.choice))].join(', ') || 'default';
    // The tuner kept the default everywhere in this case: both columns ran the same kernels.
    if (used.every((u) => u.choice === u.fallback)) r.choice += ' (= default)';
  }
  rows.push(r);
  console.log(table([r], false).split('\n')[1]);
}

function hostRandom(n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (Math.random() * 2 - 1) * scale;
  return a;
}
const wgT = (shape: number[], scale = 1, requiresGrad = false): Tensor => tensor(hostRandom(shape.reduce((a, b) => a * b, 1), scale), { shape, requiresGrad });
const tfT = (shape: number[], scale = 1) => tf!.tensor(hostRandom(shape.reduce((a, b) => a * b, 1), scale), shape);
const labels = (n: number, c: number): Int32Array => Int32Array.from({ length: n }, () => Math.floor(Math.random() * c));
/** Frees the gradients a backward left on `ts` (so repeated runs do not accumulate). */
const dropGrads = (...ts: Tensor[]): void => {
  for (const t of ts) {
    t.grad?.dispose();
    t.grad = null;
  }
};
const disposeAll = (x: unknown): void => {
  if (Array.isArray(x)) x.forEach(disposeAll);
  else (x as { dispose?: () => void } | null)?.dispose?.();
};

console.log(table([], false));

// ---------------------------------------------------------------------------------------
// Pipelines compiled during one training epoch (first, so that nothing is cached yet).

async function pipelinesPerEpoch(): Promise<void> {
  if (!want('pipelines', 'epoch')) return;
  const samples = quick ? 4000 : 60000;
  const batch = 128;
  const model = new models.FullyConnected(784, 500, 10);
  const sgd = new optim.SGD(model.parameters(), { lr: 0.01 });
  const x = hostRandom(batch * 784);
  const y = labels(batch, 10);
  const epoch = async (): Promise<number> => {
    const p0 = rt.stats.pipelinesCompiled;
    for (let i = 0; i < samples; i += batch) {
      const b = Math.min(batch, samples - i); // the last batch is smaller: same pipelines
      const xb = tensor(x.subarray(0, b * 784), { shape: [b, 784] });
      const yb = tensor(y.subarray(0, b), { dtype: 'int32' });
      scope(() => {
        sgd.zeroGrad();
        const l = F.crossEntropy(model.call(xb), yb);
        l.backward();
        sgd.step();
      });
      xb.dispose();
      yb.dispose();
    }
    await wgSync();
    return rt.stats.pipelinesCompiled - p0;
  };
  const t0 = performance.now();
  const first = await epoch();
  const t1 = performance.now();
  const second = await epoch();
  const t2 = performance.now();
  model.dispose();
  sgd.dispose();
  let tfLine = '';
  if (tf) {
    const t = tf;
    const w1 = t.variable(tfT([784, 500], 0.05));
    const b1 = t.variable(t.zeros([500]));
    const w2 = t.variable(tfT([500, 10], 0.05));
    const o = t.train.sgd(0.01);
    const epochTf = async (): Promise<number> => {
      const p0 = tfPipelines(t);
      for (let i = 0; i < samples; i += batch) {
        const b = Math.min(batch, samples - i);
        const xb = t.tensor2d(x.subarray(0, b * 784), [b, 784]);
        const yb = t.oneHot(t.tensor1d(y.subarray(0, b), 'int32'), 10);
        const cost = o.minimize(() => t.losses.softmaxCrossEntropy(yb, t.matMul(t.relu(t.add(t.matMul(xb, w1), b1)), w2)) as import('@tensorflow/tfjs-core').Scalar, true, [w1, b1, w2]);
        cost?.dispose();
        xb.dispose();
        yb.dispose();
      }
      await tfSync(t);
      return tfPipelines(t) - p0;
    };
    const f1 = await epochTf();
    const f2 = await epochTf();
    tfLine = `; TF.js compiled ${f1} then ${f2}`;
    [w1, b1, w2].forEach((v) => v.dispose());
    o.dispose();
  }
  const line = `Pipelines compiled during a training epoch (tutorial 002 MLP, ${samples} samples, batch ${batch}, last batch ${samples % batch || batch}): webgrad ${first} in the first epoch (${((t1 - t0) / 1000).toFixed(1)} s, autotuning included), ${second} in the second (${((t2 - t1) / 1000).toFixed(1)} s)${tfLine}.`;
  extras.push(line);
  console.log(line);
}
await pipelinesPerEpoch();

// ---------------------------------------------------------------------------------------
// Dispatch overhead: a chain of 100 small ops.

{
  const n = 64;
  const x = wgT([n]);
  const tx = tf ? tfT([n]) : null;
  const chain = 100;
  const row = { family: 'dispatch', case: `chain of ${chain} adds on [${n}] (per op)`, unit: 'µs/op' as const, work: 0 };
  if (want(row.family, row.case)) {
    const sides = [
      wgSide(() =>
        noGrad(() =>
          scope(() => {
            let y = x;
            for (let i = 0; i < chain; i++) y = y.add(1);
          }),
        ),
      ),
      tx ? tfSide(() => tf!.tidy(() => {
        let y = tx;
        for (let i = 0; i < chain; i++) y = tf!.add(y, 1);
      })) : null,
    ];
    // The steady state is what this row is about: 100 chains per side first, so that V8 has
    // optimised both libraries' per-op JS (the first thousands of ops run slower), and longer samples.
    for (const s of sides) {
      for (let i = 0; i < 100; i++) s?.run();
      await s?.sync();
    }
    const res = await timeSides(sides, { quick, sampleMs: 200 });
    const r: Row = { ...row, webgrad: res[0]!.wall / chain, tf: res[1] ? res[1].wall / chain : null, webgradCpu: res[0]!.cpu / chain, tfCpu: res[1] ? res[1].cpu / chain : null };
    r.note = `CPU time ${(r.webgradCpu! * 1000).toFixed(1)} µs/op${r.tfCpu ? ` (TF.js ${(r.tfCpu * 1000).toFixed(1)})` : ''}`;
    rows.push(r);
    console.log(table([r], false).split('\n')[1]);
  }
  x.dispose();
  tx?.dispose();
}

// ---------------------------------------------------------------------------------------
// matmul: square sizes and the tutorials' shapes (with transposed operands), autotuned vs default.

async function matmulCase(c: MatmulCase): Promise<void> {
  const aShape = c.aT ? [c.k, c.m] : [c.m, c.k];
  const bShape = c.bT ? [c.n, c.k] : [c.k, c.n];
  const a = wgT(aShape);
  const b = wgT(bShape);
  const av = c.aT ? a.T : a;
  const bv = c.bT ? b.T : b;
  const ta = tf ? tfT(aShape) : null;
  const tb = tf ? tfT(bShape) : null;
  await bench(
    { family: 'matmul', case: c.name, unit: 'GFLOP/s', work: 2 * c.m * c.n * c.k },
    () => noGrad(() => av.matmul(bv).dispose()),
    tf ? () => tf!.matMul(ta!, tb!, !!c.aT, !!c.bT).dispose() : null,
    { tuned: true },
  );
  for (const t of [av, bv, a, b]) if (!t.disposed) t.dispose();
  ta?.dispose();
  tb?.dispose();
}
for (const c of [...matmulSquares(quick).concat(quick ? [{ name: '2048²', m: 2048, k: 2048, n: 2048 }] : []), ...MATMUL_TUTORIAL]) await matmulCase(c);

// F.linear: bias fused into the matmul epilogue vs matmul + add.
{
  const x = wgT([128, 784]);
  const w = wgT([500, 784], 0.05);
  const bias = wgT([500]);
  await bench({ family: 'linear', case: 'F.linear 784→500, batch 128 (bias fused)', unit: 'GFLOP/s', work: 2 * 128 * 784 * 500 }, () => noGrad(() => F.linear(x, w, bias).dispose()), tf ? (() => {
    const tx = tfT([128, 784]);
    const tw = tfT([784, 500], 0.05);
    const tb = tfT([500]);
    return () => tf!.tidy(() => void tf!.add(tf!.matMul(tx, tw), tb));
  })() : null);
  await bench({ family: 'linear', case: 'matmul + add (unfused, for comparison)', unit: 'GFLOP/s', work: 2 * 128 * 784 * 500 }, () => noGrad(() => scope(() => void x.matmul(w.T).add(bias))), null);
  // The activation in the same epilogue (TF.js: fused.matMul with activation 'relu').
  await bench({ family: 'linear', case: 'F.linear 784→500 + ReLU, batch 128 (bias and ReLU fused)', unit: 'GFLOP/s', work: 2 * 128 * 784 * 500 }, () => noGrad(() => F.linear(x, w, bias, { activation: 'relu' }).dispose()), tf ? (() => {
    const tx = tfT([128, 784]);
    const tw = tfT([784, 500], 0.05);
    const tb = tfT([500]);
    return () => tf!.tidy(() => void tf!.fused.matMul({ a: tx, b: tw, bias: tb, activation: 'relu' }));
  })() : null);
  await bench({ family: 'linear', case: 'F.linear then F.relu (unfused, for comparison)', unit: 'GFLOP/s', work: 2 * 128 * 784 * 500 }, () => noGrad(() => scope(() => void F.relu(F.linear(x, w, bias)))), null);
  for (const t of [x, w, bias]) t.dispose();
}

// ---------------------------------------------------------------------------------------
// conv2d forward, and forward + backward (input, weight and bias gradients).

async function convCase(c: ConvCase): Promise<void> {
  const o = c.hw - c.k + 1;
  const flops = 2 * c.n * c.cout * o * o * c.cin * c.k * c.k;
  const x = wgT([c.n, c.cin, c.hw, c.hw], 1, true);
  const w = wgT([c.cout, c.cin, c.k, c.k], 0.2, true);
  const b = wgT([c.cout], 0.1, true);
  const gy = wgT([c.n, c.cout, o, o]);
  const tx = tf ? tfT([c.n, c.hw, c.hw, c.cin]) : null;
  const tw = tf ? tfT([c.k, c.k, c.cin, c.cout], 0.2) : null;
  const tb = tf ? tfT([c.cout], 0.1) : null;
  const tgy = tf ? tfT([c.n, o, o, c.cout]) : null;
  const tfConv = (xx: import('@tensorflow/tfjs-core').Tensor4D, ww: import('@tensorflow/tfjs-core').Tensor4D, bb: import('@tensorflow/tfjs-core').Tensor1D, activation?: 'relu') =>
    tf!.fused.conv2d({ x: xx, filter: ww, strides: 1, pad: 'valid', bias: bb, activation });
  await bench({ family: 'conv2d', case: `${c.name} forward`, unit: 'GFLOP/s', work: flops }, () => noGrad(() => F.conv2d(x, w, b).dispose()), tf ? () => tfConv(tx as never, tw as never, tb as never).dispose() : null, { tuned: true });
  // ReLU in the forward's epilogue, against TF.js's fused.conv2d with activation 'relu' and against a separate F.relu.
  await bench(
    { family: 'conv2d', case: `${c.name} forward + ReLU (fused)`, unit: 'GFLOP/s', work: flops },
    () => noGrad(() => F.conv2d(x, w, b, { activation: 'relu' }).dispose()),
    tf ? () => tfConv(tx as never, tw as never, tb as never, 'relu').dispose() : null,
  );
  await bench({ family: 'conv2d', case: `${c.name} forward, then F.relu (unfused, for comparison)`, unit: 'GFLOP/s', work: flops }, () => noGrad(() => scope(() => void F.relu(F.conv2d(x, w, b)))), null);
  await bench(
    { family: 'conv2d', case: `${c.name} forward + backward`, unit: 'GFLOP/s', work: 3 * flops },
    () => {
      scope(() => F.conv2d(x, w, b).backward(gy));
      dropGrads(x, w, b);
    },
    tf ? () => disposeAll(tf!.grads((xx, ww, bb) => tfConv(xx as never, ww as never, bb as never))([tx!, tw!, tb!], tgy!)) : null,
    { tuned: true },
  );
  for (const t of [x, w, b, gy]) t.dispose();
  for (const t of [tx, tw, tb, tgy]) t?.dispose();
}
for (const c of CONV_TUTORIAL) await convCase(c);

// ---------------------------------------------------------------------------------------
// maxPool2d 2×2 forward and forward + backward.

for (const [n, c, hw] of POOL_TUTORIAL) {
  const x = wgT([n, c, hw, hw], 1, true);
  const gy = wgT([n, c, hw / 2, hw / 2]);
  const tx = tf ? tfT([n, hw, hw, c]) : null;
  const tgy = tf ? tfT([n, hw / 2, hw / 2, c]) : null;
  const bytes = n * c * hw * hw * 4 * 1.25;
  const tag = `[${n},${c},${hw},${hw}] 2×2`;
  await bench({ family: 'maxPool2d', case: `${tag} forward`, unit: 'GB/s', work: bytes }, () => noGrad(() => F.maxPool2d(x, 2).dispose()), tf ? () => tf!.maxPool(tx as T4, 2, 2, 'valid').dispose() : null);
  await bench(
    { family: 'maxPool2d', case: `${tag} forward + backward`, unit: 'GB/s', work: 2 * bytes },
    () => {
      scope(() => F.maxPool2d(x, 2).backward(gy));
      dropGrads(x);
    },
    tf ? () => disposeAll(tf!.grads((xx) => tf!.maxPool(xx as T4, 2, 2, 'valid'))([tx!], tgy!)) : null,
  );
  x.dispose();
  gy.dispose();
  tx?.dispose();
  tgy?.dispose();
}

// ---------------------------------------------------------------------------------------
// softmax / logSoftmax / crossEntropy, and the from-scratch tutorial formulation.

for (const [n, c] of SOFTMAX_SHAPES) {
  const x = wgT([n, c], 3, true);
  const g = wgT([n, c]);
  const t = tensor(labels(n, c), { dtype: 'int32' });
  const onehot = t.unsqueeze(1).eq(wg.arange(c)).float();
  const tx = tf ? tfT([n, c], 3) : null;
  const tg = tf ? tfT([n, c]) : null;
  const toh = tf ? tf.oneHot(tf.tensor1d(Array.from(labels(n, c)), 'int32'), c) : null;
  const el = n * c * 4;
  const tag = `[${n},${c}]`;
  for (const op of ['softmax', 'logSoftmax'] as const) {
    const f = (v: Tensor) => (op === 'softmax' ? v.softmax(1) : v.logSoftmax(1));
    const tfF = (v: import('@tensorflow/tfjs-core').Tensor) => (op === 'softmax' ? tf!.softmax(v) : tf!.logSoftmax(v));
    await bench({ family: op, case: `${tag} forward`, unit: 'GB/s', work: 2 * el }, () => noGrad(() => f(x).dispose()), tf ? () => tfF(tx!).dispose() : null);
    await bench(
      { family: op, case: `${tag} forward + backward`, unit: 'GB/s', work: 5 * el },
      () => {
        scope(() => f(x).backward(g));
        dropGrads(x);
      },
      tf ? () => disposeAll(tf!.grads((v) => tfF(v))([tx!], tg!)) : null,
    );
  }
  const tfCe = (v: import('@tensorflow/tfjs-core').Tensor) => tf!.losses.softmaxCrossEntropy(toh!, v);
  await bench({ family: 'crossEntropy', case: `${tag} forward + backward`, unit: 'GB/s', work: 3 * el }, () => {
    scope(() => F.crossEntropy(x, t).backward());
    dropGrads(x);
  }, tf ? () => disposeAll(tf!.grads((v) => tfCe(v))([tx!])) : null);
  // Tutorial 002's from-scratch loss: softmax as exp / sum(keepdim), then -mean(log(p[arange(n), t]))
  // (written with a one-hot mask, as TF.js would write it).
  const tutorial = (v: Tensor) => {
    const e = v.exp();
    return e.div(e.sum(-1, true)).log().mul(onehot).sum(1).mean().neg();
  };
  await bench({ family: 'crossEntropy', case: `${tag} tutorial formulation (exp/sum, log, one-hot) fwd+bwd`, unit: 'GB/s', work: 3 * el }, () => {
    scope(() => tutorial(x).backward());
    dropGrads(x);
  }, tf ? () => disposeAll(tf!.grads((v) => tf!.neg(tf!.mean(tf!.sum(tf!.mul(tf!.log(tf!.div(tf!.exp(v), tf!.sum(tf!.exp(v), -1, true))), toh!), 1))))([tx!])) : null);
  for (const z of [x, g, t, onehot]) z.dispose();
  for (const z of [tx, tg, toh]) z?.dispose();
}

// ---------------------------------------------------------------------------------------
// Reductions and elementwise ops on 4M floats.

{
  const R = 4096;
  const C = 1024;
  const N = R * C;
  const x = wgT([R, C]);
  const y = wgT([R, C]);
  const xT = wgT([C, R]); // stored transposed: xT.T is a strided [R, C] view
  const row = wgT([C]);
  const big = wgT([R, C], 1e6); // |x| up to ~1e6: sin/cos past the Cody–Waite range (Payne–Hanek reduction)
  const tx = tf ? tfT([R, C]) : null;
  const tbig = tf ? tfT([R, C], 1e6) : null;
  const ty = tf ? tfT([R, C]) : null;
  const txT = tf ? tfT([C, R]) : null;
  const trow = tf ? tfT([C]) : null;
  const T = tf!;
  const red: [string, () => void, (() => void) | null][] = [
    ['sum of all [4096,1024]', () => noGrad(() => x.sum().dispose()), tf ? () => T.sum(tx!).dispose() : null],
    ['sum over dim 1 [4096,1024]', () => noGrad(() => x.sum(1).dispose()), tf ? () => T.sum(tx!, 1).dispose() : null],
    ['max over dim 1 [4096,1024]', () => noGrad(() => x.max(1).dispose()), tf ? () => T.max(tx!, 1).dispose() : null],
    ['mean over dim 0 [4096,1024]', () => noGrad(() => x.mean(0).dispose()), tf ? () => T.mean(tx!, 0).dispose() : null],
  ];
  for (const [name, w, t] of red) await bench({ family: 'reduce', case: name, unit: 'GB/s', work: 4 * N }, w, t);
  const ew: [string, number, () => void, (() => void) | null][] = [
    ['exp [4M] (unary)', 8 * N, () => noGrad(() => x.exp().dispose()), tf ? () => T.exp(tx!).dispose() : null],
    ['relu [4M] (unary)', 8 * N, () => noGrad(() => x.relu().dispose()), tf ? () => T.relu(tx!).dispose() : null],
    ['sin [4M] (unary)', 8 * N, () => noGrad(() => x.sin().dispose()), tf ? () => T.sin(tx!).dispose() : null],
    ['sin [4M], |x| up to 1e6 (unary)', 8 * N, () => noGrad(() => big.sin().dispose()), tf ? () => T.sin(tbig!).dispose() : null],
    ['tanh [4M] (unary)', 8 * N, () => noGrad(() => x.tanh().dispose()), tf ? () => T.tanh(tx!).dispose() : null],
    ['ne [4M] != [4M] (comparison)', 12 * N, () => noGrad(() => x.ne(y).dispose()), tf ? () => T.notEqual(tx!, ty!).dispose() : null],
    ['add [4M] + [4M] (binary)', 12 * N, () => noGrad(() => x.add(y).dispose()), tf ? () => T.add(tx!, ty!).dispose() : null],
    ['mul by scalar [4M]', 8 * N, () => noGrad(() => x.mul(0.5).dispose()), tf ? () => T.mul(tx!, 0.5).dispose() : null],
    ['add [4096,1024] + [1024] (broadcast)', 8 * N, () => noGrad(() => x.add(row).dispose()), tf ? () => T.add(tx!, trow!).dispose() : null],
    ['add xᵀ + y, xᵀ a transposed view (strided)', 12 * N, () => noGrad(() => xT.T.add(y).dispose()), tf ? () => T.tidy(() => void T.add(T.transpose(txT!), ty!)) : null],
  ];
  for (const [name, bytes, w, t] of ew) await bench({ family: 'elementwise', case: name, unit: 'GB/s', work: bytes }, w, t, { tuned: true });
  // The non-contiguous forms before issue #7: one element per thread, integer ÷ and % by uniform values (no TF.js side).
  elementwiseTuning.legacy = true;
  await bench({ family: 'elementwise', case: 'add [4096,1024] + [1024], the pre-#7 strided kernel', unit: 'GB/s', work: 8 * N }, () => noGrad(() => x.add(row).dispose()), null);
  await bench({ family: 'elementwise', case: 'add xᵀ + y, the pre-#7 strided kernel', unit: 'GB/s', work: 12 * N }, () => noGrad(() => xT.T.add(y).dispose()), null);
  elementwiseTuning.legacy = false;
  for (const z of [x, y, xT, row, big]) z.dispose();
  for (const z of [tx, ty, txT, trow, tbig]) z?.dispose();
}

// ---------------------------------------------------------------------------------------
// Optimizer updates on the tutorial 002 MLP's parameters (784·500 + 500 + 500·10 floats).

{
  const model = new models.FullyConnected(784, 500, 10);
  const params = model.parameters();
  for (const p of params) p.grad = p.onesLike();
  const count = params.reduce((s, p) => s + p.numel, 0);
  const tfVars = tf ? params.map((p) => tf!.variable(tf!.zeros([...p.shape]))) : [];
  const tfGrads = tf ? Object.fromEntries(tfVars.map((v) => [v.name, tf!.onesLike(v)])) : {};
  const cases: [string, number, { step(): void; dispose(): void }, (() => import('@tensorflow/tfjs-core').Optimizer) | null][] = [
    ['SGD momentum 0.9', 5 * 4 * count, new optim.SGD(params, { lr: 0.01, momentum: 0.9 }), tf ? () => tf!.train.momentum(0.01, 0.9) : null],
    ['Adam', 7 * 4 * count, new optim.Adam(params, { lr: 1e-3 }), tf ? () => tf!.train.adam(1e-3) : null],
    // Bytes: read parameter, gradient and each state buffer; write parameter and state.
    ['Adagrad', 5 * 4 * count, new optim.Adagrad(params, { lr: 1e-2, initialAccumulatorValue: 0.1 }), tf ? () => tf!.train.adagrad(1e-2, 0.1) : null],
    ['Adadelta', 7 * 4 * count, new optim.Adadelta(params, { lr: 1.0, rho: 0.9, eps: 1e-6 }), tf ? () => tf!.train.adadelta(1.0, 0.9, 1e-6) : null],
    ['Adamax', 7 * 4 * count, new optim.Adamax(params, { lr: 2e-3 }), tf ? () => tf!.train.adamax(2e-3, 0.9, 0.999, 1e-8, 0) : null],
    ['NAdam', 7 * 4 * count, new optim.NAdam(params, { lr: 2e-3 }), null], // TF.js has no NAdam
    ['RAdam', 7 * 4 * count, new optim.RAdam(params, { lr: 1e-3 }), null], // nor RAdam
  ];
  for (const [name, bytes, o, mk] of cases) {
    const to = mk ? mk() : null;
    await bench({ family: 'optimizer', case: `${name} step, ${count} params`, unit: 'GB/s', work: bytes }, () => o.step(), to ? () => to.applyGradients(tfGrads) : null);
    o.dispose();
    to?.dispose();
  }
  tfVars.forEach((v) => v.dispose());
  Object.values(tfGrads).forEach((g) => g.dispose());
  model.dispose();
}

// ---------------------------------------------------------------------------------------
// Full training steps of the tutorials' models: forward, loss, backward, update, back to back.

type TfT = import('@tensorflow/tfjs-core').Tensor;
interface TfNet {
  vars: import('@tensorflow/tfjs-core').Variable[];
  loss: () => import('@tensorflow/tfjs-core').Scalar;
}

function tfDense(t: Tf, i: number, o: number, bias = true): { w: import('@tensorflow/tfjs-core').Variable; b: import('@tensorflow/tfjs-core').Variable | null; f: (x: TfT) => TfT } {
  const w = t.variable(t.tensor(hostRandom(i * o, 1 / Math.sqrt(i)), [i, o]));
  const b = bias ? t.variable(t.zeros([o])) : null;
  return { w, b, f: (x) => (b ? t.add(t.matMul(x, w), b) : t.matMul(x, w)) };
}

async function trainCase(name: string, batch: number, wgStep: () => () => void, tfNet: (() => { net: TfNet; opt: import('@tensorflow/tfjs-core').Optimizer }) | null): Promise<void> {
  if (!want('train step', name)) return;
  const step = wgStep();
  let tfStep: (() => void) | null = null;
  let cleanup = (): void => {};
  if (tf && tfNet) {
    const { net, opt } = tfNet();
    tfStep = () => opt.minimize(net.loss, true, net.vars)?.dispose();
    cleanup = () => {
      net.vars.forEach((v) => v.dispose());
      opt.dispose();
    };
  }
  await bench({ family: 'train step', case: `${name}, batch ${batch}`, unit: 'ms', work: 0 }, step, tfStep);
  cleanup();
}

/** A webgrad step on `model` with `opt` and `loss`, returning a disposer. */
function wgStepOf(model: import('../src/index.ts').nn.Module, opt: { zeroGrad(): void; step(): void }, loss: (out: Tensor, y: Tensor) => Tensor, x: Tensor, y: Tensor): () => void {
  model.train();
  return () =>
    scope(() => {
      opt.zeroGrad();
      const l = loss(model.call(x), y);
      l.backward();
      opt.step();
    });
}

{
  const T = tf;
  const mk = (b: number, shape: number[]) => [wgT([b, ...shape], 1), tensor(labels(b, 10), { dtype: 'int32' })] as const;
  const tfData = (b: number, shape: number[]) => [tfT([b, ...shape]), T!.oneHot(T!.tensor1d(Array.from(labels(b, 10)), 'int32'), 10)] as const;
  const ce = (logits: TfT, oh: TfT) => T!.losses.softmaxCrossEntropy(oh, logits) as import('@tensorflow/tfjs-core').Scalar;
  const nll = (logp: TfT, oh: TfT) => T!.neg(T!.mean(T!.sum(T!.mul(logp, oh), 1))) as import('@tensorflow/tfjs-core').Scalar;

  // Tutorial 000: SimpleNN 784-128-10, CrossEntropyLoss, SGD(lr=0.01), batch 100.
  {
    const [x, y] = mk(100, [784]);
    const m = new models.SimpleNN(784, 128, 10);
    await trainCase('000 SimpleNN MLP 784-128-10, SGD', 100, () => wgStepOf(m, new optim.SGD(m.parameters(), { lr: 0.01 }), (o, t) => F.crossEntropy(o, t), x, y), T ? () => {
      const [tx, ty] = tfData(100, [784]);
      const l1 = tfDense(T, 784, 128), l2 = tfDense(T, 128, 10);
      return { net: { vars: [l1.w, l1.b!, l2.w, l2.b!], loss: () => ce(l2.f(T.relu(l1.f(tx))), ty) }, opt: T.train.sgd(0.01) };
    } : null);
    m.dispose();
  }
  // Tutorial 002: FullyConnected 784-500-10 (second layer without bias), F.crossEntropy, SGD, batch 128.
  {
    const [x, y] = mk(128, [1, 28, 28]);
    const m = new models.FullyConnected(784, 500, 10);
    await trainCase('002 MLP 784-500-10 (modules), SGD', 128, () => wgStepOf(m, new optim.SGD(m.parameters(), { lr: 0.1 }), (o, t) => F.crossEntropy(o, t), x, y), T ? () => {
      const [tx, ty] = tfData(128, [784]);
      const l1 = tfDense(T, 784, 500), l2 = tfDense(T, 500, 10, false);
      return { net: { vars: [l1.w, l1.b!, l2.w], loss: () => ce(l2.f(T.relu(l1.f(tx))), ty) }, opt: T.train.sgd(0.1) };
    } : null);
    m.dispose();
  }
  // Tutorial 002 from scratch: softmax as exp/sum, cross-entropy by indexing, manual SGD.
  {
    const [x, y] = mk(128, [784]);
    const m = new scratch.ScratchMLP();
    const sgd = new scratch.ManualSGD(m.parameters(), 0.1);
    await trainCase('002 MLP 784-500-10 from scratch (tutorial softmax/CE, manual SGD)', 128, () => wgStepOf(m, { zeroGrad: () => {}, step: () => sgd.step() }, (o, t) => scratch.crossEntropyLoss(o, t), x, y), T ? () => {
      const [tx, ty] = tfData(128, [784]);
      const w1 = T.variable(tfT([784, 500], 1 / 28)), b = T.variable(T.zeros([500])), w2 = T.variable(tfT([500, 10], 1 / Math.sqrt(500)));
      const loss = () => {
        const z = T.matMul(T.relu(T.add(T.matMul(tx, w1), b)), w2);
        const p = T.div(T.exp(z), T.sum(T.exp(z), -1, true));
        return T.neg(T.mean(T.log(T.sum(T.mul(p, ty), 1)))) as import('@tensorflow/tfjs-core').Scalar;
      };
      return { net: { vars: [w1, b, w2], loss }, opt: T.train.sgd(0.1) };
    } : null);
    m.dispose();
  }
  // Tutorial 004: NeuralNet 784-128-128-10, CrossEntropyLoss, Adam(lr=1e-3), batch 64.
  {
    const [x, y] = mk(64, [784]);
    const m = new models.NeuralNet();
    await trainCase('004 MLP 784-128-128-10, Adam', 64, () => wgStepOf(m, new optim.Adam(m.parameters(), { lr: 1e-3 }), (o, t) => F.crossEntropy(o, t), x, y), T ? () => {
      const [tx, ty] = tfData(64, [784]);
      const l1 = tfDense(T, 784, 128), l2 = tfDense(T, 128, 128), l3 = tfDense(T, 128, 10);
      return { net: { vars: [l1.w, l1.b!, l2.w, l2.b!, l3.w, l3.b!], loss: () => ce(l3.f(T.relu(l2.f(T.relu(l1.f(tx))))), ty) }, opt: T.train.adam(1e-3) };
    } : null);
    m.dispose();
  }
  // Tutorial 001: the tiny CNN (two 1→1 3×3 convs) and the pooling CNN, NLL of log_softmax, SGD momentum 0.5, batch 64.
  const conv = (t: Tf, x: TfT, w: import('@tensorflow/tfjs-core').Variable, b: import('@tensorflow/tfjs-core').Variable) => t.fused.conv2d({ x: x as never, filter: w as never, strides: 1, pad: 'valid', bias: b });
  const convVars = (t: Tf, k: number, ci: number, co: number) => [t.variable(tfT([k, k, ci, co], 1 / Math.sqrt(ci * k * k))), t.variable(t.zeros([co]))] as const;
  {
    const [x, y] = mk(64, [1, 28, 28]);
    const m = new models.TinyCNN();
    await trainCase('001 tiny CNN (1→1 3×3 ×2, 576-100-10), SGD momentum', 64, () => wgStepOf(m, new optim.SGD(m.parameters(), { lr: 0.01, momentum: 0.5 }), (o, t) => F.nllLoss(o, t), x, y), T ? () => {
      const [tx, ty] = tfData(64, [28, 28, 1]);
      const [w1, b1] = convVars(T, 3, 1, 1), [w2, b2] = convVars(T, 3, 1, 1);
      const f1 = tfDense(T, 576, 100), f2 = tfDense(T, 100, 10);
      const loss = () => {
        let h: TfT = T.relu(conv(T, tx, w1, b1));
        h = T.relu(conv(T, h, w2, b2));
        h = T.dropout(T.relu(f1.f(T.reshape(h, [-1, 576]))), 0.5);
        return nll(T.logSoftmax(f2.f(h)), ty);
      };
      return { net: { vars: [w1, b1, w2, b2, f1.w, f1.b!, f2.w, f2.b!], loss }, opt: T.train.momentum(0.01, 0.5) };
    } : null);
    m.dispose();
  }
  {
    const [x, y] = mk(64, [1, 28, 28]);
    const m = new models.PoolingCNN();
    await trainCase('001 pooling CNN (conv 1→20→30 5×5, maxpool, dropout), SGD momentum', 64, () => wgStepOf(m, new optim.SGD(m.parameters(), { lr: 0.01, momentum: 0.5 }), (o, t) => F.nllLoss(o, t), x, y), T ? () => {
      const [tx, ty] = tfData(64, [28, 28, 1]);
      const [w1, b1] = convVars(T, 5, 1, 20), [w2, b2] = convVars(T, 5, 20, 30);
      const f1 = tfDense(T, 480, 60), f2 = tfDense(T, 60, 10);
      const loss = () => {
        let h: TfT = T.relu(T.maxPool(conv(T, tx, w1, b1) as T4, 2, 2, 'valid'));
        h = T.dropout(conv(T, h, w2, b2), 0.5, [64, 1, 1, 30]);
        h = T.relu(T.maxPool(h as T4, 2, 2, 'valid'));
        h = T.dropout(T.relu(f1.f(T.reshape(h, [-1, 480]))), 0.5);
        return nll(T.logSoftmax(f2.f(h)), ty);
      };
      return { net: { vars: [w1, b1, w2, b2, f1.w, f1.b!, f2.w, f2.b!], loss }, opt: T.train.momentum(0.01, 0.5) };
    } : null);
    m.dispose();
  }
}

// ---------------------------------------------------------------------------------------

const tuned = rt.tuner.report();
if (tuned.length) {
  const wins = tuned.filter((t) => t.choice !== t.fallback);
  extras.push(`Autotuned this run: ${tuned.length} shape classes, ${wins.length} of them away from the default (${wins.map((t) => `${t.family} ${t.shapeClass}: ${t.choice} instead of ${t.fallback}`).join('; ') || 'none'}).`);
}
console.log('');
console.log(table(rows, false));
for (const e of extras) console.log(e);
const meta = { adapter, tfAdapter, date: new Date().toISOString().slice(0, 10), quick, extras };
if (opt.json) writeFileSync(opt.json, JSON.stringify({ ...meta, rows, autotune: tuned }, null, 2));
if (opt.readme) writeReadme(rows, meta);
wg.shutdown();
process.exit(0);
