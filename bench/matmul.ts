// Times every matmul kernel variant on square sizes and on the MNIST MLP's shapes (forward
// and the two transposed products of its backward), and prints ms and GFLOP/s (2·M·N·K / t).
//
//   npx tsx bench/matmul.ts            all sizes (256 … 2048)
//   npx tsx bench/matmul.ts --quick    256 … 1024 and fewer repeats
//   npx tsx bench/matmul.ts --sweep    also a sweep of 'register' shapes, to pick the defaults
//   --only <text>                      only the shapes whose name contains <text>
//
// Timing: compile + 2 warm-up runs, then timed runs, each bracketed by rt.sync(), until there are
// ≥ 5 of them and ≥ 0.5 s (3 runs suffice past 5 s); the median is reported. A shape whose run is
// estimated beyond --max-run seconds (default 8) is skipped and marked, so the slow variant on a
// CPU adapter does not take minutes. Other processes on the machine skew the numbers: compare
// variants from one run.

import { acquireDevice } from '../src/device/acquire.ts';
import { GpuRuntime } from '../src/device/runtime.ts';
import { createWebgpuBackend } from '../src/kernels/index.ts';
import { REGISTER_DEFAULT, REGISTER_NO_SUBGROUPS, TILED_DEFAULT, matmul, matmulConfig, type MatmulConfig } from '../src/kernels/matmul.ts';
import type { View } from '../src/backend/types.ts';
import type { GpuStorage } from '../src/kernels/storage.ts';
import { MATMUL_TUTORIAL, matmulSquares, type MatmulCase } from './cases.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const sweep = args.includes('--sweep');
const maxRunIdx = args.indexOf('--max-run');
const maxRunS = maxRunIdx >= 0 ? Number(args[maxRunIdx + 1]) : 8;
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? args[onlyIdx + 1]! : null;

const { device, adapterInfo } = await acquireDevice();
const rt = new GpuRuntime(device, adapterInfo);
const be = createWebgpuBackend(rt);

/** A is stored [K, M] and read through a transposed view when aT; B likewise stored [N, K] when bT. */
type Shape = MatmulCase;

// The shapes bench/run.ts (npm run bench) also times against TensorFlow.js: bench/cases.ts.
const SHAPES: Shape[] = [...matmulSquares(quick), ...MATMUL_TUTORIAL].filter((s) => only === null || s.name.includes(only));

const hasSubgroups = device.features.has('subgroups');
const VARIANTS: [string, MatmulConfig][] = [
  ['tiled', TILED_DEFAULT],
  [hasSubgroups ? 'register' : 'register 16×4 (no subgroups here)', REGISTER_DEFAULT],
  ['register, no subgroups (8×8)', REGISTER_NO_SUBGROUPS],
];
if (sweep) {
  for (const [rows, cols, workgroup] of [[8, 4, 16], [16, 8, 16], [32, 4, 16], [16, 4, 64], [16, 4, 8], [8, 8, 16]] as const) {
    VARIANTS.push([`register ${rows}×${cols} wg${workgroup}`, { variant: 'register', rows, cols, workgroup, subgroups: true }]);
  }
  for (const [rows, cols, workgroup] of [[16, 4, 16], [8, 4, 16], [4, 8, 8]] as const) {
    VARIANTS.push([`register ${rows}×${cols} wg${workgroup}, no subgroups`, { variant: 'register', rows, cols, workgroup, subgroups: false }]);
  }
  for (const tileK of [8, 32] as const) VARIANTS.push([`tiled tileK ${tileK}`, { variant: 'tiled', tileK }]);
}

function random(n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.random() * 2 - 1;
  return out;
}

function operands(s: Shape): [View, View] {
  const a = be.upload(random(s.m * s.k), 'float32');
  const b = be.upload(random(s.k * s.n), 'float32');
  return [
    { storage: a, shape: [1, s.m, s.k], strides: s.aT ? [0, 1, s.m] : [0, s.k, 1], offset: 0 },
    { storage: b, shape: [1, s.k, s.n], strides: s.bT ? [0, 1, s.k] : [0, s.n, 1], offset: 0 },
  ];
}

async function once(a: View, b: View, cfg: MatmulConfig): Promise<number> {
  await rt.sync();
  const t0 = performance.now();
  const out = matmul(rt, be, a, b, cfg);
  await rt.sync();
  const ms = performance.now() - t0;
  out.release();
  return ms;
}

interface Cell {
  ms: number | null;
  note?: string;
}

async function time(s: Shape, cfg: MatmulConfig, estimateMs: number | null): Promise<Cell> {
  if (estimateMs !== null && estimateMs > maxRunS * 1000) return { ms: null, note: `skipped (~${(estimateMs / 1000).toFixed(0)} s/run)` };
  const [a, b] = operands(s);
  try {
    const first = await once(a, b, cfg); // compile + run
    if (first > maxRunS * 1000) return { ms: first, note: 'one run (incl. compile)' };
    await once(a, b, cfg);
    await once(a, b, cfg);
    const times: number[] = [];
    const t0 = performance.now();
    const [minRuns, minMs] = quick ? [3, 300] : [5, 500];
    for (;;) {
      times.push(await once(a, b, cfg));
      const n = times.length;
      const elapsed = performance.now() - t0;
      // Enough runs and time for a stable median; slow shapes stop earlier.
      if ((n >= minRuns && elapsed >= minMs) || (n >= 3 && elapsed >= 5000) || elapsed >= maxRunS * 1000) break;
    }
    times.sort((x, y) => x - y);
    return { ms: times[times.length >> 1]! };
  } finally {
    (a.storage as GpuStorage).release();
    (b.storage as GpuStorage).release();
  }
}

const gflop = (s: Shape): number => (2 * s.m * s.n * s.k) / 1e9;

console.log(`adapter: ${adapterInfo}`);
console.log(`subgroups: ${hasSubgroups ? 'yes' : 'no'}; default config here: ${JSON.stringify(matmulConfig(rt))}`);
const results = new Map<string, Cell[]>();
for (const [name, cfg] of VARIANTS) {
  const row: Cell[] = [];
  let rate: number | null = null; // GFLOP/s of the previous shape, to estimate the next run
  for (const s of SHAPES) {
    const cell = await time(s, cfg, rate ? (gflop(s) / rate) * 1000 : null);
    if (cell.ms !== null && !cell.note) rate = gflop(s) / (cell.ms / 1000);
    row.push(cell);
  }
  results.set(name, row);
  process.stderr.write(`done: ${name}\n`);
}

// Plain aligned table: one row per variant and shape.
const header = ['variant', 'shape', 'ms', 'GFLOP/s', ''];
const lines: string[][] = [header];
for (const [name, row] of results) {
  row.forEach((cell, i) => {
    const s = SHAPES[i]!;
    lines.push([name, s.name, cell.ms === null ? '-' : cell.ms.toFixed(2), cell.ms === null ? '-' : (gflop(s) / (cell.ms / 1000)).toFixed(2), cell.note ?? '']);
  });
}
const widths = header.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
for (const l of lines) console.log(l.map((x, c) => (c >= 2 && c <= 3 ? x.padStart(widths[c]!) : x.padEnd(widths[c]!))).join('  ').trimEnd());

rt.destroy();
process.exit(0);
