// cpuBackend: the float64 reference Backend, the oracle of the test suite and the backend
// gradcheck runs on. Wires the primitive files (plain loops returning Float64Array values)
// to CpuStorage; knows nothing of autograd, promotion or broadcasting rules.

import type { Backend, Storage, View } from '../types.ts';
import { assertDType, type DType } from '../../dtype.ts';
import { ValueError } from '../../errors.ts';
import { CpuStorage, castTo, gather, memoryStats } from './storage.ts';
import { binary, copy, unary, where } from './elementwise.ts';
import { reduce } from './reduce.ts';
import { matmul } from './matmul.ts';
import { random } from './random.ts';

export { CpuStorage, castTo } from './storage.ts';
export { philox4x32_10, mulhilo32 } from './philox.ts';
export { philoxBlocks } from './random.ts';
export { roundHalfEven } from './elementwise.ts';

/** A fresh storage (one reference) over values a primitive computed. */
function wrap(dtype: DType, data: Float64Array): CpuStorage {
  assertDType('cpu', dtype);
  return new CpuStorage(cpuBackend, dtype, data);
}

/** The float64 CPU backend: every dtype lives in a Float64Array (int32/bool as exact integers). */
export const cpuBackend: Backend = {
  name: 'cpu',

  upload(data: ArrayLike<number>, dtype: DType): Storage {
    assertDType('cpu.upload', dtype);
    const out = new Float64Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = castTo(dtype, Number(data[i]));
    return wrap(dtype, out);
  },

  alloc(numel: number, dtype: DType): Storage {
    assertDType('cpu.alloc', dtype);
    if (!Number.isInteger(numel) || numel < 0) throw new ValueError('cpu.alloc', `numel must be a non-negative integer, got ${numel}`);
    return wrap(dtype, new Float64Array(numel)); // zero-filled, though callers may not rely on it
  },

  read(x: View): Promise<Float64Array | Int32Array> {
    const values = gather('cpu.read', x);
    return Promise.resolve(x.storage.dtype === 'float32' ? values : Int32Array.from(values));
  },

  unary: (op, x, outDtype) => wrap(outDtype, unary(op, x, outDtype)),
  binary: (op, a, b, shape, dtype, outDtype) => wrap(outDtype, binary(op, a, b, shape, dtype, outDtype)),
  where: (cond, a, b, shape, dtype) => wrap(dtype, where(cond, a, b, shape, dtype)),
  reduce: (op, x, reduceRank, outDtype) => wrap(outDtype, reduce(op, x, reduceRank, outDtype)),
  matmul: (a, b) => wrap('float32', matmul(a, b)),
  copy,
  random: (kind, numel, dtype, state, a, b) => wrap(dtype, random(kind, numel, dtype, state, a, b)),
  // Neural-network primitive families: one line (or a few) per primitive, inserted above the anchor.
  // @primitives-anchor

  flush(): void {},
  memory: memoryStats,
};
