// Reduction kernels: sum, mean, max, min, prod, argmax, argmin over the last dims of a
// strided view. Owns the WGSL and the launcher that picks lanes, grid and uniforms; knows
// nothing of which dims the user asked for (the tensor layer has permuted them to the end)
// nor of autograd.
//
// One template; shapes, strides and the thread layout travel in uniforms, so one pipeline
// per op × dtype (× partial/flat flags) serves every shape. A workgroup of WG threads works
// on G = WG / L outputs with L lanes each (L a power of two, picked from the block length n):
//  - L = 1 ("seq"): one thread per output, a sequential loop over its block, no barriers.
//    Best for tiny blocks (a [100000, 3] row sum), where a workgroup per output idles lanes.
//  - L > 1 ("tree"): each lane strides over the block accumulating, then the L partials are
//    combined pairwise in workgroup memory (log2 L barrier steps). L = WG is the classic
//    workgroup-per-output reduction; smaller L packs several outputs into one workgroup,
//    which matters on llvmpipe where every workgroup costs several microseconds.
//  - split: few outputs of very long blocks (4M elements → 1) first reduce chunks of each
//    block into partials (value, plus position for arg ops), then reduce the partials, so
//    the work spreads over many workgroups instead of one.
// Threads map to (output, lane) "row-major" (lanes of one output adjacent) when the block is
// contiguous in memory, or "column-major" (outputs adjacent) when the outputs are, so
// neighbouring threads read neighbouring addresses either way.
// Arg reductions carry (value, flat position) pairs and compare positions explicitly, so the
// first occurrence wins whatever order the tree combines them in.

import type { DType } from '../dtype.ts';
import type { ReduceOp, View } from '../backend/types.ts';
import { coalesce, numel as sizeOf, type Shape } from '../shape.ts';
import { ShapeError, ValueError, fmtShape } from '../errors.ts';
import type { GpuRuntime } from '../device/runtime.ts';
import type { PooledBuffer } from '../device/buffer-pool.ts';
import { GpuStorage } from './storage.ts';
import { exceedsBinding, runSplit, type Cut, type Join } from './split.ts';
import * as ew from './elementwise.ts';
import { indexGather } from './indexing.ts';
import type { IndexCheck } from '../backend/indexing.ts';
import { MAX_RANK, UniformWriter, WG, wgslType } from './wgsl.ts';
import { kernel } from './ieee.ts';

type Scalar = 'f32' | 'i32';

/**
 * Launch heuristics, mutable so benchmarks and tests can force a variant.
 * - seqMax: blocks up to this length get one thread per output (no tree);
 * - perLane: elements each lane should fold before the tree, which sets the lanes per output.
 *   Software adapters (llvmpipe) run a workgroup's lanes as SIMD batches switched at every
 *   barrier and pay microseconds per workgroup, so long serial loops win there (measured:
 *   [10000, 100] row sum 4.1 ms at 64/lane vs 1.8 ms at 512); GPUs want lanes busy instead.
 * - splitChunk: chunk length of a split first pass; splitMaxOutputs: split only below this
 *   many outputs (more outputs already fill the device).
 */
export const reduceTuning = {
  seqMax: 16,
  perLane: { software: 512, hardware: 16 },
  splitChunk: WG * 64,
  splitMaxOutputs: 64,
};

/** True for CPU implementations of WebGPU (Mesa llvmpipe/lavapipe, SwiftShader). */
const isSoftware = (rt: GpuRuntime): boolean => /llvmpipe|lavapipe|swiftshader|software/i.test(rt.adapterInfo);

const isArg = (op: ReduceOp): boolean => op === 'argmax' || op === 'argmin';
const needsNonEmpty = (op: ReduceOp): boolean => op === 'max' || op === 'min' || isArg(op);

interface Spec {
  op: ReduceOp;
  /** WGSL type the input buffer stores. */
  inType: Scalar;
  /** Accumulator type: f32 for float input and for mean; i32 (wrapping) otherwise. */
  acc: Scalar;
  /** Output element type (final pass) — partial passes write `acc`. */
  outType: Scalar;
  /** Output is bool: store nonzero as 1. */
  outBool: boolean;
  /** The input carries positions in a second buffer (second pass of arg reductions). */
  inIdx: boolean;
  /** Writes raw accumulators (and positions for arg ops) instead of final values. */
  partial: boolean;
  /** Inner (reduced) dims coalesced to at most one: offset = j × stride, no div/mod. */
  flat: boolean;
}

/** The WGSL combine step and identity of an op in accumulator type `t`. */
function opCode(op: ReduceOp, t: Scalar): { identity: string; combine: string } {
  const isnan = (x: string) => (t === 'f32' ? `ieee_isnan(${x})` : 'false');
  switch (op) {
    case 'sum':
    case 'mean':
      return { identity: `${t}(0)`, combine: 'return a + b;' };
    case 'prod':
      return { identity: `${t}(1)`, combine: 'return a * b;' };
    case 'max':
    case 'min':
      // torch semantics: NaN propagates (WGSL max/min may drop it).
      return {
        identity: t === 'f32' ? (op === 'max' ? '-ieee_inf()' : 'ieee_inf()') : `bitcast<i32>(${op === 'max' ? '0x80000000u' : '0x7fffffffu'})`,
        combine: `return select(select(${op}(a, b), b, ${isnan('b')}), a, ${isnan('a')});`,
      };
    case 'argmax':
    case 'argmin': {
      // True when (vb, ib) should replace (va, ia): NaN beats every number, then the larger
      // (smaller) value, then the lower position. NONE marks an empty slot.
      const cmp = op === 'argmax' ? '>' : '<';
      const nanRule =
        t === 'f32'
          ? `let na = ieee_isnan(va); let nb = ieee_isnan(vb);
  if (na || nb) { return nb && (!na || ib < ia); }
  `
          : '';
      return {
        identity: `${t}(0)`,
        combine: `if (ia == NONE) { return true; }
  if (ib == NONE) { return false; }
  ${nanRule}return vb ${cmp} va || (vb == va && ib < ia);`,
      };
    }
  }
}

const sourceCache = new Map<string, string>();

function shaderSource(s: Spec): string {
  const key = JSON.stringify(s);
  const hit = sourceCache.get(key);
  if (hit) return hit;
  const arg = isArg(s.op);
  const { identity, combine } = opCode(s.op, s.acc);
  const A = s.acc;
  const slots = MAX_RANK / 4;
  let b = 0;
  const decls = [`@group(0) @binding(${b++}) var<storage, read_write> out: array<${s.partial ? A : s.outType}>;`];
  if (arg && s.partial) decls.push(`@group(0) @binding(${b++}) var<storage, read_write> outIdx: array<u32>;`);
  decls.push(`@group(0) @binding(${b++}) var<storage, read> x: array<${s.inType}>;`);
  if (s.inIdx) decls.push(`@group(0) @binding(${b++}) var<storage, read> xIdx: array<u32>;`);
  decls.push(`@group(0) @binding(${b++}) var<uniform> p: Params;`);

  const innerOffset = s.flat
    ? 'return j * p.istrides[0][0];'
    : `var rem = j; var off = 0u;
  for (var d = p.innerRank - 1u; d > 0u && d < ${MAX_RANK}u; d--) {
    let n = p.ishape[d / 4u][d % 4u];
    off += (rem % n) * p.istrides[d / 4u][d % 4u];
    rem = rem / n;
  }
  return off + rem * p.istrides[0][0];`;

  // Folding element j of the block (at buffer offset `o`) into the running state.
  const load = `${A}(x[o])`;
  const pos = s.inIdx ? 'xIdx[o]' : 'j';
  const fold = arg
    ? `let v = ${load}; let vi = ${pos}; if (better(accV, accI, v, vi)) { accV = v; accI = vi; }`
    : `accV = comb(accV, ${load});`;
  const helpers = arg
    ? `const NONE = 0xffffffffu;
fn better(va: ${A}, ia: u32, vb: ${A}, ib: u32) -> bool {
  ${combine}
}`
    : `fn comb(a: ${A}, b: ${A}) -> ${A} {
  ${combine}
}`;

  // Writing output `idx` from the value `v` (and position `i` for arg ops).
  const store = (idx: string, v: string, i: string): string => {
    if (s.partial) return arg ? `out[${idx}] = ${v}; outIdx[${idx}] = ${i};` : `out[${idx}] = ${v};`;
    if (arg) return `out[${idx}] = ${s.outType}(${i});`;
    let val = s.op === 'mean' ? `${v} * bitcast<f32>(p.scaleBits)` : v;
    if (s.outBool) val = `select(0, 1, ${A === 'f32' ? `ieee_nonzero(${val})` : `${val} != 0`})`;
    return `out[${idx}] = ${s.outType}(${val});`;
  };

  const common = `// numOut outputs of blocks of n elements; split passes cut each block into \`chunks\` chunks of chunkLen.
struct Params {
  numOut: u32, n: u32, chunkLen: u32, chunks: u32,
  offset: u32, outerRank: u32, innerRank: u32, scaleBits: u32,
  lanes: u32, groupOuts: u32, laneShift: u32, outShift: u32,
  oshape: array<vec4<u32>, ${slots}>, ostrides: array<vec4<u32>, ${slots}>,
  ishape: array<vec4<u32>, ${slots}>, istrides: array<vec4<u32>, ${slots}>,
};
${decls.join('\n')}
${helpers}
// Buffer offset of output o's block (o row-major over the kept dims). The outermost dim needs
// no div/mod (rem < its size), so rank 1 costs one multiply: integer division is scalarised
// on llvmpipe and dominated small-block reductions.
fn outerOffset(o: u32) -> u32 {
  var rem = o; var off = p.offset;
  for (var d = p.outerRank - 1u; d > 0u && d < ${MAX_RANK}u; d--) {
    let n = p.oshape[d / 4u][d % 4u];
    off += (rem % n) * p.ostrides[d / 4u][d % 4u];
    rem = rem / n;
  }
  return off + rem * p.ostrides[0][0];
}
// Offset of element j (row-major over the reduced dims) from its block's start.
fn innerOffset(j: u32) -> u32 {
  ${innerOffset}
}`;

  const init = arg ? `var accV = ${identity}; var accI = NONE;` : `var accV = ${identity};`;
  const shared = arg ? `var<workgroup> sv: array<${A}, ${WG}>;\nvar<workgroup> si: array<u32, ${WG}>;` : `var<workgroup> sv: array<${A}, ${WG}>;`;
  const treeStep = arg
    ? `if (better(sv[t], si[t], sv[u], si[u])) { sv[t] = sv[u]; si[t] = si[u]; }`
    : 'sv[t] = comb(sv[t], sv[u]);';
  const src = `// reduce_${s.op}: workgroup g serves "virtual outputs" g·G .. g·G + G-1 (virtual output v =
// chunk v % chunks of output v / chunks; chunks = 1 unless split). Thread t is lane
// (t >> laneShift) % lanes of virtual output g·G + (t >> outShift) % G (lanes and G are powers
// of two; shifts and masks, since integer division is slow on llvmpipe); lane r folds elements
// r, r + lanes, … of its chunk, then the lanes combine pairwise in shared memory and lane 0
// writes. lanes = 1 skips the tree: one thread per output, a plain loop.
${common}
${shared}
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let g = wid.x + (wid.y + wid.z * nwg.y) * nwg.x;
  let r = (t >> p.laneShift) & (p.lanes - 1u);
  let vo = g * p.groupOuts + ((t >> p.outShift) & (p.groupOuts - 1u));
  let live = vo < p.numOut * p.chunks;
  ${init}
  if (live) {
    ${s.partial ? `let oi = vo / p.chunks;
    let start = (vo % p.chunks) * p.chunkLen;
    let end = min(p.n, start + p.chunkLen);` : `let oi = vo; let start = 0u; let end = p.n;`}
    let base = outerOffset(oi);
    for (var j = start + r; j < end; j += p.lanes) {
      let o = base + innerOffset(j);
      ${fold}
    }
  }
  if (p.lanes == 1u) {
    if (live) { ${store('vo', 'accV', 'accI')} }
    return;
  }
  sv[t] = accV;${arg ? ' si[t] = accI;' : ''}
  workgroupBarrier();
  for (var s = p.lanes / 2u; s > 0u; s >>= 1u) {
    if (r < s) { let u = t + (s << p.laneShift); ${treeStep} }
    workgroupBarrier();
  }
  if (live && r == 0u) { ${store('vo', 'sv[t]', 'si[t]')} }
}`;
  sourceCache.set(key, src);
  return src;
}

/** Workgroup counts for `groups` workgroups, folded into 2-D/3-D past the per-dim limit. */
function grid3d(rt: GpuRuntime, groups: number): [number, number, number] {
  const max = rt.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= max) return [groups, 1, 1];
  const yz = Math.ceil(groups / max);
  if (yz <= max) return [Math.ceil(groups / yz), yz, 1];
  const z = Math.ceil(yz / max);
  return [max, max, z];
}

interface Pass {
  spec: Spec;
  /** Kept dims and x's strides over them (coalesced). */
  outer: { shape: number[]; strides: number[] };
  /** Reduced dims and x's strides over them (coalesced). */
  inner: { shape: number[]; strides: number[] };
  offset: number;
  n: number;
  numOut: number;
  chunks: number;
  chunkLen: number;
  scale: number;
  buffers: PooledBuffer[];
}

/** Smallest power of two >= x (x >= 1). */
const pow2ceil = (x: number): number => 2 ** Math.ceil(Math.log2(x));

function runPass(rt: GpuRuntime, ps: Pass): void {
  // Lanes per (virtual) output: enough that each folds about perLane elements, at most WG.
  const len = Math.min(ps.n, ps.chunkLen);
  const perLane = reduceTuning.perLane[isSoftware(rt) ? 'software' : 'hardware'];
  const lanes = len <= reduceTuning.seqMax ? 1 : Math.min(WG, pow2ceil(Math.ceil(len / perLane)));
  const groupOuts = WG / lanes;
  // Outputs adjacent in memory (a column sum): neighbouring threads take neighbouring outputs.
  const innerStride = ps.inner.strides.length ? Math.abs(ps.inner.strides[ps.inner.strides.length - 1]!) : 0;
  const outerStride = ps.outer.strides.length ? Math.abs(ps.outer.strides[ps.outer.strides.length - 1]!) : Infinity;
  const outputsMajor = ps.chunks === 1 && outerStride < innerStride;
  const [laneShift, outShift] = (outputsMajor ? [groupOuts, 1] : [1, lanes]).map(Math.log2);

  const slots = MAX_RANK / 4;
  const u = new UniformWriter(3 + 4 * slots);
  u.list(0, [ps.numOut, ps.n, ps.chunkLen, ps.chunks]);
  u.list(1, [ps.offset, ps.outer.shape.length, ps.inner.shape.length, 0]);
  u.f32[7] = ps.scale;
  u.list(2, [lanes, groupOuts, laneShift!, outShift!]);
  // Strides may be negative: u32 wrap-around arithmetic still lands on the right element.
  u.list(3, ps.outer.shape);
  u.list(3 + slots, ps.outer.strides.map((v) => v >>> 0));
  u.list(3 + 2 * slots, ps.inner.shape);
  u.list(3 + 3 * slots, ps.inner.strides.map((v) => v >>> 0));
  const s = ps.spec;
  const name = `reduce_${s.op}${s.partial ? '_partial' : ''}`;
  const groups = Math.ceil((ps.numOut * ps.chunks) / groupOuts);
  rt.dispatch(kernel(rt, name, shaderSource(s)), ps.buffers, u.u32, grid3d(rt, groups));
}

/**
 * Reduces the last `reduceRank` dims of the strided view `x` with `op`; returns a new
 * contiguous storage of shape x.shape[:-reduceRank] (numel 1 when every dim is reduced).
 * Arg reductions give the int32 row-major position inside the reduced block, first
 * occurrence on ties, NaN winning (torch). sum/prod of int32/bool accumulate in wrapping
 * int32; floats and mean accumulate in f32. Empty blocks: sum 0, prod 1, mean NaN; max, min,
 * argmax and argmin throw.
 *
 * @example reduce(rt, be, 'sum', { storage, shape: [2, 3], strides: [3, 1], offset: 0 }, 1, 'float32') // shape [2]
 */
export function reduce(rt: GpuRuntime, backend: GpuStorage['backend'], op: ReduceOp, x: View, reduceRank: number, outDtype: DType): GpuStorage {
  const rank = x.shape.length;
  if (!Number.isInteger(reduceRank) || reduceRank < 0 || reduceRank > rank) {
    throw new ShapeError(op, `cannot reduce the last ${reduceRank} dims of a view of shape ${fmtShape(x.shape)}`, [x.shape]);
  }
  const keptShape: Shape = x.shape.slice(0, rank - reduceRank);
  const blockShape: Shape = x.shape.slice(rank - reduceRank);
  const n = sizeOf(blockShape);
  const numOut = sizeOf(keptShape);
  if (n === 0 && needsNonEmpty(op) && numOut > 0) {
    throw new ValueError(op, `cannot reduce over an empty dimension (the reduced dims of shape ${fmtShape(x.shape)} have 0 elements; ${op} has no identity)`);
  }
  if (n >= 2 ** 32 - 1 || numOut >= 2 ** 32) throw new ValueError(op, `view of shape ${fmtShape(x.shape)} is too large to index in u32`);
  if (numOut > 0 && exceedsBinding(rt, [x], [numOut])) return splitReduce(rt, backend, op, x, reduceRank, outDtype);
  const out = new GpuStorage(backend, rt, rt.pool.acquire(Math.max(numOut, 1) * 4), outDtype, numOut);
  if (numOut === 0) return out;

  const inType = wgslType(x.storage.dtype);
  const acc: Scalar = inType === 'f32' || op === 'mean' ? 'f32' : 'i32';
  const c1 = coalesce(keptShape, [x.strides.slice(0, rank - reduceRank)]);
  const c2 = coalesce(blockShape, [x.strides.slice(rank - reduceRank)]);
  const outer = { shape: c1.shape, strides: c1.strides[0]! };
  const inner = { shape: c2.shape, strides: c2.strides[0]! };
  if (outer.shape.length > MAX_RANK || inner.shape.length > MAX_RANK) {
    throw new ShapeError(op, `view of shape ${fmtShape(x.shape)} has more than ${MAX_RANK} kept or reduced dims after merging`, [x.shape]);
  }
  // mean = sum × (1/n); 1/0 would give 0 × inf, so pass NaN for an empty block explicitly.
  const scale = n > 0 ? 1 / n : NaN;
  const xBuf = (x.storage as GpuStorage).buffer;
  const base: Spec = { op, inType, acc, outType: wgslType(outDtype), outBool: outDtype === 'bool', inIdx: false, partial: false, flat: inner.shape.length <= 1 };
  const whole = { outer, inner, offset: x.offset, n, numOut, scale };

  const { splitChunk, splitMaxOutputs } = reduceTuning;
  if (numOut >= splitMaxOutputs || n <= 2 * splitChunk) {
    runPass(rt, { ...whole, spec: base, chunks: 1, chunkLen: n, buffers: [out.buffer, xBuf] });
    return out;
  }

  // split: each block cut into `chunks` chunks → partials [numOut, chunks], then a pass over them.
  const chunks = Math.ceil(n / splitChunk);
  const arg = isArg(op);
  const partV = rt.pool.acquire(numOut * chunks * 4);
  const partI = arg ? rt.pool.acquire(numOut * chunks * 4) : null;
  try {
    runPass(rt, { ...whole, spec: { ...base, partial: true }, chunks, chunkLen: splitChunk, buffers: partI ? [partV, partI, xBuf] : [partV, xBuf] });
    runPass(rt, {
      spec: { ...base, inType: acc, inIdx: arg, flat: true },
      outer: { shape: [numOut], strides: [chunks] },
      inner: { shape: [chunks], strides: [1] },
      offset: 0,
      n: chunks,
      numOut,
      chunks: 1,
      chunkLen: chunks,
      scale,
      buffers: partI ? [out.buffer, partV, partI] : [out.buffer, partV],
    });
  } finally {
    // Safe before the GPU ran: the queue executes in order, so a later user of these
    // buffers only writes them after the passes above have read them.
    rt.pool.release(partV);
    if (partI) rt.pool.release(partI);
  }
  return out;
}

/**
 * A reduction whose input or output exceeds one binding, in parts (src/kernels/split.ts): the
 * kept dims cut into slabs of the output; a reduced dim cut into parts whose partial results
 * (sums for mean, value and position for arg ops) one more pass combines. Arg ops cut only the
 * first reduced dim, where a part's positions are the whole block's minus a constant.
 */
function splitReduce(rt: GpuRuntime, backend: GpuStorage['backend'], op: ReduceOp, x: View, reduceRank: number, outDtype: DType): GpuStorage {
  const rank = x.shape.length;
  const kept = rank - reduceRank;
  const n = sizeOf(x.shape.slice(kept));
  const arg = isArg(op);
  const inType = wgslType(x.storage.dtype);
  const acc: Scalar = inType === 'f32' || op === 'mean' ? 'f32' : 'i32';
  const partialDtype: DType = acc === 'f32' ? 'float32' : 'int32';
  let combined = false;
  // The parts' results side by side, [no, P] row-major (so a slab of outputs is one range),
  // then reduced over P by reduce() itself, which splits again by outputs if the stack is over
  // a binding. Arg ops reduce the stacked values to the winning part (first on ties and NaN,
  // as parts are in order) and gather that part's position.
  const join: Join = (parts, _ranges, _inputs, [outShape]) => {
    combined = true;
    const no = sizeOf(outShape!);
    const P = parts.length;
    const stack = (k: number, dtype: DType): GpuStorage => {
      const s = new GpuStorage(backend, rt, rt.pool.acquire(P * no * 4), dtype, P * no);
      parts.forEach((got, p) => ew.copy(rt, { storage: s, shape: [no], strides: [P], offset: p }, { storage: got[k]!, shape: [no], strides: [1], offset: 0 }));
      return s;
    };
    const across = (s: GpuStorage): View => ({ storage: s, shape: [no, P], strides: [P, 1], offset: 0 });
    const vals = stack(0, arg ? x.storage.dtype === 'float32' ? 'float32' : 'int32' : partialDtype);
    try {
      if (!arg) return [reduce(rt, backend, op === 'mean' ? 'sum' : op, across(vals), 1, outDtype)];
      const idx = stack(1, 'int32');
      const winner = reduce(rt, backend, op, across(vals), 1, 'int32');
      try {
        const never: IndexCheck = { error: () => new ValueError(op, 'internal: part index out of range') };
        return [indexGather(rt, backend, { storage: idx, shape: [no], strides: [P], offset: 0 }, [{ index: { storage: winner, shape: [no], strides: [1], offset: 0 }, stride: 1, size: P, wrap: false }], never)];
      } finally {
        idx.release();
        winner.release();
      }
    } finally {
      vals.release();
      for (const s of parts.flat()) s.release();
    }
  };
  const reducedCuts: Cut[] = (arg ? [kept] : x.shape.map((_, d) => d).slice(kept)).map((d) => ({
    axis: `reduced dim ${d}`, extent: x.shape[d]!, dims: [d, null], join,
  }));
  const keptCuts: Cut[] = x.shape.slice(0, kept).map((extent, d) => ({ axis: `kept dim ${d}`, extent, dims: [d, d], join: 'slab' }));
  const [out] = runSplit(rt, {
    name: op,
    backend,
    inputs: [x],
    roles: ['input'],
    outputs: [{ shape: x.shape.slice(0, kept), dtype: outDtype }],
    cuts: [...keptCuts, ...reducedCuts],
    leaf: ([part], _, under) => {
      const cut = reducedCuts.find((c) => under.has(c));
      if (!cut) return [reduce(rt, backend, op, part!, reduceRank, outDtype)];
      if (!arg) return [reduce(rt, backend, op === 'mean' ? 'sum' : op, part!, reduceRank, partialDtype)];
      // Value and position of the part's extremum; positions shifted to the whole block's.
      const value = reduce(rt, backend, op === 'argmax' ? 'max' : 'min', part!, reduceRank, x.storage.dtype === 'float32' ? 'float32' : 'int32');
      const local = reduce(rt, backend, op, part!, reduceRank, 'int32');
      const shift = under.get(cut)![0] * (n / x.shape[kept]!);
      if (shift === 0) return [value, local];
      const view: View = { storage: local, shape: [local.numel], strides: [1], offset: 0 };
      const pos = ew.binary(rt, backend, 'add', view, shift, view.shape, 'int32', 'int32');
      local.release();
      return [value, pos];
    },
  });
  if (!combined || op !== 'mean') return out!;
  // The parts added sums: divide once by the whole block's length.
  const view: View = { storage: out!, shape: [out!.numel], strides: [1], offset: 0 };
  const mean = ew.binary(rt, backend, 'mul', view, 1 / n, view.shape, 'float32', 'float32');
  out!.release();
  return mean;
}
