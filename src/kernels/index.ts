// The WebGPU backend: the Backend contract implemented by the WGSL kernel families
// in this folder, on one GpuRuntime.

import { castToInt32, type DType } from '../dtype.ts';
import type { Backend, MemoryStats, Operand, RandomKind, RandomState, ReduceOp, View } from '../backend/types.ts';
import type { FusedActivation } from '../backend/fused-activation.ts';
import { contiguousStrides, isContiguous, numel as sizeOf } from '../shape.ts';
import type { GpuRuntime } from '../device/runtime.ts';
import { GpuStorage } from './storage.ts';
import * as ew from './elementwise.ts';
import { reduce } from './reduce.ts';
import { matmul } from './matmul.ts';
import { random } from './random.ts';
import * as convSplit from './conv-split.ts';
import * as ix from './indexing.ts';
import { optimStep } from './optim.ts';
import * as pool from './pool.ts';
import { dropout } from './dropout.ts';
import { activation, activationBackward } from './activation.ts';
import * as sm from './softmax.ts';
import * as losses from './losses.ts';

export type { GpuStorage };

export function createWebgpuBackend(rt: GpuRuntime): Backend & { runtime: GpuRuntime } {
  const backend: Backend & { runtime: GpuRuntime } = {
    name: 'webgpu',
    runtime: rt,
    lostError: () => (rt.lost ? rt.lostError() : null),

    alloc(numel: number, dtype: DType): GpuStorage {
      return new GpuStorage(backend, rt, rt.pool.acquire(Math.max(numel, 1) * 4), dtype, numel);
    },

    upload(data: ArrayLike<number>, dtype: DType): GpuStorage {
      const s = backend.alloc(data.length, dtype) as GpuStorage;
      if (data.length === 0) return s;
      let bytes: Float32Array | Int32Array;
      if (dtype === 'float32') bytes = data instanceof Float32Array ? data : Float32Array.from(data);
      else if (dtype === 'int32') bytes = data instanceof Int32Array ? data : Int32Array.from(data, castToInt32);
      else bytes = Int32Array.from(data, (v) => (Number(v) !== 0 ? 1 : 0)); // NaN is true, as on the CPU
      rt.write(s.buffer, bytes);
      return s;
    },

    async read(x: View): Promise<Float32Array | Int32Array> {
      const s = x.storage as GpuStorage;
      const n = sizeOf(x.shape);
      const Arr = s.dtype === 'float32' ? Float32Array : Int32Array;
      if (n === 0) return new Arr(0);
      if (isContiguous(x.shape, x.strides)) {
        return new Arr(await rt.read(s.buffer, x.offset * 4, n * 4));
      }
      // Gather the view into a contiguous scratch buffer first, then read that.
      const tmp = backend.alloc(n, s.dtype) as GpuStorage;
      try {
        ew.copy(rt, { storage: tmp, shape: x.shape, strides: contiguousStrides(x.shape), offset: 0 }, x);
        return new Arr(await rt.read(tmp.buffer, 0, n * 4));
      } finally {
        tmp.release();
      }
    },

    unary: (op, x, outDtype) => ew.unary(rt, backend, op, x, outDtype),
    binary: (op, a, b, shape, dtype, outDtype) => ew.binary(rt, backend, op, a, b, shape, dtype, outDtype),
    where: (cond, a, b, shape, dtype) => ew.where(rt, backend, cond, a, b, shape, dtype),
    copy: (dst: View, src: Operand) => ew.copy(rt, dst, src),
    reduce: (op: ReduceOp, x: View, reduceRank: number, outDtype: DType) => reduce(rt, backend, op, x, reduceRank, outDtype),
    matmul: (a: View, b: View, bias?: View | null, act?: FusedActivation | null) => matmul(rt, backend, a, b, undefined, bias ?? null, act ?? null),
    random: (kind: RandomKind, numel: number, dtype: DType, state: RandomState, a: number, b: number) =>
      random(rt, backend, kind, numel, dtype, state, a, b),
    // Neural-network primitive families: one line (or a few) per primitive, inserted above the anchor.
    // Optimizer updates (issue #5).
    optimStep: (update, param, grad, state) => optimStep(rt, update, param, grad, state),
    // Indexing and scatter (issue #4).
    indexGather: (x, indices, check) => ix.indexGather(rt, backend, x, indices, check),
    indexScatterAdd: (dst, src, indices, check) => ix.indexScatterAdd(rt, dst, src, indices, check),
    oneHot: (x, numClasses, check) => ix.oneHot(rt, backend, x, numClasses, check),
    copyInto: (parts) => ix.copyInto(rt, parts),
    // Pooling, dropout and activations (issue #4).
    maxPool2d: (x, geom) => pool.maxPool2d(rt, backend, x, geom),
    maxPool2dBackward: (g, indices, geom) => pool.maxPool2dBackward(rt, backend, g, indices, geom),
    avgPool2d: (x, geom, divisor) => pool.avgPool2d(rt, backend, x, geom, divisor),
    avgPool2dBackward: (g, geom, divisor) => pool.avgPool2dBackward(rt, backend, g, geom, divisor),
    adaptiveAvgPool2d: (x, outH, outW) => pool.adaptiveAvgPool2d(rt, backend, x, outH, outW),
    adaptiveAvgPool2dBackward: (g, inH, inW) => pool.adaptiveAvgPool2dBackward(rt, backend, g, inH, inW),
    dropout: (x, threshold, scale, group, state) => dropout(rt, backend, x, threshold, scale, group, state),
    activation: (op, x, params) => activation(rt, backend, op, x, params),
    activationBackward: (op, x, g, params) => activationBackward(rt, backend, op, x, g, params),
    // Convolution (issue #4).
    // (conv-tune.ts picks each primitive's config per adapter and geometry, issue #7; conv-split.ts cuts what exceeds a binding.)
    conv2d: (x, w, bias, g, act) => convSplit.conv2d(rt, backend, x, w, bias, g, act ?? null),
    conv2dBackwardInput: (gy, w, g) => convSplit.conv2dBackwardInput(rt, backend, gy, w, g),
    conv2dBackwardWeight: (x, gy, g) => convSplit.conv2dBackwardWeight(rt, backend, x, gy, g),
    // Softmax family and losses (issue #4).
    softmax: (x, dim, log) => sm.softmax(rt, backend, x, dim, log),
    softmaxBackward: (y, g, dim, log) => sm.softmaxBackward(rt, backend, y, g, dim, log),
    classLoss: (x, target, weight, opts) => losses.classLoss(rt, backend, x, target, weight, opts),
    classLossBackward: (x, target, weight, stats, g, opts) => losses.classLossBackward(rt, backend, x, target, weight, stats, g, opts),
    pointwiseLoss: (op, a, b, weight, posWeight, reduction, check) => losses.pointwiseLoss(rt, backend, op, a, b, weight, posWeight, reduction, check),
    pointwiseLossBackward: (op, wrt, a, b, weight, posWeight, g, scale) =>
      losses.pointwiseLossBackward(rt, backend, op, wrt, a, b, weight, posWeight, g, scale),
    // @primitives-anchor

    flush: () => rt.flush(),
    memory: (): MemoryStats => rt.memory(),
  };
  return backend;
}
