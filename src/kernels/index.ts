// The WebGPU backend: the Backend contract implemented by the WGSL kernel families
// in this folder, on one GpuRuntime.

import type { DType } from '../dtype.ts';
import type { Backend, MemoryStats, Operand, RandomKind, RandomState, ReduceOp, View } from '../backend/types.ts';
import { contiguousStrides, isContiguous, numel as sizeOf } from '../shape.ts';
import type { GpuRuntime } from '../device/runtime.ts';
import { GpuStorage } from './storage.ts';
import * as ew from './elementwise.ts';
import { reduce } from './reduce.ts';
import { matmul } from './matmul.ts';
import { random } from './random.ts';

export type { GpuStorage };

export function createWebgpuBackend(rt: GpuRuntime): Backend & { runtime: GpuRuntime } {
  const backend: Backend & { runtime: GpuRuntime } = {
    name: 'webgpu',
    runtime: rt,

    alloc(numel: number, dtype: DType): GpuStorage {
      return new GpuStorage(backend, rt, rt.pool.acquire(Math.max(numel, 1) * 4), dtype, numel);
    },

    upload(data: ArrayLike<number>, dtype: DType): GpuStorage {
      const s = backend.alloc(data.length, dtype) as GpuStorage;
      if (data.length === 0) return s;
      let bytes: Float32Array | Int32Array;
      if (dtype === 'float32') bytes = data instanceof Float32Array ? data : Float32Array.from(data);
      else if (dtype === 'int32') bytes = data instanceof Int32Array ? data : Int32Array.from(data, (v) => Math.trunc(v));
      else bytes = Int32Array.from(data, (v) => (v ? 1 : 0));
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
    matmul: (a: View, b: View) => matmul(rt, backend, a, b),
    random: (kind: RandomKind, numel: number, dtype: DType, state: RandomState, a: number, b: number) =>
      random(rt, backend, kind, numel, dtype, state, a, b),
    // Neural-network primitive families: one line (or a few) per primitive, inserted above the anchor.
    // @primitives-anchor

    flush: () => rt.flush(),
    memory: (): MemoryStats => rt.memory(),
  };
  return backend;
}
