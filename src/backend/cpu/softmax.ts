// Float64 reference of softmax, log-softmax and their gradients: plain loops over the rows
// along `dim`. Returns values in row-major order of the input's shape; index.ts wraps them.

import type { View } from '../types.ts';
import { numel } from '../../shape.ts';
import { ShapeError, fmtShape } from '../../errors.ts';
import { gather } from './storage.ts';

/** outer × n × inner split of a shape around `dim`: element (o, j, i) sits at (o·n + j)·inner + i. */
export function splitAt(op: string, shape: readonly number[], dim: number): { outer: number; n: number; inner: number } {
  if (!Number.isInteger(dim) || dim < 0 || dim >= shape.length) {
    throw new ShapeError(op, `dim ${dim} is out of range for shape ${fmtShape(shape)}`, [shape]);
  }
  return { outer: numel(shape.slice(0, dim)), n: shape[dim]!, inner: numel(shape.slice(dim + 1)) };
}

/** Softmax or log-softmax along `dim`: y = exp(x − m) / Σ exp(x − m), log y = (x − m) − log Σ exp(x − m), m the row max. */
export function softmax(x: View, dim: number, log: boolean): Float64Array {
  const op = log ? 'cpu.logSoftmax' : 'cpu.softmax';
  const { outer, n, inner } = splitAt(op, x.shape, dim);
  const v = gather(op, x);
  const out = new Float64Array(v.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (j: number) => (o * n + j) * inner + i;
      let m = -Infinity;
      for (let j = 0; j < n; j++) m = Math.max(m, v[at(j)]!); // Math.max propagates NaN
      let s = 0;
      for (let j = 0; j < n; j++) s += Math.exp(v[at(j)]! - m);
      const logS = Math.log(s);
      for (let j = 0; j < n; j++) out[at(j)] = log ? v[at(j)]! - m - logS : Math.exp(v[at(j)]! - m) / s;
    }
  }
  return out;
}

/** d softmax: gx = y·(g − Σ g·y); d log-softmax: gx = g − exp(y)·Σ g (sums along `dim`). */
export function softmaxBackward(y: View, g: View, dim: number, log: boolean): Float64Array {
  const op = log ? 'cpu.logSoftmaxBackward' : 'cpu.softmaxBackward';
  if (y.shape.length !== g.shape.length || y.shape.some((d, i) => d !== g.shape[i])) {
    throw new ShapeError(op, `output shape ${fmtShape(y.shape)} and gradient shape ${fmtShape(g.shape)} differ`, [y.shape, g.shape]);
  }
  const { outer, n, inner } = splitAt(op, y.shape, dim);
  const yv = gather(op, y);
  const gv = gather(op, g);
  const out = new Float64Array(yv.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (j: number) => (o * n + j) * inner + i;
      let dot = 0;
      for (let j = 0; j < n; j++) dot += log ? gv[at(j)]! : gv[at(j)]! * yv[at(j)]!;
      for (let j = 0; j < n; j++) {
        const k = at(j);
        out[k] = log ? gv[k]! - Math.exp(yv[k]!) * dot : yv[k]! * (gv[k]! - dot);
      }
    }
  }
  return out;
}
