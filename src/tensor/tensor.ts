// The Tensor: a strided view (shape, strides, offset) on a backend storage, plus autograd
// state (requiresGrad, grad, gradFn). Public op methods live here and delegate to the op
// declarations in src/autograd/ops; readback (toArray, item, print) is the only async part.

import type { DType } from '../dtype.ts';
import type { BackendName, Storage, View } from '../backend/types.ts';
import { AutogradError, DisposedError, ValueError, fmtShape } from '../errors.ts';
import { contiguousStrides, hasInternalOverlap, isContiguous, numel, type Shape } from '../shape.ts';
import { AccumulateGrad, type Node } from '../autograd/graph.ts';
import { runBackward, type BackwardOptions } from '../autograd/backward.ts';
import { isGradEnabled, noGrad } from '../autograd/grad-mode.ts';
import * as E from '../autograd/ops/elementwise.ts';
import * as R from '../autograd/ops/reduce.ts';
import * as V from '../autograd/ops/views.ts';
import * as M from '../autograd/ops/matmul.ts';
import * as I from '../autograd/ops/inplace.ts';
import * as IX from '../autograd/ops/indexing.ts';
import * as CAT from '../autograd/ops/cat.ts';
import * as POOL from '../autograd/ops/pool.ts';
import * as DROP from '../autograd/ops/dropout.ts';
import * as ACT from '../autograd/ops/activation.ts';
import * as SM from '../autograd/ops/softmax.ts';
import { getBackend } from './backends.ts';
import { formatTensor, type FormatOptions } from './format.ts';
import { registerTensorCheck, track, untrack } from './scope.ts';

/** A JS number or a tensor: what binary ops accept on the right. */
export type TensorOrScalar = Tensor | number;
/** Nested arrays as returned by `toArray()`. */
export type NestedArray = number | boolean | NestedArray[];
/** One dim or several; undefined reduces over all. */
export type Dims = number | readonly number[];

/** Tensors constructed and not yet disposed (or collected). */
let liveTensors = 0;
/** @internal Read by memory(). */
export function liveTensorCount(): number {
  return liveTensors;
}

const leakWarnings = typeof process !== 'undefined' && process.env?.WEBGRAD_WARN_LEAKS === '1';
/** Safety net only: frees storages of tensors garbage-collected without dispose(). */
const finalizer = new FinalizationRegistry<{ storage: Storage; node: Node | null; shape: readonly number[] }>((held) => {
  if (leakWarnings) console.warn(`webgrad: a tensor of shape ${fmtShape(held.shape)} was garbage-collected without dispose()`);
  liveTensors--;
  held.storage.release();
  held.node?.unref();
});

/**
 * An n-dimensional array on a device ('webgpu' or the float64 'cpu' reference) with
 * reverse-mode autograd state. Ops return new tensors at once (the GPU work is queued);
 * reading values back (`data`, `toArray`, `item`, `print`) is the only async part. Free it with
 * `dispose()`, `using`, or `scope()`.
 * @example
 * const a = tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * a.mul(a).sum().backward();
 * await a.grad!.print(); // tensor([[2., 4.], [6., 8.]])
 */
export class Tensor {
  private _storage: Storage | null;
  private _gradFn: Node | null = null;
  private _acc: AccumulateGrad | null = null;
  /** For an alias of a leaf made with keepGraph: the leaf's accumulator, where its gradient goes. */
  private _edge: Node | null = null;
  private _requiresGrad = false;
  /** Accumulated gradient of a leaf after backward(). */
  grad: Tensor | null = null;
  /** Size of each dim, e.g. `[64, 784]`; `[]` for a 0-d (scalar) tensor. */
  readonly shape: readonly number[];
  /** Storage elements to step over per index along each dim (views share a storage through strides). */
  readonly strides: readonly number[];
  /** Storage index of the first element. */
  readonly offset: number;
  private readonly token = {};

  /**
   * Wraps a storage; takes over one reference to it. Prefer the creation functions
   * (`tensor`, `zeros`, …); this is for ops and backends.
   */
  constructor(storage: Storage, shape: Shape, strides: Shape = contiguousStrides(shape), offset = 0, opts: { track?: boolean } = {}) {
    this._storage = storage;
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze([...strides]);
    this.offset = offset;
    finalizer.register(this, { storage, node: null, shape: this.shape }, this.token);
    liveTensors++;
    if (opts.track !== false) track(this);
  }

  // ---- identity -------------------------------------------------------------------------

  /** Element type: 'float32', 'int32' or 'bool'. */
  get dtype(): DType {
    return this.storage.dtype;
  }
  /** Where the data lives: 'webgpu', or 'cpu' (the float64 reference). */
  get device(): BackendName {
    return this.storage.backend.name;
  }
  /** Number of dims (PyTorch's `x.ndim`). */
  get ndim(): number {
    return this.shape.length;
  }
  /** Number of dims (PyTorch's `x.dim()`). */
  dim(): number {
    return this.shape.length;
  }
  /** Number of elements: the product of the shape (1 for a 0-d tensor). */
  get numel(): number {
    return numel(this.shape);
  }
  /** Size of one dim, or the whole shape. */
  size(): readonly number[];
  size(dim: number): number;
  size(dim?: number): number | readonly number[] {
    return dim === undefined ? this.shape : this.shape[V.normDimOf('size', dim, this.ndim)]!;
  }
  /** True once `dispose()` has freed this tensor. */
  get disposed(): boolean {
    return this._storage === null;
  }
  /** The storage; throws DisposedError after dispose(). */
  get storage(): Storage {
    if (!this._storage) throw new DisposedError('tensor', this.shape);
    return this._storage;
  }
  /** The view the backends take. */
  get layout(): View {
    return { storage: this.storage, shape: this.shape, strides: this.strides, offset: this.offset };
  }
  /** In-place modification counter of the underlying storage. */
  get version(): number {
    return this.storage.version;
  }
  /** True when the elements are stored row-major without gaps (a transposed view is not). */
  isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }
  /** Throws a DisposedError naming `op` when this tensor was disposed. */
  assertAlive(op: string): void {
    if (!this._storage) throw new DisposedError(op, this.shape);
  }

  // ---- autograd state --------------------------------------------------------------------

  /** Whether ops on this tensor are recorded for `backward()` (PyTorch's `requires_grad`). */
  get requiresGrad(): boolean {
    return this._requiresGrad;
  }
  /** Same as `requiresGrad_(v)`: leaves only; float32 only. */
  set requiresGrad(v: boolean) {
    this.requiresGrad_(v);
  }
  /** The graph node that computed this tensor; null for leaves (PyTorch's `grad_fn`). */
  get gradFn(): Node | null {
    return this._gradFn;
  }
  /** True for tensors created by the user (not computed by a recorded op). */
  get isLeaf(): boolean {
    return this._gradFn === null;
  }

  /** Sets requiresGrad on a leaf (PyTorch's `requires_grad_()`); returns this. */
  requiresGrad_(v = true): this {
    if (!this.isLeaf) {
      if (!v) throw new AutogradError('requiresGrad_: you can only change requiresGrad of leaf tensors; use detach() to get a tensor that does not require grad');
      return this;
    }
    if (v && this.dtype !== 'float32') {
      throw new AutogradError(`requiresGrad_: only float32 tensors can require gradients (this one is ${this.dtype}); call .float() first`);
    }
    this._requiresGrad = v;
    return this;
  }

  /** @internal Called by apply(): marks this tensor as the output of a recorded op. */
  setGradFn(node: Node): void {
    this._gradFn = node;
    this._requiresGrad = true;
    node.ref();
    finalizer.unregister(this.token);
    finalizer.register(this, { storage: this.storage, node, shape: this.shape }, this.token);
  }

  /** @internal The node a gradient for this tensor flows into. */
  gradEdge(): Node {
    if (this._gradFn) return this._gradFn;
    if (this._edge) return this._edge;
    return (this._acc ??= new AccumulateGrad(this));
  }

  /** @internal Installs `g` (owned) as this leaf's gradient; it outlives any scope. */
  setGrad(g: Tensor | null): void {
    if (g) untrack(g);
    this.grad = g;
  }

  /**
   * Computes the gradient of this tensor with respect to the graph leaves and adds it to
   * their `.grad`. A scalar needs no `gradient`; otherwise pass one of the same shape.
   */
  backward(gradient?: Tensor, opts: BackwardOptions = {}): void {
    runBackward(this, gradient, opts);
  }

  /** A tensor sharing this storage, cut from the graph. */
  detach(): Tensor {
    this.assertAlive('detach');
    this.storage.retain();
    return new Tensor(this.storage, this.shape, this.strides, this.offset);
  }

  /**
   * @internal Another untracked reference to the same storage and view. With `keepGraph` it
   * stays connected to this tensor's graph (so a backward rule that uses it can itself be
   * differentiated); without, it is cut from the graph.
   */
  alias(keepGraph = false): Tensor {
    this.assertAlive('alias');
    this.storage.retain();
    const t = new Tensor(this.storage, this.shape, this.strides, this.offset, { track: false });
    if (keepGraph && this._requiresGrad) {
      if (this._gradFn) t.setGradFn(this._gradFn);
      else {
        t._edge = this.gradEdge();
        t._requiresGrad = true;
      }
    }
    return t;
  }

  /** @internal True when nothing but this tensor references its storage. */
  isSoleOwner(): boolean {
    return this.storage.refs === 1 && this.isContiguous() && this.offset === 0;
  }

  /** Frees the storage now (and the graph behind it when nothing else needs it). Idempotent. */
  dispose(): void {
    if (!this._storage) return;
    finalizer.unregister(this.token);
    liveTensors--;
    this._storage.release();
    this._storage = null;
    this._gradFn?.unref();
    this._gradFn = null;
    this._acc = null;
    this._edge = null;
    untrack(this);
  }

  /** Lets `using t = …` free the tensor at the end of the block (same as `dispose()`). */
  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---- readback ----------------------------------------------------------------------------
  // Every read takes what it needs from the tensor synchronously, before its first await: a
  // read started before dispose() resolves (the backend keeps the storage until the copy is
  // done), whichever of data/toArray/item/format/toDevice it is. Errors reject, never throw.

  /** The elements in row-major order: Float32Array (WebGPU), Float64Array (CPU) or Int32Array. */
  async data(): Promise<Float32Array | Float64Array | Int32Array> {
    this.assertAlive('data');
    return this.storage.backend.read(this.layout);
  }

  /** The elements as nested arrays (booleans for bool tensors; a number for 0-d). */
  async toArray(): Promise<NestedArray> {
    this.assertAlive('toArray');
    const isBool = this.dtype === 'bool';
    const shape = this.shape;
    const flat = await this.data();
    const build = (dim: number, off: number): NestedArray => {
      if (dim === shape.length) return isBool ? flat[off] !== 0 : flat[off]!;
      const stride = numel(shape.slice(dim + 1));
      return Array.from({ length: shape[dim]! }, (_, i) => build(dim + 1, off + i * stride));
    };
    return build(0, 0);
  }

  /** The value of a one-element tensor. */
  async item(): Promise<number> {
    this.assertAlive('item');
    if (this.numel !== 1) {
      throw new ValueError('item', `a tensor with ${this.numel} elements (shape ${fmtShape(this.shape)}) cannot be converted to a scalar; index it or reduce it first`);
    }
    return (await this.data())[0]!;
  }

  /** PyTorch's repr: `tensor([[1., 2.]], requires_grad=True)`. */
  async format(opts: FormatOptions = {}): Promise<string> {
    this.assertAlive('format');
    const o: FormatOptions = { ...opts };
    if (this.requiresGrad) o.requiresGrad = true;
    if (this._gradFn) o.gradFn = this._gradFn.name;
    const dtype = this.dtype;
    const values = await this.data();
    return formatTensor(values, this.shape, dtype, o);
  }

  /** Prints `format()` to the console. */
  async print(opts: FormatOptions = {}): Promise<void> {
    console.log(await this.format(opts));
  }

  /** Synchronous summary (values need `await format()`). */
  toString(): string {
    if (!this._storage) return `Tensor(disposed, shape=${fmtShape(this.shape)})`;
    return `Tensor(shape=${fmtShape(this.shape)}, dtype=${this.dtype}, device=${this.device}${this.requiresGrad ? ', requiresGrad=true' : ''})`;
  }

  /** A copy on another device (`'cpu'`: the float64 reference; `'webgpu'`). */
  async toDevice(device: BackendName): Promise<Tensor> {
    this.assertAlive('toDevice');
    const dtype = this.dtype;
    const leafWithGrad = this.requiresGrad && this.isLeaf;
    const backend = getBackend(device);
    const data = await this.data();
    const t = new Tensor(backend.upload(data, dtype), this.shape);
    if (leafWithGrad) t.requiresGrad_(true);
    return t;
  }

  // ---- creation helpers on this tensor's device and dtype ----------------------------------

  /** A new tensor of this shape filled with `value` (same device; dtype default this one's). */
  fullLike(value: number, dtype: DType = this.dtype): Tensor {
    const be = this.storage.backend;
    const s = be.alloc(this.numel, dtype);
    const t = new Tensor(s, this.shape);
    be.copy(t.layout, value);
    return t;
  }
  /** Zeros of this shape on this device (dtype default this one's). */
  zerosLike(dtype?: DType): Tensor {
    return this.fullLike(0, dtype);
  }
  /** Ones of this shape on this device (dtype default this one's). */
  onesLike(dtype?: DType): Tensor {
    return this.fullLike(1, dtype);
  }

  // ---- elementwise -----------------------------------------------------------------------

  /** `this + alpha · other`. */
  add(other: TensorOrScalar, alpha = 1): Tensor {
    return withScaled(other, alpha, (o) => E.add(this, o));
  }
  /** `this − alpha · other`. */
  sub(other: TensorOrScalar, alpha = 1): Tensor {
    return withScaled(other, alpha, (o) => E.sub(this, o));
  }
  /** `other - this`. */
  rsub(other: TensorOrScalar): Tensor {
    return E.sub(other, this);
  }
  /**
   * Elementwise `this · other`, broadcast.
   * @example x.mul(2); a.mul(b) // [3, 1] · [4] → [3, 4]
   */
  mul(other: TensorOrScalar): Tensor {
    return E.mul(this, other);
  }
  /** Elementwise `this / other`, broadcast. */
  div(other: TensorOrScalar): Tensor {
    return E.div(this, other);
  }
  /** `other / this`. */
  rdiv(other: TensorOrScalar): Tensor {
    return E.div(other, this);
  }
  /** Elementwise `this ** exponent`, broadcast. @example x.pow(2) */
  pow(exponent: TensorOrScalar): Tensor {
    return E.pow(this, exponent);
  }
  /** Elementwise larger of `this` and `other`, broadcast (torch.maximum). */
  maximum(other: TensorOrScalar): Tensor {
    return E.maximum(this, other);
  }
  /** Elementwise smaller of `this` and `other`, broadcast (torch.minimum). */
  minimum(other: TensorOrScalar): Tensor {
    return E.minimum(this, other);
  }
  /** Elementwise `-x`. */
  neg(): Tensor {
    return E.unary('neg', this);
  }
  /** Elementwise `e^x`. */
  exp(): Tensor {
    return E.unary('exp', this);
  }
  /** Elementwise natural logarithm. */
  log(): Tensor {
    return E.unary('log', this);
  }
  /** Elementwise `√x`. */
  sqrt(): Tensor {
    return E.unary('sqrt', this);
  }
  /** Elementwise `1/√x`. */
  rsqrt(): Tensor {
    return E.unary('rsqrt', this);
  }
  /** Elementwise `1/x`. */
  reciprocal(): Tensor {
    return E.unary('reciprocal', this);
  }
  /** Elementwise `x²`. */
  square(): Tensor {
    return E.unary('square', this);
  }
  /** Elementwise `|x|`. */
  abs(): Tensor {
    return E.unary('abs', this);
  }
  /** Elementwise -1, 0 or 1. */
  sign(): Tensor {
    return E.unary('sign', this);
  }
  /** Elementwise sine. */
  sin(): Tensor {
    return E.unary('sin', this);
  }
  /** Elementwise cosine. */
  cos(): Tensor {
    return E.unary('cos', this);
  }
  /** Elementwise hyperbolic tangent. */
  tanh(): Tensor {
    return E.unary('tanh', this);
  }
  /** Elementwise `1 / (1 + e^-x)`. */
  sigmoid(): Tensor {
    return E.unary('sigmoid', this);
  }
  /** Elementwise `max(x, 0)`; its gradient at 0 is 0, as in PyTorch. */
  relu(): Tensor {
    return E.unary('relu', this);
  }
  /** Elementwise largest integer ≤ x. */
  floor(): Tensor {
    return E.unary('floor', this);
  }
  /** Elementwise smallest integer ≥ x. */
  ceil(): Tensor {
    return E.unary('ceil', this);
  }
  /** Elementwise nearest integer. */
  round(): Tensor {
    return E.unary('round', this);
  }
  /** Elementwise `!x` as a bool tensor (nonzero is true). */
  logicalNot(): Tensor {
    return E.unary('logicalNot', this);
  }
  /** Elementwise `this == other`, broadcast, as a bool tensor. */
  eq(other: TensorOrScalar): Tensor {
    return E.compare('eq', this, other);
  }
  /** Elementwise `this != other`, broadcast, as a bool tensor. */
  ne(other: TensorOrScalar): Tensor {
    return E.compare('ne', this, other);
  }
  /** Elementwise `this < other`, broadcast, as a bool tensor. */
  lt(other: TensorOrScalar): Tensor {
    return E.compare('lt', this, other);
  }
  /** Elementwise `this <= other`, broadcast, as a bool tensor. */
  le(other: TensorOrScalar): Tensor {
    return E.compare('le', this, other);
  }
  /** Elementwise `this > other`, broadcast, as a bool tensor. @example x.gt(0).float() */
  gt(other: TensorOrScalar): Tensor {
    return E.compare('gt', this, other);
  }
  /** Elementwise `this >= other`, broadcast, as a bool tensor. */
  ge(other: TensorOrScalar): Tensor {
    return E.compare('ge', this, other);
  }
  /** Elementwise `this && other`, broadcast, as a bool tensor (nonzero is true). */
  logicalAnd(other: TensorOrScalar): Tensor {
    return E.compare('logicalAnd', this, other);
  }
  /** Elementwise `this || other`, broadcast, as a bool tensor (nonzero is true). */
  logicalOr(other: TensorOrScalar): Tensor {
    return E.compare('logicalOr', this, other);
  }
  /** `this` where `cond` is true, else `other` (PyTorch's `x.where(cond, y)`). */
  where(cond: Tensor, other: TensorOrScalar): Tensor {
    return E.where(cond, this, other);
  }
  /** A copy converted to `dtype` (PyTorch's `x.to(dtype)`; float → int truncates toward zero). */
  to(dtype: DType): Tensor {
    return E.cast(this, dtype);
  }
  /** Same as `to(dtype)` (PyTorch's `x.type(torch.float)`). */
  type(dtype: DType): Tensor {
    return E.cast(this, dtype);
  }
  /** A float32 copy (`to('float32')`). */
  float(): Tensor {
    return E.cast(this, 'float32');
  }
  /** An int32 copy, truncated toward zero (`to('int32')`). */
  int(): Tensor {
    return E.cast(this, 'int32');
  }
  /** A bool copy: nonzero is true (`to('bool')`). */
  bool(): Tensor {
    return E.cast(this, 'bool');
  }
  /** An independent contiguous copy (differentiable). */
  clone(): Tensor {
    return E.clone(this);
  }

  // ---- reductions ------------------------------------------------------------------------

  /**
   * Sum over `dim` (all dims when omitted); `keepdim` keeps reduced dims with size 1.
   * @example x.sum(); x.sum(1, true) // [n, m] → [n, 1]
   */
  sum(dim?: Dims, keepdim = false): Tensor {
    return R.reduce('sum', this, dim, keepdim);
  }
  /** Mean over `dim` (all dims when omitted); `keepdim` keeps reduced dims with size 1. */
  mean(dim?: Dims, keepdim = false): Tensor {
    return R.reduce('mean', this, dim, keepdim);
  }
  /** Largest value over `dim` (all dims by default); ties share the gradient equally (torch.amax). */
  max(dim?: Dims, keepdim = false): Tensor {
    return R.reduce('max', this, dim, keepdim);
  }
  /** Smallest value over `dim` (all dims by default); ties share the gradient equally (torch.amin). */
  min(dim?: Dims, keepdim = false): Tensor {
    return R.reduce('min', this, dim, keepdim);
  }
  /** Index of the largest value along `dim` (of the flattened tensor when omitted); first on ties. */
  argmax(dim?: number, keepdim = false): Tensor {
    return R.argReduce('argmax', this, dim, keepdim);
  }
  /** Index of the smallest value along `dim` (of the flattened tensor when omitted); first on ties. */
  argmin(dim?: number, keepdim = false): Tensor {
    return R.argReduce('argmin', this, dim, keepdim);
  }

  // ---- linear algebra --------------------------------------------------------------------

  /** Matrix product with PyTorch's rules for 1-D operands and broadcast batch dims. */
  matmul(other: Tensor): Tensor {
    return M.matmul(this, other);
  }
  /** 2-D matrix product `[n, k] × [k, m] → [n, m]`, without broadcasting (torch.mm). */
  mm(other: Tensor): Tensor {
    return M.mm(this, other);
  }

  // ---- views -----------------------------------------------------------------------------

  /** The same data seen with another shape (one dim may be -1); copies only when the strides force it. */
  reshape(...shape: (number | readonly number[])[]): Tensor {
    return V.reshape(this, V.shapeArg(shape));
  }
  /** Like reshape, but never copies: throws when the view is impossible (call contiguous() first). */
  view(...shape: (number | readonly number[])[]): Tensor {
    return V.view(this, V.shapeArg(shape));
  }
  /** The dims reordered, as a view. @example x.permute(0, 2, 1) // [a, b, c] → [a, c, b] */
  permute(...dims: (number | readonly number[])[]): Tensor {
    return V.permute(this, V.shapeArg(dims));
  }
  /** `dim0` and `dim1` swapped, as a view. */
  transpose(dim0: number, dim1: number): Tensor {
    return V.transpose(this, dim0, dim1);
  }
  /** Transpose of a ≤ 2-D tensor. */
  t(): Tensor {
    return V.t(this);
  }
  /** All dims reversed (PyTorch's `.T`). */
  get T(): Tensor {
    return V.permute(this, this.shape.map((_, i) => this.ndim - 1 - i));
  }
  /** The last two dims swapped (PyTorch's `.mT`). */
  get mT(): Tensor {
    return V.transpose(this, -2, -1);
  }
  /** A view with a size-1 dim inserted at `dim`. @example x.unsqueeze(1) // [n] → [n, 1] */
  unsqueeze(dim: number): Tensor {
    return V.unsqueeze(this, dim);
  }
  /** A view without size-1 dims (only those among `dim` when given). */
  squeeze(dim?: Dims): Tensor {
    return V.squeeze(this, dim);
  }
  /** Dims `startDim..endDim` merged into one (a view when the strides allow). @example x.flatten(1) // [n, 1, 28, 28] → [n, 784] */
  flatten(startDim = 0, endDim = -1): Tensor {
    return V.flatten(this, startDim, endDim);
  }
  /** A broadcast view with `shape` (-1 keeps a dim); no copy. */
  expand(...shape: (number | readonly number[])[]): Tensor {
    return V.expand(this, V.shapeArg(shape));
  }
  /** A broadcast view with `other`'s shape (`expand(other.shape)`). */
  expandAs(other: Tensor): Tensor {
    return V.expand(this, other.shape);
  }
  /** Elements start..end (exclusive) with `step` along `dim`, as a view (negative indices count from the end). */
  slice(dim: number, start?: number, end?: number, step = 1): Tensor {
    return V.slice(this, dim, start, end, step);
  }
  /** `length` elements from `start` along `dim`, as a view. */
  narrow(dim: number, start: number, length: number): Tensor {
    return V.narrow(this, dim, start, length);
  }
  /** The slice at `index` along `dim`, with that dim removed. */
  select(dim: number, index: number): Tensor {
    return V.select(this, dim, index);
  }
  /** This tensor if contiguous, else a contiguous copy. */
  contiguous(): Tensor {
    return V.contiguous(this);
  }

  // ---- neural-network ops (src/autograd/ops/*): one group per family, inserted above -------
  // ---- indexing, scatter, split (src/autograd/ops/indexing.ts, cat.ts) -----------------------

  /** Values picked along `dim` by the int32 `index` (same number of dims): out[i][j] = x[i][index[i][j]] for dim 1 (torch.gather). */
  gather(dim: number, index: Tensor): Tensor {
    return IX.gather(this, dim, index);
  }
  /** The slices along `dim` at the positions of the 1-D int32 `index` (torch.index_select). */
  indexSelect(dim: number, index: Tensor): Tensor {
    return IX.indexSelect(this, dim, index);
  }
  /**
   * Advanced indexing, PyTorch's `x[i, j]`: one int32 tensor or null (`:`) per leading dim.
   * @example preds.index(arange(n), targets) // preds[arange(n), targets]
   */
  index(...indices: IX.IndexEntry[]): Tensor {
    return IX.index(this, indices);
  }
  /** This tensor with `src` added where `index` points along `dim`; duplicates accumulate (torch.scatter_add). */
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return IX.scatterAdd(this, dim, index, src);
  }
  /** In-place scatterAdd (inside noGrad when this tensor requires grad). */
  scatterAdd_(dim: number, index: Tensor, src: Tensor): this {
    IX.scatterAdd_(this, dim, index, src);
    return this;
  }
  /** `value` where the bool `mask` is true, else this tensor's values (torch.masked_fill). */
  maskedFill(mask: Tensor, value: number): Tensor {
    return IX.maskedFill(this, mask, value);
  }
  /** Views of pieces of `splitSize` (last smaller) or of the given section sizes along `dim`. */
  split(splitSizeOrSections: number | readonly number[], dim = 0): Tensor[] {
    return CAT.split(this, splitSizeOrSections, dim);
  }
  /** At most `chunks` views of ceil(size / chunks) along `dim` (torch.chunk). */
  chunk(chunks: number, dim = 0): Tensor[] {
    return CAT.chunk(this, chunks, dim);
  }

  // ---- pooling, dropout, activations (src/autograd/ops/{pool,dropout,activation}.ts) --------
  /** Max pooling of [N, C, H, W] or [C, H, W] (F.maxPool2d). @example x.maxPool2d(2) // [64, 20, 24, 24] → [64, 20, 12, 12] */
  maxPool2d(kernelSize: POOL.Size2 | POOL.MaxPool2dOptions, opts: Partial<POOL.MaxPool2dOptions> = {}): Tensor {
    return POOL.maxPool2d(this, kernelSize, opts);
  }
  /** Average pooling of [N, C, H, W] or [C, H, W] (F.avgPool2d). @example x.avgPool2d(2) */
  avgPool2d(kernelSize: POOL.Size2 | POOL.AvgPool2dOptions, opts: Partial<POOL.AvgPool2dOptions> = {}): Tensor {
    return POOL.avgPool2d(this, kernelSize, opts);
  }
  /** Average pooling to a fixed [outH, outW] (F.adaptiveAvgPool2d). @example x.adaptiveAvgPool2d(1) */
  adaptiveAvgPool2d(outputSize: number | readonly [number | null, number | null]): Tensor {
    return POOL.adaptiveAvgPool2d(this, outputSize);
  }
  /** Inverted dropout (F.dropout); a view of this tensor when not training. @example h.dropout(0.5, model.training) */
  dropout(p = 0.5, training = true): Tensor {
    return DROP.dropout(this, p, training);
  }
  /** Drops whole channels of [N, C, H, W] or [C, H, W] (F.dropout2d). */
  dropout2d(p = 0.5, training = true): Tensor {
    return DROP.dropout2d(this, p, training);
  }
  /** x > 0 ? x : negativeSlope·x. */
  leakyRelu(negativeSlope = 0.01): Tensor {
    return ACT.leakyRelu(this, negativeSlope);
  }
  /** x > 0 ? x : α(eˣ − 1). */
  elu(alpha = 1): Tensor {
    return ACT.elu(this, alpha);
  }
  /** x·Φ(x) (exact erf), or the tanh approximation with `{ approximate: 'tanh' }`. */
  gelu(opts: ACT.GeluOptions = {}): Tensor {
    return ACT.gelu(this, opts);
  }
  /** log(1 + e^(βx))/β, x above the threshold. */
  softplus(opts: ACT.SoftplusOptions = {}): Tensor {
    return ACT.softplus(this, opts);
  }
  /** log σ(x), stable for large |x|. */
  logSigmoid(): Tensor {
    return ACT.logSigmoid(this);
  }
  /** Elementwise min(max(x, min), max); a missing bound is open (torch.clamp). @example x.clamp(0, 1) */
  clamp(min?: number | null, max?: number | null): Tensor {
    return ACT.clamp(this, min, max);
  }
  /** Same as clamp (torch.clip). */
  clip(min?: number | null, max?: number | null): Tensor {
    return ACT.clamp(this, min, max);
  }
  /** clamp to [minVal, maxVal] with gradient 0 at the bounds. */
  hardtanh(minVal = -1, maxVal = 1): Tensor {
    return ACT.hardtanh(this, minVal, maxVal);
  }
  /** x·σ(x). */
  silu(): Tensor {
    return ACT.silu(this);
  }

  // Softmax family (issue #4).
  /** exp(x) / Σ exp(x) along `dim`, max-subtracted, one fused kernel (PyTorch's `x.softmax(dim)`). */
  softmax(dim: number): Tensor {
    return SM.softmax(this, dim);
  }
  /** log(softmax(x)) along `dim` as (x − max) − log Σ exp(x − max): finite for any finite logits. */
  logSoftmax(dim: number): Tensor {
    return SM.logSoftmax(this, dim);
  }

  // @methods-anchor

  // ---- in place (trailing underscore, as in PyTorch) ---------------------------------------

  /** In place `this += alpha · other`; returns this. On a leaf that requires grad, only inside `noGrad`. */
  add_(other: TensorOrScalar, alpha = 1): this {
    I.binaryInPlace('add_', this, other, alpha);
    return this;
  }
  /** In place `this -= alpha · other`; returns this. @example noGrad(() => w.sub_(w.grad!, lr)) */
  sub_(other: TensorOrScalar, alpha = 1): this {
    I.binaryInPlace('sub_', this, other, alpha);
    return this;
  }
  /** In place `this *= other`; returns this. */
  mul_(other: TensorOrScalar): this {
    I.binaryInPlace('mul_', this, other, 1);
    return this;
  }
  /** In place `this /= other`; returns this. */
  div_(other: TensorOrScalar): this {
    I.binaryInPlace('div_', this, other, 1);
    return this;
  }
  /** Sets every element to `value`; returns this. */
  fill_(value: number): this {
    I.fill_(this, value);
    return this;
  }
  /** Sets every element to 0; returns this (e.g. `w.grad!.zero_()`). */
  zero_(): this {
    return this.fill_(0);
  }
  /** Copies `src` (broadcast to this shape, cast to this dtype) into this tensor. */
  copy_(src: TensorOrScalar): this {
    I.copy_(this, src);
    return this;
  }
}

registerTensorCheck((v: unknown): v is Tensor => v instanceof Tensor);

/** Runs `fn` on `alpha · other`, freeing the scaled temporary afterwards. */
function withScaled(other: TensorOrScalar, alpha: number, fn: (o: TensorOrScalar) => Tensor): Tensor {
  if (alpha === 1) return fn(other);
  if (typeof other === 'number') return fn(other * alpha);
  const scaled = E.mul(other, alpha);
  const out = fn(scaled);
  scaled.dispose();
  return out;
}

/** True when in-place writes to `t` would corrupt autograd (PyTorch's leaf rule). */
export function checkInPlace(op: string, t: Tensor): void {
  t.assertAlive(op);
  if (isGradEnabled() && t.requiresGrad) {
    throw new AutogradError(
      t.isLeaf
        ? `${op}: a leaf tensor that requires grad (shape ${fmtShape(t.shape)}) is being used in an in-place operation; wrap the update in noGrad(() => …)`
        : `${op}: in-place operations on tensors that are part of the autograd graph are not supported (shape ${fmtShape(t.shape)}); use the out-of-place op`,
    );
  }
}

/**
 * Refuses an in-place write into a view whose elements share memory (an `expand`ed tensor):
 * the result would depend on the order the GPU writes in. PyTorch refuses with the same words.
 * `which` names the tensor in the message ('parameter 0 of group 0, ').
 */
export function checkNoInternalOverlap(op: string, t: Tensor, which = ''): void {
  if (hasInternalOverlap(t.shape, t.strides)) {
    throw new ValueError(
      op,
      `unsupported operation: more than one element of the written-to tensor (${which}shape ${fmtShape(t.shape)}, strides ${fmtShape(t.strides)}) refers to a single memory location. ` +
        'Please clone() the tensor before performing the operation.',
    );
  }
}

export { noGrad };
