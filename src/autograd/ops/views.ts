// View ops: new shape/strides/offset over the same storage, no kernel. Each records a
// backward rule that maps the gradient back to the input's layout.

import { ShapeError, fmtShape } from '../../errors.ts';
import { checkShape, contiguousStrides, normDim, normDims, numel, type Shape } from '../../shape.ts';
import { Tensor } from '../../tensor/tensor.ts';
import { apply, type OpDef } from '../function.ts';
import { sumTo } from './common.ts';

export const normDimOf = normDim;

/** Accepts `f(2, 3)` and `f([2, 3])` alike. */
export function shapeArg(args: readonly (number | readonly number[])[]): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return [...(args[0] as readonly number[])];
  return args as number[];
}

interface ViewAttrs {
  shape: readonly number[];
  strides: readonly number[];
  offset: number;
  /** Gradient of the view: `g` (laid out like the view) → gradient of the input. */
  grad: (g: Tensor, inputShape: readonly number[]) => Tensor;
  name: string;
}

const viewDefs = new Map<string, OpDef<ViewAttrs>>();
function viewDef(name: string): OpDef<ViewAttrs> {
  let def = viewDefs.get(name);
  if (!def) {
    def = {
      name,
      forward: ([x], a) => {
        x!.storage.retain();
        return new Tensor(x!.storage, a.shape, a.strides, a.offset);
      },
      backward: (g, _s, a, _n, meta) => [a.grad(g, meta.shapes[0]!)],
    };
    viewDefs.set(name, def);
  }
  return def;
}

function makeView(name: string, x: Tensor, shape: readonly number[], strides: readonly number[], offset: number, grad: ViewAttrs['grad']): Tensor {
  return apply(viewDef(name), [x], { shape, strides, offset, grad, name });
}

/** Strides that show `oldShape`/`oldStrides` as `newShape` without copying, or null (PyTorch's computeStride). */
function viewStrides(oldShape: Shape, oldStrides: Shape, newShape: Shape): number[] | null {
  if (numel(oldShape) <= 1 || oldShape.length === 0) return contiguousStrides(newShape);
  const out = new Array<number>(newShape.length);
  let viewD = newShape.length - 1;
  let chunkBase = oldStrides[oldStrides.length - 1]!;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = oldShape.length - 1; d >= 0; d--) {
    tensorNumel *= oldShape[d]!;
    if (d === 0 || (oldShape[d - 1] !== 1 && oldStrides[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] === 1)) {
        out[viewD] = viewNumel * chunkBase;
        viewNumel *= newShape[viewD]!;
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = oldStrides[d - 1]!;
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  return viewD === -1 ? out : null;
}

/** Resolves one -1 and checks the element count. */
function inferShape(op: string, x: Tensor, shape: readonly number[]): number[] {
  checkShape(op, shape, true);
  const known = shape.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const out = shape.map((d) => (d === -1 ? (known === 0 ? 0 : x.numel / known) : d));
  if (numel(out) !== x.numel || !out.every(Number.isInteger)) {
    throw new ShapeError(op, `shape ${fmtShape(shape)} is invalid for input of size ${x.numel} (shape ${fmtShape(x.shape)})`, [x.shape, shape]);
  }
  return out;
}

// Backward closures of views are module-level or made by small factories (sliceGrad,
// permuteGrad), never inline in the op: an inline closure keeps the op's whole scope alive,
// input tensor included, for as long as the graph node lives.
const reshapeGrad = (g: Tensor, s: readonly number[]) => g.reshape(s);
const identityGrad = (g: Tensor) => g;
/** d expand = the gradient summed over the stretched dims. */
const expandGrad = (g: Tensor, s: readonly number[]) => sumTo(g, s);

/** A view with `shape`; throws when the strides make that impossible without a copy. */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  x.assertAlive('view');
  const target = inferShape('view', x, shape);
  const strides = viewStrides(x.shape, x.strides, target);
  if (!strides) {
    throw new ShapeError('view', `size ${fmtShape(target)} is not compatible with input of shape ${fmtShape(x.shape)} and strides ${fmtShape(x.strides)}; use reshape() (or contiguous() first)`);
  }
  return makeView('view', x, target, strides, x.offset, reshapeGrad);
}

/** A view with `shape` when possible, else a contiguous copy reshaped. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  x.assertAlive('reshape');
  const target = inferShape('reshape', x, shape);
  const strides = viewStrides(x.shape, x.strides, target);
  if (strides) return makeView('reshape', x, target, strides, x.offset, reshapeGrad);
  const c = x.clone();
  const out = makeView('reshape', c, target, contiguousStrides(target), 0, reshapeGrad);
  c.dispose();
  return out;
}

export function permute(x: Tensor, dims: readonly number[]): Tensor {
  x.assertAlive('permute');
  const d = dims.map((k) => normDim('permute', k, x.ndim));
  if (d.length !== x.ndim || new Set(d).size !== d.length) {
    throw new ShapeError('permute', `dims ${fmtShape(dims)} are not a permutation of the ${x.ndim} dims of a tensor of shape ${fmtShape(x.shape)}`);
  }
  return makeView('permute', x, d.map((k) => x.shape[k]!), d.map((k) => x.strides[k]!), x.offset, permuteGrad(d));
}

/** d permute(dims) = the gradient permuted back by the inverse permutation. */
function permuteGrad(dims: readonly number[]): ViewAttrs['grad'] {
  // Made here, not inline in permute(): a closure keeps its whole scope alive, and the node
  // holding it must not keep the input tensor alive.
  const inverse = new Array<number>(dims.length);
  dims.forEach((k, i) => (inverse[k] = i));
  return (g) => g.permute(inverse);
}

export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const n = Math.max(x.ndim, 1);
  const a = normDim('transpose', dim0, n);
  const b = normDim('transpose', dim1, n);
  if (x.ndim < 2) return makeView('transpose', x, x.shape, x.strides, x.offset, identityGrad);
  const dims = x.shape.map((_, i) => i);
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}

export function t(x: Tensor): Tensor {
  if (x.ndim > 2) throw new ShapeError('t', `expects a tensor with <= 2 dims, got shape ${fmtShape(x.shape)}; use transpose(dim0, dim1) or mT`);
  return transpose(x, 0, -1);
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normDim('unsqueeze', dim, x.ndim + 1);
  const shape = [...x.shape];
  const strides = [...x.strides];
  shape.splice(d, 0, 1);
  strides.splice(d, 0, d < x.ndim ? x.shape[d]! * x.strides[d]! : 1);
  return makeView('unsqueeze', x, shape, strides, x.offset, reshapeGrad);
}

export function squeeze(x: Tensor, dim?: number | readonly number[]): Tensor {
  const dims = dim === undefined ? x.shape.map((_, i) => i) : normDims('squeeze', dim, x.ndim);
  const drop = new Set(dims.filter((d) => x.shape[d] === 1));
  return makeView(
    'squeeze',
    x,
    x.shape.filter((_, i) => !drop.has(i)),
    x.strides.filter((_, i) => !drop.has(i)),
    x.offset,
    reshapeGrad,
  );
}

export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normDim('flatten', startDim, x.ndim);
  const e = normDim('flatten', endDim, x.ndim);
  if (s > e) throw new ShapeError('flatten', `startDim ${startDim} comes after endDim ${endDim}`);
  return reshape(x, [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}

/** Broadcast view: size-1 dims stretched with stride 0, new leading dims added; -1 keeps a size. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  x.assertAlive('expand');
  if (shape.length < x.ndim) {
    throw new ShapeError('expand', `the number of sizes provided (${shape.length}) must be at least the number of dims (${x.ndim}) of shape ${fmtShape(x.shape)}`);
  }
  const lead = shape.length - x.ndim;
  const outShape: number[] = [];
  const strides: number[] = [];
  shape.forEach((want, i) => {
    const j = i - lead;
    const have = j >= 0 ? x.shape[j]! : 1;
    const size = want === -1 ? (j >= 0 ? have : NaN) : want;
    if (!(size >= 0) || (have !== size && have !== 1)) {
      throw new ShapeError('expand', `the expanded size ${want} must match the existing size ${have} at dim ${i} (shape ${fmtShape(x.shape)} → ${fmtShape(shape)})`, [x.shape, shape]);
    }
    outShape.push(size);
    strides.push(j >= 0 && have === size ? x.strides[j]! : 0);
  });
  return makeView('expand', x, outShape, strides, x.offset, expandGrad);
}

/** Python-style slice bounds clamped to [0, size]. */
function clampIndex(i: number | undefined, size: number, dflt: number): number {
  if (i === undefined) return dflt;
  const j = i < 0 ? i + size : i;
  return Math.min(Math.max(j, 0), size);
}

/** d slice = the gradient scattered into zeros of the input's shape. */
function sliceGrad(dim: number, start: number, step: number) {
  return (g: Tensor, inputShape: readonly number[]): Tensor => {
    const full = new Tensor(g.storage.backend.alloc(numel(inputShape), g.dtype), inputShape);
    full.zero_();
    const window = full.slice(dim, start, start + (g.shape[dim]! - 1) * step + 1, step);
    window.copy_(g);
    window.dispose();
    return full;
  };
}

export function slice(x: Tensor, dim: number, start?: number, end?: number, step = 1): Tensor {
  x.assertAlive('slice');
  if (x.ndim === 0) throw new ShapeError('slice', 'cannot slice a 0-d tensor');
  const d = normDim('slice', dim, x.ndim);
  if (!Number.isInteger(step) || step <= 0) throw new ShapeError('slice', `step must be a positive integer, got ${step}`);
  const size = x.shape[d]!;
  const s = clampIndex(start, size, 0);
  const e = Math.max(clampIndex(end, size, size), s);
  const len = Math.ceil((e - s) / step);
  const shape = [...x.shape];
  const strides = [...x.strides];
  shape[d] = len;
  strides[d] = x.strides[d]! * step;
  return makeView('slice', x, shape, strides, x.offset + s * x.strides[d]!, sliceGrad(d, s, step));
}

export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normDim('narrow', dim, x.ndim);
  const size = x.shape[d]!;
  const s = start < 0 ? start + size : start;
  if (s < 0 || length < 0 || s + length > size) {
    throw new ShapeError('narrow', `start ${start} + length ${length} exceeds dimension ${dim} of size ${size} (shape ${fmtShape(x.shape)})`);
  }
  return slice(x, d, s, s + length);
}

export function select(x: Tensor, dim: number, index: number): Tensor {
  const d = normDim('select', dim, x.ndim);
  const size = x.shape[d]!;
  if (index < -size || index >= size) throw new ShapeError('select', `index ${index} is out of bounds for dim ${dim} with size ${size}`);
  const i = index < 0 ? index + size : index;
  const row = slice(x, d, i, i + 1);
  const out = squeeze(row, d);
  row.dispose();
  return out;
}

/** A contiguous copy, or a free view when the tensor already is contiguous. */
export function contiguous(x: Tensor): Tensor {
  x.assertAlive('contiguous');
  if (x.isContiguous()) return makeView('contiguous', x, x.shape, x.strides, x.offset, identityGrad);
  return x.clone();
}

