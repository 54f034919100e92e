// Ops on tensors larger than one storage binding. A kernel sees at most
// maxStorageBufferBindingSize bytes of a buffer (128 MiB on lavapipe and many GPUs) while a
// buffer may be far larger (maxBufferSize), so an op whose operand or output exceeds one
// binding is cut into parts along the axes its family declares (Cut): rows or batches whose
// parts write their slab of the output, output columns, or a reduced axis whose parts' results
// are added or combined. Each part binds only the window of each buffer its elements occupy
// (the offset rounded down to minStorageBufferOffsetAlignment) and runs the ordinary kernel.
// The plan is made from shapes and strides alone, before anything is allocated or recorded:
// an op that cannot be cut to fit throws a DeviceLimitError with nothing queued or leaked.
// Knows nothing of what the kernels compute.

import type { Backend, View } from '../backend/types.ts';
import type { DType } from '../dtype.ts';
import { DeviceLimitError, fmtShape } from '../errors.ts';
import { fmtBytes } from '../device/limits.ts';
import type { GpuRuntime } from '../device/runtime.ts';
import { contiguousStrides, numel as sizeOf } from '../shape.ts';
import { GpuStorage, WindowStorage } from './storage.ts';
import * as ew from './elementwise.ts';

/** Where a view's elements lie in its buffer: shape, strides and offset (in elements). */
export interface Layout {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/** How the parts of a custom-joined cut become the outputs (see Cut.join). */
export type Join = (
  parts: readonly GpuStorage[][],
  ranges: readonly (readonly [number, number])[],
  inputs: readonly (View | null)[],
  outShapes: readonly (readonly number[])[],
) => GpuStorage[];

/** The cuts a part lies in, each with the part's range [lo, hi) along it. */
export type Under = ReadonlyMap<Cut, readonly [number, number]>;

/** One axis along which an op splits into independent parts. */
export interface Cut {
  /** What the axis is, for error messages ("rows", "batch", "reduced dim 1", …). */
  readonly axis: string;
  /** Its length. */
  readonly extent: number;
  /** Per operand (the op's inputs, then its outputs): the dim that runs along the axis, or null when the operand is whole in every part. */
  readonly dims: readonly (number | null)[];
  /** Parts are multiples of this along the axis (but the last), e.g. whole Philox blocks. */
  readonly unit?: number;
  /**
   * 'slab': each part computes its slab of every output (outputs have a dim here);
   * 'sum': each part computes whole outputs that add up (outputs are null here);
   * a function: joins the parts' outputs itself.
   */
  readonly join: 'slab' | 'sum' | Join;
  /** Applied to the joined outputs (e.g. a bias and activation deferred until partial products are added). */
  readonly after?: (outs: GpuStorage[], inputs: readonly (View | null)[], outShapes: readonly (readonly number[])[]) => GpuStorage[];
}

/** An op the planner can cut: its operands, its fresh outputs, its axes and the kernel call for one part. */
export interface SplitOp {
  /** The op, as errors name it. */
  readonly name: string;
  readonly backend: Backend;
  /** Inputs (and, for ops that write in place, the views they write); null for an absent optional one. */
  readonly inputs: readonly (View | null)[];
  /** What each input is, for error messages ("input", "weight", …). */
  readonly roles: readonly string[];
  /** Fresh contiguous outputs. */
  readonly outputs: readonly { readonly shape: readonly number[]; readonly dtype: DType }[];
  /** The axes the op may be cut along, in nesting order (slab-joined axes before those that add up). */
  readonly cuts: readonly Cut[];
  /**
   * Runs one part whose operands fit a binding (inputs narrowed and windowed), returning its
   * outputs of `outShapes`; `under` maps each cut this part lies in to its range [lo, hi) there.
   */
  readonly leaf: (inputs: readonly (View | null)[], outShapes: readonly (readonly number[])[], under: Under) => GpuStorage[];
}

/** [lo, hi): the elements of its buffer a layout can touch (empty: [offset, offset)). */
export function spanOf(l: Layout): [number, number] {
  let lo = l.offset;
  let hi = l.offset;
  for (let i = 0; i < l.shape.length; i++) {
    const n = l.shape[i]!;
    if (n === 0) return [l.offset, l.offset];
    const d = (n - 1) * l.strides[i]!;
    if (d < 0) lo += d;
    else hi += d;
  }
  return [lo, hi + 1];
}

/** A layout in planning; `fresh` marks an output, which each part allocates compactly. */
type PlanLayout = Layout & { readonly fresh?: boolean };

function spanBytes(l: PlanLayout): number {
  if (l.fresh) return sizeOf(l.shape) * 4;
  const [lo, hi] = spanOf(l);
  return (hi - lo) * 4;
}

function withDim<L extends Layout>(l: L, dim: number, size: number): L {
  const shape = [...l.shape];
  shape[dim] = size;
  return { ...l, shape };
}

/** The part [lo, hi) of `v` along `dim`. */
export function narrow(v: View, dim: number, lo: number, hi: number): View {
  const shape = [...v.shape];
  shape[dim] = hi - lo;
  return { storage: v.storage, shape, strides: v.strides, offset: v.offset + lo * v.strides[dim]! };
}

/**
 * Bytes a planned part may span: a window starts up to one alignment step before its first
 * element and ends on a 16-byte boundary (vec4 arrays see whole vec4s only).
 */
export function bindingCap(rt: GpuRuntime): number {
  return rt.limits.maxStorageBufferBindingSize - rt.limits.minStorageBufferOffsetAlignment - 16;
}

/**
 * `v` over a window of its buffer covering just its elements, when the buffer is larger than
 * one binding; `v` itself otherwise. The caller has planned the part to fit (see runSplit).
 */
export function windowed(rt: GpuRuntime, v: View): View {
  const s = v.storage as GpuStorage;
  const max = rt.limits.maxStorageBufferBindingSize;
  if (s.buffer.size <= max) return v;
  const [lo, hi] = spanOf(v);
  const align = rt.limits.minStorageBufferOffsetAlignment;
  const start = Math.floor((lo * 4) / align) * align;
  const end = Math.min(s.buffer.size, Math.max(start + 16, Math.ceil((hi * 4) / 16) * 16));
  if (end - start > max) {
    // A planning bug, caught before Dawn would drop the batch.
    throw new DeviceLimitError('bind', 'maxStorageBufferBindingSize', end - start, max, `a view of shape ${fmtShape(v.shape)} spans ${fmtBytes(end - start)}, over one binding`);
  }
  return { storage: new WindowStorage(s, start, end - start), shape: v.shape, strides: v.strides, offset: v.offset - start / 4 };
}

/** True when an input's buffer or an output (of `outNumels` elements) exceeds one binding: the op must window or split. */
export function exceedsBinding(rt: GpuRuntime, inputs: readonly (View | null)[], outNumels: readonly number[] = []): boolean {
  const max = rt.limits.maxStorageBufferBindingSize;
  for (const v of inputs) if (v && (v.storage as GpuStorage).buffer.size > max) return true;
  for (const n of outNumels) if (n * 4 > max) return true;
  return false;
}

/**
 * Cuts along every dim of `shape` but `skip`, outer first, for an op whose `operands` operands
 * (inputs then outputs) all have that shape and whose parts write slabs of the outputs (an
 * elementwise map, a softmax along a skipped dim).
 */
export function alignedCuts(shape: readonly number[], operands: number, skip: readonly number[] = []): Cut[] {
  const cuts: Cut[] = [];
  shape.forEach((extent, d) => {
    if (!skip.includes(d)) cuts.push({ axis: `dim ${d}`, extent, dims: new Array<number>(operands).fill(d), join: 'slab' });
  });
  return cuts;
}

interface Level {
  cut: Cut;
  /** Part length along the cut (the last part may be shorter). */
  size: number;
}

/**
 * The longest part along `cut` for which every operand cut by it fits `cap`: the cut's extent
 * when they fit whole (the cut would not help), 0 when not even one unit fits.
 */
function partSize(cut: Cut, layouts: readonly (PlanLayout | null)[], cap: number): number {
  let s = cut.extent;
  for (let k = 0; k < layouts.length; k++) {
    const d = cut.dims[k];
    const l = layouts[k];
    if (d === null || d === undefined || !l) continue;
    const one = spanBytes(withDim(l, d, 1));
    if (one > cap) return 0;
    const step = l.fresh ? one : Math.abs(l.strides[d]!) * 4;
    if (step > 0) s = Math.min(s, Math.floor((cap - one) / step) + 1);
  }
  if (s >= cut.extent) return cut.extent;
  const u = cut.unit ?? 1;
  return Math.floor(s / u) * u;
}

/**
 * Levels of cuts after which every operand fits `cap`, or null. Cuts are tried in order, those
 * whose own operands fit at some part length first (fewest parts), then those that must go
 * down to one unit and leave the rest to further cuts.
 */
function plan(layouts: readonly (PlanLayout | null)[], cuts: readonly Cut[], used: ReadonlySet<Cut>, cap: number): Level[] | null {
  if (layouts.every((l) => !l || spanBytes(l) <= cap)) return [];
  const tries: [Cut, number][] = [];
  const forced: [Cut, number][] = [];
  for (const c of cuts) {
    if (used.has(c) || c.extent <= (c.unit ?? 1)) continue;
    const s = partSize(c, layouts, cap);
    if (s >= 1 && s < c.extent) tries.push([c, s]);
    else if (s < 1) forced.push([c, c.unit ?? 1]);
  }
  for (const [c, s] of [...tries, ...forced]) {
    const u = c.unit ?? 1;
    const parts = Math.ceil(c.extent / s);
    const size = Math.min(s, Math.ceil(c.extent / parts / u) * u);
    const child = layouts.map((l, k) => (l && c.dims[k] !== null && c.dims[k] !== undefined ? withDim(l, c.dims[k]!, size) : l));
    const rest = plan(child, cuts, new Set([...used, c]), cap);
    if (rest) return [{ cut: c, size }, ...rest];
  }
  return null;
}

function freshLayout(shape: readonly number[]): PlanLayout {
  return { shape, strides: contiguousStrides(shape), offset: 0, fresh: true };
}

/** The layouts of a part of `sizes[i]` along each cut `cuts[i]`. */
function partLayouts(layouts: readonly (PlanLayout | null)[], cuts: readonly Cut[], sizes: readonly number[]): (PlanLayout | null)[] {
  return layouts.map((l, k) => {
    let p = l;
    cuts.forEach((c, i) => {
      const d = c.dims[k];
      if (p && d !== null && d !== undefined) p = withDim(p, d, Math.min(sizes[i]!, c.extent));
    });
    return p;
  });
}

/**
 * Longer parts where they still fit: a cut that plan() had to take down to one unit (to leave
 * the rest to a later cut) may take more once that later cut is in place. Outer levels first,
 * each as long as every part still fits (fewer parts, fewer dispatches).
 */
function grow(levels: Level[], layouts: readonly (PlanLayout | null)[], cap: number): void {
  const fits = (): boolean => partLayouts(layouts, levels.map((l) => l.cut), levels.map((l) => l.size)).every((l) => !l || spanBytes(l) <= cap);
  for (const level of levels) {
    const u = level.cut.unit ?? 1;
    let lo = level.size;
    let hi = Math.ceil(level.cut.extent / u) * u;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2 / u) * u;
      level.size = Math.min(mid, hi);
      if (fits()) lo = level.size;
      else hi = level.size - u;
    }
    level.size = lo;
    const parts = Math.ceil(level.cut.extent / lo);
    level.size = Math.min(lo, Math.ceil(level.cut.extent / parts / u) * u);
  }
}

/**
 * The DeviceLimitError for an op no cut makes fit: the operand of its smallest part (one unit
 * along every axis) that is still over the limit, the limit, and what to do instead.
 */
function refusal(rt: GpuRuntime, op: SplitOp, layouts: readonly (PlanLayout | null)[]): DeviceLimitError {
  const smallest = partLayouts(layouts, op.cuts, op.cuts.map((c) => c.unit ?? 1));
  const cap = bindingCap(rt);
  let at = smallest.findIndex((l) => l !== null && spanBytes(l) > cap);
  if (at < 0) at = 0;
  const worst = smallest[at] ? spanBytes(smallest[at]!) : 0;
  const nIn = op.inputs.length;
  const role = at < nIn ? op.roles[at] ?? `input ${at}` : op.outputs.length > 1 ? `output ${at - nIn}` : 'output';
  const max = rt.limits.maxStorageBufferBindingSize;
  const axes = op.cuts.length ? `even cut into its smallest parts (it splits along ${[...new Set(op.cuts.map((c) => c.axis))].join(', ')}), one part's` : 'it cannot be split: its';
  return new DeviceLimitError(op.name, 'maxStorageBufferBindingSize', worst, max,
    `${axes} ${role} has shape ${fmtShape(smallest[at]?.shape ?? [])} and spans ${fmtBytes(worst)}, more than this device's ` +
      `maxStorageBufferBindingSize of ${fmtBytes(max)} lets one kernel see. Nothing was recorded. Make that part smaller (fewer elements ` +
      "per row, image or class dim), or run this op on the CPU device (`await t.toDevice('cpu')`), which has no such limit.");
}

/**
 * Runs `op` in parts that each fit one binding, or throws a DeviceLimitError before anything is
 * allocated or recorded when no cut makes it fit. Returns the fresh outputs.
 */
export function runSplit(rt: GpuRuntime, op: SplitOp): GpuStorage[] {
  const layouts = [...op.inputs, ...op.outputs.map((o) => freshLayout(o.shape))];
  const levels = plan(layouts, op.cuts, new Set(), bindingCap(rt));
  if (!levels) throw refusal(rt, op, layouts);
  grow(levels, layouts, bindingCap(rt));
  // Every part is cut along every planned axis whatever the nesting, so nest in declaration
  // order: families declare the axes whose parts are joined as slabs before those that add up.
  levels.sort((p, q) => op.cuts.indexOf(p.cut) - op.cuts.indexOf(q.cut));
  for (const o of op.outputs) {
    const bytes = sizeOf(o.shape) * 4;
    if (bytes > rt.limits.maxBufferSize) {
      throw new DeviceLimitError(op.name, 'maxBufferSize', bytes, rt.limits.maxBufferSize,
        `its output of shape ${fmtShape(o.shape)} needs ${fmtBytes(bytes)}, more than this device's maxBufferSize of ${fmtBytes(rt.limits.maxBufferSize)}. ` +
          'Nothing was recorded. Run the op on smaller pieces (e.g. split the batch: x.split(n)) and consume each result before the next.');
    }
  }
  const nIn = op.inputs.length;
  const fresh = (shape: readonly number[], dtype: DType): GpuStorage => op.backend.alloc(sizeOf(shape), dtype) as GpuStorage;

  const exec = (i: number, inputs: readonly (View | null)[], outShapes: readonly (readonly number[])[], under: Under): GpuStorage[] => {
    if (i === levels.length) return op.leaf(inputs.map((v) => v && windowed(rt, v)), outShapes, under);
    const { cut, size } = levels[i]!;
    const ranges: [number, number][] = [];
    const pieces: GpuStorage[][] = [];
    let outs: GpuStorage[] | null = null;
    let acc: GpuStorage[] | null = null;
    try {
      if (cut.join === 'slab') outs = outShapes.map((s, j) => fresh(s, op.outputs[j]!.dtype));
      for (let lo = 0; lo < cut.extent; lo += size) {
        const hi = Math.min(cut.extent, lo + size);
        const pin = inputs.map((v, k) => (v && cut.dims[k] !== null && cut.dims[k] !== undefined ? narrow(v, cut.dims[k]!, lo, hi) : v));
        const pout = outShapes.map((s, j) => {
          const d = cut.dims[nIn + j];
          if (d === null || d === undefined) return s;
          const t = [...s];
          t[d] = hi - lo;
          return t;
        });
        const got = exec(i + 1, pin, pout, new Map(under).set(cut, [lo, hi]));
        ranges.push([lo, hi]);
        if (outs) {
          got.forEach((g, j) => {
            place(rt, g, outs![j]!, outShapes[j]!, cut.dims[nIn + j]!, lo, pout[j]!);
            g.release();
          });
        } else if (cut.join === 'sum') {
          if (!acc) acc = got;
          else acc = acc.map((a, j) => add(rt, a, got[j]!, outShapes[j]!));
        } else pieces.push(got);
      }
    } catch (e) {
      for (const s of [...(outs ?? []), ...(acc ?? []), ...pieces.flat()]) s.release();
      throw e;
    }
    let res = outs ?? acc ?? (cut.join as Join)(pieces, ranges, inputs, outShapes);
    if (cut.after) res = cut.after(res, inputs, outShapes);
    return res;
  };
  return exec(0, op.inputs, op.outputs.map((o) => o.shape), new Map());
}

/** Copies part `piece` (contiguous, `pieceShape`) into its slab [lo, …) along `dim` of `out` (contiguous, `outShape`). */
function place(rt: GpuRuntime, piece: GpuStorage, out: GpuStorage, outShape: readonly number[], dim: number, lo: number, pieceShape: readonly number[]): void {
  const strides = contiguousStrides(outShape);
  const offset = lo * strides[dim]!;
  const n = sizeOf(pieceShape);
  if (n === 0) return;
  if (outShape.slice(0, dim).every((d) => d === 1)) {
    // The slab is one contiguous range: a buffer copy, which has no binding limit.
    rt.copy(piece.buffer, 0, out.buffer, offset * 4, n * 4);
    return;
  }
  ew.copy(rt, { storage: out, shape: pieceShape, strides, offset }, { storage: piece, shape: pieceShape, strides: contiguousStrides(pieceShape), offset: 0 });
}

/** a + b (contiguous, `shape`) into a fresh storage; releases both. */
function add(rt: GpuRuntime, a: GpuStorage, b: GpuStorage, shape: readonly number[]): GpuStorage {
  const st = contiguousStrides(shape);
  try {
    return ew.binary(rt, a.backend, 'add', { storage: a, shape, strides: st, offset: 0 }, { storage: b, shape, strides: st, offset: 0 }, shape, a.dtype, a.dtype);
  } finally {
    a.release();
    b.release();
  }
}
