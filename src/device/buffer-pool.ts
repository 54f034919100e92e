// Reuses GPU buffers by size class so a training loop allocates nothing in steady state.
// Knows nothing of tensors: it hands out buffers and takes them back.
//
// Reuse is safe without waiting for the GPU: WebGPU executes the dispatches of a queue in
// order, so a buffer freed after dispatch A read it and handed to dispatch B is only written
// after A. The one hazard is queue.writeBuffer, which jumps ahead of commands still being
// recorded; the runtime flushes before uploading into a buffer the open batch uses.

import { DeviceLimitError } from '../errors.ts';
import { fmtBytes } from './limits.ts';

/** A pooled buffer; `lastBatch` is the id of the last command batch that used it. */
export interface PooledBuffer {
  readonly buffer: GPUBuffer;
  /** Capacity in bytes (its size class); for a window, the bytes it binds. */
  readonly size: number;
  /** Set on a window (BufferWindow): where its range starts in `buffer`, in bytes. */
  readonly offset?: number;
  lastBatch: number;
}

/**
 * A range of a pooled buffer that kernels bind on their own, so a tensor larger than one
 * storage binding can be processed piece by piece (src/kernels/split.ts). The offset must be a
 * multiple of minStorageBufferOffsetAlignment; batches are recorded on the whole buffer, so the
 * runtime's write hazard check still sees them.
 */
export class BufferWindow implements PooledBuffer {
  readonly root: PooledBuffer;
  readonly offset: number;
  constructor(parent: PooledBuffer, offset: number, readonly size: number) {
    // A window of a window is a window of the root buffer.
    this.root = parent instanceof BufferWindow ? parent.root : parent;
    this.offset = (parent.offset ?? 0) + offset;
  }
  get buffer(): GPUBuffer {
    return this.root.buffer;
  }
  get lastBatch(): number {
    return this.root.lastBatch;
  }
  set lastBatch(v: number) {
    this.root.lastBatch = v;
  }
}

/**
 * Size class of a request: powers of two up to 4 KiB, then steps of 1/8 of the next power of
 * two, so no buffer wastes more than 12.5 % while classes stay few enough to reuse well.
 */
export function sizeClass(bytes: number): number {
  const b = Math.max(64, Math.ceil(bytes / 4) * 4);
  const p = 2 ** Math.ceil(Math.log2(b));
  if (p <= 4096) return p;
  const step = p / 8;
  return Math.ceil(b / step) * step;
}

export class BufferPool {
  private readonly free = new Map<number, PooledBuffer[]>();
  private freeBytes = 0;
  /** Released past the cache limit, destroyed at the next sweep(). */
  private doomed: GPUBuffer[] = [];
  /** Buffers handed out and not yet released. */
  liveBuffers = 0;
  bytesInUse = 0;
  /** Every byte allocated from the device and not destroyed (free cache included). */
  bytesAllocated = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: GPUBufferUsageFlags,
    /** Free bytes kept for reuse; beyond this, released buffers are destroyed. */
    private readonly maxCachedBytes = 1 << 30,
    /** The device's maxBufferSize: larger requests throw a DeviceLimitError before anything is allocated. */
    private readonly maxBufferSize = Infinity,
    /**
     * The largest storage binding: a request that fits one is never rounded up past it, so a
     * tensor that fits a binding is bound whole.
     */
    private readonly maxBinding = Infinity,
  ) {}

  acquire(bytes: number): PooledBuffer {
    let size = sizeClass(bytes);
    if (size > this.maxBinding && bytes <= this.maxBinding) size = Math.max(64, Math.ceil(bytes / 16) * 16);
    else if (size > this.maxBufferSize) {
      if (bytes > this.maxBufferSize) {
        throw new DeviceLimitError('alloc', 'maxBufferSize', bytes, this.maxBufferSize,
          `a buffer of ${fmtBytes(bytes)} exceeds this device's maxBufferSize of ${fmtBytes(this.maxBufferSize)}; use smaller tensors (split the batch or the data into parts that fit)`);
      }
      // Within the limit (which need not be a multiple of 16, lavapipe's is 2^32 - 1).
      size = Math.min(Math.ceil(bytes / 16) * 16, Math.floor(this.maxBufferSize / 4) * 4);
    }
    const list = this.free.get(size);
    let buf = list?.pop();
    if (buf) this.freeBytes -= size;
    else {
      buf = { buffer: this.device.createBuffer({ size, usage: this.usage }), size, lastBatch: 0 };
      this.bytesAllocated += size;
    }
    this.liveBuffers++;
    this.bytesInUse += size;
    return buf;
  }

  release(buf: PooledBuffer): void {
    this.liveBuffers--;
    this.bytesInUse -= buf.size;
    if (this.freeBytes + buf.size > this.maxCachedBytes) {
      // Not destroyed yet: commands still being recorded may use it, and a destroyed buffer
      // makes Dawn drop the whole batch at submit. The runtime calls sweep() after submitting.
      this.doomed.push(buf.buffer);
      this.bytesAllocated -= buf.size;
      return;
    }
    let list = this.free.get(buf.size);
    if (!list) this.free.set(buf.size, (list = []));
    list.push(buf);
    this.freeBytes += buf.size;
  }

  /**
   * Destroys the buffers released past the cache limit. Call once the commands recorded before
   * their release are submitted: WebGPU keeps a destroyed buffer alive for submitted work.
   */
  sweep(): void {
    for (const b of this.doomed) b.destroy();
    this.doomed = [];
  }

  /** Destroys every cached free buffer (live ones are untouched). */
  trim(): void {
    this.sweep();
    for (const list of this.free.values()) for (const b of list) b.buffer.destroy();
    this.bytesAllocated -= this.freeBytes;
    this.freeBytes = 0;
    this.free.clear();
  }
}
