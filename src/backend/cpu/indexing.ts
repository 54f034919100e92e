// Float64 reference of the index primitives: gather through int32 index views, scatter-add,
// one-hot. Plain loops; every index is validated before anything is written, so an
// out-of-range value throws the op's error (IndexCheck) and leaves the destination untouched.

import type { View } from '../types.ts';
import { unravel, type IndexCheck, type IndexOperand } from '../indexing.ts';
import { numel } from '../../shape.ts';
import { ShapeError, fmtShape } from '../../errors.ts';
import { cpuStorageOf, gather, viewPositions } from './storage.ts';

/** Storage positions of the walk: the base view's positions moved by every index operand's value × stride. */
function positions(op: string, base: View, indices: readonly IndexOperand[], check: IndexCheck): Float64Array {
  const pos = viewPositions(op, base);
  indices.forEach((ix, k) => {
    if (ix.index.shape.length !== base.shape.length || ix.index.shape.some((d, i) => d !== base.shape[i])) {
      throw new ShapeError(op, `index operand ${k} has shape ${fmtShape(ix.index.shape)}, the walk ${fmtShape(base.shape)}`);
    }
    const values = gather(op, ix.index);
    for (let i = 0; i < values.length; i++) {
      let v = values[i]!;
      if (v < 0 && ix.wrap) v += ix.size;
      if (!(v >= 0 && v < ix.size)) throw check.error(k, unravel(i, base.shape), values[i]!);
      pos[i]! += v * ix.stride;
    }
  });
  const n = cpuStorageOf(op, base).numel;
  for (const p of pos) {
    if (p >= n) throw new ShapeError(op, `an indexed position ${p} lies outside the storage of ${n} elements`);
  }
  return pos;
}

export function indexGather(x: View, indices: readonly IndexOperand[], check: IndexCheck): Float64Array {
  const data = cpuStorageOf('indexGather', x).data;
  const pos = positions('indexGather', x, indices, check);
  return pos.map((p) => data[p]!);
}

export function indexScatterAdd(dst: View, src: View, indices: readonly IndexOperand[], check: IndexCheck): void {
  if (src.shape.length !== dst.shape.length || src.shape.some((d, i) => d !== dst.shape[i])) {
    throw new ShapeError('indexScatterAdd', `src shape ${fmtShape(src.shape)} differs from the walk ${fmtShape(dst.shape)}`);
  }
  const s = cpuStorageOf('indexScatterAdd', dst);
  const pos = positions('indexScatterAdd', dst, indices, check);
  const values = gather('indexScatterAdd', src, s.dtype);
  const data = s.data;
  // int32 adds wrap like the GPU's atomicAdd.
  for (let i = 0; i < pos.length; i++) data[pos[i]!] = s.dtype === 'int32' ? (data[pos[i]!]! + values[i]!) | 0 : data[pos[i]!]! + values[i]!;
}

export function oneHot(x: View, numClasses: number, check: IndexCheck): Float64Array {
  const values = gather('oneHot', x);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= 0 && v < numClasses)) throw check.error(0, unravel(i, x.shape), v);
  }
  const out = new Float64Array(numel(x.shape) * numClasses);
  values.forEach((v, i) => (out[i * numClasses + v] = 1));
  return out;
}
