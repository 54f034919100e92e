// Reductions over any dims with keepdim: sum, mean, max, min (values), argmax, argmin.
// The reduced dims are permuted to the end (a free view) so kernels reduce a trailing block.

import type { DType } from '../../dtype.ts';
import type { ReduceOp } from '../../backend/types.ts';
import { DTypeError, ShapeError, fmtShape } from '../../errors.ts';
import { normDim, normDims } from '../../shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { apply, type OpDef } from '../function.ts';
import { wrap } from './common.ts';

interface ReduceAttrs {
  dims: number[];
  keepdim: boolean;
}

/** Output shape with the reduced dims dropped or kept as 1. */
function reducedShape(shape: readonly number[], dims: readonly number[], keepdim: boolean): number[] {
  const set = new Set(dims);
  return keepdim ? shape.map((d, i) => (set.has(i) ? 1 : d)) : shape.filter((_, i) => !set.has(i));
}

/** Runs the backend reduction of `dims` of x; result has the keepdim=false shape. */
function runReduce(op: ReduceOp, x: Tensor, dims: readonly number[], outDtype: DType): Tensor {
  const set = new Set(dims);
  const kept = x.shape.map((_, i) => i).filter((i) => !set.has(i));
  const order = [...kept, ...dims];
  const view = {
    storage: x.storage,
    shape: order.map((i) => x.shape[i]!),
    strides: order.map((i) => x.strides[i]!),
    offset: x.offset,
  };
  for (const d of dims) {
    if (x.shape[d] === 0 && op !== 'sum' && op !== 'mean' && op !== 'prod') {
      throw new ShapeError(op, `cannot reduce over dim ${d} of size 0 (shape ${fmtShape(x.shape)}): the operation has no identity`);
    }
  }
  return wrap(x.storage.backend.reduce(op, view, dims.length, outDtype), kept.map((i) => x.shape[i]!));
}

/** The gradient `g` (reduced shape) seen with the reduced dims as size 1. */
function keepDims(g: Tensor, inputShape: readonly number[], dims: readonly number[]): Tensor {
  return g.reshape(reducedShape(inputShape, dims, true));
}

const defs: Record<'sum' | 'mean' | 'max' | 'min', OpDef<ReduceAttrs>> = {
  // d sum = 1 for every reduced element: broadcast g back.
  sum: {
    name: 'sum',
    forward: ([x], a) => {
      const out = runReduce('sum', x!, a.dims, x!.dtype === 'float32' ? 'float32' : 'int32');
      return a.keepdim ? reshapeOwned(out, reducedShape(x!.shape, a.dims, true)) : out;
    },
    backward: (g, _s, a, _n, meta) => [keepDims(g, meta.shapes[0]!, a.dims).expand(meta.shapes[0]!)],
  },
  // d mean = 1/n for every reduced element.
  mean: {
    name: 'mean',
    forward: ([x], a) => {
      const out = runReduce('mean', x!, a.dims, 'float32');
      return a.keepdim ? reshapeOwned(out, reducedShape(x!.shape, a.dims, true)) : out;
    },
    backward: (g, _s, a, _n, meta) => {
      const shape = meta.shapes[0]!;
      const n = a.dims.reduce((p, d) => p * shape[d]!, 1);
      return [keepDims(g, shape, a.dims).div(n).expand(shape)];
    },
  },
  // d max = 1 on the elements equal to the max, shared equally among ties (torch.amax); a NaN max
  // goes to the NaNs, shared equally (torch.max()'s rule; torch.amax would make every gradient NaN).
  max: minMax('max'),
  min: minMax('min'),
};

function minMax(op: 'max' | 'min'): OpDef<ReduceAttrs> {
  return {
    name: op === 'max' ? 'amax' : 'amin',
    forward: ([x], a) => {
      const out = runReduce(op, x!, a.dims, x!.dtype);
      return a.keepdim ? reshapeOwned(out, reducedShape(x!.shape, a.dims, true)) : out;
    },
    save: ([x], out) => [x!, out],
    backward: (g, [x, out], a, _n, meta) => {
      const shape = meta.shapes[0]!;
      const o = keepDims(out!, shape, a.dims);
      // x ≠ x holds only at NaN (the kernels' comparisons are IEEE's).
      const mask = x!.eq(o).logicalOr(x!.ne(x!).logicalAnd(o.ne(o))).float();
      const count = mask.sum(a.dims, true);
      return [mask.mul(keepDims(g, shape, a.dims)).div(count)];
    },
  };
}

/** Reshapes a freshly computed tensor, handing its storage to the result. */
function reshapeOwned(t: Tensor, shape: readonly number[]): Tensor {
  const r = t.reshape(shape);
  t.dispose();
  return r;
}

/** sum/mean/max/min over `dim` (all dims when undefined). */
export function reduce(op: 'sum' | 'mean' | 'max' | 'min', x: Tensor, dim: number | readonly number[] | undefined, keepdim: boolean): Tensor {
  x.assertAlive(op);
  if (op === 'mean' && x.dtype !== 'float32') {
    throw new DTypeError('mean', `input dtype ${x.dtype} is not floating point; call .float() first`);
  }
  return apply(defs[op], [x], { dims: normDims(op, dim, x.ndim), keepdim });
}

/** argmax/argmin along `dim`, or over the flattened tensor when `dim` is undefined. Not differentiable. */
export function argReduce(op: 'argmax' | 'argmin', x: Tensor, dim: number | undefined, keepdim: boolean): Tensor {
  x.assertAlive(op);
  if (dim === undefined) {
    const flat = x.reshape([-1]);
    const out = runReduce(op, flat, [0], 'int32');
    flat.dispose();
    return keepdim ? reshapeOwned(out, x.shape.map(() => 1)) : out;
  }
  const d = x.ndim === 0 ? (normDim(op, dim, 1), 0) : normDim(op, dim, x.ndim);
  if (x.ndim === 0) return wrap(x.storage.backend.upload([0], 'int32'), []);
  const out = runReduce(op, x, [d], 'int32');
  return keepdim ? reshapeOwned(out, reducedShape(x.shape, [d], true)) : out;
}
