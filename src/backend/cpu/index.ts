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
import { indexGather, indexScatterAdd, oneHot } from './indexing.ts';
import * as conv from './conv.ts';
import { optimStep } from './optim.ts';
import { softmax, softmaxBackward } from './softmax.ts';
import * as losses from './losses.ts';
import * as pool from './pool.ts';
import { dropout } from './dropout.ts';
import { activation, activationBackward } from './activation.ts';

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

  // async: a failure rejects the promise, as on WebGPU, instead of throwing at the call.
  async read(x: View): Promise<Float64Array | Int32Array> {
    const values = gather('cpu.read', x);
    return x.storage.dtype === 'float32' ? values : Int32Array.from(values);
  },

  unary: (op, x, outDtype) => wrap(outDtype, unary(op, x, outDtype)),
  binary: (op, a, b, shape, dtype, outDtype) => wrap(outDtype, binary(op, a, b, shape, dtype, outDtype)),
  where: (cond, a, b, shape, dtype) => wrap(dtype, where(cond, a, b, shape, dtype)),
  reduce: (op, x, reduceRank, outDtype) => wrap(outDtype, reduce(op, x, reduceRank, outDtype)),
  matmul: (a, b, bias, act) => wrap('float32', matmul(a, b, bias, act)),
  copy,
  random: (kind, numel, dtype, state, a, b) => wrap(dtype, random(kind, numel, dtype, state, a, b)),
  // Neural-network primitive families: one line (or a few) per primitive, inserted above the anchor.
  // Indexing and scatter (issue #4).
  indexGather: (x, indices, check) => wrap(x.storage.dtype, indexGather(x, indices, check)),
  indexScatterAdd: (dst, src, indices, check) => {
    indexScatterAdd(dst, src, indices, check);
  },
  oneHot: (x, numClasses, check) => wrap('int32', oneHot(x, numClasses, check)),
  copyInto: (parts) => {
    for (const { dst, src } of parts) copy(dst, src);
  },
  // Convolution (issue #4).
  conv2d: (x, w, bias, g, act) => wrap('float32', conv.conv2d(x, w, bias, g, act ?? null)),
  conv2dBackwardInput: (gy, w, g) => wrap('float32', conv.conv2dBackwardInput(gy, w, g)),
  conv2dBackwardWeight: (x, gy, g) => wrap('float32', conv.conv2dBackwardWeight(x, gy, g)),
  // Optimizer updates (issue #5).
  optimStep,
  // Softmax family and losses (issue #4).
  softmax: (x, dim, log) => wrap('float32', softmax(x, dim, log)),
  softmaxBackward: (y, g, dim, log) => wrap('float32', softmaxBackward(y, g, dim, log)),
  classLoss: (x, target, weight, opts) => {
    const r = losses.classLoss(x, target, weight, opts);
    return { loss: wrap('float32', r.loss), stats: wrap('float32', r.stats) };
  },
  classLossBackward: (x, target, weight, stats, g, opts) => wrap('float32', losses.classLossBackward(x, target, weight, stats, g, opts)),
  pointwiseLoss: (op, a, b, weight, posWeight, reduction) => wrap('float32', losses.pointwiseLoss(op, a, b, weight, posWeight, reduction)),
  pointwiseLossBackward: (op, wrt, a, b, weight, posWeight, g, scale) =>
    wrap('float32', losses.pointwiseLossBackward(op, wrt, a, b, weight, posWeight, g, scale)),
  // Pooling, dropout and activations (issue #4).
  maxPool2d: (x, geom) => {
    const [values, indices] = pool.maxPool2d(x, geom);
    return [wrap('float32', values), wrap('int32', indices)];
  },
  maxPool2dBackward: (g, indices, geom) => wrap('float32', pool.maxPool2dBackward(g, indices, geom)),
  avgPool2d: (x, geom, divisor) => wrap('float32', pool.avgPool2d(x, geom, divisor)),
  avgPool2dBackward: (g, geom, divisor) => wrap('float32', pool.avgPool2dBackward(g, geom, divisor)),
  adaptiveAvgPool2d: (x, outH, outW) => wrap('float32', pool.adaptiveAvgPool2d(x, outH, outW)),
  adaptiveAvgPool2dBackward: (g, inH, inW) => wrap('float32', pool.adaptiveAvgPool2dBackward(g, inH, inW)),
  dropout: (x, threshold, scale, group, state) => wrap('float32', dropout(x, threshold, scale, group, state)),
  activation: (op, x, params) => wrap(op === 'clamp' && x.storage.dtype !== 'float32' ? 'int32' : 'float32', activation(op, x, params)),
  activationBackward: (op, x, g, params) => wrap('float32', activationBackward(op, x, g, params)),
  // @primitives-anchor

  flush(): void {},
  memory: memoryStats,
};
