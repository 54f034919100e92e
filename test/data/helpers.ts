// Shared fixtures for the data tests: where the real MNIST files are (../shared/data/mnist
// beside the repo; a clear failure when absent) and small generated IDX folders.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants as zlibConstants, crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { encodeIdx } from '../../src/data/idx.ts';

/** The full MNIST files; CI keeps shared/ beside the repo. */
export const MNIST_ROOT = fileURLToPath(new URL('../../../shared/data/mnist', import.meta.url));

export function requireMnist(): string {
  if (!existsSync(join(MNIST_ROOT, 'train-images-idx3-ubyte.gz'))) {
    throw new Error(`the MNIST files are missing: expected ${MNIST_ROOT}/train-images-idx3-ubyte.gz (shared/ must sit beside the repo)`);
  }
  return MNIST_ROOT;
}

/** A tiny MNIST-format split: n images of h×w where pixel p of image i is (i*7 + p) & 255, label i % 10. */
export function fakeSplit(n: number, h = 4, w = 3): { images: Uint8Array; labels: Uint8Array; pixels: Uint8Array; labelValues: Uint8Array } {
  const pixels = new Uint8Array(n * h * w).map((_, k) => (Math.floor(k / (h * w)) * 7 + (k % (h * w))) & 255);
  const labelValues = new Uint8Array(n).map((_, i) => i % 10);
  return { images: encodeIdx(pixels, [n, h, w]), labels: encodeIdx(labelValues, [n]), pixels, labelValues };
}

/**
 * A temp folder holding a fake MNIST-format set (train n=12, test n=5) in `layout`:
 * 'flat' (root/…), 'torchvision' (root/<name>/raw/…); gzipped or not.
 */
export function fakeFolder(opts: { gzip?: boolean; layout?: 'flat' | 'torchvision'; name?: string; nTrain?: number; nTest?: number } = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'webgrad-idx-'));
  const dir = opts.layout === 'torchvision' ? join(root, opts.name ?? 'MNIST', 'raw') : root;
  mkdirSync(dir, { recursive: true });
  const write = (name: string, bytes: Uint8Array) =>
    opts.gzip ? writeFileSync(join(dir, `${name}.gz`), gzipSync(bytes)) : writeFileSync(join(dir, name), bytes);
  for (const [prefix, n] of [['train', opts.nTrain ?? 12], ['t10k', opts.nTest ?? 5]] as const) {
    const s = fakeSplit(n);
    write(`${prefix}-images-idx3-ubyte`, s.images);
    write(`${prefix}-labels-idx1-ubyte`, s.labels);
  }
  return root;
}

/**
 * A valid gzip file of `head` followed by `zeroMiB` MiB of zeros, built without compressing them:
 * one 1 MiB segment deflated once with a full flush (byte-aligned, no back-references out of
 * it) is repeated, then an empty final block and the CRC-32 / size trailer. 256 MiB of output
 * costs about 256 KB of file: a gzip bomb for the tests, made in milliseconds.
 */
export function gzipBomb(head: Uint8Array, zeroMiB: number): Uint8Array {
  const flush = { finishFlush: zlibConstants.Z_FULL_FLUSH };
  const zeros = Buffer.alloc(1 << 20);
  const first = deflateRawSync(head, flush);
  const segment = deflateRawSync(zeros, flush);
  let crc = crc32(head);
  for (let i = 0; i < zeroMiB; i++) crc = crc32(zeros, crc);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE((head.length + zeroMiB * (1 << 20)) % 2 ** 32, 4);
  const gzipHeader = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
  const finalBlock = Buffer.from([0x03, 0x00]); // BFINAL=1, fixed Huffman, end of block
  return Buffer.concat([gzipHeader, first, ...Array<Buffer>(zeroMiB).fill(segment), finalBlock, trailer]);
}
