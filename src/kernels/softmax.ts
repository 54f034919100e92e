// Softmax-family kernels: softmax and log-softmax along any dim, and their gradients, one
// fused dispatch each. Owns their WGSL, the launchers, and the "rows" machinery that the
// class-loss kernels (losses.ts) share: how a dim becomes rows, how many lanes serve a row,
// the uniform layout. Knows nothing of autograd.
//
// Rows: the reduced dim is moved last (a free re-striding of the view, never a copy); every
// other dim indexes a row. The kept dims are coalesced across all operands and travel in
// uniforms (shape, one vec4 of strides per dim: one lane per operand), so one pipeline serves
// every shape, dim and layout. Outputs are contiguous in the input's own row-major order, so
// softmax(x, 0) is as contiguous as softmax(x, -1).
//
// Threads: a workgroup of WG threads serves G = WG / L rows with L lanes each (L a power of
// two picked from the row length, see softmaxTuning):
//  - L = 1 ("seq"): a row per thread, plain loops, no barriers. llvmpipe splits a shader at
//    each barrier and runs SIMD batches of 8 lanes, so short rows (10 classes) and, there,
//    even long ones are fastest this way.
//  - L > 1 ("tree"): lane k folds elements k, k + L, …, then the lanes combine pairwise in
//    workgroup memory (log2 L barrier steps); what GPUs want for long rows.
// Lanes of a row are adjacent threads when the row is contiguous in memory; when the kept dims
// are (softmax over dim 1 of [N, C, H, W]) neighbouring threads take neighbouring rows instead,
// so neighbouring threads read neighbouring addresses either way (as reduce.ts does).
//
// Numerics: each lane keeps (m, s) = (its max, Σ exp(x − m)); two pairs combine as
// (M, s1·e^(m1−M) + s2·e^(m2−M)) with M = max(m1, m2), so a row needs one tree, not two.
// Outputs are computed from x − m (exact in f32 near the max), so ±1e4 logits lose nothing:
// log-softmax is (x − m) − log s, never x − (m + log s).

import type { View } from '../backend/types.ts';
import { coalesce, contiguousStrides, numel as sizeOf } from '../shape.ts';
import { ShapeError, fmtShape } from '../errors.ts';
import type { GpuRuntime } from '../device/runtime.ts';
import type { PooledBuffer } from '../device/buffer-pool.ts';
import { GpuStorage } from './storage.ts';
import { alignedCuts, exceedsBinding, runSplit } from './split.ts';
import { MAX_RANK, UniformWriter, WG } from './wgsl.ts';
import { kernel } from './ieee.ts';

/**
 * Lane heuristics, mutable so benchmarks and tests can force a variant. Rows up to `seqMax`
 * elements get a row per thread; longer rows get enough lanes that each folds about `perLane`.
 * Measured on llvmpipe (bench/softmax.ts --sweep, 2 cores, CPU ms for a 1M-element softmax
 * forward): rows of 10 / 100 / 1000 / 5000 take 11.7 / 10.4 / 9.5 / 10.0 ms with one lane and
 * 99.8 / 26.1 / 15.2 / 12.8 ms with 8, never better with more: a barrier costs more there than
 * the lanes save, so software adapters always take a row per thread. The hardware values are
 * the usual GPU choice (no GPU was at hand to measure them).
 */
export const softmaxTuning = {
  seqMax: { software: 1 << 30, hardware: 32 },
  perLane: { software: 1024, hardware: 16 },
  /** When set, every launch uses this many lanes (benchmarks, tests). */
  forceLanes: 0,
  /** Softmax's sum pass stores exp(x − m) for the last pass to scale (see softmaxSource); null: on software adapters. */
  storeExp: null as boolean | null,
};

/** True for CPU implementations of WebGPU (Mesa llvmpipe/lavapipe, SwiftShader). */
export const isSoftware = (rt: GpuRuntime): boolean => /llvmpipe|lavapipe|swiftshader|software/i.test(rt.adapterInfo);

/** Operands of one row kernel (at most 4, one vec4 lane each). */
export const MAX_ROW_OPERANDS = 4;

/** An operand of a row kernel: where each row starts and how to step along it. */
export interface RowOperand {
  readonly buffer: PooledBuffer;
  readonly offset: number;
  /** Stride along the reduced dim (0 for a per-row operand such as a class-index target). */
  readonly dimStride: number;
  /** Strides over the row shape (the kept dims, in order). */
  readonly strides: readonly number[];
}

/** A view with `dim` taken out: the row shape, its strides, and the stride along `dim`. */
export function splitDim(shape: readonly number[], strides: readonly number[], dim: number): { rowShape: number[]; rowStrides: number[]; dimStride: number } {
  return {
    rowShape: shape.filter((_, d) => d !== dim),
    rowStrides: strides.filter((_, d) => d !== dim),
    dimStride: strides[dim]!,
  };
}

/** A row operand for view `v` reduced along `dim`. */
export function rowOperand(v: View, dim: number): RowOperand {
  const { rowStrides, dimStride } = splitDim(v.shape, v.strides, dim);
  return { buffer: (v.storage as GpuStorage).buffer, offset: v.offset, dimStride, strides: rowStrides };
}

/** The row operand of a fresh contiguous output of `shape`, reduced along `dim`. */
export function outputOperand(buffer: PooledBuffer, shape: readonly number[], dim: number): RowOperand {
  const { rowStrides, dimStride } = splitDim(shape, contiguousStrides(shape), dim);
  return { buffer, offset: 0, dimStride, strides: rowStrides };
}

/** A launch of a row kernel: layout, lanes and the uniform block shared by every row kernel. */
export interface RowPlan {
  readonly rows: number;
  readonly n: number;
  readonly lanes: number;
  readonly groupRows: number;
  /** Workgroups needed to give every row its lanes once. */
  readonly groups: number;
  readonly uniforms: UniformWriter;
  readonly buffers: PooledBuffer[];
}

/** Smallest power of two >= x (x >= 1). */
const pow2ceil = (x: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, x)));

/** Lanes per row of length n on this adapter (a power of two, at most WG). */
export function lanesFor(rt: GpuRuntime, n: number): number {
  if (softmaxTuning.forceLanes) return softmaxTuning.forceLanes;
  const kind = isSoftware(rt) ? 'software' : 'hardware';
  if (n <= softmaxTuning.seqMax[kind]) return 1;
  return Math.min(WG, pow2ceil(Math.ceil(n / softmaxTuning.perLane[kind])));
}

/** Uniform layout (vec4 slots) of every row kernel; `extra` and `extra2` are the kernel's own. */
export const ROW_SLOTS = { head: 0, head2: 1, offs: 2, dstr: 3, extra: 4, extra2: 5, oshape: 6, ostr: 6 + MAX_RANK / 4 };
const ROW_VEC4S = ROW_SLOTS.ostr + MAX_RANK;

/**
 * Lays out a row kernel over `rowShape` × n: coalesces the kept dims over every operand, picks
 * lanes and thread order, and fills the shared uniform slots (the caller adds `extra` and, for
 * kernels that loop over several rows per workgroup, chunkRows at head2[3]).
 * `primary` is the operand whose memory order decides the thread order.
 */
export function planRows(
  op: string, rt: GpuRuntime, rowShape: readonly number[], n: number, operands: readonly RowOperand[], primary = 1, lanesOverride?: number,
): RowPlan {
  if (operands.length > MAX_ROW_OPERANDS) throw new Error(`${op}: a row kernel takes at most ${MAX_ROW_OPERANDS} operands`);
  const rows = sizeOf(rowShape);
  const co = coalesce(rowShape, operands.map((o) => o.strides));
  if (co.shape.length > MAX_RANK) {
    throw new ShapeError(op, `shape ${fmtShape(rowShape)} has more than ${MAX_RANK} kept dims after merging`, [rowShape]);
  }
  if (rows >= 2 ** 32 || n >= 2 ** 32) throw new ShapeError(op, `${rows} rows of ${n} elements are too many to index in u32`, [rowShape]);
  const lanes = Math.min(lanesOverride ?? lanesFor(rt, n), WG);
  const groupRows = WG / lanes;
  // Neighbouring threads to neighbouring addresses: lanes adjacent when the row is the
  // contiguous direction of the primary operand, rows adjacent otherwise.
  const p = operands[Math.min(primary, operands.length - 1)]!;
  const pStrides = co.strides[Math.min(primary, operands.length - 1)]!;
  const rowStep = pStrides.length ? Math.abs(pStrides[pStrides.length - 1]!) : Infinity;
  const lanesAdjacent = Math.abs(p.dimStride) <= rowStep;
  const [laneShift, rowShift] = (lanesAdjacent ? [0, Math.log2(lanes)] : [Math.log2(groupRows), 0]);
  const u = new UniformWriter(ROW_VEC4S);
  u.list(ROW_SLOTS.head, [rows, n, co.shape.length, lanes]);
  u.list(ROW_SLOTS.head2, [groupRows, laneShift!, rowShift!, groupRows]);
  // Strides may be negative: u32 wrap-around arithmetic still lands on the right element.
  u.list(ROW_SLOTS.offs, operands.map((o) => o.offset >>> 0));
  u.list(ROW_SLOTS.dstr, operands.map((o) => o.dimStride >>> 0));
  u.list(ROW_SLOTS.oshape, co.shape);
  co.shape.forEach((_, d) => u.list(ROW_SLOTS.ostr + d, co.strides.map((s) => s[d]! >>> 0)));
  return { rows, n, lanes, groupRows, groups: Math.ceil(rows / groupRows), uniforms: u, buffers: operands.map((o) => o.buffer) };
}

/** Workgroup counts for `groups` workgroups, folded into 2-D past the per-dim limit. */
export function grid2d(rt: GpuRuntime, groups: number): [number, number] {
  const max = rt.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= max) return [groups, 1];
  const y = Math.ceil(groups / max);
  return [Math.ceil(groups / y), y];
}

/**
 * WGSL shared by the row kernels: Params, rowBases(), and the per-thread ids (`grp`, `lane`,
 * `slot`) as the first lines of main().
 */
export const ROWS_WGSL = `// rows × n elements; row r's operand k starts at rowBases(r)[k] and steps p.dstr[k] along the row.
// head2 = (rows per workgroup G, laneShift, rowShift, rows per workgroup pass chunk).
struct Params {
  rows: u32, n: u32, outerRank: u32, lanes: u32,
  groupRows: u32, laneShift: u32, rowShift: u32, chunkRows: u32,
  offs: vec4<u32>, dstr: vec4<u32>, extra: vec4<u32>, extra2: vec4<u32>,
  oshape: array<vec4<u32>, ${MAX_RANK / 4}>, ostr: array<vec4<u32>, ${MAX_RANK}>,
};
// x − m for an element x of a lane whose max is m. A lane whose max is −∞ holds only −∞ (and
// NaNs the max dropped): x itself stands in, so exp gives 0 and NaN stays NaN, where −∞ − (−∞)
// would make the lane NaN (a masked row of −∞ logits in one lane of a tree).
fn fromMax(x: f32, m: f32) -> f32 { return select(x - m, x, m == -ieee_inf()); }
// Start of row r in each operand (one vec4 lane per operand): r row-major over the kept dims,
// dotted with each operand's strides. The outermost dim needs no div/mod, so the usual case
// (one kept dim) costs one multiply-add.
fn rowBases(r: u32) -> vec4<u32> {
  var rem = r;
  var b = p.offs;
  for (var d = p.outerRank; d > 1u && d <= ${MAX_RANK}u; ) {
    d--;
    let n = p.oshape[d / 4u][d % 4u];
    b += (rem % n) * p.ostr[d];
    rem = rem / n;
  }
  if (p.outerRank > 0u) { b += rem * p.ostr[0]; }
  return b;
}`;

/** First lines of a row kernel's main(): which rows and lane this thread serves. */
export const ROWS_MAIN_ARGS = '@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>';
export const ROWS_IDS = `let grp = wid.x + wid.y * nwg.x;
  let lane = (t >> p.laneShift) & (p.lanes - 1u);
  let slot = (t >> p.rowShift) & (p.groupRows - 1u);
  // Lane 0 of this thread's row: where the tree leaves the row's result.
  let head = t - (lane << p.laneShift);`;

const sources = new Map<string, string>();

/**
 * `store`: the sum pass writes exp(x − m) to the output and the last pass only scales it, one exp
 * per element instead of two. Measured on llvmpipe ([4096, 1000]: 36 vs 42 CPU ms), where exp is
 * dear and memory is cache; GPUs are bandwidth-bound, so they recompute and skip a re-read.
 */
function softmaxSource(log: boolean, tree: boolean, store: boolean): string {
  store &&= !log;
  const key = `fwd|${log}|${tree}|${store}`;
  const hit = sources.get(key);
  if (hit) return hit;
  const src = `// ${log ? 'log_softmax' : 'softmax'} (${tree ? 'tree' : 'seq'}): row r = grp·G + slot, lane k of L folds elements k, k + L, …
// into (m, s) = (max, Σ exp(x − m))${tree ? ', the lanes combine pairwise in workgroup memory' : ' (L = 1: the thread owns the row)'}, then every lane writes
// its elements: ${log ? '(x − m) − log s' : store ? 'the exp(x − m) stored by the sum pass, times 1 / s' : 'exp(x − m) / s'}. Operands: 0 out, 1 x.
${ROWS_WGSL}
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
${tree ? `var<workgroup> red: array<vec2<f32>, ${WG}>;
// (m, s) pairs: an empty lane (s = 0) contributes nothing (not 0·e^(−inf + inf) = NaN).
fn comb(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let m = max(a.x, b.x);
  let sa = select(a.y * exp(a.x - m), 0.0, a.y == 0.0);
  let sb = select(b.y * exp(b.x - m), 0.0, b.y == 0.0);
  return vec2<f32>(m, sa + sb);
}` : ''}
@compute @workgroup_size(${WG})
fn main(${ROWS_MAIN_ARGS}) {
  ${ROWS_IDS}
  let r = grp * p.groupRows + slot;
  let live = r < p.rows;
  let b = rowBases(min(r, p.rows - 1u));
  let xs = p.dstr.y;
  let os = p.dstr.x;
  var m = -ieee_inf();
  var s = 0.0;
  if (live) {
    // A NaN the builtin max drops still reaches s through exp(x − m): the row comes out NaN, as in torch.
    for (var j = lane; j < p.n; j += p.lanes) { m = max(m, x[b.y + j * xs]); }
    for (var j = lane; j < p.n; j += p.lanes) { ${store ? 'let e = exp(fromMax(x[b.y + j * xs], m)); out[b.x + j * os] = e; s += e;' : 's += exp(fromMax(x[b.y + j * xs], m));'} }
  }${tree && store ? `
  let mLane = m; // what the stored exps are relative to` : ''}${tree ? `
  red[t] = vec2<f32>(m, s);
  workgroupBarrier();
  for (var h = p.lanes >> 1u; h > 0u; h >>= 1u) {
    if (lane < h) { red[t] = comb(red[t], red[t + (h << p.laneShift)]); }
    workgroupBarrier();
  }
  m = red[head].x;
  s = red[head].y;` : ''}
  if (live) {
    ${log ? 'let ls = log(s);' : tree && store ? 'let inv = exp(mLane - m) / s;' : 'let inv = 1.0 / s;'}
    for (var j = lane; j < p.n; j += p.lanes) {
      ${store ? 'out[b.x + j * os] *= inv;' : `let v = x[b.y + j * xs] - m;
      out[b.x + j * os] = ${log ? 'v - ls' : 'exp(v) * inv'};`}
    }
  }
}`;
  sources.set(key, src);
  return src;
}

function backwardSource(log: boolean, tree: boolean): string {
  const key = `bwd|${log}|${tree}`;
  const hit = sources.get(key);
  if (hit) return hit;
  const src = `// ${log ? 'log_softmax' : 'softmax'}_backward (${tree ? 'tree' : 'seq'}): row r = grp·G + slot; lane k of L sums
// ${log ? 'g' : 'g·y'} over elements k, k + L, …${tree ? ', the lanes add pairwise in workgroup memory' : ''}; then every lane writes
// its elements: ${log ? 'g − exp(y)·Σ g' : 'y·(g − Σ g·y)'}. Operands: 0 out (gradient of x), 1 y (the forward output), 2 g.
${ROWS_WGSL}
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
${tree ? `var<workgroup> red: array<f32, ${WG}>;` : ''}
@compute @workgroup_size(${WG})
fn main(${ROWS_MAIN_ARGS}) {
  ${ROWS_IDS}
  let r = grp * p.groupRows + slot;
  let live = r < p.rows;
  let b = rowBases(min(r, p.rows - 1u));
  var acc = 0.0;
  if (live) {
    for (var j = lane; j < p.n; j += p.lanes) { acc += ${log ? 'g[b.z + j * p.dstr.z]' : 'g[b.z + j * p.dstr.z] * y[b.y + j * p.dstr.y]'}; }
  }${tree ? `
  red[t] = acc;
  workgroupBarrier();
  for (var h = p.lanes >> 1u; h > 0u; h >>= 1u) {
    if (lane < h) { red[t] += red[t + (h << p.laneShift)]; }
    workgroupBarrier();
  }
  acc = red[head];` : ''}
  if (live) {
    for (var j = lane; j < p.n; j += p.lanes) {
      let yv = y[b.y + j * p.dstr.y];
      let gv = g[b.z + j * p.dstr.z];
      out[b.x + j * p.dstr.x] = ${log ? 'gv - exp(yv) * acc' : 'yv * (gv - acc)'};
    }
  }
}`;
  sources.set(key, src);
  return src;
}

function checkDim(op: string, shape: readonly number[], dim: number): void {
  if (!Number.isInteger(dim) || dim < 0 || dim >= shape.length) throw new ShapeError(op, `dim ${dim} is out of range for shape ${fmtShape(shape)}`, [shape]);
}

/**
 * Softmax (log false) or log-softmax of x along `dim`; a new contiguous storage of x's shape.
 * @example softmax(rt, be, { storage, shape: [128, 10], strides: [10, 1], offset: 0 }, 1, false)
 */
export function softmax(rt: GpuRuntime, backend: GpuStorage['backend'], x: View, dim: number, log: boolean): GpuStorage {
  const name = log ? 'log_softmax' : 'softmax';
  checkDim(name, x.shape, dim);
  const total = sizeOf(x.shape);
  if (exceedsBinding(rt, [x], [total])) {
    // Over one binding: parts of whole rows (every dim but `dim` may be cut), src/kernels/split.ts.
    return runSplit(rt, {
      name, backend, inputs: [x], roles: ['input'], outputs: [{ shape: x.shape, dtype: 'float32' }], cuts: alignedCuts(x.shape, 2, [dim]),
      leaf: ([part]) => [softmax(rt, backend, part!, dim, log)],
    })[0]!;
  }
  const out = new GpuStorage(backend, rt, rt.pool.acquire(Math.max(total, 1) * 4), 'float32', total);
  if (total === 0) return out;
  const { rowShape } = splitDim(x.shape, x.strides, dim);
  const plan = planRows(name, rt, rowShape, x.shape[dim]!, [outputOperand(out.buffer, x.shape, dim), rowOperand(x, dim)]);
  const tree = plan.lanes > 1;
  const src = softmaxSource(log, tree, softmaxTuning.storeExp ?? isSoftware(rt));
  rt.dispatch(kernel(rt, `${name}_${tree ? 'tree' : 'seq'}`, src), plan.buffers, plan.uniforms.u32, grid2d(rt, plan.groups));
  return out;
}

/** Gradient of softmax / log-softmax along `dim` from the output y and its gradient g; contiguous, y's shape. */
export function softmaxBackward(rt: GpuRuntime, backend: GpuStorage['backend'], y: View, g: View, dim: number, log: boolean): GpuStorage {
  const name = log ? 'log_softmax_backward' : 'softmax_backward';
  checkDim(name, y.shape, dim);
  if (y.shape.length !== g.shape.length || y.shape.some((d, i) => d !== g.shape[i])) {
    throw new ShapeError(name, `output shape ${fmtShape(y.shape)} and gradient shape ${fmtShape(g.shape)} differ`, [y.shape, g.shape]);
  }
  const total = sizeOf(y.shape);
  if (exceedsBinding(rt, [y, g], [total])) {
    return runSplit(rt, {
      name, backend, inputs: [y, g], roles: ['output', 'gradient'], outputs: [{ shape: y.shape, dtype: 'float32' }], cuts: alignedCuts(y.shape, 3, [dim]),
      leaf: ([py, pg]) => [softmaxBackward(rt, backend, py!, pg!, dim, log)],
    })[0]!;
  }
  const out = new GpuStorage(backend, rt, rt.pool.acquire(Math.max(total, 1) * 4), 'float32', total);
  if (total === 0) return out;
  const { rowShape } = splitDim(y.shape, y.strides, dim);
  const plan = planRows(name, rt, rowShape, y.shape[dim]!, [outputOperand(out.buffer, y.shape, dim), rowOperand(y, dim), rowOperand(g, dim)]);
  const tree = plan.lanes > 1;
  rt.dispatch(kernel(rt, `${name}_${tree ? 'tree' : 'seq'}`, backwardSource(log, tree)), plan.buffers, plan.uniforms.u32, grid2d(rt, plan.groups));
  return out;
}
