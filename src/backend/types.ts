// The contract between the tensor/autograd layers and a compute backend.
// A backend owns storage and runs primitives on strided views; it knows nothing of
// autograd, dtype promotion or broadcasting rules (the tensor layer resolves those
// before calling, so every primitive receives operands already aligned).
// Two backends implement it: WebGPU (src/kernels, float32 WGSL) and the float64
// CPU reference (src/backend/cpu), the oracle of the test suite.

import type { FusedActivation } from './fused-activation.ts';
import type { DType } from '../dtype.ts';
import type { Shape } from '../shape.ts';

/**
 * Where a tensor lives and which backend runs its ops: 'webgpu' (float32 WGSL kernels on the
 * GPU; needs `await init()`) or 'cpu' (the float64 reference implementation, always
 * available; the test oracle). New tensors go to `defaultDevice()`, 'webgpu' unless changed
 * with `setDefaultDevice` or `init({ defaultDevice })`.
 * @example const t = zeros([2, 3], { device: 'cpu' }); t.device // 'cpu'
 */
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

/** Every elementwise one-input primitive (Backend.unary), for tables and tests that must cover them all. */
export const UNARY_OPS = [
  'identity', // copy or cast (output dtype chosen by the caller)
  'neg', 'abs', 'sign',
  'exp', 'log', 'sqrt', 'rsqrt', 'reciprocal', 'square',
  'sin', 'cos', 'tanh', 'sigmoid', 'relu',
  'floor', 'ceil', 'round',
  'logicalNot',
] as const;
/** Elementwise one-input primitives (Backend.unary); composites such as gelu are built from these by the op layer. */
export type UnaryOp = (typeof UNARY_OPS)[number];

/** Every elementwise two-input primitive (Backend.binary). */
export const BINARY_OPS = [
  'add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum',
  'eq', 'ne', 'lt', 'le', 'gt', 'ge',
  'logicalAnd', 'logicalOr',
] as const;
/** Elementwise two-input primitives (Backend.binary); comparisons and logical ops store bool. */
export type BinaryOp = (typeof BINARY_OPS)[number];

/** Every reduction primitive (Backend.reduce). */
export const REDUCE_OPS = ['sum', 'mean', 'max', 'min', 'prod', 'argmax', 'argmin'] as const;
/** `mean` is `sum` scaled by 1/n in the same pass. Arg reductions return int32 positions. */
export type ReduceOp = (typeof REDUCE_OPS)[number];

/** The distributions Backend.random draws: uniform in [a, b), normal with mean a and std b, or integers in [a, b). */
export type RandomKind = 'uniform' | 'normal' | 'randint';

/** Counter-based generator state for one random op (Philox4x32-10 key and starting counter). */
export interface RandomState {
  readonly key: readonly [number, number];
  /** First 128-bit block index (as a JS number < 2^53) this op consumes. */
  readonly counter: number;
}

/**
 * One backend's memory counters, in `memory().webgpu` and `memory().cpu`. On WebGPU the
 * buffer pool keeps freed buffers for reuse, so `bytesAllocated ≥ bytesInUse`; the CPU
 * reference has no pool (the two are equal) and counts 8 bytes per element (it stores float64).
 */
export interface MemoryStats {
  /** Buffers currently backing live storages. */
  liveBuffers: number;
  /** Bytes of those buffers (what tensors hold). */
  bytesInUse: number;
  /** Bytes allocated from the device, cached free buffers included. */
  bytesAllocated: number;
}

/**
 * The primitives every backend implements over strided views (WebGPU in src/kernels, the
 * float64 reference in src/backend/cpu). Operands arrive validated, broadcast and aligned by
 * the tensor layer; each primitive returns a new Storage the caller owns. Internal: users
 * reach it only through Tensor ops.
 */
export interface Backend {
  /** Which backend this is; also every storage's and tensor's `device`. */
  readonly name: BackendName;
  /**
   * The error that using this backend's tensors raises once its device is gone (WebGPU after a
   * device loss or shutdown()), else null. Two tensors of one device name but different backends
   * are told apart with it.
   */
  lostError?(): Error | null;

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

  /**
   * Batched float32 matmul: a [B, M, K], b [B, K, N] (any strides, 0 on broadcast batch) → contiguous [B, M, N];
   * `bias` [N], when given, is added to every output row (F.linear's bias, fused into the kernel's epilogue),
   * then `activation`, when given, is applied to each output as it is stored.
   */
  matmul(a: View, b: View, bias?: View | null, activation?: FusedActivation | null): Storage;

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
  // Indexing and scatter (gather, indexSelect, index, scatterAdd, oneHot; issue #4). An index
  // op walks a shape; at each step it reads (gather) or adds into (scatter) the element of a
  // base view found from the view's own strides plus, for each index operand, its int32 value
  // times a stride (see IndexOperand in ./indexing.ts). Out-of-range index values are reported
  // through `check`: at once on the CPU; on WebGPU the kernel flags them (writing NaN or 0 / skipping
  // the add) and the error is thrown at the next readback.
  /** out[o] = x[x.offset + Σ_d o_d·x.strides[d] + Σ_k value_k(o)·stride_k]; out contiguous of x.shape, x's dtype. */
  indexGather(x: View, indices: readonly import('./indexing.ts').IndexOperand[], check: import('./indexing.ts').IndexCheck): Storage;
  /** dst[same position] += src[o] for every o of src.shape (= dst.shape); in place, duplicates accumulate. float32/int32. */
  indexScatterAdd(dst: View, src: View, indices: readonly import('./indexing.ts').IndexOperand[], check: import('./indexing.ts').IndexCheck): void;
  /** int32 [...x.shape, numClasses]: 1 where the last coordinate equals x's value; values outside [0, numClasses) are errors. */
  oneHot(x: View, numClasses: number, check: import('./indexing.ts').IndexCheck): Storage;
  /** dst[i] = src[i] for each part (cat/stack's slices), cast to dst's dtype; no dst may share storage with a src. */
  copyInto(parts: readonly { readonly dst: View; readonly src: View }[]): void;

  // Optimizer updates (issue #5; src/kernels/optim.ts, reference src/backend/cpu/optim.ts).
  /**
   * One fused in-place update of a float32 parameter: reads `param`, `grad` and the `state`
   * buffers (contiguous views of param's numel, in optimStateSlots(update) order, none
   * sharing a storage) and writes `param` and `state` in place, in one dispatch on WebGPU.
   * The caller validates and bumps the storage versions.
   */
  optimStep(update: import('./optim-types.ts').OptimUpdate, param: View, grad: View, state: readonly View[]): void;

  // Convolution (conv2d; issue #4; src/kernels/conv.ts, reference src/backend/cpu/conv.ts). NCHW
  // float32 views at any strides; `g` (./conv-geometry.ts) holds every size, already validated.
  // The bias gradient is a sum over [0, 2, 3] at the op level, so it has no primitive.
  /** out[n, co, oh, ow] = bias[co] + Σ_{ci in co's group, kh, kw} w[co, ci, kh, kw]·x[n, ci, ih, iw]; contiguous [N, Cout, Ho, Wo]. */
  conv2d(x: View, w: View, bias: View | null, g: import('./conv-geometry.ts').Conv2dGeometry, activation?: FusedActivation | null): Storage;
  /** Gradient wrt the input (a transposed convolution of gy [N, Cout, Ho, Wo] with w); contiguous [N, Cin, H, W]. */
  conv2dBackwardInput(gy: View, w: View, g: import('./conv-geometry.ts').Conv2dGeometry): Storage;
  /** Gradient wrt the weight: gw[co, ci, kh, kw] = Σ_{n, oh, ow} gy[n, co, oh, ow]·x[n, ci, ih, iw]; contiguous [Cout, Cin/groups, kH, kW]. */
  conv2dBackwardWeight(x: View, gy: View, g: import('./conv-geometry.ts').Conv2dGeometry): Storage;

  // ---- Softmax family and losses: src/kernels/softmax.ts and losses.ts, reference in
  // src/backend/cpu/softmax.ts and losses.ts. Outputs are fresh storages, contiguous in the
  // row-major order of the input's shape whichever dim is reduced.
  /** Softmax (`log` false) or log-softmax (`log` true) of x along `dim`, max-subtracted; shape x.shape. */
  softmax(x: View, dim: number, log: boolean): Storage;
  /**
   * Input gradient of softmax / log-softmax along `dim` from its output y and the output's
   * gradient g (same shape, any strides): softmax y·(g − Σ g·y), log-softmax g − exp(y)·Σ g.
   */
  softmaxBackward(y: View, g: View, dim: number, log: boolean): Storage;
  /**
   * Cross entropy (kind 'ce': x logits) or NLL (kind 'nll': x log-probabilities), classes along
   * opts.classDim. target: int32 class indices shaped like x without classDim (the "rows"), or
   * float32 probabilities shaped like x (opts.probTargets); weight: [C] or null.
   * loss: per row (reduction 'none', contiguous over the rows) or one element (PyTorch's mean
   * divides by the summed weight of the non-ignored targets). stats: float32 [3R + 1] for R rows
   * that classLossBackward reads: row max m, log Σ exp(x − m) (both 0 for nll), the row's
   * smoothing/soft-target weight Σ e_c, then the divisor the reduction used (1 unless mean).
   * A target outside [0, C) other than ignoreIndex is reported through opts.check: thrown at once
   * on the CPU; on WebGPU its row's loss and gradient are NaN and the error is thrown at the next
   * readback.
   */
  classLoss(x: View, target: View, weight: View | null, opts: import('./loss-options.ts').ClassLossOptions): { loss: Storage; stats: Storage };
  /** d loss / d x of classLoss given g, the loss gradient broadcast to the row shape (0-strides for a reduced loss). */
  classLossBackward(x: View, target: View, weight: View | null, stats: View, g: View, opts: import('./loss-options.ts').ClassLossOptions): Storage;
  /**
   * Elementwise loss of input a against target b (same shape; weight and posWeight already
   * broadcast to it): shape a.shape for reduction 'none', else one element (mean or sum).
   * bce's inputs must lie in [0, 1]: one outside (or NaN) is reported through `check` — thrown at
   * once on the CPU; on WebGPU its loss is NaN and the error is thrown at the next readback.
   */
  pointwiseLoss(
    op: import('./loss-options.ts').PointwiseLossOp, a: View, b: View, weight: View | null, posWeight: View | null,
    reduction: import('./loss-options.ts').LossReduction, check: import('./loss-options.ts').InputCheck,
  ): Storage;
  /** d loss / d a (`wrt` 'input') or d loss / d b ('target') of pointwiseLoss, times g (broadcast to a.shape) and `scale`. */
  pointwiseLossBackward(
    op: import('./loss-options.ts').PointwiseLossOp, wrt: 'input' | 'target', a: View, b: View, weight: View | null,
    posWeight: View | null, g: View, scale: number,
  ): Storage;

  // Pooling, dropout and activations (issue #4): src/kernels/{pool,dropout,activation}.ts, float64
  // twins in src/backend/cpu/{pool,dropout,activation}.ts, parameter types in
  // ./pool-activation-types.ts. Pooling views are 4-D [B, C, H, W] with any strides; every
  // output is a fresh contiguous storage.
  /** Max pooling → [values float32 [B, C, outH, outW], indices int32 (h·inW + w; first max on ties, NaN wins)]. */
  maxPool2d(x: View, geom: import('./pool-activation-types.ts').Pool2dGeometry): [Storage, Storage];
  /** dx [B, C, inH, inW]: each input element gets the sum of g over the windows whose index names it. */
  maxPool2dBackward(g: View, indices: View, geom: import('./pool-activation-types.ts').Pool2dGeometry): Storage;
  /** Average pooling (padding counts as zeros; divisor as PyTorch's avg_pool2d) → float32 [B, C, outH, outW]. */
  avgPool2d(x: View, geom: import('./pool-activation-types.ts').Pool2dGeometry, divisor: import('./pool-activation-types.ts').AvgPoolDivisor): Storage;
  avgPool2dBackward(g: View, geom: import('./pool-activation-types.ts').Pool2dGeometry, divisor: import('./pool-activation-types.ts').AvgPoolDivisor): Storage;
  /** Mean over rows ⌊oh·H/outH⌋ .. ⌈(oh+1)·H/outH⌉ − 1 (columns likewise) → float32 [B, C, outH, outW]. */
  adaptiveAvgPool2d(x: View, outH: number, outW: number): Storage;
  adaptiveAvgPool2dBackward(g: View, inH: number, inW: number): Storage;
  /**
   * out[e] = x[e] · (keep ? scale : 0), float32 of x's shape; element e (row-major) uses draw
   * ⌊e/group⌋, kept iff (its Philox word >>> 8) >= threshold (word mapping as `random('uniform')`).
   * Consumes ⌈⌈numel/group⌉/4⌉ blocks from `state`. Identical bits on both backends.
   */
  dropout(x: View, threshold: number, scale: number, group: number, state: RandomState): Storage;
  /** out = f(x) (see ActivationOp for `params`); float32, or int32 for clamp of an int tensor. */
  activation(op: import('./pool-activation-types.ts').ActivationOp, x: View, params: readonly number[]): Storage;
  /** out = g · f'(x), float32; g has x's shape (may be a broadcast view). */
  activationBackward(op: import('./pool-activation-types.ts').ActivationOp, x: View, g: View, params: readonly number[]): Storage;

  // @primitives-anchor

  /** Submits pending work (no-op on the CPU). */
  flush(): void;
  memory(): MemoryStats;
}
