// Pure shape arithmetic: broadcasting, strides, dim normalisation, dim coalescing.
// Used by the tensor layer to validate before anything is enqueued, and by kernels
// to lower a strided view to the fewest dims.

import { ShapeError, fmtShape } from './errors.ts';

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C-contiguous) strides for `shape`. */
export function contiguousStrides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function isContiguous(shape: Shape, strides: Shape): boolean {
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== acc) return false;
    acc *= shape[i]!;
  }
  return true;
}

/** Views up to this many elements get the exact overlap check when the quick one cannot tell. */
const EXACT_OVERLAP_LIMIT = 1 << 22;

/**
 * True when two elements of the view `shape`/`strides` are the same storage element (a
 * broadcast dim of stride 0, or strides that interleave), so a write through the view is
 * ambiguous (PyTorch's internal-overlap check). Dims sorted by stride must each step over
 * everything the smaller ones span; a layout that fails that quick test is enumerated (up to
 * EXACT_OVERLAP_LIMIT elements; past it, as PyTorch's "too hard", it counts as no overlap).
 */
export function hasInternalOverlap(shape: Shape, strides: Shape): boolean {
  if (shape.some((n) => n === 0)) return false;
  const dims: [number, number][] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i]! === 1) continue;
    if (strides[i] === 0) return true;
    dims.push([Math.abs(strides[i]!), shape[i]!]);
  }
  dims.sort((a, b) => a[0] - b[0]);
  let span = 0;
  for (const [stride, n] of dims) {
    if (stride <= span) return exactOverlap(dims);
    span += stride * (n - 1);
  }
  return false;
}

/** Lists every offset the view reaches, sorted: true when one repeats. */
function exactOverlap(dims: readonly (readonly [number, number])[]): boolean {
  const count = dims.reduce((p, [, n]) => p * n, 1);
  if (count > EXACT_OVERLAP_LIMIT) return false;
  const offsets = new Float64Array(count);
  let filled = 1;
  for (const [stride, n] of dims) {
    for (let k = 1; k < n; k++) for (let j = 0; j < filled; j++) offsets[k * filled + j] = offsets[j]! + k * stride;
    filled *= n;
  }
  offsets.sort();
  for (let i = 1; i < count; i++) if (offsets[i] === offsets[i - 1]) return true;
  return false;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** NumPy broadcasting of several shapes; throws naming the op and all shapes. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = rank - s.length + i;
      const d = s[i]!;
      if (d === out[j] || d === 1) continue;
      if (out[j] === 1) out[j] = d;
      else {
        throw new ShapeError(
          op,
          `shapes ${shapes.map(fmtShape).join(' and ')} cannot be broadcast together (dim ${j - rank}: ${out[j]} vs ${d})`,
          shapes,
        );
      }
    }
  }
  return out;
}

/** Strides that read a view of `shape`/`strides` as if it had `target` shape (0 on broadcast dims). */
export function broadcastStrides(shape: Shape, strides: Shape, target: Shape): number[] {
  const out = new Array<number>(target.length).fill(0);
  const off = target.length - shape.length;
  for (let i = 0; i < shape.length; i++) out[i + off] = shape[i] === 1 ? 0 : strides[i]!;
  return out;
}

/** Normalises a possibly negative dim against `rank`. */
export function normDim(op: string, dim: number, rank: number): number {
  const r = Math.max(rank, 1);
  if (!Number.isInteger(dim) || dim < -r || dim >= r) {
    throw new ShapeError(op, `dim ${dim} is out of range for a tensor of rank ${rank} (expected -${r} .. ${r - 1})`);
  }
  return dim < 0 ? dim + r : dim;
}

/** Normalises and de-duplicates a dim list; `undefined` means all dims. */
export function normDims(op: string, dims: number | readonly number[] | undefined, rank: number): number[] {
  if (dims === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof dims === 'number' ? [dims] : dims;
  const out = list.map((d) => (rank === 0 ? (normDim(op, d, 1), 0) : normDim(op, d, rank)));
  if (new Set(out).size !== out.length) throw new ShapeError(op, `dim ${JSON.stringify(list)} repeats a dim`);
  return rank === 0 ? [] : out.sort((a, b) => a - b);
}

/**
 * Merges adjacent dims that every operand walks contiguously, and drops size-1 dims,
 * so kernels index in as few dims as possible (a contiguous tensor becomes rank 1).
 * `strides[k]` are the strides of operand k over `shape`.
 */
export function coalesce(shape: Shape, strides: readonly Shape[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i]!;
    if (d === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k]![last] === s[i]! * d)) {
      outShape[last] = outShape[last]! * d;
      strides.forEach((s, k) => (outStrides[k]![last] = s[i]!));
    } else {
      outShape.push(d);
      strides.forEach((s, k) => outStrides[k]!.push(s[i]!));
    }
  }
  return { shape: outShape, strides: outStrides };
}

/** Validates a user-given shape (non-negative integers; at most one -1 when `allowInfer`). */
export function checkShape(op: string, shape: Shape, allowInfer = false): void {
  let infer = 0;
  for (const d of shape) {
    if (d === -1 && allowInfer) infer++;
    else if (!Number.isInteger(d) || d < 0) throw new ShapeError(op, `invalid size ${d} in shape ${fmtShape(shape)}`);
  }
  if (infer > 1) throw new ShapeError(op, `only one dimension can be inferred (-1) in ${fmtShape(shape)}`);
}
