// Times softmax, logSoftmax and crossEntropy (forward, and forward + backward through autograd)
// on the tutorials' shapes and a large one, beside the from-scratch tutorial formulation
// (exp / sum(keepdim), then log and a one-hot mask), and prints ms, dispatches and GB/s.
//
//   npx tsx bench/softmax.ts            [128, 10], [64, 10], [4096, 1000]
//   npx tsx bench/softmax.ts --quick    fewer repeats
//   npx tsx bench/softmax.ts --sweep    also lanes per row × row length, to pick softmaxTuning
//   --only <text>                       only the cases whose name contains <text>
//
// GB/s counts the bytes the fused kernels must move, 4 per element: softmax forward reads x and
// writes y (2·N·C), its backward reads y and g and writes the gradient (3·N·C); crossEntropy
// reads x forward and reads x, writes the gradient backward (3·N·C, targets and row stats
// aside). The unfused rows divide the same bytes by their own time, so their GB/s shows what
// the chain of kernels costs relative to the fused op ("effective" bandwidth).
//
// Timing: a step (forward, or forward + backward) is enqueued K times between two rt.sync()
// calls (K so that a sample lasts ≥ ~20 ms), after 3 warm-up steps that compile everything;
// the median over ≥ 5 samples (3 with --quick) is reported per step, as wall ms and as CPU ms
// of this process (on llvmpipe the "GPU" is this process's threads, so CPU ms stays meaningful
// when other jobs share the cores and wall time does not). Each step runs inside
// scope(), so it frees what it made as a training loop would.

import { F, arange, getBackend, init, scope, tensor, type Tensor } from '../src/index.ts';
import { gpuRuntime } from '../src/tensor/backends.ts';
import { softmaxTuning } from '../src/kernels/softmax.ts';
import { SOFTMAX_SHAPES } from './cases.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const sweep = args.includes('--sweep');
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? args[onlyIdx + 1]! : null;

await init();
const rt = gpuRuntime();

function randn(shape: number[], requiresGrad = false): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (Math.random() * 2 - 1) * 3;
  return tensor(data, { shape, requiresGrad });
}

function labels(n: number, c: number): Tensor {
  return tensor(Int32Array.from({ length: n }, () => Math.floor(Math.random() * c)));
}

interface Result {
  ms: number;
  /** CPU ms of this process per step (lavapipe's threads included): steadier than wall time on a shared machine. */
  cpuMs: number;
  dispatches: number;
}

/** Median ms per step and dispatches per step. */
async function time(step: () => void): Promise<Result> {
  for (let i = 0; i < 3; i++) scope(step);
  await rt.sync();
  // Calibrate K from one step.
  let t0 = performance.now();
  scope(step);
  await rt.sync();
  const one = Math.max(performance.now() - t0, 0.01);
  const k = Math.max(1, Math.min(500, Math.round(20 / one)));
  const samples: number[] = [];
  const cpu: number[] = [];
  let dispatches = 0;
  const want = quick ? 3 : 5;
  const start = performance.now();
  while (samples.length < want || (samples.length < 15 && performance.now() - start < 300)) {
    const d0 = rt.stats.dispatches;
    const c0 = process.cpuUsage();
    t0 = performance.now();
    for (let i = 0; i < k; i++) scope(step);
    await rt.sync();
    samples.push((performance.now() - t0) / k);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000 / k);
    dispatches = (rt.stats.dispatches - d0) / k;
  }
  samples.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  return { ms: samples[samples.length >> 1]!, cpuMs: cpu[cpu.length >> 1]!, dispatches };
}

const rows: string[][] = [['case', 'shape', 'pass', 'ms', 'cpu ms', 'dispatches', 'GB/s']];
function report(name: string, shape: number[], pass: string, r: Result, bytes: number): void {
  rows.push([name, `[${shape.join(', ')}]`, pass, r.ms.toFixed(3), r.cpuMs.toFixed(3), r.dispatches.toFixed(0), (bytes / (r.ms / 1000) / 1e9).toFixed(3)]);
  process.stderr.write(`${name} [${shape}] ${pass}: ${r.ms.toFixed(3)} ms\n`);
}

const SHAPES: [number, number][] = SOFTMAX_SHAPES; // shared with bench/run.ts (bench/cases.ts)

for (const [n, c] of SHAPES) {
  const shape = [n, c];
  const el = n * c * 4;
  const x = randn(shape, true);
  const g = randn(shape);
  const t = labels(n, c);
  const onehot = t.unsqueeze(1).eq(arange(c)).float();
  const want = (name: string) => only === null || name.includes(only);

  for (const op of ['softmax', 'logSoftmax'] as const) {
    if (!want(op)) continue;
    const f = (v: Tensor) => (op === 'softmax' ? v.softmax(1) : v.logSoftmax(1));
    report(op, shape, 'forward', await time(() => void f(x)), 2 * el);
    report(op, shape, 'forward + backward', await time(() => f(x).backward(g)), 5 * el);
  }
  if (want('softmax (tutorial: exp / sum)')) {
    // The tutorial's softmax: torch.exp(x) / torch.exp(x).sum(axis=-1, keepdim=True).
    const byHand = (v: Tensor) => v.exp().div(v.exp().sum(-1, true));
    report('softmax (tutorial: exp / sum)', shape, 'forward', await time(() => void byHand(x)), 2 * el);
    report('softmax (tutorial: exp / sum)', shape, 'forward + backward', await time(() => byHand(x).backward(g)), 5 * el);
  }
  if (want('softmax backward as Tensor ops')) {
    // The backward rule written with Tensor ops, y·(g − Σ g·y), against the fused kernel above.
    const y = x.detach().softmax(1);
    report('softmax backward as Tensor ops', shape, 'backward only', await time(() => void y.mul(g.sub(g.mul(y).sum(1, true)))), 3 * el);
    const be = getBackend('webgpu');
    report('softmax backward fused', shape, 'backward only', await time(() => be.softmaxBackward(y.layout, g.layout, 1, false).release()), 3 * el);
    y.dispose();
  }
  if (want('crossEntropy')) {
    report('crossEntropy', shape, 'forward', await time(() => void F.crossEntropy(x, t)), el);
    report('crossEntropy', shape, 'forward + backward', await time(() => F.crossEntropy(x, t).backward()), 3 * el);
    report('crossEntropy, labelSmoothing 0.1', shape, 'forward + backward', await time(() => F.crossEntropy(x, t, { labelSmoothing: 0.1 }).backward()), 3 * el);
    report('nllLoss(logSoftmax(x))', shape, 'forward + backward', await time(() => F.nllLoss(x.logSoftmax(1), t).backward()), 3 * el);
  }
  if (want('tutorial')) {
    // 002's from-scratch loss: softmax by exp / sum(keepdim), then -mean(log(p[arange(n), t])),
    // the gather written as a one-hot mask.
    const tutorial = (v: Tensor) => {
      const e = v.exp();
      return e.div(e.sum(-1, true)).log().mul(onehot).sum(1).mean().neg();
    };
    report('crossEntropy (tutorial: exp/sum, log, one-hot)', shape, 'forward', await time(() => void tutorial(x)), el);
    report('crossEntropy (tutorial: exp/sum, log, one-hot)', shape, 'forward + backward', await time(() => tutorial(x).backward()), 3 * el);
  }
  x.dispose();
  g.dispose();
}

if (sweep) {
  // Lanes per row: every power of two for a few row lengths (the same element count per shape).
  for (const c of [10, 100, 1000, 5000]) {
    const n = Math.max(1, Math.round((1 << 20) / c));
    const x = randn([n, c], true);
    const t = labels(n, c);
    for (const lanes of [1, 2, 4, 8, 16, 32, 64, 256]) {
      if (lanes > 1 && lanes > c) continue;
      softmaxTuning.forceLanes = lanes;
      const name = `sweep lanes ${lanes}`;
      report(`${name} softmax`, [n, c], 'forward', await time(() => void x.softmax(1)), 2 * n * c * 4);
      report(`${name} crossEntropy`, [n, c], 'forward + backward', await time(() => F.crossEntropy(x, t).backward()), 3 * n * c * 4);
    }
    softmaxTuning.forceLanes = 0;
    x.dispose();
  }
}

console.log(`adapter: ${rt.adapterInfo}`);
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((l) => l[c]!.length)));
for (const l of rows) console.log(l.map((v, c) => (c >= 3 ? v.padStart(widths[c]!) : v.padEnd(widths[c]!))).join('  ').trimEnd());
process.exit(0);
