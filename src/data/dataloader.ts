// DataLoader: batches, seeded shuffling, collation and upload, with the next batch built
// and uploaded while the current one trains. Knows datasets and tensors, not kernels.

import type { BackendName } from '../backend/types.ts';
import { ValueError } from '../errors.ts';
import { defaultGenerator, type Generator } from '../tensor/random.ts';
import { collateHost, disposeBatch, uploadBatch, type Collated } from './collate.ts';
import { ArrayDataset, Dataset, randperm } from './dataset.ts';

/**
 * Options of {@link DataLoader} (torch.utils.data.DataLoader's keywords, camelCased); every
 * one is optional. `T` is the sample type, `B` the batch type (Collated<T> unless `collate`
 * builds something else).
 */
export interface DataLoaderOptions<T, B> {
  /** Samples per batch (default 1). */
  batchSize?: number;
  /** A new random order every epoch (default false: dataset order). */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Source of the shuffling permutations (default: the global generator `manualSeed` seeds). */
  generator?: Generator;
  /** Turns a list of samples into a batch (default: collateHost + one upload per field). */
  collate?: (samples: T[]) => B;
  /** Where batches are uploaded (default: the default device). */
  device?: BackendName;
  /**
   * Dispose each batch when the next one is requested and when the loop ends (default
   * false: the loop body owns each batch and disposes it, as webgrad's ownership rules say).
   */
  autoDispose?: boolean;
  /** Build and upload batch k+1 while batch k is used (default true; async iteration only). */
  prefetch?: boolean;
}

// setImmediate where it exists (Node); a MessageChannel tick in browsers (setTimeout would
// clamp to 4 ms). Either runs after the loop body yields to the event loop, e.g. to await a
// GPU readback, so building the next batch overlaps the GPU's work on the current one.
const nextTick: (fn: () => void) => void =
  typeof (globalThis as { setImmediate?: unknown }).setImmediate === 'function'
    ? (fn) => void (globalThis as unknown as { setImmediate: (f: () => void) => void }).setImmediate(fn)
    : (fn) => {
        const ch = new MessageChannel();
        ch.port1.onmessage = () => {
          ch.port1.close();
          fn();
        };
        ch.port2.postMessage(0);
      };

/**
 * Iterates a dataset in batches, as torch.utils.data.DataLoader. Each batch is collated on
 * the host into one typed array per field and uploaded once; with an image dataset and
 * ToTensor it yields `[images [B, 1, 28, 28] float32, labels [B] int32]`. With `shuffle`,
 * each epoch (each `for await`) draws a fresh permutation from the generator, so every
 * sample is seen exactly once per epoch and a seeded generator replays the same orders.
 * Batches belong to the loop body (dispose them) unless `autoDispose` is set.
 * @example
 * const loader = new DataLoader(train, { batchSize: 64, shuffle: true });
 * for await (const [x, y] of loader) { ...; x.dispose(); y.dispose(); }
 */
export class DataLoader<T, B = Collated<T>> implements AsyncIterable<B>, Iterable<B> {
  /** The dataset read from; a plain array given to the constructor is wrapped in an ArrayDataset. */
  readonly dataset: Dataset<T>;
  /** Samples per batch (default 1); the last batch may be smaller unless `dropLast`. */
  readonly batchSize: number;
  /** Whether each epoch visits the samples in a fresh random order (default false). */
  readonly shuffle: boolean;
  /** Whether a final batch smaller than `batchSize` is skipped (default false). */
  readonly dropLast: boolean;
  /** The generator shuffling draws from; undefined means the global one that `manualSeed` seeds. */
  readonly generator: Generator | undefined;
  /** Whether the loader disposes each batch when the next is requested and when the loop ends (default false). */
  readonly autoDispose: boolean;
  /** Whether `for await` builds and uploads the next batch while the current one is used (default true). */
  readonly prefetch: boolean;
  private readonly collate: ((samples: T[]) => B) | undefined;
  private readonly device: BackendName | undefined;

  /** @throws ValueError unless `batchSize` is a positive integer. */
  constructor(dataset: Dataset<T> | readonly T[], opts: DataLoaderOptions<T, B> = {}) {
    this.dataset = Array.isArray(dataset) ? new ArrayDataset(dataset as readonly T[]) : (dataset as Dataset<T>);
    const { batchSize = 1 } = opts;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError('DataLoader', `batchSize must be a positive integer, got ${batchSize}`);
    this.batchSize = batchSize;
    this.shuffle = opts.shuffle ?? false;
    this.dropLast = opts.dropLast ?? false;
    this.generator = opts.generator;
    this.collate = opts.collate;
    this.device = opts.device;
    this.autoDispose = opts.autoDispose ?? false;
    this.prefetch = opts.prefetch ?? true;
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The sample order of one epoch: a fresh permutation when shuffling, else 0..n-1. */
  private epochOrder(): Int32Array {
    const n = this.dataset.length;
    if (this.shuffle) return randperm(n, this.generator ?? defaultGenerator);
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    return order;
  }

  /** Collates and uploads the samples at `indices`. */
  private build(indices: Int32Array): B {
    if (!this.collate && this.dataset.getBatch) {
      const host = this.dataset.getBatch(indices);
      if (host !== undefined) return uploadBatch(host, this.device) as B;
    }
    const samples = Array.from(indices, (i) => this.dataset.get(i));
    if (this.collate) return this.collate(samples);
    return uploadBatch(collateHost(samples), this.device) as B;
  }

  private *batches(): IterableIterator<Int32Array> {
    const order = this.epochOrder();
    const nb = this.length;
    for (let k = 0; k < nb; k++) yield order.subarray(k * this.batchSize, Math.min((k + 1) * this.batchSize, order.length));
  }

  /** One epoch, batch after batch, each built when asked for (no prefetch). */
  *[Symbol.iterator](): Iterator<B> {
    let current: B | undefined;
    try {
      for (const idx of this.batches()) {
        if (this.autoDispose && current !== undefined) disposeBatch(current);
        current = undefined;
        current = this.build(idx);
        yield current;
      }
    } finally {
      if (this.autoDispose && current !== undefined) disposeBatch(current);
    }
  }

  /**
   * One epoch; before batch k is handed out, batch k+1 is scheduled to be built and uploaded
   * on the next event-loop turn, i.e. while the loop body trains on batch k. Leaving the loop
   * early disposes the prefetched batch.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<B> {
    const schedule = (idx: Int32Array): Promise<B> => {
      const p = new Promise<B>((resolve, reject) =>
        nextTick(() => {
          try {
            resolve(this.build(idx));
          } catch (e) {
            reject(e);
          }
        }),
      );
      p.catch(() => {}); // rejections are rethrown where the batch is awaited
      return p;
    };
    const it = this.batches();
    let res = it.next();
    let pending: Promise<B> | undefined;
    let lazy: Int32Array | undefined;
    if (!res.done) {
      if (this.prefetch) pending = schedule(res.value);
      else lazy = res.value;
    }
    let current: B | undefined;
    try {
      while (pending || lazy) {
        let batch: B;
        if (pending) {
          const p = pending;
          pending = undefined;
          batch = await p;
        } else {
          const idx = lazy!;
          lazy = undefined;
          batch = this.build(idx);
        }
        if (this.autoDispose && current !== undefined) disposeBatch(current);
        current = batch;
        res = it.next();
        if (!res.done) {
          if (this.prefetch) pending = schedule(res.value);
          else lazy = res.value;
        }
        yield batch;
      }
    } finally {
      if (pending) {
        try {
          disposeBatch(await pending);
        } catch {
          // the prefetch failed after the consumer left; nothing to free
        }
      }
      if (this.autoDispose && current !== undefined) disposeBatch(current);
    }
  }

  toString(): string {
    return `DataLoader(${this.dataset.constructor.name}[${this.dataset.length}], batchSize=${this.batchSize}, shuffle=${this.shuffle}, dropLast=${this.dropLast}, ${this.length} batches)`;
  }
}
