// CpuStorage: a refcounted Float64Array holding every dtype (int32/bool as exact integers),
// the dtype casts shared by all CPU primitives, and strided-view gather/scatter helpers.
// Knows nothing of ops; every primitive file reads and writes views only through here.

import type { Backend, MemoryStats, Operand, Storage, View } from '../types.ts';
import { castToInt32, type DType } from '../../dtype.ts';
import { numel, type Shape } from '../../shape.ts';
import { ShapeError, WebgradError, fmtShape } from '../../errors.ts';

/** Live-storage accounting behind `cpuBackend.memory()`. */
const stats = { liveBuffers: 0, bytesInUse: 0 };

/** Bytes the CPU reference spends per element: every dtype lives in a float64 slot. */
const BYTES_PER_SLOT = 8;

/** Current live-storage counts (bytesAllocated equals bytesInUse: the CPU backend has no pool). */
export function memoryStats(): MemoryStats {
  return { liveBuffers: stats.liveBuffers, bytesInUse: stats.bytesInUse, bytesAllocated: stats.bytesInUse };
}

/**
 * Converts a number to how `dtype` stores it: float32 keeps the full double (this is the
 * float64 reference), int32 by the documented cast rule (castToInt32: truncate toward zero,
 * saturate, NaN → 0), bool is `x != 0` (so NaN → 1, as torch's `bool(nan)`). Integer
 * arithmetic that must wrap does so itself (`| 0`, Math.imul) before this.
 */
export function castTo(dtype: DType, x: number): number {
  if (dtype === 'float32') return x;
  if (dtype === 'int32') return castToInt32(x);
  return x !== 0 ? 1 : 0;
}

/** A flat float64 allocation of `numel` elements of `dtype`, freed when its last reference is released. */
export class CpuStorage implements Storage {
  version = 0;
  readonly numel: number;
  #refs = 1;
  #data: Float64Array | null;

  constructor(
    readonly backend: Backend,
    readonly dtype: DType,
    data: Float64Array,
  ) {
    this.#data = data;
    this.numel = data.length;
    stats.liveBuffers++;
    stats.bytesInUse += data.length * BYTES_PER_SLOT;
  }

  get refs(): number {
    return this.#refs;
  }

  get disposed(): boolean {
    return this.#data === null;
  }

  /** The elements; throws once the storage has been freed so a use-after-free is loud. */
  get data(): Float64Array {
    if (this.#data === null) throw new WebgradError('cpu: storage was used after its last reference was released');
    return this.#data;
  }

  retain(): void {
    if (this.#data === null) throw new WebgradError('cpu: retain() on a storage that was already freed');
    this.#refs++;
  }

  release(): void {
    if (this.#data === null) throw new WebgradError('cpu: release() on a storage that was already freed');
    this.#refs--;
    if (this.#refs === 0) {
      stats.liveBuffers--;
      stats.bytesInUse -= this.numel * BYTES_PER_SLOT;
      this.#data = null;
    }
  }
}

/** The view's storage as a live CpuStorage, or an Error naming `op`. */
export function cpuStorageOf(op: string, v: View): CpuStorage {
  const s = v.storage;
  if (!(s instanceof CpuStorage)) throw new WebgradError(`${op}: operand storage belongs to the '${s.backend.name}' backend, not 'cpu'`);
  if (s.disposed) throw new WebgradError(`${op}: operand storage was already freed`);
  return s;
}

/**
 * Storage positions of every element of the view, in row-major logical order, after
 * checking the view is well formed and stays inside its storage.
 */
export function viewPositions(op: string, v: View): Float64Array {
  const s = cpuStorageOf(op, v);
  const { shape, strides, offset } = v;
  if (strides.length !== shape.length) {
    throw new ShapeError(op, `view of shape ${fmtShape(shape)} has ${strides.length} strides`, [shape]);
  }
  const n = numel(shape);
  const pos = new Float64Array(n);
  if (n === 0) return pos;
  // Odometer walk: idx is the multi-index of element i, p its storage position.
  const idx = new Array<number>(shape.length).fill(0);
  let p = offset;
  for (let i = 0; i < n; i++) {
    if (p < 0 || p >= s.numel || !Number.isInteger(p)) {
      throw new ShapeError(
        op,
        `view (shape ${fmtShape(shape)}, strides ${fmtShape(strides)}, offset ${offset}) reaches position ${p} outside its storage of ${s.numel} elements`,
        [shape],
      );
    }
    pos[i] = p;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d]!++;
      p += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      p -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return pos;
}

/** The view's elements in row-major logical order, each converted by `castTo(dtype)`. */
export function gather(op: string, v: View, dtype: DType = v.storage.dtype): Float64Array {
  const data = cpuStorageOf(op, v).data;
  const pos = viewPositions(op, v);
  const out = new Float64Array(pos.length);
  for (let i = 0; i < pos.length; i++) out[i] = castTo(dtype, data[pos[i]!]!);
  return out;
}

/**
 * An elementwise operand as `numel(shape)` values in row-major order, converted to `dtype`:
 * a scalar is repeated, a view must already be broadcast to exactly `shape`.
 */
export function gatherOperand(op: string, name: string, x: Operand, shape: Shape, dtype: DType): Float64Array {
  if (typeof x === 'number') return new Float64Array(numel(shape)).fill(castTo(dtype, x));
  if (x.shape.length !== shape.length || x.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(op, `operand ${name} has shape ${fmtShape(x.shape)} but the output shape is ${fmtShape(shape)}`, [x.shape, shape]);
  }
  return gather(op, x, dtype);
}

/** Validates a shape handed to a primitive (non-negative integer sizes). */
export function checkOutShape(op: string, shape: Shape): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ShapeError(op, `invalid output shape ${fmtShape(shape)}`, [shape]);
  }
}
