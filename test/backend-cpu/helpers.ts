// Builders of views and readers shared by the CPU backend tests.

import type { Storage, View } from '../../src/backend/types.ts';
import type { DType } from '../../src/dtype.ts';
import { contiguousStrides } from '../../src/shape.ts';
import { cpuBackend } from '../../src/backend/cpu/index.ts';

/** A view over `storage`; contiguous strides unless given. */
export function view(storage: Storage, shape: number[], strides: number[] = contiguousStrides(shape), offset = 0): View {
  return { storage, shape, strides, offset };
}

/** Uploads `data` and views it as `shape` (flat when omitted). */
export function tensor(data: number[], shape: number[] = [data.length], dtype: DType = 'float32'): View {
  return view(cpuBackend.upload(data, dtype), shape);
}

/** The whole storage as a plain array (via a flat contiguous view). */
export async function values(s: Storage, shape: number[] = [s.numel]): Promise<number[]> {
  return Array.from(await cpuBackend.read(view(s, shape)));
}
