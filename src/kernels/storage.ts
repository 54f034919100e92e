// GPU storage: a pooled buffer behind a refcount. Views (tensors) share one storage;
// the buffer goes back to the pool when the last reference is released.

import type { DType } from '../dtype.ts';
import type { Backend, Storage } from '../backend/types.ts';
import type { GpuRuntime } from '../device/runtime.ts';
import { BufferWindow, type PooledBuffer } from '../device/buffer-pool.ts';

export class GpuStorage implements Storage {
  version = 0;
  private _refs = 1;
  constructor(
    readonly backend: Backend,
    readonly runtime: GpuRuntime,
    readonly buffer: PooledBuffer,
    readonly dtype: DType,
    readonly numel: number,
  ) {}

  get refs(): number {
    return this._refs;
  }
  get disposed(): boolean {
    return this._refs <= 0;
  }
  retain(): void {
    this._refs++;
  }
  release(): void {
    if (this._refs <= 0) return;
    if (--this._refs === 0) this.runtime.pool.release(this.buffer);
  }
}

/**
 * A storage over a window of another storage's buffer (src/kernels/split.ts binds a piece of
 * a tensor larger than one binding this way). It owns nothing: release() frees no memory, and
 * it lives only while the op that made it records its dispatches.
 */
export class WindowStorage extends GpuStorage {
  constructor(of: GpuStorage, byteOffset: number, bytes: number) {
    super(of.backend, of.runtime, new BufferWindow(of.buffer, byteOffset, bytes), of.dtype, bytes / 4);
  }
  override release(): void {}
}
