// Times the pooling, dropout and activation kernels on the tutorials' shapes at batch 64 and
// prints ms and GB/s (bytes every pass must move at least: each input read once, each output
// written once; int32 indices count 4 bytes). A contiguous copy of the same bytes is printed as
// the adapter's practical ceiling.
//
//   npx tsx bench/pool.ts            all rows
//   npx tsx bench/pool.ts --quick    fewer repeats
//   --only <text>                    only the rows whose name contains <text>
//
// Timing: compile + 2 warm-up runs, then runs until ≥ 5 of them (3 with --quick) or ≥ 0.5 s,
// each bracketed by rt.sync(); the median is reported.

import { acquireDevice } from '../src/device/acquire.ts';
import { GpuRuntime } from '../src/device/runtime.ts';
import { createWebgpuBackend } from '../src/kernels/index.ts';
import type { Pool2dGeometry } from '../src/backend/pool-activation-types.ts';
import type { Storage, View } from '../src/backend/types.ts';
import { contiguousStrides } from '../src/shape.ts';
import { POOL_TUTORIAL } from './cases.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? args[onlyIdx + 1]! : null;

const { device, adapterInfo } = await acquireDevice();
const rt = new GpuRuntime(device, adapterInfo);
const be = createWebgpuBackend(rt);

function view(shape: number[], dtype: 'float32' | 'int32' = 'float32', fill?: (i: number) => number): View {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = dtype === 'float32' ? new Float32Array(n) : new Int32Array(n);
  for (let i = 0; i < n; i++) data[i] = fill ? fill(i) : Math.random() * 2 - 1;
  return { storage: be.upload(data, dtype), shape, strides: contiguousStrides(shape), offset: 0 };
}

function geom(h: number, w: number, k: number): Pool2dGeometry {
  return { inH: h, inW: w, outH: Math.floor(h / k), outW: Math.floor(w / k), kH: k, kW: k, sH: k, sW: k, pH: 0, pW: 0, dH: 1, dW: 1 };
}

async function time(run: () => Storage | Storage[]): Promise<number> {
  const once = async (): Promise<number> => {
    await rt.sync();
    const t0 = performance.now();
    const out = run();
    await rt.sync();
    const ms = performance.now() - t0;
    for (const s of Array.isArray(out) ? out : [out]) s.release();
    return ms;
  };
  await once(); // compile + run
  await once();
  await once();
  const times: number[] = [];
  const t0 = performance.now();
  const want = quick ? 3 : 5;
  while (times.length < want || performance.now() - t0 < 500) {
    times.push(await once());
    if (times.length >= 50) break;
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

interface Row {
  name: string;
  bytes: number;
  run: () => Storage | Storage[];
}

const rows: Row[] = [];
for (const [n, c, hw] of POOL_TUTORIAL) { // shared with bench/run.ts (bench/cases.ts)
  const x = view([n, c, hw, hw]);
  const g2 = geom(hw, hw, 2);
  const inBytes = n * c * hw * hw * 4;
  const outN = n * c * g2.outH * g2.outW;
  const g = view([n, c, g2.outH, g2.outW]);
  // Indices of a real forward, so backward's comparisons hit as in training.
  const [v0, idx] = be.maxPool2d(x, g2);
  v0.release();
  const idxView: View = { storage: idx, shape: [n, c, g2.outH, g2.outW], strides: contiguousStrides([n, c, g2.outH, g2.outW]), offset: 0 };
  const tag = `[${n},${c},${hw},${hw}] k2`;
  rows.push({ name: `maxPool2d forward ${tag}`, bytes: inBytes + outN * 8, run: () => be.maxPool2d(x, g2) });
  rows.push({ name: `maxPool2d backward ${tag}`, bytes: outN * 8 + inBytes, run: () => be.maxPool2dBackward(g, idxView, g2) });
  rows.push({ name: `maxPool2d fwd+bwd ${tag}`, bytes: inBytes + outN * 8 + outN * 8 + inBytes, run: () => {
    const [v, i] = be.maxPool2d(x, g2);
    const dx = be.maxPool2dBackward(g, { ...idxView, storage: i }, g2);
    return [v, i, dx];
  } });
  const div = { countIncludePad: true, divisorOverride: 0 };
  rows.push({ name: `avgPool2d forward ${tag}`, bytes: inBytes + outN * 4, run: () => be.avgPool2d(x, g2, div) });
  rows.push({ name: `avgPool2d backward ${tag}`, bytes: outN * 4 + inBytes, run: () => be.avgPool2dBackward(g, g2, div) });
  rows.push({ name: `dropout2d p=0.5 ${tag.replace(' k2', '')}`, bytes: 2 * inBytes, run: () => be.dropout(x, 2 ** 23, 2, hw * hw, { key: [1, 2], counter: 0 }) });
}
const M = 1 << 20;
const big = view([M]);
const gBig = view([M]);
rows.push({ name: 'copy (ceiling) 1M', bytes: 8 * M, run: () => be.unary('identity', big, 'float32') });
rows.push({ name: 'dropout p=0.5 1M', bytes: 8 * M, run: () => be.dropout(big, 2 ** 23, 2, 1, { key: [1, 2], counter: 0 }) });
rows.push({ name: 'dropout p=0.5 1M, strided (transposed view)', bytes: 8 * M, run: () => be.dropout({ ...big, shape: [1024, 1024], strides: [1, 1024] }, 2 ** 23, 2, 1, { key: [1, 2], counter: 0 }) });
rows.push({ name: 'gelu forward 1M', bytes: 8 * M, run: () => be.activation('gelu', big, []) });
rows.push({ name: 'gelu backward 1M', bytes: 12 * M, run: () => be.activationBackward('gelu', big, gBig, []) });
rows.push({ name: 'leakyRelu forward 1M', bytes: 8 * M, run: () => be.activation('leakyRelu', big, [0.01]) });

console.log(`adapter: ${adapterInfo}`);
const lines: string[][] = [['kernel', 'ms', 'GB/s']];
for (const r of rows.filter((r) => only === null || r.name.includes(only))) {
  const ms = await time(r.run);
  lines.push([r.name, ms.toFixed(3), (r.bytes / (ms / 1000) / 1e9).toFixed(2)]);
  process.stderr.write(`done: ${r.name}\n`);
}
const widths = lines[0]!.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
for (const l of lines) console.log(l.map((x, c) => (c > 0 ? x.padStart(widths[c]!) : x.padEnd(widths[c]!))).join('  '));

rt.destroy();
process.exit(0);
