// Collation: many samples → one batch. Samples are stacked on the host into one typed array
// per field (numbers, typed arrays and HostTensors) and each field is uploaded once; samples
// that are already GPU tensors are copied into one batch tensor on the device.

import type { BackendName } from '../backend/types.ts';
import { noGrad } from '../autograd/grad-mode.ts';
import { fmtShape, ShapeError, ValueError } from '../errors.ts';
import { zeros } from '../tensor/creation.ts';
import { Tensor } from '../tensor/tensor.ts';
import { allocLike, HostTensor, type HostData, type HostDType } from './host-tensor.ts';

/**
 * The typed arrays a sample may hold as a leaf (BigInt64Array and BigUint64Array are not
 * accepted). Collation treats each as a 1-D host tensor: Uint8Array, Int32Array and
 * Float32Array are kept as they are, Float64Array is narrowed to float32, and the other
 * integer arrays are converted to int32 (Uint32 values above 2³¹ − 1 wrap).
 */
export type AnyTypedArray =
  | Uint8Array | Uint8ClampedArray | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

/**
 * The type a batch of samples of type T collates to: each number, typed array, HostTensor
 * or Tensor leaf becomes one Tensor with a leading batch dim; strings become string arrays;
 * tuples and plain objects keep their structure.
 */
export type Collated<T> = 0 extends 1 & T
  ? any // eslint-disable-line @typescript-eslint/no-explicit-any -- T is any
  : T extends number | boolean | HostTensor | Tensor | AnyTypedArray
    ? Tensor
    : T extends string
      ? string[]
      : T extends readonly unknown[]
        ? { -readonly [K in keyof T]: Collated<T[K]> }
        : T extends object
          ? { [K in keyof T]: Collated<T[K]> }
          : never;

/** Host-side collation: the batch with HostTensor leaves (GPU tensor samples are stacked on the device). */
export type HostBatch = HostTensor | Tensor | string[] | HostBatch[] | { [key: string]: HostBatch };

function isTypedArray(x: unknown): x is AnyTypedArray {
  return ArrayBuffer.isView(x) && !(x instanceof DataView) && !(x instanceof BigInt64Array) && !(x instanceof BigUint64Array);
}
function isPlainObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype;
}
function describe(x: unknown): string {
  if (x === null) return 'null';
  if (x instanceof HostTensor || x instanceof Tensor) return x.toString().split('\n')[0]!;
  if (isTypedArray(x)) return `${x.constructor.name}(${x.length})`;
  if (Array.isArray(x)) return `an array of ${x.length}`;
  if (typeof x === 'object') return `a ${x.constructor?.name ?? 'object'}`;
  return `a ${typeof x}`;
}

/** A typed array as a HostTensor (float types → float32, integer types → int32, uint8 kept). */
function asHost(x: HostTensor | AnyTypedArray): HostTensor {
  if (x instanceof HostTensor) return x;
  if (x instanceof Uint8Array || x instanceof Int32Array || x instanceof Float32Array) return new HostTensor(x);
  if (x instanceof Float64Array) return new HostTensor(Float32Array.from(x));
  return new HostTensor(Int32Array.from(x as ArrayLike<number>));
}

/**
 * Stacks equal-shaped host samples into one [B, ...shape] HostTensor (one allocation, one
 * copy per sample). Mixed dtypes promote to float32 if any is float32, else int32.
 */
export function stackHost(samples: readonly (HostTensor | AnyTypedArray)[], where = 'sample'): HostTensor {
  const hosts = samples.map(asHost);
  const first = hosts[0]!;
  let kind: HostDType = first.dtype;
  for (let k = 1; k < hosts.length; k++) {
    const h = hosts[k]!;
    if (h.numel !== first.numel || h.shape.length !== first.shape.length || h.shape.some((d, i) => d !== first.shape[i])) {
      throw new ShapeError('collate', `samples differ in shape at ${where}: sample ${k} has ${fmtShape(h.shape)}, sample 0 has ${fmtShape(first.shape)} (pass a collate function to batch them yourself)`, [first.shape, h.shape]);
    }
    if (h.dtype !== kind) kind = h.dtype === 'float32' || kind === 'float32' ? 'float32' : 'int32';
  }
  const size = first.numel;
  const out = allocLike(kind, hosts.length * size);
  if (size === 1) for (let k = 0; k < hosts.length; k++) out[k] = hosts[k]!.data[0]!;
  else for (let k = 0; k < hosts.length; k++) out.set(hosts[k]!.data, k * size);
  return new HostTensor(out, [hosts.length, ...first.shape]);
}

/** Rows `indices` of a host array [N, ...] as a new [B, ...] HostTensor. */
export function gatherRowsHost(t: HostTensor, indices: ArrayLike<number>): HostTensor {
  const n = t.shape[0]!;
  const size = n === 0 ? 0 : t.numel / n;
  const out: HostData = allocLike(t.dtype, indices.length * size);
  const src = t.data;
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (size === 1) out[k] = src[i]!;
    else out.set(src.subarray(i * size, (i + 1) * size), k * size);
  }
  return new HostTensor(out, [indices.length, ...t.shape.slice(1)]);
}

/**
 * Rows `indices` of a device tensor [N, ...] copied into one new [B, ...] tensor (one copy
 * per run of consecutive indices, so an unshuffled batch is a single copy).
 */
export function gatherRowsDevice(t: Tensor, indices: ArrayLike<number>): Tensor {
  const out = zeros([indices.length, ...t.shape.slice(1)], { dtype: t.dtype, device: t.device });
  noGrad(() => {
    for (let k = 0; k < indices.length; ) {
      let len = 1;
      while (k + len < indices.length && indices[k + len] === indices[k]! + len) len++;
      const dst = out.narrow(0, k, len);
      const src = t.narrow(0, indices[k]!, len);
      dst.copy_(src);
      dst.dispose();
      src.dispose();
      k += len;
    }
  });
  return out;
}

/** Equal-shaped device tensors stacked into one [B, ...] tensor on their device. */
export function stackDevice(samples: readonly Tensor[], where = 'sample'): Tensor {
  const first = samples[0]!;
  const out = zeros([samples.length, ...first.shape], { dtype: first.dtype, device: first.device });
  noGrad(() => {
    samples.forEach((s, k) => {
      if (s.shape.length !== first.shape.length || s.shape.some((d, i) => d !== first.shape[i])) {
        out.dispose();
        throw new ShapeError('collate', `samples differ in shape at ${where}: sample ${k} has ${fmtShape(s.shape)}, sample 0 has ${fmtShape(first.shape)}`, [first.shape, s.shape]);
      }
      const dst = out.select(0, k);
      dst.copy_(s);
      dst.dispose();
    });
  });
  return out;
}

/**
 * Collates samples on the host, like PyTorch's default_collate: numbers → [B] (int32 when
 * every value is an integer, else float32), typed arrays and HostTensors → [B, ...shape]
 * host arrays, device Tensors → one stacked Tensor, strings → string[], tuples and plain
 * objects field by field. Throws a ShapeError/ValueError naming the field and the sample.
 */
export function collateHost(samples: readonly unknown[], where = 'sample'): HostBatch {
  if (samples.length === 0) throw new ValueError('collate', 'cannot collate an empty batch');
  const first = samples[0];
  const check = (ok: (x: unknown) => boolean, kind: string): void => {
    const k = samples.findIndex((s) => !ok(s));
    if (k >= 0) throw new ValueError('collate', `sample ${k} is ${describe(samples[k])} at ${where} where sample 0 is ${kind}`);
  };
  if (typeof first === 'number' || typeof first === 'boolean') {
    check((s) => typeof s === 'number' || typeof s === 'boolean', 'a number');
    const values = samples as readonly (number | boolean)[];
    const allInt = values.every((v) => typeof v === 'boolean' || Number.isInteger(v));
    const out = allInt ? new Int32Array(values.length) : new Float32Array(values.length);
    for (let k = 0; k < values.length; k++) out[k] = Number(values[k]);
    return new HostTensor(out, [values.length]);
  }
  if (first instanceof HostTensor || isTypedArray(first)) {
    check((s) => s instanceof HostTensor || isTypedArray(s), describe(first));
    return stackHost(samples as readonly (HostTensor | AnyTypedArray)[], where);
  }
  if (first instanceof Tensor) {
    check((s) => s instanceof Tensor, 'a Tensor');
    return stackDevice(samples as readonly Tensor[], where);
  }
  if (typeof first === 'string') {
    check((s) => typeof s === 'string', 'a string');
    return [...(samples as string[])];
  }
  if (Array.isArray(first)) {
    check((s) => Array.isArray(s) && s.length === first.length, `an array of ${first.length}`);
    return first.map((_, j) => collateHost(samples.map((s) => (s as unknown[])[j]), `${where}[${j}]`));
  }
  if (isPlainObject(first)) {
    check(isPlainObject, 'a plain object');
    const out: { [key: string]: HostBatch } = {};
    for (const key of Object.keys(first)) out[key] = collateHost(samples.map((s) => (s as Record<string, unknown>)[key]), `${where}.${key}`);
    return out;
  }
  throw new ValueError('collate', `cannot batch ${describe(first)} at ${where}: return numbers, typed arrays, HostTensors or Tensors from get(), or pass a collate function`);
}

/** Uploads every HostTensor leaf of a host batch (one write each); Tensors pass through. */
export function uploadBatch(batch: HostBatch, device?: BackendName): unknown {
  if (batch instanceof HostTensor) return batch.toTensor(device ? { device } : {});
  if (batch instanceof Tensor) return batch;
  if (Array.isArray(batch)) {
    if (batch.every((b) => typeof b === 'string')) return batch;
    const out: unknown[] = [];
    try {
      for (const b of batch as HostBatch[]) out.push(uploadBatch(b, device));
    } catch (e) {
      disposeBatch(out);
      throw e;
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(batch)) out[k] = uploadBatch(v, device);
  return out;
}

/** PyTorch's default_collate: collateHost, then one upload per field. */
export function defaultCollate<T>(samples: readonly T[], device?: BackendName): Collated<T> {
  return uploadBatch(collateHost(samples), device) as Collated<T>;
}

/** Disposes every Tensor in a batch (a tensor, or arrays/plain objects of them). */
export function disposeBatch(batch: unknown): void {
  if (batch instanceof Tensor) batch.dispose();
  else if (Array.isArray(batch)) for (const b of batch) disposeBatch(b);
  else if (isPlainObject(batch)) for (const b of Object.values(batch)) disposeBatch(b);
}
