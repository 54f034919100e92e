// Joining and splitting: cat, stack (one strided copy per input into its slice of the output;
// backward hands each input its slice of the gradient), and split, chunk (views).
// The backend's `copyInto` writes each input into the output's slice view, casting to the
// promoted dtype on the way: a buffer copy for contiguous inputs, else one strided kernel each
// (see bench/indexing.ts for the measured costs).

import { promote, type DType } from '../../dtype.ts';
import { ShapeError, ValueError, fmtShape } from '../../errors.ts';
import { normDim, numel } from '../../shape.ts';
import { Tensor } from '../../tensor/tensor.ts';
import { apply, type OpDef } from '../function.ts';
import { backendOf } from './common.ts';
import { narrow, select } from './views.ts';

interface JoinAttrs {
  /** Dim of the output the inputs are laid along. */
  readonly dim: number;
  /** stack: each input is one index of `dim`; cat: a run of `dim` starting at starts[i]. */
  readonly stack: boolean;
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Start of each input along `dim`, or -1 for a skipped input (cat's 1-D empty tensors). */
  readonly starts: readonly number[];
}

/** d cat = the gradient's slice of each input (a view); stack: the gradient selected at i. */
const joinDef: OpDef<JoinAttrs> = {
  name: 'cat',
  forward: (inputs, a) => {
    const be = inputs[0]!.storage.backend;
    const out = new Tensor(be.alloc(numel(a.shape), a.dtype), a.shape);
    const dstStrides = a.stack ? out.strides.filter((_, i) => i !== a.dim) : out.strides;
    const parts = inputs
      .map((t, i) => ({ dst: { storage: out.storage, shape: t.shape, strides: dstStrides, offset: a.starts[i]! * out.strides[a.dim]! }, src: t.layout }))
      .filter((_, i) => a.starts[i]! >= 0 && inputs[i]!.numel > 0);
    be.copyInto(parts);
    return out;
  },
  backward: (g, _s, a, needs, meta) =>
    meta.shapes.map((shape, i) => {
      if (!needs[i] || a.starts[i]! < 0) return null;
      return a.stack ? select(g, a.dim, i) : narrow(g, a.dim, a.starts[i]!, shape[a.dim]!);
    }),
};
const stackDef: OpDef<JoinAttrs> = { ...joinDef, name: 'stack' };

function checkList(op: string, tensors: readonly Tensor[]): void {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new ValueError(op, 'expected a non-empty array of tensors');
  tensors.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new ValueError(op, `entry ${i} is not a Tensor`);
  });
}

/**
 * Concatenates tensors along `dim` (negative counts from the end). All must have the same
 * number of dims and equal sizes except in `dim`; 1-D empty tensors are skipped (as in
 * PyTorch). The result dtype is the promotion of all inputs (bool < int32 < float32).
 * @example cat([zeros(2, 3), ones(4, 3)])      // [6, 3]
 * @example cat([a /* [2, 3] *\/, b /* [2, 5] *\/], -1) // [2, 8]
 */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  checkList('cat', tensors);
  backendOf('cat', ...tensors);
  const dtype = tensors.map((t) => t.dtype).reduce(promote);
  const skipped = tensors.map((t) => t.ndim === 1 && t.shape[0] === 0);
  const first = skipped.indexOf(false);
  if (first < 0) return apply(joinDef, tensors, { dim: 0, stack: false, shape: [0], dtype, starts: tensors.map(() => -1) });
  const ref = tensors[first]!;
  if (ref.ndim === 0) throw new ShapeError('cat', `zero-dimensional tensor (entry ${first}) cannot be concatenated; unsqueeze(0) it or use stack()`);
  const d = normDim('cat', dim, ref.ndim);
  const starts: number[] = [];
  let at = 0;
  tensors.forEach((t, i) => {
    if (skipped[i]) {
      starts.push(-1);
      return;
    }
    if (t.ndim !== ref.ndim) {
      throw new ShapeError('cat', `tensors must have the same number of dims: entry ${first} has shape ${fmtShape(ref.shape)}, entry ${i} has shape ${fmtShape(t.shape)}`, [ref.shape, t.shape]);
    }
    const bad = t.shape.findIndex((s, k) => k !== d && s !== ref.shape[k]);
    if (bad >= 0) {
      throw new ShapeError(
        'cat',
        `sizes must match except in dim ${d}: entry ${first} has shape ${fmtShape(ref.shape)}, entry ${i} has shape ${fmtShape(t.shape)} (dim ${bad}: ${ref.shape[bad]} vs ${t.shape[bad]})`,
        [ref.shape, t.shape],
      );
    }
    starts.push(at);
    at += t.shape[d]!;
  });
  const shape = ref.shape.map((s, k) => (k === d ? at : s));
  return apply(joinDef, tensors, { dim: d, stack: false, shape, dtype, starts });
}

/**
 * Stacks equally shaped tensors along a new dim `dim` (in [-ndim-1, ndim]).
 * @example stack([a /* [2, 3] *\/, b /* [2, 3] *\/], 1) // [2, 2, 3]
 */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  checkList('stack', tensors);
  backendOf('stack', ...tensors);
  const ref = tensors[0]!;
  tensors.forEach((t, i) => {
    if (t.ndim !== ref.ndim || t.shape.some((s, k) => s !== ref.shape[k])) {
      throw new ShapeError('stack', `expects each tensor to be equal size, but got ${fmtShape(ref.shape)} at entry 0 and ${fmtShape(t.shape)} at entry ${i}`, [ref.shape, t.shape]);
    }
  });
  const d = normDim('stack', dim, ref.ndim + 1);
  const shape = [...ref.shape];
  shape.splice(d, 0, tensors.length);
  const dtype = tensors.map((t) => t.dtype).reduce(promote);
  return apply(stackDef, tensors, { dim: d, stack: true, shape, dtype, starts: tensors.map((_, i) => i) });
}

/**
 * Views of consecutive pieces of `x` along `dim`: pieces of `size` (the last one smaller when it
 * does not divide), or of the given section sizes (which must sum to the dim's size).
 * @example split(arange(5), 2)       // [0, 1], [2, 3], [4]
 * @example split(arange(5), [1, 4])  // [0], [1, 2, 3, 4]
 */
export function split(x: Tensor, splitSizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  x.assertAlive('split');
  if (x.ndim === 0) throw new ShapeError('split', 'cannot split a 0-d tensor');
  const d = normDim('split', dim, x.ndim);
  const size = x.shape[d]!;
  let sections: number[];
  if (typeof splitSizeOrSections === 'number') {
    const s = splitSizeOrSections;
    if (!Number.isInteger(s) || s < 0) throw new ValueError('split', `split size must be a non-negative integer, got ${s}`);
    if (s === 0 && size !== 0) throw new ValueError('split', `split size can only be 0 if dim ${d} has size 0, but it has size ${size} (shape ${fmtShape(x.shape)})`);
    const n = s === 0 ? 1 : Math.max(1, Math.ceil(size / s));
    sections = Array.from({ length: n }, (_, i) => Math.min(s, size - i * s));
  } else {
    sections = [...splitSizeOrSections];
    if (sections.some((s) => !Number.isInteger(s) || s < 0)) throw new ValueError('split', `section sizes must be non-negative integers, got ${fmtShape(sections)}`);
    const total = sections.reduce((p, s) => p + s, 0);
    if (total !== size) {
      throw new ValueError('split', `section sizes ${fmtShape(sections)} must sum exactly to ${size} (the size of dim ${d} of shape ${fmtShape(x.shape)}), but sum to ${total}`);
    }
  }
  let at = 0;
  return sections.map((s) => {
    const v = narrow(x, d, at, s);
    at += s;
    return v;
  });
}

/**
 * Splits `x` into at most `chunks` views along `dim`, each of ceil(size / chunks) elements
 * (the last smaller), like torch.chunk: it may return fewer than `chunks` pieces.
 * @example chunk(arange(6), 4) // [0, 1], [2, 3], [4, 5]
 */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  x.assertAlive('chunk');
  if (!Number.isInteger(chunks) || chunks <= 0) throw new ValueError('chunk', `chunks must be a positive integer, got ${chunks}`);
  if (x.ndim === 0) throw new ShapeError('chunk', 'cannot chunk a 0-d tensor');
  const d = normDim('chunk', dim, x.ndim);
  const size = x.shape[d]!;
  // An empty dim still gives `chunks` empty pieces (torch does the same).
  if (size === 0) return Array.from({ length: chunks }, () => narrow(x, d, 0, 0));
  return split(x, Math.ceil(size / chunks), d);
}
