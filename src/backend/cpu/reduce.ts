// Float64 reference of `reduce`: folds the last `reduceRank` dims of a view, one block per
// output element. Returns plain values; index.ts wraps them in a storage.

import type { ReduceOp, View } from '../types.ts';
import type { DType } from '../../dtype.ts';
import { numel } from '../../shape.ts';
import { ShapeError, ValueError, fmtShape } from '../../errors.ts';
import { castTo, gather } from './storage.ts';

/** max/min propagate NaN (torch.max/min): the first NaN met decides the result. */
function extreme(block: Float64Array, start: number, n: number, wantMax: boolean): number {
  let best = block[start]!;
  for (let j = 0; j < n; j++) {
    const v = block[start + j]!;
    if (Number.isNaN(v)) return NaN;
    if (wantMax ? v > best : v < best) best = v;
  }
  return best;
}

/**
 * Position of the first extreme in the block. NaN wins over every number and the first
 * NaN wins over later ones, as torch.argmax/argmin do.
 */
function argExtreme(block: Float64Array, start: number, n: number, wantMax: boolean): number {
  let bestAt = 0;
  let best = block[start]!;
  for (let j = 0; j < n; j++) {
    const v = block[start + j]!;
    if (Number.isNaN(v)) return j;
    if (wantMax ? v > best : v < best) {
      best = v;
      bestAt = j;
    }
  }
  return bestAt;
}

/**
 * Reduces the last `reduceRank` dims of `x`; the result is contiguous with shape
 * x.shape[:-reduceRank]. Integer input sums and multiplies in int32 (wrapping).
 * Empty blocks: sum 0, prod 1, mean NaN; max/min/argmax/argmin throw.
 */
export function reduce(op: ReduceOp, x: View, reduceRank: number, outDtype: DType): Float64Array {
  const name = `cpu.reduce(${op})`;
  const rank = x.shape.length;
  if (!Number.isInteger(reduceRank) || reduceRank < 0 || reduceRank > rank) {
    throw new ShapeError(name, `cannot reduce the last ${reduceRank} dims of a view of shape ${fmtShape(x.shape)}`, [x.shape]);
  }
  const values = gather(name, x);
  const n = numel(x.shape.slice(rank - reduceRank)); // block length
  const outer = numel(x.shape.slice(0, rank - reduceRank));
  const isInt = x.storage.dtype !== 'float32';
  if (n === 0 && (op === 'max' || op === 'min' || op === 'argmax' || op === 'argmin')) {
    throw new ValueError(
      name,
      `cannot take ${op} of an empty block (the reduced dims of shape ${fmtShape(x.shape)} have 0 elements) because ${op} has no identity`,
    );
  }
  const out = new Float64Array(outer);
  for (let o = 0; o < outer; o++) {
    const start = o * n;
    let r: number;
    switch (op) {
      case 'sum':
      case 'mean': {
        let acc = 0;
        for (let j = 0; j < n; j++) acc += values[start + j]!;
        if (isInt && op === 'sum') acc |= 0;
        r = op === 'mean' ? acc / n : acc;
        break;
      }
      case 'prod': {
        let acc = 1;
        for (let j = 0; j < n; j++) acc = isInt ? Math.imul(acc, values[start + j]!) : acc * values[start + j]!;
        r = acc;
        break;
      }
      case 'max':
      case 'min':
        r = extreme(values, start, n, op === 'max');
        break;
      case 'argmax':
      case 'argmin':
        r = argExtreme(values, start, n, op === 'argmax');
        break;
      default: {
        const never: never = op;
        throw new Error(`cpu.reduce: unknown op '${String(never)}'`);
      }
    }
    out[o] = castTo(outDtype, r);
  }
  return out;
}
