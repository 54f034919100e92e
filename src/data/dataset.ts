// Map-style datasets (torch.utils.data): the abstract Dataset, TensorDataset, Subset,
// ArrayDataset, and randomSplit/randperm driven by webgrad's seeded Generator.

import { fmtShape, ShapeError, ValueError } from '../errors.ts';
import { defaultGenerator, type Generator } from '../tensor/random.ts';
import { Tensor } from '../tensor/tensor.ts';
import { gatherRowsDevice, gatherRowsHost, type HostBatch } from './collate.ts';
import { HostTensor } from './host-tensor.ts';
import { hostUniforms } from './philox-host.ts';

/**
 * A map-style dataset: `length` samples, `get(i)` returns sample i. Subclasses that keep
 * their data in big arrays may also implement `getBatch(indices)`, returning the whole batch
 * already collated on the host (see collateHost) — the DataLoader then skips the
 * per-sample path — or undefined when they cannot for the current settings.
 */
export abstract class Dataset<T = unknown> {
  /** Number of samples (PyTorch's `__len__`); valid indices are 0 … length − 1. */
  abstract get length(): number;
  /** Sample `index` (PyTorch's `__getitem__`); throws a ValueError when it is out of range. */
  abstract get(index: number): T;
  /**
   * Optional fast path: the samples at `indices`, already collated on the host in their
   * order (as collateHost would build them), or undefined to fall back to `get()` per sample.
   * The DataLoader calls it when present; implement it when the data sits in big arrays.
   */
  getBatch?(indices: Int32Array): HostBatch | undefined;

  /** Iterates the samples in order. */
  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }
}

/** Throws a ValueError unless 0 ≤ i < n. */
export function checkIndex(op: string, i: number, n: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new ValueError(op, `index ${i} is out of range for a dataset of ${n} samples`);
}

/** A plain array of samples as a Dataset (PyTorch accepts `list(zip(x, y))`). */
export class ArrayDataset<T> extends Dataset<T> {
  /** @param samples the samples, kept by reference (not copied); sample i is `samples[i]`. */
  constructor(readonly samples: readonly T[]) {
    super();
  }
  get length(): number {
    return this.samples.length;
  }
  get(index: number): T {
    checkIndex('ArrayDataset.get', index, this.samples.length);
    return this.samples[index]!;
  }
}

/**
 * Rows of equal-length arrays, as torch's TensorDataset: sample i is the tuple of every
 * array's row i. HostTensor rows share memory with the dataset (no copy); Tensor rows are
 * views the caller owns. Batches gather rows directly (one host array or one device copy per
 * run of indices per field), never one sample at a time.
 * @example new TensorDataset(new HostTensor(x, [709, 784]), new HostTensor(y, [709, 1]))
 */
export class TensorDataset<T extends (HostTensor | Tensor)[] = (HostTensor | Tensor)[]> extends Dataset<T> {
  /** The arrays given to the constructor (kept, not copied), all with the same first dim: the sample count. */
  readonly tensors: T;

  /** @throws ValueError with no arrays; ShapeError when an array is 0-d or their first dims differ. */
  constructor(...tensors: T) {
    super();
    if (tensors.length === 0) throw new ValueError('TensorDataset', 'needs at least one array');
    const n = tensors[0]!.shape[0];
    for (const t of tensors) {
      if (t.shape.length === 0 || t.shape[0] !== n) {
        throw new ShapeError('TensorDataset', `arrays must share their first dim: got ${tensors.map((x) => fmtShape(x.shape)).join(', ')}`, tensors.map((x) => x.shape));
      }
    }
    this.tensors = tensors;
  }

  get length(): number {
    return this.tensors[0]!.shape[0]!;
  }

  /** Row `index` of every array: HostTensor rows share memory (no copy), Tensor rows are views the caller owns. */
  get(index: number): T {
    checkIndex('TensorDataset.get', index, this.length);
    return this.tensors.map((t) => (t instanceof HostTensor ? t.row(index) : t.select(0, index))) as T;
  }

  /** The rows at `indices` of every array, gathered in one pass per array: a HostTensor, or one device copy for a Tensor. */
  override getBatch(indices: Int32Array): HostBatch {
    return this.tensors.map((t) => (t instanceof HostTensor ? gatherRowsHost(t, indices) : gatherRowsDevice(t, indices)));
  }
}

/**
 * The samples of `dataset` at `indices`, in that order (torch.utils.data.Subset).
 */
export class Subset<T> extends Dataset<T> {
  /** Indices into `dataset` (a copy of the constructor's), in order: sample i is `dataset.get(indices[i])`. */
  readonly indices: Int32Array;

  /** @throws ValueError when an index is outside the dataset. */
  constructor(
    /** The full dataset this subset reads from (not copied). */
    readonly dataset: Dataset<T>,
    indices: ArrayLike<number>,
  ) {
    super();
    this.indices = Int32Array.from(indices);
    const n = dataset.length;
    for (const i of this.indices) checkIndex('Subset', i, n);
  }

  get length(): number {
    return this.indices.length;
  }

  get(index: number): T {
    checkIndex('Subset.get', index, this.indices.length);
    return this.dataset.get(this.indices[index]!);
  }

  /** The parent's `getBatch` at the mapped indices, or undefined when the parent has none. */
  override getBatch(indices: Int32Array): HostBatch | undefined {
    if (!this.dataset.getBatch) return undefined;
    const mapped = new Int32Array(indices.length);
    for (let k = 0; k < indices.length; k++) mapped[k] = this.indices[indices[k]!]!;
    return this.dataset.getBatch(mapped);
  }
}

/**
 * A random permutation of 0..n-1 (torch.randperm) drawn on the host from `generator`
 * (default: the global one that `manualSeed` seeds). Fisher–Yates, each swap index from two
 * 24-bit uniforms of webgrad's Philox4x32-10 stream (48 random bits, so the bias is below
 * n/2⁴⁸). Same seed, same permutation; it is not torch's (Mersenne Twister) permutation.
 */
export function randperm(n: number, generator: Generator = defaultGenerator): Int32Array {
  if (!Number.isInteger(n) || n < 0 || n > 2 ** 31 - 1) throw new ValueError('randperm', `n must be an integer in [0, 2^31), got ${n}`);
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  if (n < 2) return perm;
  const u = hostUniforms(generator, 2 * (n - 1));
  for (let i = n - 1, k = 0; i > 0; i--, k += 2) {
    const j = Math.floor((u[k]! + u[k + 1]! * 2 ** -24) * (i + 1));
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  return perm;
}

/**
 * Splits a dataset into non-overlapping random subsets, as torch.utils.data.random_split:
 * `lengths` are counts summing to the dataset's length, or fractions summing to 1 (each
 * gets ⌊n·f⌋ and the remainder is dealt one by one from the first subset on). The order
 * comes from `randperm(n, generator)`: reproducible for a given seed, but webgrad's Philox
 * stream, not torch's Mersenne Twister, so the subsets differ from torch's for the same seed.
 * @example const [train, val] = randomSplit(mnist, [55000, 5000], new Generator(42));
 */
export function randomSplit<T>(dataset: Dataset<T>, lengths: readonly number[], generator: Generator = defaultGenerator): Subset<T>[] {
  const n = dataset.length;
  let counts = [...lengths];
  const total = counts.reduce((a, b) => a + b, 0);
  if (counts.length === 0) throw new ValueError('randomSplit', 'lengths is empty');
  if (Math.abs(total - 1) <= 1e-9 && total <= 1) {
    counts = counts.map((f) => {
      if (!(f >= 0 && f <= 1)) throw new ValueError('randomSplit', `fraction ${f} is not between 0 and 1`);
      return Math.floor(n * f);
    });
    const remainder = n - counts.reduce((a, b) => a + b, 0);
    for (let i = 0; i < remainder; i++) counts[i % counts.length]! += 1;
  }
  if (counts.some((c) => !Number.isInteger(c) || c < 0)) {
    throw new ValueError('randomSplit', `lengths must be non-negative integers or fractions summing to 1, got [${lengths.join(', ')}]`);
  }
  const sum = counts.reduce((a, b) => a + b, 0);
  if (sum !== n) throw new ValueError('randomSplit', `lengths [${lengths.join(', ')}] sum to ${sum}, but the dataset has ${n} samples`);
  const perm = randperm(n, generator);
  const out: Subset<T>[] = [];
  let offset = 0;
  for (const c of counts) {
    out.push(new Subset(dataset, perm.subarray(offset, offset + c)));
    offset += c;
  }
  return out;
}
