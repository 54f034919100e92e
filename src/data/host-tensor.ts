// HostTensor: a typed array with a shape, on the host. Datasets, transforms and collation
// work on these so a batch is assembled in one host array and uploaded once; knows nothing
// of GPUs beyond `toTensor()`, which hands the array to the tensor layer.

import type { BackendName } from '../backend/types.ts';
import type { DType } from '../dtype.ts';
import { fmtShape, ShapeError } from '../errors.ts';
import { tensor } from '../tensor/creation.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** The element types a HostTensor holds: raw bytes (pixels, labels), integers, floats. */
export type HostData = Uint8Array | Int32Array | Float32Array;
/** The dtype name of a HostTensor's data: Uint8Array → 'uint8', Int32Array → 'int32', Float32Array → 'float32'. */
export type HostDType = 'uint8' | 'int32' | 'float32';

/**
 * A typed array with a row-major shape, kept on the host (no GPU memory, nothing to
 * dispose). `toTensor()` uploads it; uint8 data becomes int32 there, as webgrad tensors
 * hold float32, int32 or bool.
 * @example new HostTensor(new Uint8Array(784), [28, 28])
 */
export class HostTensor {
  /** Row-major shape (frozen); its product equals `data.length`. Defaults to [data.length]. */
  readonly shape: readonly number[];

  /** @throws ShapeError when `shape` has a negative or fractional dim or does not hold `data.length` elements. */
  constructor(
    /** The elements in row-major order; shared, not copied (views such as `row()` share it too). */
    readonly data: HostData,
    shape: readonly number[] = [data.length],
  ) {
    let n = 1;
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new ShapeError('HostTensor', `invalid shape ${fmtShape(shape)}`);
      n *= d;
    }
    if (n !== data.length) throw new ShapeError('HostTensor', `shape ${fmtShape(shape)} does not hold ${data.length} elements`);
    this.shape = Object.freeze([...shape]);
  }

  /** The element type, read from the typed array's kind. */
  get dtype(): HostDType {
    return this.data instanceof Uint8Array ? 'uint8' : this.data instanceof Int32Array ? 'int32' : 'float32';
  }
  /** Number of dims (`shape.length`; 0 for a scalar). */
  get ndim(): number {
    return this.shape.length;
  }
  /** Number of elements (`data.length`, the product of `shape`). */
  get numel(): number {
    return this.data.length;
  }

  /** Row `i` along the first dim, sharing memory with this one (no copy). */
  row(i: number): HostTensor {
    const n = this.shape[0];
    if (n === undefined) throw new ShapeError('HostTensor.row', 'a 0-d HostTensor has no rows');
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new ShapeError('HostTensor.row', `index ${i} is out of range for shape ${fmtShape(this.shape)}`);
    const size = this.data.length / n || 0;
    return new HostTensor(this.data.subarray(i * size, (i + 1) * size), this.shape.slice(1));
  }

  /** The same elements with another shape (no copy). */
  reshape(shape: readonly number[]): HostTensor {
    return new HostTensor(this.data, shape);
  }

  /** A copy that owns its memory. */
  clone(): HostTensor {
    return new HostTensor(this.data.slice(), this.shape);
  }

  /** Uploads to a Tensor (one write). dtype defaults to float32 for float data, int32 otherwise. */
  toTensor(opts: { device?: BackendName; dtype?: DType } = {}): Tensor {
    const dtype = opts.dtype ?? (this.data instanceof Float32Array ? 'float32' : 'int32');
    return tensor(this.data, { shape: this.shape, dtype, ...(opts.device ? { device: opts.device } : {}) });
  }

  /** A one-line summary without the values: `HostTensor(uint8, [28, 28])`. */
  toString(): string {
    return `HostTensor(${this.dtype}, ${fmtShape(this.shape)})`;
  }
}

/** A typed array of the constructor's kind and length `n`. */
export function allocLike(kind: HostDType, n: number): HostData {
  return kind === 'uint8' ? new Uint8Array(n) : kind === 'int32' ? new Int32Array(n) : new Float32Array(n);
}
