// Helpers the layer files share: allocating a parameter or buffer on a device, and turning
// PyTorch's int-or-tuple arguments into pairs.

import type { BackendName } from '../../backend/types.ts';
import type { DType } from '../../dtype.ts';
import { full } from '../../tensor/creation.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { ValueError } from '../../errors.ts';
import { Parameter } from '../module.ts';

/** Options every layer with tensors takes (PyTorch's factory kwargs). */
export interface FactoryOptions {
  /** Device of the parameters and buffers; default `defaultDevice()`. */
  device?: BackendName;
}

/** A parameter of `shape` filled with `value` (layers then initialise it). */
export function newParameter(shape: readonly number[], value: number, device?: BackendName): Parameter {
  const t = full(shape, value, { device });
  const p = new Parameter(t);
  t.dispose();
  return p;
}

/** A buffer tensor of `shape` filled with `value`. */
export function newBuffer(shape: readonly number[], value: number, device?: BackendName, dtype: DType = 'float32'): Tensor {
  return full(shape, value, { device, dtype });
}

/** `n` or `[h, w]` as a pair, checking positive (or non-negative) integers. */
export function pair(op: string, name: string, v: number | readonly number[], min = 1): [number, number] {
  const p = typeof v === 'number' ? [v, v] : [...v];
  if (p.length !== 2 || p.some((x) => !Number.isInteger(x) || x < min)) {
    throw new ValueError(op, `${name} must be ${min === 0 ? 'a non-negative' : 'a positive'} integer or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p as [number, number];
}
