// The Tensor: a strided view (shape, strides, offset) on a backend storage, plus autograd
// state (requiresGrad, grad, gradFn). Public op methods live here and delegate to the op
// declarations in src/autograd/ops; readback (toArray, item, print) is the only async part.

import type { DType } from '../dtype.ts';
import type { BackendName, Storage, View } from '../backend/types.ts';
import { AutogradError, DisposedError, ValueError, fmtShape } from '../errors.ts';
import { contiguousStrides, isContiguous, numel, type Shape } from '../shape.ts';
import { AccumulateGrad, type Node } from '../autograd/graph.ts';
import { runBackward, type BackwardOptions } from '../autograd/backward.ts';
import { isGradEnabled, noGrad } from '../autograd/grad-mode.ts';
import * as E from '../autograd/ops/elementwise.ts';
import * as R from '../autograd/ops/reduce.ts';
import * as V from '../autograd/ops/views.ts';
import * as M from '../autograd/ops/matmul.ts';
import * as I from '../autograd/ops/inplace.ts';
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
const finalizer = new FinalizationRegistry<{ storage: Storage; node: Node | null; shape: string }>((held) => {
  if (leakWarnings) console.warn(`webgrad: a tensor of shape ${held.shape} was garbage-collected without dispose()`);
  liveTensors--;
  held.storage.release();
  held.node?.unref();
});

export class Tensor {
  private _storage: Storage | null;
  private _gradFn: Node | null = null;
  private _acc: AccumulateGrad | null = null;
  private _requiresGrad = false;
  /** Accumulated gradient of a leaf after backward(). */
  grad: Tensor | null = null;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
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
    finalizer.register(this, { storage, node: null, shape: fmtShape(shape) }, this.token);
    liveTensors++;
    if (opts.track !== false) track(this);
  }

  // ---- identity -------------------------------------------------------------------------

  get dtype(): DType {
    return this.storage.dtype;
  }
  get device(): BackendName {
    return this.storage.backend.name;
  }
  get ndim(): number {
    return this.shape.length;
  }
  dim(): number {
    return this.shape.length;
  }
  get numel(): number {
    return numel(this.shape);
  }
  /** Size of one dim, or the whole shape. */
  size(): readonly number[];
  size(dim: number): number;
  size(dim?: number): number | readonly number[] {
    return dim === undefined ? this.shape : this.shape[V.normDimOf('size', dim, this.ndim)]!;
  }
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
  isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }
  assertAlive(op: string): void {
    if (!this._storage) throw new DisposedError(op, this.shape);
  }

  // ---- autograd state --------------------------------------------------------------------

  get requiresGrad(): boolean {
    return this._requiresGrad;
  }
  set requiresGrad(v: boolean) {
    this.requiresGrad_(v);
  }
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
    finalizer.register(this, { storage: this.storage, node, shape: fmtShape(this.shape) }, this.token);
  }

  /** @internal The node a gradient for this tensor flows into. */
  gradEdge(): Node {
    if (this._gradFn) return this._gradFn;
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

  /** @internal Another untracked reference to the same storage and view, without grad. */
  alias(): Tensor {
    this.assertAlive('alias');
    this.storage.retain();
    return new Tensor(this.storage, this.shape, this.strides, this.offset, { track: false });
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
    untrack(this);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---- readback --------------------------------------------------------------------------

  /** The elements in row-major order: Float32Array (WebGPU), Float64Array (CPU) or Int32Array. */
  async data(): Promise<Float32Array | Float64Array | Int32Array> {
    this.assertAlive('data');
    return this.storage.backend.read(this.layout);
  }

  /** The elements as nested arrays (booleans for bool tensors; a number for 0-d). */
  async toArray(): Promise<NestedArray> {
    const flat = await this.data();
    const isBool = this.dtype === 'bool';
    const build = (dim: number, off: number): NestedArray => {
      if (dim === this.ndim) return isBool ? flat[off] !== 0 : flat[off]!;
      const stride = numel(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim]! }, (_, i) => build(dim + 1, off + i * stride));
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
    const values = await this.data();
    const o: FormatOptions = { ...opts };
    if (this.requiresGrad) o.requiresGrad = true;
    if (this._gradFn) o.gradFn = this._gradFn.name;
    return formatTensor(values, this.shape, this.dtype, o);
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
    const data = await this.data();
    const s = getBackend(device).upload(data, this.dtype);
    const t = new Tensor(s, this.shape);
    if (this.requiresGrad && this.isLeaf) t.requiresGrad_(true);
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
  zerosLike(dtype?: DType): Tensor {
    return this.fullLike(0, dtype);
  }
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
  mul(other: TensorOrScalar): Tensor {
    return E.mul(this, other);
  }
  div(other: TensorOrScalar): Tensor {
    return E.div(this, other);
  }
  /** `other / this`. */
  rdiv(other: TensorOrScalar): Tensor {
    return E.div(other, this);
  }
  pow(exponent: TensorOrScalar): Tensor {
    return E.pow(this, exponent);
  }
  maximum(other: TensorOrScalar): Tensor {
    return E.maximum(this, other);
  }
  minimum(other: TensorOrScalar): Tensor {
    return E.minimum(this, other);
  }
  neg(): Tensor {
    return E.unary('neg', this);
  }
  exp(): Tensor {
    return E.unary('exp', this);
  }
  log(): Tensor {
    return E.unary('log', this);
  }
  sqrt(): Tensor {
    return E.unary('sqrt', this);
  }
  rsqrt(): Tensor {
    return E.unary('rsqrt', this);
  }
  reciprocal(): Tensor {
    return E.unary('reciprocal', this);
  }
  square(): Tensor {
    return E.unary('square', this);
  }
  abs(): Tensor {
    return E.unary('abs', this);
  }
  sign(): Tensor {
    return E.unary('sign', this);
  }
  sin(): Tensor {
    return E.unary('sin', this);
  }
  cos(): Tensor {
    return E.unary('cos', this);
  }
  tanh(): Tensor {
    return E.unary('tanh', this);
  }
  sigmoid(): Tensor {
    return E.unary('sigmoid', this);
  }
  relu(): Tensor {
    return E.unary('relu', this);
  }
  floor(): Tensor {
    return E.unary('floor', this);
  }
  ceil(): Tensor {
    return E.unary('ceil', this);
  }
  round(): Tensor {
    return E.unary('round', this);
  }
  logicalNot(): Tensor {
    return E.unary('logicalNot', this);
  }
  eq(other: TensorOrScalar): Tensor {
    return E.compare('eq', this, other);
  }
  ne(other: TensorOrScalar): Tensor {
    return E.compare('ne', this, other);
  }
  lt(other: TensorOrScalar): Tensor {
    return E.compare('lt', this, other);
  }
  le(other: TensorOrScalar): Tensor {
    return E.compare('le', this, other);
  }
  gt(other: TensorOrScalar): Tensor {
    return E.compare('gt', this, other);
  }
  ge(other: TensorOrScalar): Tensor {
    return E.compare('ge', this, other);
  }
  logicalAnd(other: TensorOrScalar): Tensor {
    return E.compare('logicalAnd', this, other);
  }
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
  float(): Tensor {
    return E.cast(this, 'float32');
  }
  int(): Tensor {
    return E.cast(this, 'int32');
  }
  bool(): Tensor {
    return E.cast(this, 'bool');
  }
  /** An independent contiguous copy (differentiable). */
  clone(): Tensor {
    return E.clone(this);
  }

  // ---- reductions ------------------------------------------------------------------------

  sum(dim?: Dims, keepdim = false): Tensor {
    return R.reduce('sum', this, dim, keepdim);
  }
  mean(dim?: Dims, keepdim = false): Tensor {
    return R.reduce('mean', this, dim, keepdim);
  }
  /** Largest value over `dim` (all dims by default); ties share the gradient equally (torch.amax). */
  max(dim?: Dims, keepdim = false): Tensor {
    return R.reduce('max', this, dim, keepdim);
  }
  min(dim?: Dims, keepdim = false): Tensor {
    return R.reduce('min', this, dim, keepdim);
  }
  /** Index of the largest value along `dim` (of the flattened tensor when omitted); first on ties. */
  argmax(dim?: number, keepdim = false): Tensor {
    return R.argReduce('argmax', this, dim, keepdim);
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return R.argReduce('argmin', this, dim, keepdim);
  }

  // ---- linear algebra --------------------------------------------------------------------

  /** Matrix product with PyTorch's rules for 1-D operands and broadcast batch dims. */
  matmul(other: Tensor): Tensor {
    return M.matmul(this, other);
  }
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
  permute(...dims: (number | readonly number[])[]): Tensor {
    return V.permute(this, V.shapeArg(dims));
  }
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
  unsqueeze(dim: number): Tensor {
    return V.unsqueeze(this, dim);
  }
  squeeze(dim?: Dims): Tensor {
    return V.squeeze(this, dim);
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return V.flatten(this, startDim, endDim);
  }
  /** A broadcast view with `shape` (-1 keeps a dim); no copy. */
  expand(...shape: (number | readonly number[])[]): Tensor {
    return V.expand(this, V.shapeArg(shape));
  }
  expandAs(other: Tensor): Tensor {
    return V.expand(this, other.shape);
  }
  /** Elements start..end (exclusive) with `step` along `dim`, as a view (negative indices count from the end). */
  slice(dim: number, start?: number, end?: number, step = 1): Tensor {
    return V.slice(this, dim, start, end, step);
  }
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
  // @methods-anchor

  // ---- in place (trailing underscore, as in PyTorch) ---------------------------------------

  add_(other: TensorOrScalar, alpha = 1): this {
    I.binaryInPlace('add_', this, other, alpha);
    return this;
  }
  sub_(other: TensorOrScalar, alpha = 1): this {
    I.binaryInPlace('sub_', this, other, alpha);
    return this;
  }
  mul_(other: TensorOrScalar): this {
    I.binaryInPlace('mul_', this, other, 1);
    return this;
  }
  div_(other: TensorOrScalar): this {
    I.binaryInPlace('div_', this, other, 1);
    return this;
  }
  fill_(value: number): this {
    I.fill_(this, value);
    return this;
  }
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

export { noGrad };
