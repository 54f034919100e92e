// The WebGPU runtime: one device, a buffer pool, a pipeline cache, and command batching.
// Dispatches are recorded into one compute pass and submitted on readback or every
// `maxBatch` dispatches, never one submit per op. Uniforms of a batch live in one arena
// buffer uploaded once at submit. Knows nothing of tensors' meaning.

import { DeviceError, DeviceLimitError, DeviceLostError } from '../errors.ts';
import { BufferPool, type PooledBuffer } from './buffer-pool.ts';
import { Autotuner, type AutotuneMode } from './autotune.ts';
import { fmtBytes, readLimits, type DeviceLimits, type LimitCaps } from './limits.ts';

/** A compiled compute pipeline and the name used in error messages. */
export interface Kernel {
  readonly name: string;
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
  /** Explicit layout whose uniform binding takes a dynamic offset: bind groups are then cached (see dispatch()). */
  readonly dynamicUniform?: boolean;
  /** Distinguishes kernels in bind-group cache keys. */
  readonly id?: number;
}

/**
 * The bindings of group 0 that the shader uses, as an explicit layout would list them, or null
 * when the source has anything else (other groups, several uniforms, textures): then the
 * pipeline keeps 'auto'. Unused declarations are left out, as 'auto' does.
 */
function reflectBindings(source: string): { binding: number; type: GPUBufferBindingType }[] | null {
  const re = /@group\((\d+)\)\s*@binding\((\d+)\)\s*var\s*(<[^>]*>)?\s*(\w+)/g;
  const out: { binding: number; type: GPUBufferBindingType }[] = [];
  const code = source.replace(/\/\/[^\n]*/g, ''); // a name in a comment is no use
  let uniforms = 0;
  for (let m = re.exec(code); m; m = re.exec(code)) {
    const [, group, binding, space = '', name = ''] = m;
    if (group !== '0') return null;
    const uses = code.match(new RegExp(`\\b${name}\\b`, 'g'))?.length ?? 0;
    if (uses < 2) continue;
    if (/uniform/.test(space)) {
      uniforms++;
      out.push({ binding: Number(binding), type: 'uniform' });
    } else if (/storage/.test(space)) out.push({ binding: Number(binding), type: /read_write/.test(space) ? 'storage' : 'read-only-storage' });
    else return null;
  }
  return out.length && uniforms <= 1 ? out : null;
}

const ARENA_BYTES = 1 << 16;
/** Dispatches in the first submit after the GPU went idle (see batchLimit). */
const FIRST_BATCH = 8;
const UNIFORM_ALIGN = 256;
/** Timestamp slots per batch (two per timed pass); a batch that fills them is submitted. */
const QUERY_SLOTS = 64;

export class GpuRuntime {
  readonly pool: BufferPool;
  private readonly stagingPool: BufferPool;
  private readonly pipelines = new Map<string, Kernel>();
  /**
   * Bind groups by kernel and buffers. Uniforms bind with a dynamic offset into the arena, so a
   * bind group outlives its dispatch, and a loop that meets the same buffers again (the pool
   * hands them back in the same order) skips createBindGroup, about half of a small dispatch's
   * cost on lavapipe (bench/run.ts, dispatch).
   */
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly bufferIds = new WeakMap<GPUBuffer, number>();
  private nextId = 1;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  /** Id of the batch being recorded; buffers remember the last batch that touched them. */
  private batch = 1;
  private dispatches = 0;
  /**
   * Dispatches per submit right now. After a wait (readback, sync) the GPU is idle, so the first
   * batch is small to start it early, and each full batch doubles the limit up to maxBatch: a
   * short chain of ops then runs on the GPU while the rest is still being recorded instead of
   * after it (a chain of 100 small ops read at once: bench/run.ts, dispatch).
   */
  private batchLimit = FIRST_BATCH;
  private batchKernels = new Set<string>();
  private readonly arena: GPUBuffer;
  private readonly arenaData = new Uint8Array(ARENA_BYTES);
  private arenaUsed = 0;
  private pendingChecks: Promise<void>[] = [];
  /** Flag buffers to copy out at the next submit (device-side validation, see watch()). */
  private watches = new Map<PooledBuffer, (words: Uint32Array) => Error | null>();
  private failure: Error | null = null;
  private lostReason: string | null = null;
  private destroyed = false;
  /** The device's limits and features, read once (see src/device/limits.ts); kernels plan from these. */
  readonly limits: DeviceLimits;
  /** limits.maxStorageBufferBindingSize, kept in a field for dispatch()'s per-binding check. */
  private readonly maxBinding: number;
  private readonly maxStorageBuffers: number;
  /** Counters for benchmarks and tests. */
  readonly stats = { dispatches: 0, submits: 0, pipelinesCompiled: 0 };
  /** Per-adapter kernel selection (src/device/autotune.ts); kernel families ask it which variant to run. */
  readonly tuner: Autotuner;
  /** GPU timestamps of timed passes (see timed()); null without the 'timestamp-query' feature. */
  private querySet: GPUQuerySet | null = null;
  private queryResolve: PooledBuffer | null = null;
  private queryUsed = 0;
  private timings: { slot: number; resolve: (ms: number) => void; reject: (e: Error) => void }[] = [];
  private timing = false;
  private readonly maxWorkgroups: number;

  constructor(
    readonly device: GPUDevice,
    readonly adapterInfo: string,
    /** Dispatches per submit: enough to amortise a submit, few enough to keep the GPU fed. */
    readonly maxBatch = 128,
    /** Autotuning mode; WEBGRAD_AUTOTUNE decides when not given. */
    autotune?: AutotuneMode,
    /** Limits to plan with below the device's own (tests of the large-tensor paths). */
    caps: LimitCaps = {},
  ) {
    // Read once: each access of device.limits / device.features crosses into Dawn (µs per dispatch).
    this.limits = readLimits(device, caps);
    this.maxWorkgroups = this.limits.maxComputeWorkgroupsPerDimension;
    this.maxBinding = this.limits.maxStorageBufferBindingSize;
    this.maxStorageBuffers = this.limits.maxStorageBuffersPerShaderStage;
    this.tuner = new Autotuner(this, autotune);
    this.pool = new BufferPool(device, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, undefined, this.limits.maxBufferSize, this.maxBinding);
    this.stagingPool = new BufferPool(device, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 64 << 20, this.limits.maxBufferSize);
    this.arena = device.createBuffer({ size: ARENA_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    device.lost.then(
      (info) => {
        if (!this.destroyed) this.lostReason = `${info.reason}${info.message ? `: ${info.message}` : ''}`;
      },
      () => {},
    );
    device.addEventListener?.('uncapturederror', (ev) => {
      const err = (ev as GPUUncapturedErrorEvent).error;
      this.failure ??= new DeviceError(`webgrad: WebGPU error: ${err.message}`);
    });
  }

  /** True once the device is lost or the runtime destroyed: nothing runs on it any more (init() opens a new one). */
  get lost(): boolean {
    return this.lostReason !== null || this.destroyed;
  }

  /**
   * The error for using this runtime's device after it was lost or shut down: for one of its
   * tensors, or (`forNewTensors`) for creating tensors before init() opened a new device.
   */
  lostError(forNewTensors = false): DeviceLostError {
    const why = this.destroyed ? 'was shut down (shutdown())' : `was lost (${this.lostReason})`;
    return new DeviceLostError(
      forNewTensors
        ? `webgrad: the WebGPU device ${why}. Call \`await init()\` to open a new device before creating tensors; tensors of the old device are gone and must be recreated.`
        : `webgrad: this tensor belongs to a WebGPU device that ${why}; its data is gone. ` +
          'Call `await init()` to open a new device, then recreate the tensor on it (from its source data or a checkpoint).',
    );
  }

  /**
   * Resolves true once the device is known to be lost, or false after `ms` without news. Dawn
   * reports a loss asynchronously, so a failure seen first (a rejected mapAsync) waits on this.
   */
  async waitLost(ms = 50): Promise<boolean> {
    if (this.lost) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const lost = await Promise.race([
      this.device.lost.then(() => true, () => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms))),
    ]);
    clearTimeout(timer);
    return lost || this.lost;
  }

  /** Throws if the device was lost or an earlier batch failed, so no op runs on a broken device. */
  check(): void {
    if (this.lostReason !== null || this.destroyed) throw this.lostError();
    if (this.failure) {
      const f = this.failure;
      this.failure = null;
      throw f;
    }
  }

  /**
   * The pipeline for `source`, compiled once. `name` appears in compile errors. `prepare`, when
   * given, turns the source into the code compiled (the kernels' shared helper library is
   * prepended this way), once, on a cache miss.
   */
  kernel(name: string, source: string, prepare?: (source: string) => string): Kernel {
    const cached = this.pipelines.get(source);
    if (cached) return cached;
    const code = prepare ? prepare(source) : source;
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ label: name, code });
    const bindings = reflectBindings(code);
    const explicit = bindings?.some((b) => b.type === 'uniform')
      ? this.device.createBindGroupLayout({
          label: name,
          entries: bindings.map((b) => ({ binding: b.binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: b.type, hasDynamicOffset: b.type === 'uniform' } })),
        })
      : null;
    const layout = explicit ? this.device.createPipelineLayout({ label: name, bindGroupLayouts: [explicit] }) : 'auto';
    const pipeline = this.device.createComputePipeline({ label: name, layout, compute: { module, entryPoint: 'main' } });
    this.pendingChecks.push(
      this.device.popErrorScope().then(
        (err) => {
          if (err) this.failure ??= new DeviceError(`webgrad: kernel '${name}' failed to compile: ${err.message}\n--- WGSL ---\n${code}`);
        },
        () => {}, // device lost: reported on its own
      ),
    );
    const k: Kernel = { name, pipeline, layout: explicit ?? pipeline.getBindGroupLayout(0), dynamicUniform: !!explicit, id: this.nextId++ };
    this.pipelines.set(source, k);
    this.stats.pipelinesCompiled++;
    return k;
  }

  /**
   * Records one dispatch. `buffers` bind to 0..n-1 in order; `uniforms`, when given,
   * binds to n. `grid` is the number of workgroups in x, y, z.
   */
  dispatch(k: Kernel, buffers: readonly PooledBuffer[], uniforms: ArrayBufferView | null, grid: readonly [number, number?, number?]): void {
    this.check();
    const [x, y = 1, z = 1] = grid;
    if (x === 0 || y === 0 || z === 0) return;
    const max = this.maxWorkgroups;
    if (x > max || y > max || z > max) throw new DeviceError(`webgrad: kernel '${k.name}' asked for ${x}×${y}×${z} workgroups (limit ${max} per dim)`);
    // Validated here, before anything is recorded: Dawn would reject the bind group and with it
    // the whole batch, dropping the other ops queued in it. Plain numbers, no call into Dawn.
    // (Ops split what exceeds a binding before they get here: src/kernels/split.ts.)
    if (buffers.length > this.maxStorageBuffers) {
      throw new DeviceLimitError(k.name, 'maxStorageBuffersPerShaderStage', buffers.length, this.maxStorageBuffers,
        `kernel binds ${buffers.length} storage buffers, over this device's maxStorageBuffersPerShaderStage of ${this.maxStorageBuffers}; nothing was recorded`);
    }
    for (let i = 0; i < buffers.length; i++) {
      const size = buffers[i]!.size;
      if (size > this.maxBinding) {
        throw new DeviceLimitError(k.name, 'maxStorageBufferBindingSize', size, this.maxBinding,
          `kernel would bind ${fmtBytes(size)} at binding ${i}, over this device's maxStorageBufferBindingSize of ${fmtBytes(this.maxBinding)}; ` +
            'nothing was recorded. Process the data in smaller parts (e.g. smaller batches)');
      }
    }
    if (uniforms && this.arenaUsed + uniforms.byteLength > ARENA_BYTES) this.flush();
    let off = 0;
    if (uniforms) {
      off = this.arenaUsed;
      this.arenaData.set(new Uint8Array(uniforms.buffer, uniforms.byteOffset, uniforms.byteLength), off);
      this.arenaUsed += Math.ceil(uniforms.byteLength / UNIFORM_ALIGN) * UNIFORM_ALIGN;
    }
    let bindGroup: GPUBindGroup | undefined;
    let key = '';
    if (k.dynamicUniform && uniforms) {
      key = `${k.id}:${uniforms.byteLength}`;
      for (const b of buffers) {
        let id = this.bufferIds.get(b.buffer);
        if (id === undefined) this.bufferIds.set(b.buffer, (id = this.nextId++));
        key += b.offset === undefined ? `,${id}` : `,${id}@${b.offset}+${b.size}`;
      }
      bindGroup = this.bindGroups.get(key);
    }
    if (!bindGroup) {
      const entries: GPUBindGroupEntry[] = buffers.map((b, i) => ({
        binding: i,
        resource: b.offset === undefined ? { buffer: b.buffer } : { buffer: b.buffer, offset: b.offset, size: b.size },
      }));
      if (uniforms) {
        entries.push({ binding: buffers.length, resource: { buffer: this.arena, offset: k.dynamicUniform ? 0 : off, size: uniforms.byteLength } });
      }
      bindGroup = this.device.createBindGroup({ layout: k.layout, entries });
      if (key) {
        // Bounded: buffers the pool destroyed never come back under the same id, so their groups only age out here.
        if (this.bindGroups.size >= 4096) this.bindGroups.clear();
        this.bindGroups.set(key, bindGroup);
      }
    }
    for (const b of buffers) b.lastBatch = this.batch;
    const pass = this.openPass();
    pass.setPipeline(k.pipeline);
    if (k.dynamicUniform && uniforms) pass.setBindGroup(0, bindGroup, [off]);
    else pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    this.batchKernels.add(k.name);
    this.stats.dispatches++;
    if (++this.dispatches >= this.batchLimit && !this.timing) {
      this.flush();
      this.batchLimit = Math.min(this.maxBatch, this.batchLimit * 2);
    }
  }

  /** True when the device can time passes (the 'timestamp-query' feature). */
  get canTime(): boolean {
    return this.limits.timestamps;
  }

  /**
   * Records `fn`'s dispatches in a compute pass of their own, bracketed by GPU timestamps, and
   * resolves with the pass's GPU time in ms once that batch has run. For the autotuner and
   * benchmarks; throws without 'timestamp-query'.
   */
  timed(fn: () => void): Promise<number> {
    this.check();
    if (!this.canTime) throw new DeviceError("webgrad: timing kernels needs the adapter's 'timestamp-query' feature");
    if (this.queryUsed + 2 > QUERY_SLOTS || this.dispatches + 16 > this.maxBatch || this.arenaUsed > ARENA_BYTES / 2) this.flush();
    this.querySet ??= this.device.createQuerySet({ type: 'timestamp', count: QUERY_SLOTS });
    const slot = this.queryUsed;
    this.queryUsed += 2;
    this.closePass();
    this.pass = this.openEncoder().beginComputePass({
      timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: slot, endOfPassWriteIndex: slot + 1 },
    });
    this.timing = true;
    try {
      fn();
    } finally {
      this.timing = false;
      this.closePass();
    }
    return new Promise((resolve, reject) => this.timings.push({ slot, resolve, reject }));
  }

  /** Uploads bytes into a buffer; flushes first if recorded work still uses it. */
  write(buf: PooledBuffer, data: ArrayBufferView, byteOffset = 0): void {
    this.check();
    if (buf.lastBatch === this.batch && this.encoder) this.flush();
    this.device.queue.writeBuffer(buf.buffer, (buf.offset ?? 0) + byteOffset, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Buffer-to-buffer copy, recorded in order with the dispatches. */
  copy(src: PooledBuffer, srcOffset: number, dst: PooledBuffer, dstOffset: number, bytes: number): void {
    this.check();
    const enc = this.openEncoder();
    this.closePass();
    src.lastBatch = dst.lastBatch = this.batch;
    // Copies have no binding limit: a window's offset is only where its range starts.
    enc.copyBufferToBuffer(src.buffer, (src.offset ?? 0) + srcOffset, dst.buffer, (dst.offset ?? 0) + dstOffset, bytes);
  }

  /** Reads `bytes` from `buf` at `byteOffset` once all recorded work has run. */
  async read(buf: PooledBuffer, byteOffset: number, bytes: number): Promise<ArrayBuffer> {
    this.check();
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const staging = this.stagingPool.acquire(size);
    try {
      this.copy(buf, byteOffset, staging, 0, size);
      this.flush();
      await this.settle();
      try {
        await staging.buffer.mapAsync(GPUMapMode.READ, 0, size);
        this.batchLimit = FIRST_BATCH; // everything submitted before the copy has run: the GPU idles
      } catch (e) {
        // A loss shows up here first (mapAsync rejects, often with no message) and in
        // device.lost a moment later: name it as what it is.
        if (await this.waitLost()) throw this.lostError();
        this.check();
        throw new DeviceError(`webgrad: readback failed: ${(e as Error).message || 'the GPU did not map the staging buffer'}`);
      }
      const out = staging.buffer.getMappedRange(0, size).slice(0, bytes);
      staging.buffer.unmap();
      return out;
    } finally {
      this.stagingPool.release(staging);
    }
  }

  /**
   * Device-side validation for kernels that cannot throw (index bounds): at the next submit the
   * first 16 bytes of `flag` are copied out, and once the GPU has run that batch `report` turns
   * them into an Error (or null) that the next readback, sync or dispatch throws. Nothing waits
   * on it. A later watch of the same flag in the same batch replaces the earlier report.
   */
  watch(flag: PooledBuffer, report: (words: Uint32Array) => Error | null): void {
    this.watches.set(flag, report);
  }

  /** Submits everything recorded so far. */
  flush(): void {
    if (!this.encoder) return;
    this.closePass();
    const timings = this.timings;
    let timeStaging: PooledBuffer | null = null;
    if (timings.length) {
      const bytes = this.queryUsed * 8;
      this.queryResolve ??= { buffer: this.device.createBuffer({ size: QUERY_SLOTS * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }), size: QUERY_SLOTS * 8, lastBatch: 0 };
      this.encoder.resolveQuerySet(this.querySet!, 0, this.queryUsed, this.queryResolve.buffer, 0);
      timeStaging = this.stagingPool.acquire(bytes);
      this.encoder.copyBufferToBuffer(this.queryResolve.buffer, 0, timeStaging.buffer, 0, bytes);
      this.timings = [];
    }
    const watched = [...this.watches].map(([flag, report]) => {
      const staging = this.stagingPool.acquire(16);
      this.encoder!.copyBufferToBuffer(flag.buffer, 0, staging.buffer, 0, 16);
      return { staging, report };
    });
    this.watches.clear();
    if (this.arenaUsed > 0) this.device.queue.writeBuffer(this.arena, 0, this.arenaData.buffer, 0, this.arenaUsed);
    const kernels = [...this.batchKernels].join(', ');
    this.device.pushErrorScope('validation');
    this.device.queue.submit([this.encoder.finish()]);
    this.pool.sweep();
    this.pendingChecks.push(
      this.device.popErrorScope().then(
        (err) => {
          if (err) {
            this.failure ??= new DeviceError(
              `webgrad: a batch of kernels (${kernels}) failed and was dropped by the GPU: ${err.message}\n` +
                'Results computed in that batch (and from them) are invalid; later batches run normally.',
            );
          }
        },
        () => {}, // device lost: reported on its own
      ),
    );
    if (timeStaging) {
      const staging = timeStaging;
      const bytes = this.queryUsed * 8;
      this.pendingChecks.push(
        staging.buffer.mapAsync(GPUMapMode.READ, 0, bytes).then(
          () => {
            const t = new BigUint64Array(staging.buffer.getMappedRange(0, bytes).slice(0));
            staging.buffer.unmap();
            this.stagingPool.release(staging);
            for (const { slot, resolve } of timings) resolve(Math.max(0, Number(t[slot + 1]! - t[slot]!)) / 1e6);
          },
          (e: Error) => {
            for (const { reject } of timings) reject(e);
          },
        ),
      );
    }
    for (const { staging, report } of watched) {
      this.pendingChecks.push(
        staging.buffer.mapAsync(GPUMapMode.READ, 0, 16).then(
          () => {
            const words = new Uint32Array(staging.buffer.getMappedRange(0, 16).slice(0));
            staging.buffer.unmap();
            this.stagingPool.release(staging);
            const err = report(words);
            if (err) this.failure ??= err;
          },
          () => {}, // device lost or destroyed: that is reported on its own
        ),
      );
    }
    this.encoder = null;
    this.queryUsed = 0;
    this.arenaUsed = 0;
    this.dispatches = 0;
    this.batchKernels = new Set();
    this.batch++;
    this.stats.submits++;
  }

  /** Flushes and waits until the GPU has finished all submitted work. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.batchLimit = FIRST_BATCH;
    await this.settle();
  }

  /** Awaits pending error checks and throws the first failure. */
  private async settle(): Promise<void> {
    const checks = this.pendingChecks;
    this.pendingChecks = [];
    await Promise.all(checks);
    this.check();
  }

  memory(): { liveBuffers: number; bytesInUse: number; bytesAllocated: number } {
    const p = this.pool;
    return { liveBuffers: p.liveBuffers, bytesInUse: p.bytesInUse, bytesAllocated: p.bytesAllocated };
  }

  /** Frees cached buffers and the device. The runtime is unusable afterwards. */
  destroy(): void {
    this.flush();
    this.destroyed = true;
    for (const { reject } of this.timings) reject(new DeviceError('webgrad: the runtime was destroyed'));
    this.timings = [];
    this.querySet?.destroy();
    this.queryResolve?.buffer.destroy();
    this.pool.trim();
    this.stagingPool.trim();
    this.device.destroy();
  }

  private openEncoder(): GPUCommandEncoder {
    return (this.encoder ??= this.device.createCommandEncoder());
  }

  private openPass(): GPUComputePassEncoder {
    return (this.pass ??= this.openEncoder().beginComputePass());
  }

  private closePass(): void {
    this.pass?.end();
    this.pass = null;
  }
}
