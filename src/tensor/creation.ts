// Creating tensors: from JS data, constant fills, ranges, identity, and seeded random
// draws. Every function takes { dtype, device, requiresGrad }.

import { assertDType, type DType } from '../dtype.ts';
import type { BackendName } from '../backend/types.ts';
import { ShapeError, ValueError } from '../errors.ts';
import { checkShape, numel } from '../shape.ts';
import { getBackend } from './backends.ts';
import { defaultGenerator, type Generator } from './random.ts';
import { Tensor, type NestedArray } from './tensor.ts';

/** Options every creation function takes. */
export interface CreateOptions {
  /** Element type; float32 unless the data say otherwise (see `tensor`). */
  dtype?: DType;
  /** 'webgpu' or 'cpu'; default `defaultDevice()`. */
  device?: BackendName;
  /** Record ops on the new tensor for backward (float32 only). */
  requiresGrad?: boolean;
}
/** Creation options plus the random generator to draw from. */
export interface RandomOptions extends CreateOptions {
  /** Generator to draw from; default the global one seeded by `manualSeed`. */
  generator?: Generator;
}

type TypedData = Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array;
/** What `tensor()` accepts: a number, a boolean, nested arrays of them, or a typed array. */
export type TensorData = number | boolean | TypedData | readonly TensorData[];

function finish(t: Tensor, opts: CreateOptions): Tensor {
  if (opts.requiresGrad) t.requiresGrad_(true);
  return t;
}

function fromFlat(op: string, flat: ArrayLike<number>, shape: readonly number[], dtype: DType, opts: CreateOptions): Tensor {
  assertDType(op, dtype);
  const be = getBackend(opts.device);
  return finish(new Tensor(be.upload(flat, dtype), shape), opts);
}

/** Shape and flat values of nested arrays; throws on ragged input. */
function flatten(data: TensorData): { shape: number[]; flat: number[]; kind: 'bool' | 'int' | 'float' } {
  const shape: number[] = [];
  let probe: TensorData = data;
  while (Array.isArray(probe) || ArrayBuffer.isView(probe)) {
    const arr = probe as ArrayLike<TensorData>;
    shape.push(arr.length);
    if (arr.length === 0) break;
    probe = arr[0]!;
  }
  const flat: number[] = [];
  let kind: 'bool' | 'int' | 'float' = 'bool';
  const walk = (x: TensorData, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof x === 'boolean') {
        flat.push(x ? 1 : 0);
        return;
      }
      if (typeof x !== 'number') throw new ShapeError('tensor', `expected a number at ${path || 'the top'}, found ${Array.isArray(x) ? 'an array' : typeof x} (ragged nested arrays?)`);
      if (kind === 'bool') kind = 'int';
      if (!Number.isInteger(x)) kind = 'float';
      flat.push(x);
      return;
    }
    const arr = x as ArrayLike<TensorData>;
    if (!(Array.isArray(x) || ArrayBuffer.isView(x)) || arr.length !== shape[depth]) {
      throw new ShapeError('tensor', `ragged nested arrays: expected length ${shape[depth]} at ${path || 'the top'}, got ${Array.isArray(x) || ArrayBuffer.isView(x) ? arr.length : typeof x}`);
    }
    for (let i = 0; i < arr.length; i++) walk(arr[i]!, depth + 1, `${path}[${i}]`);
  };
  walk(data, 0, '');
  if (flat.length === 0) kind = 'float';
  return { shape, flat, kind };
}

/**
 * A tensor from JS data. JS numbers are doubles whatever they look like, so numbers become
 * float32 (as in TensorFlow.js; PyTorch would guess int64 from `1` but float from `1.0`, a
 * distinction JS cannot see); booleans become bool; an Int32Array stays int32. Pass
 * `{ dtype: 'int32' }` for integer data such as labels.
 * @example tensor([[1, 2], [3, 4]], { requiresGrad: true })
 */
export function tensor(data: TensorData, opts: CreateOptions & { shape?: readonly number[] } = {}): Tensor {
  if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
    const typed = data as TypedData;
    const dtype = opts.dtype ?? (typed instanceof Int32Array ? 'int32' : 'float32');
    const shape = opts.shape ?? [typed.length];
    if (numel(shape) !== typed.length) throw new ShapeError('tensor', `shape [${shape.join(', ')}] does not hold ${typed.length} elements`);
    return fromFlat('tensor', typed, shape, dtype, opts);
  }
  const { shape, flat, kind } = flatten(data);
  const dtype = opts.dtype ?? (kind === 'bool' ? 'bool' : 'float32');
  const finalShape = opts.shape ?? shape;
  if (numel(finalShape) !== flat.length) throw new ShapeError('tensor', `shape [${finalShape.join(', ')}] does not hold ${flat.length} elements`);
  return fromFlat('tensor', flat, finalShape, dtype, opts);
}

type ShapeArgs = (number | readonly number[])[];
function shapeOf(op: string, args: ShapeArgs): number[] {
  const shape = args.length === 1 && Array.isArray(args[0]) ? [...(args[0] as readonly number[])] : (args as number[]);
  checkShape(op, shape);
  return shape;
}
/** Splits trailing options off variadic shape arguments. */
function split<O>(args: unknown[]): [ShapeArgs, O] {
  const last = args[args.length - 1];
  if (last !== undefined && typeof last === 'object' && !Array.isArray(last)) return [args.slice(0, -1) as ShapeArgs, last as O];
  return [args as ShapeArgs, {} as O];
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: readonly number[], value: number, opts: CreateOptions = {}): Tensor {
  checkShape('full', shape);
  const dtype = opts.dtype ?? (typeof value === 'boolean' ? 'bool' : 'float32');
  assertDType('full', dtype);
  const be = getBackend(opts.device);
  const t = new Tensor(be.alloc(numel(shape), dtype), shape);
  be.copy(t.layout, Number(value));
  return finish(t, opts);
}

/** zeros(2, 3) or zeros([2, 3], { dtype: 'int32' }). */
export function zeros(...args: (number | readonly number[] | CreateOptions)[]): Tensor {
  const [shape, opts] = split<CreateOptions>(args);
  return full(shapeOf('zeros', shape), 0, opts);
}
/** A tensor of ones. @example ones(2, 3); ones([2, 3], { dtype: 'int32' }) */
export function ones(...args: (number | readonly number[] | CreateOptions)[]): Tensor {
  const [shape, opts] = split<CreateOptions>(args);
  return full(shapeOf('ones', shape), 1, opts);
}
/** Zeros with `t`'s shape, dtype and device (overridable in `opts`). */
export function zerosLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return full(t.shape, 0, { dtype: t.dtype, device: t.device, ...opts });
}
/** Ones with `t`'s shape, dtype and device (overridable in `opts`). */
export function onesLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, device: t.device, ...opts });
}
/** `value` everywhere, with `t`'s shape, dtype and device (overridable in `opts`). */
export function fullLike(t: Tensor, value: number, opts: CreateOptions = {}): Tensor {
  return full(t.shape, value, { dtype: t.dtype, device: t.device, ...opts });
}

/**
 * Values from `start` to `end` (exclusive) by `step`; `arange(n)` is 0..n-1.
 * int32 when every argument is an integer, else float32 (as torch).
 */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (step === 0) throw new ValueError('arange', 'step must be nonzero');
  const n = Math.max(0, Math.ceil((end - start) / step));
  if (!Number.isFinite(n)) throw new ValueError('arange', `invalid range ${start}..${end} step ${step}`);
  const dtype = opts.dtype ?? ([start, end, step].every(Number.isInteger) ? 'int32' : 'float32');
  const flat = Array.from({ length: n }, (_, i) => start + i * step);
  return fromFlat('arange', flat, [n], dtype, opts);
}

/** `steps` evenly spaced values from `start` to `end` inclusive. */
export function linspace(start: number, end: number, steps: number, opts: CreateOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0) throw new ValueError('linspace', `steps must be a non-negative integer, got ${steps}`);
  const step = steps > 1 ? (end - start) / (steps - 1) : 0;
  // Fill from both ends like torch so the last value is exactly `end`.
  const flat = Array.from({ length: steps }, (_, i) => (i < steps / 2 ? start + step * i : end - step * (steps - 1 - i)));
  return fromFlat('linspace', flat, [steps], opts.dtype ?? 'float32', opts);
}

/** The n×m identity matrix (m defaults to n). */
export function eye(n: number, m: number = n, opts: CreateOptions = {}): Tensor {
  checkShape('eye', [n, m]);
  const flat = new Float64Array(n * m);
  for (let i = 0; i < Math.min(n, m); i++) flat[i * m + i] = 1;
  return fromFlat('eye', flat, [n, m], opts.dtype ?? 'float32', opts);
}

function drawRandom(kind: 'uniform' | 'normal' | 'randint', shape: number[], a: number, b: number, opts: RandomOptions, dtype: DType): Tensor {
  const be = getBackend(opts.device);
  const gen = opts.generator ?? defaultGenerator;
  const n = numel(shape);
  const before = gen.getState();
  let storage;
  try {
    storage = be.random(kind, n, dtype, gen.next(kind, n), a, b);
  } catch (e) {
    gen.setState(before); // a refused draw (too large for the device) consumes no numbers
    throw e;
  }
  return finish(new Tensor(storage, shape), opts);
}

/** Uniform samples in [0, 1). */
export function rand(...args: (number | readonly number[] | RandomOptions)[]): Tensor {
  const [shape, opts] = split<RandomOptions>(args);
  return drawRandom('uniform', shapeOf('rand', shape), 0, 1, opts, opts.dtype ?? 'float32');
}
/** Standard normal samples. */
export function randn(...args: (number | readonly number[] | RandomOptions)[]): Tensor {
  const [shape, opts] = split<RandomOptions>(args);
  return drawRandom('normal', shapeOf('randn', shape), 0, 1, opts, opts.dtype ?? 'float32');
}
/** Integers uniform in [low, high). */
export function randint(low: number, high: number, shape: readonly number[], opts: RandomOptions = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new ValueError('randint', `expects integers low < high, got low=${low}, high=${high}`);
  }
  checkShape('randint', shape);
  return drawRandom('randint', [...shape], low, high, opts, opts.dtype ?? 'int32');
}
/** Uniform draws in [0, 1) with `t`'s shape and device. */
export function randLike(t: Tensor, opts: RandomOptions = {}): Tensor {
  return rand([...t.shape], { device: t.device, ...opts });
}
/** Standard normal draws with `t`'s shape and device. */
export function randnLike(t: Tensor, opts: RandomOptions = {}): Tensor {
  return randn([...t.shape], { device: t.device, ...opts });
}

/** A tensor created from already-flat data with a given shape (no inference). */
export function fromArray(flat: ArrayLike<number>, shape: readonly number[], opts: CreateOptions = {}): Tensor {
  if (numel(shape) !== flat.length) throw new ShapeError('fromArray', `shape [${shape.join(', ')}] does not hold ${flat.length} elements`);
  return fromFlat('fromArray', flat, shape, opts.dtype ?? 'float32', opts);
}

export type { NestedArray };
