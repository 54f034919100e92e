// Image classification datasets kept as raw uint8 pixels and labels: MNIST and FashionMNIST
// read from IDX files (gzipped or not, torchvision's <root>/MNIST/raw layout included), and
// the base class they share with EmbeddedMNIST. Files are read through node-io.ts, so this
// module is safe in a browser as long as the data comes in as bytes ({ files }).

import { HostTensor } from './host-tensor.ts';
import { collateHost, type HostBatch } from './collate.ts';
import { checkIndex, Dataset } from './dataset.ts';
import { DataError } from './errors.ts';
import { parseIdx, type IdxArray } from './idx.ts';
import { findFile, gunzipIdxSync, isDirectory, joinPath, readIdxFile } from './node-io.ts';
import { asTransform, type Transform, type TransformLike } from './transforms.ts';

/** Transforms for image samples (a uint8 HostTensor [H, W]) and their integer labels. */
export interface ImageTransforms<X, Y> {
  /** Applied to each image (uint8 [H, W]), e.g. `new ToTensor()`. */
  transform?: TransformLike<HostTensor, X>;
  /** Applied to each label (a number). */
  targetTransform?: TransformLike<number, Y>;
}

/**
 * N grey images of H×W uint8 pixels with integer labels. `get(i)` returns
 * `[transform(image [H, W] uint8), targetTransform(label)]`; with batchable transforms
 * (ToTensor, Normalize, Compose of them) a DataLoader gets whole batches from `getBatch`,
 * transformed in one pass over one array.
 */
export class ImageClassificationDataset<X = HostTensor, Y = number> extends Dataset<[X, Y]> {
  /** Pixels, image after image, row by row: count × height × width bytes. */
  readonly images: Uint8Array;
  /** One label per image. */
  readonly labels: Uint8Array;
  /** Image height H in pixels (28 for MNIST). */
  readonly height: number;
  /** Image width W in pixels (28 for MNIST). */
  readonly width: number;
  /** Class names, indexed by label (torchvision's `.classes`). */
  readonly classes: readonly string[];
  /** The image transform (a plain function is wrapped in Lambda), or undefined: `get` then returns the raw uint8 [H, W] image. */
  readonly transform: Transform<HostTensor, X> | undefined;
  /** The label transform, or undefined: `get` then returns the label as a number. */
  readonly targetTransform: Transform<number, Y> | undefined;

  /** @throws DataError when `images` does not hold exactly `labels.length` images of height × width bytes. */
  constructor(init: {
    images: Uint8Array;
    labels: Uint8Array;
    height: number;
    width: number;
    classes: readonly string[];
  } & ImageTransforms<X, Y>) {
    super();
    this.images = init.images;
    this.labels = init.labels;
    this.height = init.height;
    this.width = init.width;
    this.classes = init.classes;
    this.transform = init.transform === undefined ? undefined : asTransform(init.transform);
    this.targetTransform = init.targetTransform === undefined ? undefined : asTransform(init.targetTransform);
    if (this.images.length !== this.labels.length * this.height * this.width) {
      throw new DataError(this.constructor.name, `${this.images.length} pixel bytes do not make ${this.labels.length} images of ${this.height}×${this.width}`);
    }
  }

  /** Number of images N. */
  get length(): number {
    return this.labels.length;
  }

  /** Every image as one uint8 HostTensor [N, H, W] (torchvision's `.data`; no copy). */
  get data(): HostTensor {
    return new HostTensor(this.images, [this.labels.length, this.height, this.width]);
  }

  /** Every label as an int32 HostTensor [N] (torchvision's `.targets`). */
  get targets(): HostTensor {
    return new HostTensor(Int32Array.from(this.labels), [this.labels.length]);
  }

  /** How many samples carry each label 0..classes.length-1. */
  labelCounts(): number[] {
    const counts = new Array<number>(this.classes.length).fill(0);
    for (const l of this.labels) counts[l]!++;
    return counts;
  }

  /**
   * Sample `index`: `[transform(image), targetTransform(label)]`, the image a fresh uint8
   * HostTensor [H, W] (a copy, so a transform may keep it).
   * @throws ValueError when `index` is out of range.
   */
  get(index: number): [X, Y] {
    checkIndex(`${this.constructor.name}.get`, index, this.length);
    const hw = this.height * this.width;
    const img = new HostTensor(this.images.slice(index * hw, (index + 1) * hw), [this.height, this.width]);
    const label = this.labels[index]!;
    return [
      this.transform ? this.transform.forward(img) : (img as X),
      this.targetTransform ? this.targetTransform.forward(label) : (label as Y),
    ];
  }

  /** The batch `indices` collated on the host, or undefined when a transform only works per sample. */
  override getBatch(indices: Int32Array): HostBatch | undefined {
    if (this.transform && !this.transform.forwardBatch) return undefined;
    const hw = this.height * this.width;
    const B = indices.length;
    const pixels = new Uint8Array(B * hw);
    const labels = new Int32Array(B);
    for (let k = 0; k < B; k++) {
      const i = indices[k]!;
      checkIndex(`${this.constructor.name}.getBatch`, i, this.length);
      pixels.set(this.images.subarray(i * hw, (i + 1) * hw), k * hw);
      labels[k] = this.labels[i]!;
    }
    let x = new HostTensor(pixels, [B, this.height, this.width]);
    if (this.transform) x = this.transform.forwardBatch!(x);
    let y = new HostTensor(labels, [B]);
    const tt = this.targetTransform;
    if (tt) y = tt.forwardBatch ? tt.forwardBatch(y) : (collateHost(Array.from(labels, (l) => tt.forward(l))) as HostTensor);
    return [x, y];
  }

  override toString(): string {
    return `${this.constructor.name}(${this.length} images ${this.height}×${this.width}, ${this.classes.length} classes${this.transform ? `, transform=${this.transform}` : ''})`;
  }
}

/** Where an IDX data set comes from: a folder, or the bytes of its two files. */
export interface IdxDatasetOptions<X, Y> extends ImageTransforms<X, Y> {
  /**
   * Folder holding the four IDX files (`train-images-idx3-ubyte[.gz]`, …), directly or in
   * torchvision's `<root>/<Name>/raw/` or `<root>/raw/`.
   */
  root?: string;
  /** The training files (default) or the test (`t10k-…`) files. */
  train?: boolean;
  /** The images and labels IDX files' bytes, instead of `root` (gzipped is fine in Node). */
  files?: {
    /** Bytes of the images file (`*-images-idx3-ubyte[.gz]`, magic 2051). */
    images: Uint8Array;
    /** Bytes of the labels file (`*-labels-idx1-ubyte[.gz]`, magic 2049). */
    labels: Uint8Array
  };
}

interface IdxSetInfo {
  /** Class name, used in messages. */
  name: string;
  /** torchvision's folder name under root (root/<folder>/raw). */
  folder: string;
  defaultRoot?: string;
  classes: readonly string[];
  /** What to do when the files are missing. */
  hint: string;
}

const IMAGES_MAGIC = 2051; // 0x00000803: uint8, 3 dims
const LABELS_MAGIC = 2049; // 0x00000801: uint8, 1 dim

function describeMagic(a: IdxArray): string {
  return `${a.magic} (0x${a.magic.toString(16).padStart(8, '0')}: ${a.dtype}, ${a.shape.length} dim${a.shape.length === 1 ? '' : 's'})`;
}

function checkIdx(a: IdxArray, magic: number, what: string, file: string): void {
  if (a.magic !== magic) {
    const hint = a.magic === (magic === IMAGES_MAGIC ? LABELS_MAGIC : IMAGES_MAGIC) ? ` — this looks like the ${magic === IMAGES_MAGIC ? 'labels' : 'images'} file` : '';
    throw new DataError(file, `magic number ${describeMagic(a)} where an ${what} file has ${magic} (0x${magic.toString(16).padStart(8, '0')})${hint}`);
  }
}

/** Reads, parses and cross-checks the images and labels of one split. */
function loadIdxSet(info: IdxSetInfo, opts: IdxDatasetOptions<unknown, unknown>): { images: Uint8Array; labels: Uint8Array; height: number; width: number } {
  const train = opts.train ?? true;
  let imgBytes: Uint8Array;
  let lblBytes: Uint8Array;
  let imgName: string;
  let lblName: string;
  if (opts.files) {
    imgName = `${info.name} images (files.images)`;
    lblName = `${info.name} labels (files.labels)`;
    imgBytes = gunzipIdxSync(opts.files.images, imgName);
    lblBytes = gunzipIdxSync(opts.files.labels, lblName);
  } else {
    const root = opts.root ?? info.defaultRoot;
    if (!root) throw new DataError(info.name, 'needs { root: folder with the IDX files } or { files: { images, labels } }');
    const prefix = train ? 'train' : 't10k';
    const dirs = ['', joinPath(info.folder, 'raw'), 'raw', info.folder];
    const find = (kind: 'images' | 'labels', n: 1 | 3): string => {
      const base = `${prefix}-${kind}-idx${n}-ubyte`;
      const found = findFile(root, dirs, [base, `${prefix}-${kind}.idx${n}-ubyte`]);
      if (found) return found;
      const where = isDirectory(root) ? `in ${dirs.map((d) => joinPath(root, d)).join(', ')}` : `(${root} is not a folder)`;
      throw new DataError(info.name, `no ${base}[.gz] found ${where}. ${info.hint}`);
    };
    imgName = find('images', 3);
    lblName = find('labels', 1);
    imgBytes = readIdxFile(imgName);
    lblBytes = readIdxFile(lblName);
  }
  const img = parseIdx(imgBytes, imgName);
  checkIdx(img, IMAGES_MAGIC, `${info.name} images`, imgName);
  const lbl = parseIdx(lblBytes, lblName);
  checkIdx(lbl, LABELS_MAGIC, `${info.name} labels`, lblName);
  const [n, h, w] = img.shape as [number, number, number];
  if (lbl.shape[0] !== n) throw new DataError(lblName, `holds ${lbl.shape[0]} labels but ${imgName} holds ${n} images`);
  const labels = lbl.data as Uint8Array;
  const bad = labels.findIndex((l) => l >= info.classes.length);
  if (bad >= 0) throw new DataError(lblName, `label ${labels[bad]} at index ${bad} is outside 0..${info.classes.length - 1}`);
  return { images: img.data as Uint8Array, labels, height: h, width: w };
}

/**
 * The MNIST handwritten digits (torchvision.datasets.MNIST) from the four IDX files, gzipped
 * or not, in `root` or torchvision's `root/MNIST/raw/`. No download: the full set is in
 * ../shared/data/mnist here; `EmbeddedMNIST` needs no files at all.
 * Throws a DataError naming the file when one is missing, truncated or of the wrong kind.
 * @example new MNIST({ root: '../shared/data/mnist', train: true, transform: new ToTensor() })
 */
export class MNIST<X = HostTensor, Y = number> extends ImageClassificationDataset<X, Y> {
  /** torchvision's MNIST class names, '0 - zero' … '9 - nine': label d is the digit d. */
  static readonly classes = ['0 - zero', '1 - one', '2 - two', '3 - three', '4 - four', '5 - five', '6 - six', '7 - seven', '8 - eight', '9 - nine'] as const;
  /** True for the 60,000-image training split (the default), false for the 10,000-image test split. */
  readonly train: boolean;

  constructor(opts: IdxDatasetOptions<X, Y>) {
    const info = { name: 'MNIST', folder: 'MNIST', classes: MNIST.classes, hint: 'Put the four MNIST IDX files there (in this project: ../shared/data/mnist), or use data.EmbeddedMNIST, which needs no files' };
    super({ ...loadIdxSet(info, opts), classes: MNIST.classes, transform: opts.transform, targetTransform: opts.targetTransform } as ConstructorParameters<typeof ImageClassificationDataset<X, Y>>[0]);
    this.train = opts.train ?? true;
  }
}

/** Where Debian's `dataset-fashion-mnist` package installs the Fashion-MNIST files. */
export const FASHION_MNIST_DEBIAN_ROOT = '/usr/share/datasets/fashion-mnist';

/**
 * Zalando's Fashion-MNIST (torchvision.datasets.FashionMNIST): 28×28 grey images of 10
 * kinds of clothing in the MNIST file format. `root` defaults to where Debian's
 * `dataset-fashion-mnist` package puts it (`apt-get install dataset-fashion-mnist`).
 */
export class FashionMNIST<X = HostTensor, Y = number> extends ImageClassificationDataset<X, Y> {
  /** The ten clothing classes in label order, as torchvision names them ('T-shirt/top' = 0 … 'Ankle boot' = 9). */
  static readonly classes = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;
  /** True for the 60,000-image training split (the default), false for the 10,000-image test split. */
  readonly train: boolean;

  constructor(opts: IdxDatasetOptions<X, Y> = {}) {
    const info = { name: 'FashionMNIST', folder: 'FashionMNIST', defaultRoot: FASHION_MNIST_DEBIAN_ROOT, classes: FashionMNIST.classes, hint: `Install them with \`apt-get install dataset-fashion-mnist\` (into ${FASHION_MNIST_DEBIAN_ROOT}) or pass { root }` };
    super({ ...loadIdxSet(info, opts), classes: FashionMNIST.classes, transform: opts.transform, targetTransform: opts.targetTransform } as ConstructorParameters<typeof ImageClassificationDataset<X, Y>>[0]);
    this.train = opts.train ?? true;
  }
}
