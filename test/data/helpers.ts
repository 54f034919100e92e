// Shared fixtures for the data tests: where the real MNIST files are (../shared/data/mnist
// beside the repo; a clear failure when absent) and small generated IDX folders.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
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
