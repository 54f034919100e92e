// Index kernels: gather and scatter-add through int32 index tensors, one-hot, and the strided
// copies of cat/stack. Owns their WGSL, the launchers, and the device-side bounds check; knows
// nothing of which op (gather, indexSelect, advanced index, scatterAdd, cat) built the walk,
// nor of autograd.
//
// Every index op is one "walk" over a shape: each walk element's coordinates (row-major), dotted
// with the base view's strides (0 on the dims only an index decides), give a position, which
// each index operand's value × stride then moves. Shapes and strides travel in uniforms; one
// pipeline per (kind, index operands, coalesced rank, run length) serves every size. The rank
// is baked in so the walk unrolls with constant uniform indices, and on llvmpipe a thread takes
// a run of 4 elements along the innermost dim: together 4-10x faster there than one element
// per thread with a loop over a dynamic rank (bench/indexing.ts).
//
// Scatter-add accumulates with atomics, so duplicate indices add up correctly: int32 uses
// atomicAdd; float32 has no atomic add in WGSL, so it loops on atomicCompareExchangeWeak over
// the f32 bits (add, swap if nobody wrote in between, else retry with the value seen). The
// order of additions into one element is unspecified, so float sums over duplicates may
// differ in the last bits from run to run (as CUDA's index_add does).
//
// Bounds: a kernel cannot throw. An out-of-range index value claims a 16-byte flag buffer
// (op id, operand, walk position, value) with a compare-exchange, so the first one wins;
// gathers write NaN (float32) or 0 there and scatters skip it. The runtime copies the flag
// out at each submit (GpuRuntime.watch) and the op's IndexCheck turns it into the error the
// next readback throws, naming op, value, position and size (the flag itself: error-flag.ts).

import type { DType } from '../dtype.ts';
import type { View } from '../backend/types.ts';
import { unravel, type IndexCheck, type IndexOperand } from '../backend/indexing.ts';
import { ShapeError, ValueError, fmtShape } from '../errors.ts';
import { coalesce, contiguousStrides, isContiguous, numel as sizeOf, type Shape } from '../shape.ts';
import type { GpuRuntime } from '../device/runtime.ts';
import type { PooledBuffer } from '../device/buffer-pool.ts';
import { errorFlags, failWgsl } from './error-flag.ts';
import { exceedsBinding, runSplit, type Cut, type Under } from './split.ts';
import { GpuStorage } from './storage.ts';
import { MAIN_ARGS, MAX_RANK, UniformWriter, WG, flatIndex, grid1d, wgslType } from './wgsl.ts';
import { kernel } from './ieee.ts';

/** Index operands one dispatch takes: 3 more storage buffers must fit WebGPU's default limit of 8. */
export const MAX_INDEX_OPERANDS = 4;

type Kind = 'gather' | 'scatter_f32' | 'scatter_i32' | 'copy';

// ---- the device-side bounds check ------------------------------------------------------------

/** The flag of the index kernels; an entry is the op's check and the walk shape. */
const guardOf = errorFlags<{ check: IndexCheck; shape: Shape }>(({ check, shape }, words) =>
  check.error(words[1]!, unravel(words[2]!, shape), words[3]! | 0),
);

/** WGSL of `fail(k, i, v)`: the first caller records (op id, operand, position, value) in the flag. */
const FAIL_FN = failWgsl('k: u32, i: u32, v: i32', 'p.opId', ['k', 'i', 'bitcast<u32>(v)']);

// ---- gather / scatter-add ----------------------------------------------------------------------

const RS = MAX_RANK / 4; // vec4 slots per rank-long list

/** Uniform slots: see the Params struct in `walkSource`. */
const SLOT = { head: 0, head2: 1, shape: 2, base: 2 + RS, src: 2 + 2 * RS, ioff: 2 + 3 * RS, mult: 3 + 3 * RS, size: 4 + 3 * RS, wrap: 5 + 3 * RS, istr: 6 + 3 * RS };
const UNIFORM_VEC4S = SLOT.istr + MAX_INDEX_OPERANDS * RS;

const sources = new Map<string, string>();

/** WGSL converting a loaded `src` value of dtype `from` to dtype `to` (as the elementwise copy does). */
function convert(v: string, from: DType, to: DType): string {
  if (to === 'bool') return `select(0, 1, ${from === 'float32' ? `ieee_nonzero(${v})` : `${v} != 0`})`; // NaN is true
  if (wgslType(from) === wgslType(to)) return v;
  return wgslType(to) === 'i32' ? `ieee_f2i(${v})` : `${wgslType(to)}(${v})`; // the documented cast rule (castToInt32)
}

function walkSource(kind: Kind, k: number, rank: number, per: number, copy: readonly [DType, DType] | null): string {
  const key = `${kind}|${k}|${rank}|${per}|${copy}`;
  const hit = sources.get(key);
  if (hit) return hit;
  const hasSrc = kind !== 'gather';
  const checked = kind !== 'copy';
  let decls: string;
  if (kind === 'gather') decls = '@group(0) @binding(0) var<storage, read_write> out: array<u32>;\n@group(0) @binding(1) var<storage, read> x: array<u32>;';
  else if (kind === 'copy') {
    decls = `@group(0) @binding(0) var<storage, read_write> dst: array<${wgslType(copy![1])}>;\n@group(0) @binding(1) var<storage, read> src: array<${wgslType(copy![0])}>;`;
  } else {
    const t = kind === 'scatter_f32' ? 'f32' : 'i32';
    decls = `@group(0) @binding(0) var<storage, read_write> dst: array<atomic<${kind === 'scatter_f32' ? 'u32' : 'i32'}>>;\n@group(0) @binding(1) var<storage, read> src: array<${t}>;`;
  }
  if (checked) decls += '\n@group(0) @binding(2) var<storage, read_write> flag: array<atomic<u32>, 4>;';
  for (let j = 0; j < k; j++) decls += `\n@group(0) @binding(${3 + j}) var<storage, read> idx${j}: array<i32>;`;
  const inits = Array.from({ length: k }, (_, j) => `var o${j} = p.ioff[${j}];`).join(' ');
  // The walk over the dims is unrolled with constant uniform indices (one pipeline per rank):
  // the same loop indexing the uniform arrays dynamically ran 3-4x slower on llvmpipe.
  const walk = Array.from({ length: rank }, (_, r) => {
    const d = rank - 1 - r;
    const at = `[${d >> 2}][${d & 3}]`;
    const steps = Array.from({ length: k }, (_, j) => `o${j} += c * p.istr[${j * RS + (d >> 2)}][${d & 3}];`).join(' ');
    const c = r === rank - 1 ? 'let c = rem;' : `let c = rem % p.shape${at}; rem = rem / p.shape${at};`;
    return `{ ${c} pos0 += c * p.base${at};${hasSrc ? ` s0 += c * p.src${at};` : ''} ${steps} }`;
  }).join('\n  ');
  // Element e of the thread's run is e steps further along the innermost dim.
  const last = rank > 0 ? `[${(rank - 1) >> 2}][${(rank - 1) & 3}]` : null;
  const step = (base: string, strides: string) => (last && per > 1 ? `${base} + e * ${strides}${last}` : base);
  const moves = Array.from(
    { length: k },
    (_, j) => `{
      let v = idx${j}[${last && per > 1 ? `o${j} + e * p.istr[${j * RS + ((rank - 1) >> 2)}][${(rank - 1) & 3}]` : `o${j}`}];
      var w = v;
      if (w < 0 && p.wrap[${j}] != 0u) { w += i32(p.size[${j}]); }
      if (w < 0 || u32(w) >= p.size[${j}]) { fail(${j}u, el, v); ok = false; } else { pos += u32(w) * p.mult[${j}]; }
    }`,
  ).join('\n    ');
  let body: string;
  if (kind === 'gather') body = 'if (ok) { out[el] = x[pos]; } else { out[el] = p.fill; }';
  else if (kind === 'copy') body = `dst[pos] = ${convert('src[s]', copy![0], copy![1])};`;
  else if (kind === 'scatter_i32') body = 'if (ok) { atomicAdd(&dst[pos], src[s]); }';
  else {
    body = `if (ok) {
      let val = src[s];
      var old = atomicLoad(&dst[pos]);
      loop {
        let r = atomicCompareExchangeWeak(&dst[pos], old, bitcast<u32>(bitcast<f32>(old) + val));
        if (r.exchanged) { break; }
        old = r.old_value;
      }
    }`;
  }
  const what = {
    gather: 'out[i] is the element found there.',
    copy: 'src[i] (at its own strides) is stored there, converted to the destination dtype.',
    scatter_f32: 'src[i] is added there atomically (compare-exchange on the f32 bits).',
    scatter_i32: 'src[i] is added there atomically.',
  }[kind];
  const src = `// index_${kind}_k${k}_r${rank}_e${per}: thread t owns walk elements ${per}t..${per}t+${per - 1} (row-major over shape, a run along the
// innermost dim). An element's coordinates dotted with the base strides give a position in ${kind === 'gather' ? 'x' : 'dst'}${k ? ";\n// each index operand's value there (wrapped when allowed, bounds-checked) times its stride moves it" : ''}.
// ${what}
${k ? `// An out-of-range value flags the error buffer (fail) and ${kind === 'gather' ? 'writes p.fill' : 'adds nothing'}.\n` : ''}struct Params {
  numel: u32, rank: u32, baseOff: u32, opId: u32,
  srcOff: u32, fill: u32, _a: u32, _b: u32,
  shape: array<vec4<u32>, ${RS}>, base: array<vec4<u32>, ${RS}>, src: array<vec4<u32>, ${RS}>,
  ioff: vec4<u32>, mult: vec4<u32>, size: vec4<u32>, wrap: vec4<u32>,
  istr: array<vec4<u32>, ${MAX_INDEX_OPERANDS * RS}>,
};
${decls}
@group(0) @binding(${checked ? 3 + k : 2}) var<uniform> p: Params;
${checked ? FAIL_FN : ''}
@compute @workgroup_size(${WG})
fn main(${MAIN_ARGS}) {
  ${flatIndex()}
  let first = i * ${per}u;
  if (first >= p.numel) { return; }
  var rem = first; var pos0 = p.baseOff;${hasSrc ? ' var s0 = p.srcOff;' : ''} ${inits}
  ${walk}
  for (var e = 0u; e < ${per}u; e++) {
    let el = first + e;
    var pos = ${step('pos0', 'p.base')};${hasSrc ? `\n    let s = ${step('s0', 'p.src')};` : ''}
    var ok = true;
    ${moves}
    ${body}
  }
}`;
  sources.set(key, src);
  return src;
}

/**
 * Walk elements one thread takes along the innermost dim. llvmpipe runs each invocation as a
 * SIMD lane on a CPU core, where the div/mod that find an element's coordinates cost more than
 * the copy, so a run of 4 amortises them; GPUs want one element per thread (coalesced loads).
 */
export const indexTuning = { perThreadSoftware: 4, perThreadHardware: 1 };

const isSoftware = (rt: GpuRuntime): boolean => /llvmpipe|lavapipe|swiftshader|software/i.test(rt.adapterInfo);

/** Records one walk: base (dst for scatters and copies) over the walk shape, optional src, index operands. */
function launchWalk(
  rt: GpuRuntime,
  kind: Kind,
  out: PooledBuffer | null,
  base: View,
  src: View | null,
  indices: readonly IndexOperand[],
  check: IndexCheck | null,
  fill: number,
): void {
  const op = { gather: 'indexGather', copy: 'copyInto', scatter_f32: 'indexScatterAdd', scatter_i32: 'indexScatterAdd' }[kind];
  const shape = base.shape;
  const n = sizeOf(shape);
  if (indices.length > MAX_INDEX_OPERANDS) {
    throw new ValueError(op, `at most ${MAX_INDEX_OPERANDS} index tensors per op are supported, got ${indices.length}`);
  }
  for (const [k, ix] of indices.entries()) {
    if (ix.index.shape.length !== shape.length || ix.index.shape.some((d, i) => d !== shape[i])) {
      throw new ShapeError(op, `index operand ${k} has shape ${fmtShape(ix.index.shape)}, the walk ${fmtShape(shape)}`);
    }
  }
  if (n === 0) return;
  const lists = [contiguousStrides(shape), base.strides, src ? src.strides : shape.map(() => 0), ...indices.map((ix) => ix.index.strides)];
  const co = coalesce(shape, lists);
  if (co.shape.length > MAX_RANK) throw new ShapeError(op, `rank ${co.shape.length} after merging dims exceeds ${MAX_RANK} (walk ${fmtShape(shape)})`);
  const guard = check ? guardOf(rt) : null;
  const id = guard ? guard.open({ check: check!, shape }) : 0;
  const u = new UniformWriter(UNIFORM_VEC4S);
  u.list(SLOT.head, [n, co.shape.length, base.offset, id]);
  u.list(SLOT.head2, [src ? src.offset : 0, fill]);
  u.list(SLOT.shape, co.shape);
  u.list(SLOT.base, co.strides[1]!);
  u.list(SLOT.src, co.strides[2]!);
  u.list(SLOT.ioff, indices.map((ix) => ix.index.offset));
  u.list(SLOT.mult, indices.map((ix) => ix.stride));
  u.list(SLOT.size, indices.map((ix) => ix.size));
  u.list(SLOT.wrap, indices.map((ix) => (ix.wrap ? 1 : 0)));
  indices.forEach((_, k) => u.list(SLOT.istr + k * RS, co.strides[3 + k]!));
  const first = kind === 'gather' ? out! : (base.storage as GpuStorage).buffer;
  const second = kind === 'gather' ? (base.storage as GpuStorage).buffer : (src!.storage as GpuStorage).buffer;
  const buffers = [first, second, ...(guard ? [guard.flag] : []), ...indices.map((ix) => (ix.index.storage as GpuStorage).buffer)];
  const copy = kind === 'copy' ? ([src!.storage.dtype, base.storage.dtype] as const) : null;
  const rank = co.shape.length;
  let per = isSoftware(rt) ? indexTuning.perThreadSoftware : indexTuning.perThreadHardware;
  while (per > 1 && (rank === 0 || co.shape[rank - 1]! % per !== 0)) per >>= 1;
  const name = `index_${kind}_k${indices.length}_r${rank}_e${per}${copy ? `_${copy[0]}_${copy[1]}` : ''}`;
  rt.dispatch(kernel(rt, name, walkSource(kind, indices.length, rank, per, copy)), buffers, u.u32, grid1d(n / per));
  guard?.watch(id);
}

/** Bits gathers write where an index was out of range: NaN for float32, 0 otherwise. */
function fillBits(d: DType): number {
  return d === 'float32' ? 0x7fc00000 : 0;
}

/**
 * The base of a walk as the split planner sees it: the walk's dims, then one dim per index
 * operand spanning every position its values may reach (size × stride), so a part's window
 * holds whatever the indices point at.
 */
function reach(base: View, indices: readonly IndexOperand[]): View {
  return {
    storage: base.storage,
    shape: [...base.shape, ...indices.map((ix) => ix.size)],
    strides: [...base.strides, ...indices.map((ix) => ix.stride)],
    offset: base.offset,
  };
}

/** `v` (planned with reach()) back to the walk's rank. */
function unreach(v: View, rank: number): View {
  return { storage: v.storage, shape: v.shape.slice(0, rank), strides: v.strides.slice(0, rank), offset: v.offset };
}

/** The check for a part of a walk: positions reported in the whole walk (part coordinates plus where the part starts). */
function shifted(check: IndexCheck, cuts: readonly Cut[], under: Under): IndexCheck {
  return {
    error: (k, position, value) => check.error(k, position.map((c, d) => c + (under.get(cuts[d]!)?.[0] ?? 0)), value),
  };
}

/**
 * A walk over buffers larger than one binding, in parts along the walked dims (src/kernels/
 * split.ts); `roles`/`inputs` start with the base (planned with its reach), `run` records one part.
 */
function splitWalk(
  rt: GpuRuntime, name: string, backend: GpuStorage['backend'], shape: Shape, inputs: readonly View[], roles: readonly string[],
  outputs: { shape: readonly number[]; dtype: DType }[], run: (parts: readonly View[], under: Under, cuts: readonly Cut[]) => GpuStorage[],
): GpuStorage[] {
  const cuts: Cut[] = shape.map((extent, d) => ({ axis: `dim ${d}`, extent, dims: [...inputs.map(() => d), ...outputs.map(() => d)], join: 'slab' }));
  return runSplit(rt, { name, backend, inputs, roles, outputs, cuts, leaf: (parts, _, under) => run(parts as View[], under, cuts) });
}

export function indexGather(rt: GpuRuntime, backend: GpuStorage['backend'], x: View, indices: readonly IndexOperand[], check: IndexCheck): GpuStorage {
  const n = sizeOf(x.shape);
  const ixViews = indices.map((ix) => ix.index);
  if (n > 0 && exceedsBinding(rt, [x, ...ixViews], [n])) {
    return splitWalk(rt, 'indexGather', backend, x.shape, [reach(x, indices), ...ixViews], ['input', ...ixViews.map((_, k) => `index ${k}`)],
      [{ shape: x.shape, dtype: x.storage.dtype }],
      ([base, ...ix], under, cuts) => [indexGather(rt, backend, unreach(base!, x.shape.length), indices.map((o, k) => ({ ...o, index: ix[k]! })), shifted(check, cuts, under))])[0]!;
  }
  const out = new GpuStorage(backend, rt, rt.pool.acquire(Math.max(n, 1) * 4), x.storage.dtype, n);
  try {
    launchWalk(rt, 'gather', out.buffer, x, null, indices, check, fillBits(x.storage.dtype));
  } catch (e) {
    out.release();
    throw e;
  }
  return out;
}

export function indexScatterAdd(rt: GpuRuntime, dst: View, src: View, indices: readonly IndexOperand[], check: IndexCheck): void {
  const d = dst.storage.dtype;
  if (d === 'bool') throw new ValueError('indexScatterAdd', 'bool destinations are not supported; use int32 or float32');
  if (src.storage.dtype !== d) throw new ValueError('indexScatterAdd', `src dtype ${src.storage.dtype} differs from dst dtype ${d}`);
  if (src.shape.length !== dst.shape.length || src.shape.some((s, i) => s !== dst.shape[i])) {
    throw new ShapeError('indexScatterAdd', `src shape ${fmtShape(src.shape)} differs from the walk ${fmtShape(dst.shape)}`);
  }
  const ixViews = indices.map((ix) => ix.index);
  if (sizeOf(dst.shape) > 0 && exceedsBinding(rt, [dst, src, ...ixViews])) {
    splitWalk(rt, 'indexScatterAdd', (src.storage as GpuStorage).backend, dst.shape, [reach(dst, indices), src, ...ixViews],
      ['destination', 'source', ...ixViews.map((_, k) => `index ${k}`)], [],
      ([base, s, ...ix], under, cuts) => {
        indexScatterAdd(rt, unreach(base!, dst.shape.length), s!, indices.map((o, k) => ({ ...o, index: ix[k]! })), shifted(check, cuts, under));
        return [];
      });
    return;
  }
  launchWalk(rt, d === 'float32' ? 'scatter_f32' : 'scatter_i32', null, dst, src, indices, check, 0);
}

// ---- copies into slices (cat, stack) ----------------------------------------------------------------

/**
 * dst[i] = src[i] for each part, cast to dst's dtype. Contiguous parts of one dtype become
 * buffer-to-buffer copies (no dispatch: measured 7x faster than a copy kernel per input for
 * cat of 40 [128, 10] batches); the rest one rank-unrolled strided walk each.
 */
export function copyInto(rt: GpuRuntime, parts: readonly { readonly dst: View; readonly src: View }[]): void {
  for (const { dst, src } of parts) {
    if (src.shape.length !== dst.shape.length || src.shape.some((d, i) => d !== dst.shape[i])) {
      throw new ShapeError('copyInto', `source shape ${fmtShape(src.shape)} differs from destination shape ${fmtShape(dst.shape)}`, [src.shape, dst.shape]);
    }
    if (src.storage === dst.storage) throw new ValueError('copyInto', 'source and destination share storage; copy the source first');
  }
  for (const { dst, src } of parts) {
    const n = sizeOf(dst.shape);
    if (n === 0) continue;
    if (src.storage.dtype === dst.storage.dtype && isContiguous(dst.shape, dst.strides) && isContiguous(src.shape, src.strides)) {
      rt.copy((src.storage as GpuStorage).buffer, src.offset * 4, (dst.storage as GpuStorage).buffer, dst.offset * 4, n * 4);
    } else if (exceedsBinding(rt, [dst, src])) {
      splitWalk(rt, 'copyInto', (src.storage as GpuStorage).backend, dst.shape, [dst, src], ['destination', 'source'], [], ([d, sv]) => {
        launchWalk(rt, 'copy', null, d!, sv!, [], null, 0);
        return [];
      });
    } else {
      launchWalk(rt, 'copy', null, dst, src, [], null, 0);
    }
  }
}

// ---- one-hot -------------------------------------------------------------------------------------

/** The one-hot kernel for inputs of (coalesced) rank `rank`, its walk unrolled like the walks above. */
function oneHotSource(rank: number): string {
  const key = `one_hot|${rank}`;
  const hit = sources.get(key);
  if (hit) return hit;
  const walk = Array.from({ length: rank }, (_, r) => {
    const d = rank - 1 - r;
    const at = `[${d >> 2}][${d & 3}]`;
    return r === rank - 1 ? `pos += rem * p.strides${at};` : `pos += (rem % p.shape${at}) * p.strides${at}; rem = rem / p.shape${at};`;
  }).join('\n  ');
  const src = `// one_hot_r${rank}: thread i owns output element i = r·classes + c. Row r's coordinates over x's shape,
// dotted with x's strides, find its class value v; out[i] = (v == c). A value outside
// [0, classes) flags the error buffer (once per row, from its c = 0 thread) and gives a zero row.
struct Params {
  numel: u32, rank: u32, xOff: u32, opId: u32,
  classes: u32, _a: u32, _b: u32, _c: u32,
  shape: array<vec4<u32>, ${RS}>, strides: array<vec4<u32>, ${RS}>,
};
@group(0) @binding(0) var<storage, read_write> out: array<i32>;
@group(0) @binding(1) var<storage, read> x: array<i32>;
@group(0) @binding(2) var<storage, read_write> flag: array<atomic<u32>, 4>;
@group(0) @binding(3) var<uniform> p: Params;
${FAIL_FN}
@compute @workgroup_size(${WG})
fn main(${MAIN_ARGS}) {
  ${flatIndex()}
  if (i >= p.numel) { return; }
  let c = i % p.classes;
  let r = i / p.classes;
  var rem = r; var pos = p.xOff;
  ${walk}
  let v = x[pos];
  if (v < 0 || u32(v) >= p.classes) {
    if (c == 0u) { fail(0u, r, v); }
    out[i] = 0;
    return;
  }
  out[i] = select(0, 1, u32(v) == c);
}`;
  sources.set(key, src);
  return src;
}

export function oneHot(rt: GpuRuntime, backend: GpuStorage['backend'], x: View, numClasses: number, check: IndexCheck): GpuStorage {
  const rows = sizeOf(x.shape);
  const n = rows * numClasses;
  if (n > 0 && exceedsBinding(rt, [x], [n])) {
    const cuts: Cut[] = x.shape.map((extent, d) => ({ axis: `dim ${d}`, extent, dims: [d, d], join: 'slab' }));
    return runSplit(rt, {
      name: 'oneHot', backend, inputs: [x], roles: ['input'], outputs: [{ shape: [...x.shape, numClasses], dtype: 'int32' }], cuts,
      leaf: ([part], _, under) => [oneHot(rt, backend, part!, numClasses, shifted(check, cuts, under))],
    })[0]!;
  }
  const out = new GpuStorage(backend, rt, rt.pool.acquire(Math.max(n, 1) * 4), 'int32', n);
  if (n === 0) return out;
  const co = coalesce(x.shape, [contiguousStrides(x.shape), x.strides]);
  if (co.shape.length > MAX_RANK) {
    out.release();
    throw new ShapeError('oneHot', `rank ${co.shape.length} after merging dims exceeds ${MAX_RANK} (shape ${fmtShape(x.shape)})`);
  }
  const guard = guardOf(rt);
  const id = guard.open({ check, shape: x.shape });
  const u = new UniformWriter(2 + 2 * RS);
  u.list(0, [n, co.shape.length, x.offset, id]);
  u.list(1, [numClasses]);
  u.list(2, co.shape);
  u.list(2 + RS, co.strides[1]!);
  rt.dispatch(kernel(rt, `one_hot_r${co.shape.length}`, oneHotSource(co.shape.length)), [out.buffer, (x.storage as GpuStorage).buffer, guard.flag], u.u32, grid1d(n));
  guard.watch(id);
  return out;
}
