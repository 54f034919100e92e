// Device-side error reporting for kernels that validate their data (index values, class
// targets). A kernel cannot throw, so the first bad element claims a 16-byte flag buffer with
// a compare-exchange: word 0 the op id of its dispatch, words 1-3 whatever that kernel records
// (see failWgsl). The runtime copies the flag out at each submit (GpuRuntime.watch); the op's
// entry, registered with `open`, turns the words into the error the next readback throws.

import type { GpuRuntime } from '../device/runtime.ts';
import type { PooledBuffer } from '../device/buffer-pool.ts';

/** One flag buffer per runtime and the entries of the dispatches that may still set it. */
export class ErrorFlag<E> {
  readonly flag: PooledBuffer;
  /** Dispatches registered so far; the kernel sees a nonzero u32 id derived from it. */
  private seq = 0;
  /** By op id, in registration order, so settled entries are pruned from the front. */
  private readonly pending = new Map<number, { seq: number; entry: E }>();

  constructor(
    private readonly rt: GpuRuntime,
    /** The error for a set flag: the entry of the dispatch that set it and the flag's 4 words. */
    private readonly toError: (entry: E, words: Uint32Array) => Error,
  ) {
    // Outside the pool: it lives as long as the runtime and must not show in memory().
    const buffer = rt.device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    this.flag = { buffer, size: 16, lastBatch: 0 };
  }

  /** The nonzero id one dispatch writes into the flag when it finds a bad element. */
  open(entry: E): number {
    const seq = ++this.seq;
    const id = (seq % 0xfffffff0) + 1;
    this.pending.set(id, { seq, entry });
    return id;
  }

  /**
   * Asks the runtime to read the flag after the batch holding dispatch `id` (called after
   * recording it, so a flush inside dispatch() cannot read the flag before the kernel ran).
   */
  watch(id: number): void {
    const upTo = this.pending.get(id)!.seq;
    this.rt.watch(this.flag, (words) => this.report(words, upTo));
  }

  /** The error for the flag's contents, once every dispatch up to `upTo` has run. */
  private report(words: Uint32Array, upTo: number): Error | null {
    let err: Error | null = null;
    // An id missing from `pending` was reported already (the flag stays set until cleared).
    const hit = words[0] !== 0 ? this.pending.get(words[0]!) : undefined;
    if (hit) {
      err = this.toError(hit.entry, words);
      // Queue writes run before any later submit, so this clears the flag for the work still to come.
      this.rt.device.queue.writeBuffer(this.flag.buffer, 0, new Uint32Array(4));
    }
    for (const [id, pending] of this.pending) {
      if (pending.seq > upTo) break;
      this.pending.delete(id);
    }
    return err;
  }
}

/** A per-runtime ErrorFlag getter: each kernel family keeps its own flag and entry type. */
export function errorFlags<E>(toError: (entry: E, words: Uint32Array) => Error): (rt: GpuRuntime) => ErrorFlag<E> {
  const flags = new WeakMap<GpuRuntime, ErrorFlag<E>>();
  return (rt) => {
    let f = flags.get(rt);
    if (!f) flags.set(rt, (f = new ErrorFlag(rt, toError)));
    return f;
  };
}

/**
 * WGSL of `fn fail(<params>)` for a shader binding `flag: array<atomic<u32>, 4>`: the first
 * caller stores `opId` in word 0 and `words` (u32 expressions) from word 1 on; later callers
 * return at once (the loop only retries a spurious failure of the weak compare-exchange).
 */
export function failWgsl(params: string, opId: string, words: readonly string[]): string {
  const stores = words.map((w, k) => `atomicStore(&flag[${k + 1}], ${w});`).join(' ');
  return `fn fail(${params}) {
  loop {
    let claim = atomicCompareExchangeWeak(&flag[0], 0u, ${opId});
    if (claim.exchanged) {
      ${stores}
      return;
    }
    if (claim.old_value != 0u) { return; }
  }
}`;
}
