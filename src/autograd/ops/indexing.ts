// Index ops: gather, indexSelect, advanced indexing (`index`, PyTorch's x[i, j]), scatterAdd
// (and scatterAdd_ in place), oneHot, maskedFill. Declared once here with their backward rules.
//
// Every index op is a "walk" (see src/backend/indexing.ts): an Addressing says how index
// tensors pick elements of a target tensor, and `lower` turns it, for any target layout, into
// the base view and index operands the backend primitives take. The same Addressing drives
// both directions, which gives the backward rules:
//   gatherLike(x)        → out[w] = x[addr(w)]      d/dx:   scatter-add g into zeros at addr(w)
//   scatterAddLike(x, s) → out = x; out[addr(w)] += s[w]   d/dx = g,  d/ds[w] = g[addr(w)]
// so gather's backward is a scatter-add (accumulating duplicates) and scatter-add's is a gather.
//
// Bounds: on the CPU an out-of-range index throws at once, before anything is written. On
// WebGPU the kernel flags it (the row gets NaN/0, the add is skipped) and the error below is
// thrown by the next readback: the index values live on the GPU, so checking first would cost
// a readback (a pipeline stall) on every indexing op.

import type { DType } from '../../dtype.ts';
import type { View } from '../../backend/types.ts';
import type { IndexCheck, IndexOperand } from '../../backend/indexing.ts';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../../errors.ts';
import { broadcastShapes, broadcastStrides, normDim, numel, sameShape, type Shape } from '../../shape.ts';
import { Tensor, checkInPlace, checkNoInternalOverlap } from '../../tensor/tensor.ts';
import { apply, type OpDef } from '../function.ts';
import { isGradEnabled } from '../grad-mode.ts';
import { backendOf, sumTo, wrap } from './common.ts';
import { cast, where } from './elementwise.ts';
import { reshape } from './views.ts';

/** How index tensors pick elements of a target; each kind keeps its own positions and dims. */
type Addressing =
  /** out[i][j][k] = x[i][index[i][j][k]][k] (dim 1): PyTorch's gather/scatter_add layout. */
  | { readonly kind: 'gather'; readonly dim: number }
  /** out = x with dim `dim` replaced by the 1-D index's picks. */
  | { readonly kind: 'indexSelect'; readonly dim: number }
  /**
   * Advanced indexing: the tensors index dims `dims` (ascending); their broadcast shape
   * `bshape` replaces those dims in place when they are adjacent, else leads (`front`).
   * `args` are their positions in the call (nulls included), for messages.
   */
  | { readonly kind: 'index'; readonly dims: readonly number[]; readonly args: readonly number[]; readonly bshape: readonly number[]; readonly front: boolean };

interface Walk {
  /** The target seen over the walk shape (0 strides on the dims only an index decides). */
  base: View;
  operands: IndexOperand[];
  check: IndexCheck;
}

/** Where the broadcast index dims sit in the walk shape (index kind). */
function bStart(a: Addressing & { kind: 'index' }): number {
  return a.front ? 0 : a.dims[0]!;
}

/** Shape of the walk over a target of `shape` (also the output of a gather). */
function walkShape(a: Addressing, shape: Shape, indices: readonly Tensor[]): number[] {
  if (a.kind === 'gather') return [...indices[0]!.shape];
  if (a.kind === 'indexSelect') return shape.map((d, i) => (i === a.dim ? indices[0]!.numel : d));
  const rest = shape.filter((_, i) => !a.dims.includes(i));
  const at = bStart(a);
  return [...rest.slice(0, at), ...a.bshape, ...rest.slice(at)];
}

/** The error an out-of-range index value raises, naming op, value, where it sits, and the size. */
function indexCheck(op: string, a: Addressing, target: Shape, indices: readonly Tensor[]): IndexCheck {
  const shapes = indices.map((t) => t.shape);
  return {
    error(k, pos, value) {
      if (a.kind === 'gather') {
        return new ValueError(op, `index ${value} is out of bounds for dim ${a.dim} with size ${target[a.dim]} (index element [${pos.join(', ')}] of shape ${fmtShape(shapes[0]!)})`);
      }
      if (a.kind === 'indexSelect') {
        return new ValueError(op, `index ${value} is out of bounds for dim ${a.dim} with size ${target[a.dim]} (index element ${pos[a.dim]})`);
      }
      // The offending tensor's own coordinates: right-aligned in the broadcast shape, 0 on its size-1 dims.
      const b = pos.slice(bStart(a), bStart(a) + a.bshape.length);
      const own = shapes[k]!;
      const at = own.map((s, i) => (s === 1 ? 0 : b[b.length - own.length + i]!));
      return new ValueError(
        op,
        `index ${value} is out of bounds for dim ${a.dims[k]} with size ${target[a.dims[k]!]} (indices[${a.args[k]}], element [${at.join(', ')}] of shape ${fmtShape(own)})`,
      );
    },
  };
}

/** Lowers addressing `a` over a target layout to the backend's walk. */
function lower(op: string, a: Addressing, target: View, indices: readonly Tensor[]): Walk {
  const walk = walkShape(a, target.shape, indices);
  const check = indexCheck(op, a, target.shape, indices);
  if (a.kind === 'gather' || a.kind === 'indexSelect') {
    const idx = indices[0]!;
    const baseStrides = walk.map((_, i) => (i === a.dim ? 0 : target.strides[i]!));
    const idxStrides = a.kind === 'gather' ? idx.strides : walk.map((_, i) => (i === a.dim && idx.ndim === 1 ? idx.strides[0]! : 0));
    return {
      base: { storage: target.storage, shape: walk, strides: baseStrides, offset: target.offset },
      operands: [{ index: { storage: idx.storage, shape: walk, strides: idxStrides, offset: idx.offset }, stride: target.strides[a.dim]!, size: target.shape[a.dim]!, wrap: false }],
      check,
    };
  }
  const at = bStart(a);
  const nb = a.bshape.length;
  const kept = target.shape.map((_, i) => i).filter((i) => !a.dims.includes(i));
  // Walk dim w: a broadcast index dim when at <= w < at + nb, else target dim kept[...].
  const targetDim = (w: number): number => (w < at ? kept[w]! : w >= at + nb ? kept[w - nb]! : -1);
  const baseStrides = walk.map((_, w) => (targetDim(w) >= 0 ? target.strides[targetDim(w)]! : 0));
  const operands = indices.map((t, k): IndexOperand => {
    const bs = broadcastStrides(t.shape, t.strides, a.bshape);
    const strides = walk.map((_, w) => (w >= at && w < at + nb ? bs[w - at]! : 0));
    const d = a.dims[k]!;
    return { index: { storage: t.storage, shape: walk, strides, offset: t.offset }, stride: target.strides[d]!, size: target.shape[d]!, wrap: true };
  });
  return { base: { storage: target.storage, shape: walk, strides: baseStrides, offset: target.offset }, operands, check };
}

/** A zero-filled contiguous tensor of `shape` on `like`'s device. */
function zerosOn(like: Tensor, shape: Shape, dtype: DType = like.dtype): Tensor {
  const t = new Tensor(like.storage.backend.alloc(numel(shape), dtype), shape);
  t.storage.backend.copy(t.layout, 0);
  return t;
}

/** A contiguous copy of `x` (not recorded; a buffer copy when x is contiguous). */
function copyOf(x: Tensor): Tensor {
  const be = x.storage.backend;
  const t = new Tensor(be.alloc(x.numel, x.dtype), x.shape);
  be.copyInto([{ dst: t.layout, src: x.layout }]);
  return t;
}

// ---- the two recorded walks ---------------------------------------------------------------------

interface WalkAttrs {
  readonly op: string;
  readonly addr: Addressing;
}

/** `src` seen over the walk: its own strides when it covers the walk (scatterAdd), else broadcast. */
function srcOver(src: Tensor, walk: Shape): View {
  const covers = src.ndim === walk.length && walk.every((d, i) => d <= src.shape[i]!);
  const strides = covers ? src.strides : broadcastStrides(src.shape, src.strides, walk);
  return { storage: src.storage, shape: walk, strides, offset: src.offset };
}

/** The gradient of a src that was read over the walk: zero-padded (it was larger) or summed (it was broadcast). */
function srcGrad(gs: Tensor, shape: Shape): Tensor {
  if (sameShape(gs.shape, shape)) return gs;
  if (gs.ndim === shape.length && gs.shape.every((d, i) => d <= shape[i]!)) {
    const full = zerosOn(gs, shape);
    let window = full;
    const views: Tensor[] = [];
    gs.shape.forEach((d, i) => {
      if (d !== shape[i]) views.push((window = window.narrow(i, 0, d)));
    });
    window.copy_(gs);
    for (const v of views) v.dispose();
    return full;
  }
  return sumTo(gs, shape);
}

const gatherDefs = new Map<string, OpDef<WalkAttrs>>();
/** out[w] = x[addr(w)]; d/dx: g scatter-added into zeros at addr(w) (duplicates accumulate). */
function gatherDef(op: string): OpDef<WalkAttrs> {
  let def = gatherDefs.get(op);
  if (def) return def;
  def = {
    name: op,
    forward: ([x, ...indices], a) => {
      const w = lower(a.op, a.addr, x!.layout, indices);
      return wrap(x!.storage.backend.indexGather(w.base, w.operands, w.check), w.base.shape);
    },
    save: ([, ...indices]) => indices,
    backward: (g, indices, a, needs, meta) => {
      if (!needs[0]) return [null, ...indices.map(() => null)];
      const zeros = zerosOn(g, meta.shapes[0]!);
      // Recorded (so it can be differentiated again) only under createGraph; else the adds go
      // straight into the fresh zeros instead of into a copy of them.
      if (isGradEnabled()) return [scatterAddLike(a.op, zeros, a.addr, g, indices), ...indices.map(() => null)];
      const w = lower(a.op, a.addr, zeros.layout, indices);
      zeros.storage.backend.indexScatterAdd(w.base, srcOver(g, w.base.shape), w.operands, w.check);
      return [zeros, ...indices.map(() => null)];
    },
  };
  gatherDefs.set(op, def);
  return def;
}

const scatterDefs = new Map<string, OpDef<WalkAttrs>>();
/** out = x, then out[addr(w)] += src[w]; d/dx = g, d/dsrc[w] = g[addr(w)] (a gather). */
function scatterDef(op: string): OpDef<WalkAttrs> {
  let def = scatterDefs.get(op);
  if (def) return def;
  def = {
    name: op,
    forward: ([x, src, ...indices], a) => {
      const out = copyOf(x!);
      try {
        const w = lower(a.op, a.addr, out.layout, indices);
        out.storage.backend.indexScatterAdd(w.base, srcOver(src!, w.base.shape), w.operands, w.check);
      } catch (e) {
        out.dispose();
        throw e;
      }
      return out;
    },
    save: ([, , ...indices]) => indices,
    backward: (g, indices, a, needs, meta) => [
      needs[0] ? g : null,
      needs[1] ? srcGrad(gatherLike(a.op, g, a.addr, indices), meta.shapes[1]!) : null,
      ...indices.map(() => null),
    ],
  };
  scatterDefs.set(op, def);
  return def;
}

function gatherLike(op: string, x: Tensor, addr: Addressing, indices: readonly Tensor[]): Tensor {
  return apply(gatherDef(op), [x, ...indices], { op, addr });
}

function scatterAddLike(op: string, x: Tensor, addr: Addressing, src: Tensor, indices: readonly Tensor[]): Tensor {
  return apply(scatterDef(op), [x, src, ...indices], { op, addr });
}

// ---- validation ------------------------------------------------------------------------------------

function checkIndexDtype(op: string, index: Tensor, what = 'index'): void {
  if (index.dtype !== 'int32') {
    throw new DTypeError(op, `${what} must be an int32 tensor, got ${index.dtype}${index.dtype === 'float32' ? '; call .int() first' : ''}`);
  }
}

function checkHasDims(op: string, x: Tensor): void {
  if (x.ndim === 0) throw new ShapeError(op, 'expects a tensor with at least 1 dim, got a 0-d tensor; unsqueeze(0) it first', [x.shape]);
}

/** PyTorch's gather/scatter shape rules; returns the normalised dim. */
function gatherDims(op: string, x: Tensor, dim: number, index: Tensor, src?: Tensor): number {
  checkHasDims(op, x);
  checkIndexDtype(op, index);
  const d = normDim(op, dim, x.ndim);
  if (index.ndim !== x.ndim) {
    throw new ShapeError(op, `index has ${index.ndim} dims (shape ${fmtShape(index.shape)}) but the input has ${x.ndim} (shape ${fmtShape(x.shape)}); they must have the same number of dims`, [x.shape, index.shape]);
  }
  for (let i = 0; i < x.ndim; i++) {
    if (i !== d && index.shape[i]! > x.shape[i]!) {
      throw new ShapeError(op, `index shape ${fmtShape(index.shape)} is larger than the input shape ${fmtShape(x.shape)} in dim ${i} (only dim ${d} may be larger)`, [x.shape, index.shape]);
    }
  }
  if (src) {
    if (src.ndim !== x.ndim || index.shape.some((s, i) => s > src.shape[i]!)) {
      throw new ShapeError(op, `src shape ${fmtShape(src.shape)} must have ${x.ndim} dims and be at least the index shape ${fmtShape(index.shape)} in every dim`, [x.shape, index.shape, src.shape]);
    }
    if (src.dtype !== x.dtype) throw new DTypeError(op, `src dtype ${src.dtype} differs from the input dtype ${x.dtype}; convert one with .to()`);
    if (x.dtype === 'bool') throw new DTypeError(op, 'bool tensors cannot be added into; use int32 or float32');
  }
  return d;
}

// ---- public ops ------------------------------------------------------------------------------------

/**
 * Values of `x` picked along `dim` by `index` (int32, same number of dims as x):
 * out[i][j] = x[i][index[i][j]] for dim 1. Output has index's shape. Like torch.gather.
 * @example gather(tensor([[1, 2], [3, 4]]), 1, tensor([[0, 0], [1, 0]], { dtype: 'int32' })) // [[1, 1], [4, 3]]
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  backendOf('gather', x, index);
  const d = gatherDims('gather', x, dim, index);
  return gatherLike('gather', x, { kind: 'gather', dim: d }, [index]);
}

/**
 * The slices of `x` along `dim` at the positions of the 1-D int32 `index` (repeats allowed).
 * Output: x's shape with dim `dim` of size index.numel. Like torch.index_select.
 * @example indexSelect(x /* [5, 3] *\/, 0, tensor([4, 0, 4], { dtype: 'int32' })) // [3, 3]
 */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  backendOf('indexSelect', x, index);
  checkHasDims('indexSelect', x);
  checkIndexDtype('indexSelect', index);
  if (index.ndim > 1) throw new ShapeError('indexSelect', `index must be 1-D (or 0-d), got shape ${fmtShape(index.shape)}; flatten() it`, [index.shape]);
  const d = normDim('indexSelect', dim, x.ndim);
  return gatherLike('indexSelect', x, { kind: 'indexSelect', dim: d }, [index]);
}

/** One entry of `index()`: an int32 index tensor, or null for a full slice (`:`). */
export type IndexEntry = Tensor | null;

/**
 * Advanced indexing with int32 index tensors, PyTorch's `x[i, j]`: entry k indexes dim k, `null`
 * keeps a dim whole (`:`), dims past the entries are kept. The index tensors broadcast together;
 * their shape replaces the indexed dims in place when those are adjacent, else comes first
 * (NumPy's rule). Negative values count from the end. Backward scatter-adds, so repeated
 * indices accumulate their gradients.
 * @example preds.index(arange(n), targets) // preds[arange(n), targets]: [n]
 * @example x.index(null, idx)              // x[:, idx]
 */
export function index(x: Tensor, entries: readonly IndexEntry[]): Tensor {
  x.assertAlive('index');
  if (entries.length > x.ndim) {
    throw new ShapeError('index', `too many indices for a tensor of ${x.ndim} dims (shape ${fmtShape(x.shape)}): got ${entries.length}`, [x.shape]);
  }
  const dims: number[] = [];
  const args: number[] = [];
  const tensors: Tensor[] = [];
  entries.forEach((e, k) => {
    if (e === null || e === undefined) return;
    if (!(e instanceof Tensor)) throw new ValueError('index', `indices[${k}] must be an int32 Tensor or null, got ${typeof e}; use select() or slice() for numbers`);
    e.assertAlive('index');
    if (e.dtype === 'bool') {
      throw new DTypeError('index', `indices[${k}] is a bool mask: boolean-mask indexing has a data-dependent shape and is not supported; use where() or maskedFill() instead`);
    }
    checkIndexDtype('index', e, `indices[${k}]`);
    dims.push(k);
    args.push(k);
    tensors.push(e);
  });
  backendOf('index', x, ...tensors);
  if (tensors.length === 0) return reshape(x, x.shape);
  const bshape = broadcastShapes('index', ...tensors.map((t) => t.shape));
  const adjacent = dims.every((d, i) => i === 0 || d === dims[i - 1]! + 1);
  return gatherLike('index', x, { kind: 'index', dims, args, bshape, front: !adjacent }, tensors);
}

/**
 * `x` with `src` added at the positions `index` picks along `dim` (out of place):
 * out[i][index[i][j]] += src[i][j] for dim 1; repeated indices accumulate. index (int32) and src
 * have x's number of dims; only index's extent of src is read. Like torch.scatter_add.
 * @example scatterAdd(zeros(3), 0, tensor([0, 2, 0], { dtype: 'int32' }), tensor([1, 2, 3])) // [4, 0, 2]
 */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  backendOf('scatterAdd', x, index, src);
  const d = gatherDims('scatterAdd', x, dim, index, src);
  return scatterAddLike('scatterAdd', x, { kind: 'gather', dim: d }, src, [index]);
}

/**
 * In-place scatterAdd: x[i][index[i][j]] += src[i][j] (dim 1). Not recorded: on a tensor that
 * requires grad it is allowed only inside noGrad, as every in-place op (see inplace.ts).
 */
export function scatterAdd_(x: Tensor, dim: number, index: Tensor, src: Tensor): void {
  checkInPlace('scatterAdd_', x);
  const be = backendOf('scatterAdd_', x, index, src);
  const d = gatherDims('scatterAdd_', x, dim, index, src);
  checkNoInternalOverlap('scatterAdd_', x);
  // A source or index aliasing the destination would be read while it is written: copy it first.
  const s = src.storage === x.storage ? copyOf(src) : src;
  const i = index.storage === x.storage ? copyOf(index) : index;
  try {
    const w = lower('scatterAdd_', { kind: 'gather', dim: d }, x.layout, [i]);
    be.indexScatterAdd(w.base, srcOver(s, w.base.shape), w.operands, w.check);
  } finally {
    if (s !== src) s.dispose();
    if (i !== index) i.dispose();
  }
  x.storage.version++;
}

const oneHotDef: OpDef<number> = {
  name: 'oneHot',
  forward: ([x], numClasses) => {
    const check: IndexCheck = {
      error: (_k, pos, value) =>
        new ValueError('oneHot', `class value ${value} at position [${pos.join(', ')}] is out of range: values must be in [0, numClasses) = [0, ${numClasses})`),
    };
    return wrap(x!.storage.backend.oneHot(x!.layout, numClasses, check), [...x!.shape, numClasses]);
  },
};

/**
 * int32 one-hot encoding: shape [...x.shape, numClasses], 1 where the last coordinate equals
 * x's value. x is int32 with values in [0, numClasses). `numClasses` is required here: inferring
 * it (PyTorch's -1) needs the data's max, a readback; use `await oneHotAsync(x)` for that.
 * @example oneHot(tensor([0, 2], { dtype: 'int32' }), 3) // [[1, 0, 0], [0, 0, 1]]
 */
export function oneHot(x: Tensor, numClasses: number): Tensor {
  x.assertAlive('oneHot');
  checkIndexDtype('oneHot', x, 'input');
  if (numClasses === -1) {
    throw new ValueError('oneHot', 'numClasses = -1 (infer from the data) needs a readback of the max; pass numClasses, or use `await oneHotAsync(x)`');
  }
  if (!Number.isInteger(numClasses) || numClasses < 0) throw new ValueError('oneHot', `numClasses must be a non-negative integer, got ${numClasses}`);
  if (numClasses === 0 && x.numel > 0) throw new ValueError('oneHot', `numClasses is 0 but the input (shape ${fmtShape(x.shape)}) has values; every class value must be < numClasses`);
  return apply(oneHotDef, [x], numClasses);
}

/**
 * oneHot with PyTorch's default numClasses = -1: reads max(x) back to infer max + 1 classes.
 * @example const y = await oneHotAsync(labels); // [n, max(labels) + 1]
 */
export async function oneHotAsync(x: Tensor, numClasses = -1): Promise<Tensor> {
  if (numClasses !== -1) return oneHot(x, numClasses);
  x.assertAlive('oneHot');
  checkIndexDtype('oneHot', x, 'input');
  if (x.numel === 0) throw new ValueError('oneHot', 'cannot infer numClasses from an empty tensor; pass numClasses');
  const m = x.max();
  const max = await m.item();
  m.dispose();
  return oneHot(x, Math.max(max + 1, 0));
}

/**
 * `x` with `value` where the bool `mask` (broadcast to x's shape) is true. Like torch.masked_fill.
 * @example x.maskedFill(x.lt(0), 0)
 */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  x.assertAlive('maskedFill');
  mask.assertAlive('maskedFill');
  if (mask.dtype !== 'bool') throw new DTypeError('maskedFill', `mask must be a bool tensor, got ${mask.dtype}; compare to make one (e.g. x.gt(0))`);
  const shape = broadcastShapes('maskedFill', x.shape, mask.shape);
  if (!sameShape(shape, x.shape)) {
    throw new ShapeError('maskedFill', `mask of shape ${fmtShape(mask.shape)} does not broadcast to the input shape ${fmtShape(x.shape)}`, [x.shape, mask.shape]);
  }
  const out = where(mask, value, x);
  if (out.dtype === x.dtype) return out;
  const c = cast(out, x.dtype);
  out.dispose();
  return c;
}
