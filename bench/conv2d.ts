// Times the conv2d kernels on the tutorials' shapes at batch 64 — forward (with bias), gradient
// wrt input and gradient wrt weight — and prints ms and GFLOP/s (2·N·Cout·Ho·Wo·Cin/g·kH·kW per pass).
//
//   npx tsx bench/conv2d.ts            the default config and the alternatives
//   npx tsx bench/conv2d.ts --quick    the default config only, fewer repeats
//   npx tsx bench/conv2d.ts --sweep    also a sweep of register tiles, to pick the defaults
//   --only <text>                      only the shapes whose name contains <text>
//   --subgroups                        open the device with the 'subgroups' feature when the adapter
//                                      has it (acquireDevice now requests it itself; kept for old checkouts)
//
// Timing: compile + 2 warm-up runs, then runs until ≥ 5 of them (3 with --quick) or ≥ 0.5 s, each
// bracketed by rt.sync(); the median is reported, and the minimum (the better estimate on a shared,
// busy machine). A pass includes its helper dispatches (weight
// packing, split-K sum), as the op pays them.

import { acquireDevice } from '../src/device/acquire.ts';
import { GpuRuntime } from '../src/device/runtime.ts';
import { createWebgpuBackend } from '../src/kernels/index.ts';
import {
  DIRECT_CONFIG, GPU_CONFIG, SOFTWARE_CONFIG, conv2d, conv2dBackwardInput, conv2dBackwardWeight, convConfig, type ConvConfig,
} from '../src/kernels/conv.ts';
import { convFlops, convOutSize, type Conv2dGeometry } from '../src/backend/conv-geometry.ts';
import type { View } from '../src/backend/types.ts';
import type { GpuStorage } from '../src/kernels/storage.ts';
import { contiguousStrides } from '../src/shape.ts';
import { CONV_TUTORIAL, type ConvCase } from './cases.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const sweep = args.includes('--sweep');
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? args[onlyIdx + 1]! : null;

if (args.includes('--subgroups')) {
  // Dawn in Node: add 'subgroups' to the features acquireDevice asks for.
  const name = 'webgpu';
  const { globals } = (await import(/* @vite-ignore */ name)) as { globals: { GPUAdapter: { prototype: GPUAdapter } } };
  const proto = globals.GPUAdapter.prototype;
  const requestDevice = proto.requestDevice;
  proto.requestDevice = function (this: GPUAdapter, desc?: GPUDeviceDescriptor) {
    const asked = [...(desc?.requiredFeatures ?? [])];
    const extra: GPUFeatureName[] = this.features.has('subgroups') && !asked.includes('subgroups') ? ['subgroups'] : [];
    return requestDevice.call(this, { ...desc, requiredFeatures: [...(desc?.requiredFeatures ?? []), ...extra] });
  };
}

const { device, adapterInfo } = await acquireDevice();
const rt = new GpuRuntime(device, adapterInfo);
const be = createWebgpuBackend(rt);

// The tutorial's convolutions, shared with bench/run.ts (bench/cases.ts).
const PROBLEMS: ConvCase[] = CONV_TUTORIAL.filter((p) => only === null || p.name.includes(only));

function geometry(p: ConvCase): Conv2dGeometry {
  const o = convOutSize(p.hw, p.k, 1, 0, 0, 1);
  return {
    batch: p.n, inChannels: p.cin, height: p.hw, width: p.hw, outChannels: p.cout, kernelH: p.k, kernelW: p.k,
    strideH: 1, strideW: 1, padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1, groups: 1, outH: o, outW: o,
  };
}

function view(shape: number[]): View {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.random() * 2 - 1;
  return { storage: be.upload(data, 'float32'), shape, strides: contiguousStrides(shape), offset: 0 };
}

type Pass = 'forward' | 'input grad' | 'weight grad';
const PASSES: Pass[] = ['forward', 'input grad', 'weight grad'];

interface Timing {
  median: number;
  min: number;
}

async function time(run: () => GpuStorage): Promise<Timing> {
  const once = async (): Promise<number> => {
    await rt.sync();
    const t0 = performance.now();
    const out = run();
    await rt.sync();
    const ms = performance.now() - t0;
    out.release();
    return ms;
  };
  await once(); // compile + run
  await once();
  await once();
  const times: number[] = [];
  const t0 = performance.now();
  const want = quick ? 3 : 5;
  while (times.length < want || (performance.now() - t0 < 500 && times.length < 50)) times.push(await once());
  times.sort((a, b) => a - b);
  return { median: times[times.length >> 1]!, min: times[0]! };
}

async function measure(p: ConvCase, cfg: ConvConfig): Promise<Record<Pass, Timing>> {
  const g = geometry(p);
  const x = view([g.batch, g.inChannels, g.height, g.width]);
  const w = view([g.outChannels, g.inChannels, g.kernelH, g.kernelW]);
  const b = view([g.outChannels]);
  const gy = view([g.batch, g.outChannels, g.outH, g.outW]);
  try {
    return {
      forward: await time(() => conv2d(rt, be, x, w, b, g, cfg)),
      'input grad': await time(() => conv2dBackwardInput(rt, be, gy, w, g, cfg)),
      'weight grad': await time(() => conv2dBackwardWeight(rt, be, x, gy, g, cfg)),
    };
  } finally {
    for (const v of [x, w, b, gy]) v.storage.release();
  }
}

const VARIANTS: [string, ConvConfig][] = [[`default`, convConfig(rt)]];
if (!quick) {
  VARIANTS.push(['gpu config', GPU_CONFIG], ['tiled (workgroup memory)', { ...convConfig(rt), forward: { variant: 'tiled' }, inputGrad: { variant: 'tiled' } }], ['direct', DIRECT_CONFIG]);
  if (convConfig(rt) !== SOFTWARE_CONFIG) VARIANTS.push(['software config', SOFTWARE_CONFIG]);
}
if (sweep) {
  const base = SOFTWARE_CONFIG;
  for (const [rows, outRows, cols] of [[4, 1, 0], [4, 2, 0], [8, 1, 0], [8, 2, 0], [8, 4, 0], [12, 2, 0], [16, 1, 0], [16, 2, 0], [8, 2, 4], [8, 2, 8], [8, 1, 12], [4, 4, 8]] as const) {
    const f = { variant: "register" as const, rows, cols, outRows, workgroup: 16, batchFast: true, subgroups: true };
    VARIANTS.push([`fwd ${rows}ch × ${outRows}×${cols || 'auto'}`, { ...base, forward: f, inputGrad: f }]);
  }
  for (const [rows, khRows, target] of [[2, 5, 1024], [4, 5, 512], [4, 5, 2048], [5, 5, 1024], [8, 5, 1024], [4, 1, 1024], [4, 3, 1024], [10, 5, 1024], [4, 5, 4096]] as const) {
    VARIANTS.push([`wgrad ${rows}ch × ${khRows} rows, ${target} inv`, { ...base, weightGrad: { variant: 'register', rows, khRows, cols: 0, workgroup: 16, targetInvocations: target } }]);
  }
}

console.log(`adapter: ${adapterInfo}`);
console.log(`subgroups: ${device.features.has('subgroups') ? 'yes' : 'no'}`);
console.log(`default config here: ${JSON.stringify(convConfig(rt))}`);
console.log('for scale: TensorFlow.js (WebGPU backend) on this machine, forward only at batch 64: conv1 84 ms, conv2 101 ms (issue #4)');
const lines: string[][] = [['variant', 'shape', 'pass', 'median ms', 'GFLOP/s', 'min ms']];
for (const [name, cfg] of VARIANTS) {
  for (const p of PROBLEMS) {
    if (name === 'direct' && p.cin > 1 && quick) continue;
    const r = await measure(p, cfg);
    const gf = convFlops(geometry(p)) / 1e9;
    for (const pass of PASSES) lines.push([name, p.name, pass, r[pass].median.toFixed(2), (gf / (r[pass].median / 1000)).toFixed(2), r[pass].min.toFixed(2)]);
    const total = PASSES.reduce((s, q) => s + r[q].median, 0);
    const totalMin = PASSES.reduce((s, q) => s + r[q].min, 0);
    lines.push([name, p.name, 'fwd + both grads', total.toFixed(2), ((3 * gf) / (total / 1000)).toFixed(2), totalMin.toFixed(2)]);
  }
  process.stderr.write(`done: ${name}\n`);
}
const widths = lines[0]!.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
for (const l of lines) console.log(l.map((x, c) => (c >= 3 ? x.padStart(widths[c]!) : x.padEnd(widths[c]!))).join('  ').trimEnd());

rt.destroy();
process.exit(0);
