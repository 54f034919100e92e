// The contract between the tensor/autograd layers and a compute backend.
// A backend owns storage and runs primitives on strided views; it knows nothing of
// autograd, dtype promotion or broadcasting rules (the tensor layer resolves those
// before calling, so every primitive receives operands already aligned).
// Two backends implement it: WebGPU (src/kernels, float32 WGSL) and the float64
// CPU reference (src/backend/cpu), the oracle of the test suite.

import type { DType } from '../dtype.ts';
import type { Shape } from '../shape.ts';

export type BackendName = 'webgpu' | 'cpu';

/** A flat allocation of `numel` elements of `dtype`, reference-counted by the views over it. */
export interface Storage {
  readonly backend: Backend;
  readonly dtype: DType;
  readonly numel: number;
  /** Bumped by every in-place write; autograd compares it against the value saved at forward. */
  version: number;
  /** Number of live references (tensors, saved-for-backward aliases). */
  readonly refs: number;
  readonly disposed: boolean;
  retain(): void;
  /** Drops one reference; the memory is freed when the last one goes. */
  release(): void;
}

/** A strided window on a storage, in elements. */
export interface View {
  readonly storage: Storage;
  readonly shape: Shape;
  readonly strides: Shape;
  readonly offset: number;
}

/** An operand of an elementwise primitive: a view already broadcast to the output shape, or a scalar. */
export type Operand = View | number;

export type UnaryOp =
  | 'identity' // copy or cast (output dtype chosen by the caller)
  | 'neg' | 'abs' | 'sign'
  | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'reciprocal' | 'square'
  | 'sin' | 'cos' | 'tanh' | 'sigmoid' | 'relu'
  | 'floor' | 'ceil' | 'round'
  | 'logicalNot';

export type BinaryOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum'
  | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge'
  | 'logicalAnd' | 'logicalOr';

/** `mean` is `sum` scaled by 1/n in the same pass. Arg reductions return int32 positions. */
export type ReduceOp = 'sum' | 'mean' | 'max' | 'min' | 'prod' | 'argmax' | 'argmin';

export type RandomKind = 'uniform' | 'normal' | 'randint';

/** Counter-based generator state for one random op (Philox4x32-10 key and starting counter). */
export interface RandomState {
  readonly key: readonly [number, number];
  /** First 128-bit block index (as a JS number < 2^53) this op consumes. */
  readonly counter: number;
}

export interface MemoryStats {
  /** Buffers currently backing live storages. */
  liveBuffers: number;
  /** Bytes of those buffers (what tensors hold). */
  bytesInUse: number;
  /** Bytes allocated from the device, cached free buffers included. */
  bytesAllocated: number;
}

export interface Backend {
  readonly name: BackendName;

  /** A new storage holding `data` converted to `dtype`. */
  upload(data: ArrayLike<number>, dtype: DType): Storage;
  /** A new storage of `numel` elements; contents are unspecified. */
  alloc(numel: number, dtype: DType): Storage;
  /** The elements of `x` in row-major logical order. float32 → Float32Array (GPU) or Float64Array (CPU). */
  read(x: View): Promise<Float32Array | Float64Array | Int32Array>;

  /** out[i] = op(x[i]), computed in x's dtype (floats for transcendental ops), stored as `outDtype`. */
  unary(op: UnaryOp, x: View, outDtype: DType): Storage;
  /**
   * out[i] = op(a[i], b[i]) over `shape`; a and b are views broadcast to `shape` (0-strides)
   * or scalars. Operands share one compute dtype `dtype`; comparisons store bool.
   */
  binary(op: BinaryOp, a: Operand, b: Operand, shape: Shape, dtype: DType, outDtype: DType): Storage;
  /** out[i] = cond[i] != 0 ? a[i] : b[i]; all broadcast to `shape`. */
  where(cond: View, a: Operand, b: Operand, shape: Shape, dtype: DType): Storage;

  /**
   * Reduces the last `reduceRank` dims of `x` (the tensor layer permutes the reduced dims
   * to the end). Output: contiguous, shape x.shape[:-reduceRank]. Arg reductions return the
   * flat position inside the reduced block (first occurrence on ties) as int32.
   * sum/prod of int32 or bool give int32.
   */
  reduce(op: ReduceOp, x: View, reduceRank: number, outDtype: DType): Storage;

  /** Batched float32 matmul: a [B, M, K], b [B, K, N] (any strides, 0 on broadcast batch) → contiguous [B, M, N]. */
  matmul(a: View, b: View): Storage;

  /** dst[i] = src[i] elementwise over the common shape; dst may be any strided view. Bumps nothing (the caller does). */
  copy(dst: View, src: Operand): void;

  /**
   * `numel` random values. uniform: [a, b); normal: mean a, std b; randint: integers in [a, b).
   * Both backends produce the same bits for the same state (Philox4x32-10).
   */
  random(kind: RandomKind, numel: number, dtype: DType, state: RandomState, a: number, b: number): Storage;

  // Neural-network primitives (conv, pooling, softmax, losses, dropout, indexing, cat) are
  // declared below, each family in its own block. Insert new blocks above this line's
  // @primitives-anchor, one block per family, with a comment naming the family.
  // @primitives-anchor

  /** Submits pending work (no-op on the CPU). */
  flush(): void;
  memory(): MemoryStats;
}
