// DataLoader and randomSplit on WebGPU: batch shapes and dtypes, seeded shuffling that
// covers every sample once per epoch, dropLast, prefetching, disposal, and collation.
import { describe, expect, it } from 'vitest';
import { Generator, manualSeed, memory, tensor, type Tensor } from '../../src/index.ts';
import {
  Compose, DataLoader, Dataset, HostTensor, Lambda, MNIST, Normalize, randomSplit, randperm, Subset, TensorDataset, ToTensor,
} from '../../src/data/index.ts';
import { hostUniforms } from '../../src/data/philox-host.ts';
import { useGpu } from '../helpers/gpu.ts';
import { collectGarbage } from '../helpers/gc.ts';
import { fakeSplit } from './helpers.ts';

useGpu();

/** A dataset of n samples [index as float32 [2], label = index] that counts get() calls. */
class Counting extends Dataset<[Float32Array, number]> {
  gets = 0;
  constructor(readonly n: number) {
    super();
  }
  get length(): number {
    return this.n;
  }
  get(i: number): [Float32Array, number] {
    this.gets++;
    return [Float32Array.of(i, -i), i];
  }
}

/** Labels of every batch of one epoch, read back, with the batch sizes. */
async function epoch(loader: DataLoader<unknown, Tensor[]>): Promise<{ order: number[]; sizes: number[] }> {
  const order: number[] = [];
  const sizes: number[] = [];
  for await (const batch of loader) {
    const y = batch[1]!;
    sizes.push(y.shape[0]!);
    order.push(...(await y.toArray() as number[]));
    for (const t of batch) t.dispose();
  }
  return { order, sizes };
}

const sorted = (a: number[]) => [...a].sort((x, y) => x - y);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('DataLoader', () => {
  it('yields [images [B, 1, H, W] float32, labels [B] int32] from an image dataset, uploaded once per field', async () => {
    const s = fakeSplit(10);
    const ds = new MNIST({ files: { images: s.images, labels: s.labels }, transform: new Compose([new ToTensor(), new Normalize([0.1307], [0.3081])]) });
    const loader = new DataLoader(ds, { batchSize: 4 });
    expect(loader.length).toBe(3);
    const shapes: string[] = [];
    let first: number[] | null = null;
    for await (const [x, y] of loader) {
      shapes.push(`${x.dtype}[${x.shape}] ${y.dtype}[${y.shape}]`);
      first ??= (await x.toArray() as number[][][][])[1]![0]![0]!;
      x.dispose();
      y.dispose();
    }
    expect(shapes).toEqual(['float32[4,1,4,3] int32[4]', 'float32[4,1,4,3] int32[4]', 'float32[2,1,4,3] int32[2]']);
    // Sample 1's first row equals the per-sample transform (the batched path is the same arithmetic).
    const per = ds.get(1)[0];
    expect(first).toEqual(Array.from(per.data.subarray(0, 3)));
  });

  it('without shuffle keeps dataset order; dropLast drops the short batch; length counts batches', async () => {
    const ds = new Counting(10);
    expect((await epoch(new DataLoader(ds, { batchSize: 4 }) as never)).sizes).toEqual([4, 4, 2]);
    const dl = new DataLoader(ds, { batchSize: 4, dropLast: true });
    expect(dl.length).toBe(2);
    const { order, sizes } = await epoch(dl as never);
    expect(sizes).toEqual([4, 4]);
    expect(order).toEqual(range(8));
    expect(new DataLoader(ds, { batchSize: 5, dropLast: true }).length).toBe(2);
    expect(new DataLoader(ds).length).toBe(10);
    expect(() => new DataLoader(ds, { batchSize: 0 })).toThrow(/DataLoader: batchSize must be a positive integer, got 0/);
  });

  it('shuffles every sample exactly once per epoch, a new order each epoch, the same orders for the same seed', async () => {
    const ds = new Counting(103);
    const run = async (seed: number) => {
      const dl = new DataLoader(ds, { batchSize: 16, shuffle: true, generator: new Generator(seed) });
      return [(await epoch(dl as never)).order, (await epoch(dl as never)).order];
    };
    const [a1, a2] = await run(3);
    const [b1, b2] = await run(3);
    const [c1] = await run(4);
    expect(sorted(a1!)).toEqual(range(103));
    expect(sorted(a2!)).toEqual(range(103));
    expect(a1).not.toEqual(range(103));
    expect(a1).not.toEqual(a2);
    expect([b1, b2]).toEqual([a1, a2]);
    expect(c1).not.toEqual(a1);
    // The global generator: manualSeed replays it.
    manualSeed(11);
    const g1 = (await epoch(new DataLoader(ds, { batchSize: 50, shuffle: true }) as never)).order;
    manualSeed(11);
    const g2 = (await epoch(new DataLoader(ds, { batchSize: 50, shuffle: true }) as never)).order;
    expect(g1).toEqual(g2);
  });

  it('shuffled dropLast sees floor(n / B) · B distinct samples per epoch', async () => {
    const { order, sizes } = await epoch(new DataLoader(new Counting(50), { batchSize: 16, shuffle: true, dropLast: true, generator: new Generator(1) }) as never);
    expect(sizes).toEqual([16, 16, 16]);
    expect(new Set(order).size).toBe(48);
  });

  it('prefetches: batch k+1 is built while the body works on batch k (on the next event-loop turn)', async () => {
    const ds = new Counting(12);
    const seen: number[] = [];
    for await (const [x, y] of new DataLoader(ds, { batchSize: 4 })) {
      const before = ds.gets;
      await new Promise((r) => setImmediate(r)); // the body awaits, e.g. a GPU readback
      seen.push(ds.gets - before);
      x!.dispose();
      y!.dispose();
    }
    expect(seen).toEqual([4, 4, 0]);
    const lazy = new Counting(12);
    const seenLazy: number[] = [];
    for await (const b of new DataLoader(lazy, { batchSize: 4, prefetch: false })) {
      const before = lazy.gets;
      await new Promise((r) => setImmediate(r));
      seenLazy.push(lazy.gets - before);
      for (const t of b) t.dispose();
    }
    expect(seenLazy).toEqual([0, 0, 0]);
  });

  it('leaves no tensor behind: breaking early frees the prefetched batch; autoDispose frees each batch', async () => {
    const ds = new Counting(40);
    await collectGarbage(); // earlier tests' garbage must not be finalized inside the measured window
    const live0 = memory().liveTensors;
    for await (const [x, y] of new DataLoader(ds, { batchSize: 4 })) {
      await new Promise((r) => setImmediate(r));
      x!.dispose();
      y!.dispose();
      break;
    }
    expect(memory().liveTensors).toBe(live0);
    let n = 0;
    for await (const [x] of new DataLoader(ds, { batchSize: 4, autoDispose: true })) {
      n += x!.shape[0]!;
      expect(memory().liveTensors - live0).toBeLessThanOrEqual(4);
    }
    expect(n).toBe(40);
    expect(memory().liveTensors).toBe(live0);
    // The synchronous iterator: built on demand, same batches.
    let m = 0;
    for (const [x, y] of new DataLoader(ds, { batchSize: 16, autoDispose: true })) m += x!.shape[0]! + 0 * y!.shape[0]!;
    expect(m).toBe(40);
    expect(memory().liveTensors).toBe(live0);
  });

  it('the per-sample path (a Lambda transform) gives the same batches as the batched path', async () => {
    const s = fakeSplit(9);
    const files = { images: s.images, labels: s.labels };
    const fast = new MNIST({ files, transform: new ToTensor() });
    const slow = new MNIST({ files, transform: new Compose([new ToTensor(), new Lambda((x: HostTensor) => x)]) });
    expect(slow.getBatch(Int32Array.of(0))).toBeUndefined();
    const read = async (ds: MNIST<HostTensor>) => {
      const out: unknown[] = [];
      for await (const [x, y] of new DataLoader(ds, { batchSize: 4, shuffle: true, generator: new Generator(5) })) {
        out.push(await x.toArray(), await y.toArray());
        x.dispose();
        y.dispose();
      }
      return out;
    };
    expect(await read(slow)).toEqual(await read(fast));
  });

  it('collates tuples, objects, numbers and device tensors; a custom collate replaces it; clear errors', async () => {
    const samples = [
      { x: new Float32Array([1, 2]), t: 0.5, id: 'a', dev: tensor([1, 2]) },
      { x: new Float32Array([3, 4]), t: 1, id: 'b', dev: tensor([3, 4]) },
    ];
    const [b] = new DataLoader(samples, { batchSize: 2 });
    expect(b!.x.shape).toEqual([2, 2]);
    expect(await b!.t.toArray()).toEqual([0.5, 1]);
    expect(b!.t.dtype).toBe('float32');
    expect(b!.id).toEqual(['a', 'b']);
    expect(await b!.dev.toArray()).toEqual([[1, 2], [3, 4]]);
    for (const t of [b!.x, b!.t, b!.dev, samples[0]!.dev, samples[1]!.dev]) t.dispose();
    const custom = [...new DataLoader([1, 2, 3], { batchSize: 2, collate: (xs) => xs.join('+') })];
    expect(custom).toEqual(['1+2', '3']);
    const ragged = [[new Float32Array(2), 0], [new Float32Array(3), 1]];
    expect(() => [...new DataLoader(ragged, { batchSize: 2 })]).toThrow(/collate: samples differ in shape at sample\[0\]: sample 1 has \[3\], sample 0 has \[2\]/);
    expect(() => [...new DataLoader([{ a: 1 }, { a: 'x' }], { batchSize: 2 })]).toThrow(/collate: sample 1 is a string at sample\.a where sample 0 is a number/);
  });

  it('TensorDataset batches host arrays and device tensors by gathering rows', async () => {
    const xh = new HostTensor(Float32Array.from(range(12)), [6, 2]);
    const yd = tensor(Int32Array.from([10, 11, 12, 13, 14, 15]));
    const ds = new TensorDataset(xh, yd);
    expect(ds.get(2)[0].data).toEqual(Float32Array.of(4, 5));
    const got: number[][] = [];
    for await (const [x, y] of new DataLoader(ds, { batchSize: 4, shuffle: true, generator: new Generator(2) })) {
      const xs = (await x.toArray()) as number[][];
      const ys = (await y.toArray()) as number[];
      ys.forEach((v, k) => got.push([v, ...xs[k]!]));
      x.dispose();
      y.dispose();
    }
    expect(got.sort((a, b) => a[0]! - b[0]!)).toEqual(range(6).map((i) => [10 + i, 2 * i, 2 * i + 1]));
    yd.dispose();
    expect(() => new TensorDataset(xh, new HostTensor(new Int32Array(5)))).toThrow(/TensorDataset: arrays must share their first dim: got \[6, 2\], \[5\]/);
  });
});

describe('datasets on the device path', () => {
  it('a randomSplit Subset of MNIST keeps the batched path and maps its indices', async () => {
    const s = fakeSplit(10);
    const ds = new MNIST({ files: { images: s.images, labels: s.labels } });
    const [, b] = randomSplit(ds, [7, 3], new Generator(8));
    expect(b!.getBatch(Int32Array.of(0, 1, 2))).toBeDefined();
    const [[x, y]] = [...new DataLoader(b!, { batchSize: 3 })];
    // No transform: raw bytes, uploaded as int32 [B, H, W].
    expect([x!.dtype, x!.shape]).toEqual(['int32', [3, 4, 3]]);
    expect(await y!.toArray()).toEqual(Array.from(b!.indices, (i) => s.labelValues[i]));
    expect((await x!.toArray() as number[][][])[2]![0]).toEqual(Array.from(s.pixels.subarray(b!.indices[2]! * 12, b!.indices[2]! * 12 + 3)));
    x!.dispose();
    y!.dispose();
  });

  it('Normalize on a device Tensor agrees with the host result (up to the division\'s rounding)', async () => {
    const host = new ToTensor().forward(new HostTensor(Uint8Array.from({ length: 48 }, (_, i) => i * 5), [4, 4, 3]));
    const norm = new Normalize([0.1, 0.2, 0.3], [0.5, 0.6, 0.7]);
    const want = norm.forward(host);
    const t = host.toTensor();
    const got = norm.forward(t);
    expect(got.shape).toEqual([3, 4, 4]);
    const flat = (await got.toArray() as number[][][]).flat(2);
    flat.forEach((v, i) => expect(v).toBeCloseTo(want.data[i]!, 5));
    t.dispose();
    got.dispose();
  });
});

describe('randomSplit / randperm', () => {
  it('is a seeded partition: disjoint subsets covering every index, same seed same split', () => {
    const ds = new Counting(1000);
    const [a, b] = randomSplit(ds, [900, 100], new Generator(42));
    expect([a!.length, b!.length]).toEqual([900, 100]);
    expect(sorted([...a!.indices, ...b!.indices])).toEqual(range(1000));
    const [a2] = randomSplit(ds, [900, 100], new Generator(42));
    expect(Array.from(a2!.indices)).toEqual(Array.from(a!.indices));
    const [a3] = randomSplit(ds, [900, 100], new Generator(43));
    expect(Array.from(a3!.indices)).not.toEqual(Array.from(a!.indices));
    expect(b!.get(0)[1]).toBe(b!.indices[0]);
    expect(b).toBeInstanceOf(Subset);
  });

  it('takes fractions like PyTorch: floor each, then deal the remainder from the first subset on', () => {
    const ds = new Counting(10);
    expect(randomSplit(ds, [0.5, 0.3, 0.2]).map((s) => s.length)).toEqual([5, 3, 2]);
    expect(randomSplit(ds, [1 / 3, 1 / 3, 1 / 3]).map((s) => s.length)).toEqual([4, 3, 3]);
    expect(() => randomSplit(ds, [5, 4])).toThrow(/randomSplit: lengths \[5, 4\] sum to 9, but the dataset has 10 samples/);
  });

  it('the 55 000 / 5 000 split of tutorial 002 is reproducible from a seed', () => {
    const n = new Counting(60000);
    const [t1, v1] = randomSplit(n, [55000, 5000], new Generator(0));
    const [, v2] = randomSplit(n, [55000, 5000], new Generator(0));
    expect(Array.from(v1!.indices)).toEqual(Array.from(v2!.indices));
    expect(new Set([...t1!.indices, ...v1!.indices]).size).toBe(60000);
  });

  it('the host Philox used for shuffling gives exactly Generator.nextFloats and advances it alike', () => {
    for (const [seed, counter] of [[0, 0], [7, 5], [123456789012, 2 ** 32 - 3]] as const) {
      const a = new Generator(seed);
      const b = new Generator(seed);
      a.setState({ seed, counter });
      b.setState({ seed, counter });
      expect(Array.from(hostUniforms(a, 37))).toEqual(Array.from(b.nextFloats(37)));
      expect(a.getState()).toEqual(b.getState());
    }
  });

  it('randperm is a permutation, uniform enough: each position sees each value ~equally', () => {
    const g = new Generator(9);
    const counts = new Array(16).fill(0);
    for (let r = 0; r < 4000; r++) counts[randperm(4, g)[0]!]!++;
    for (const c of counts.slice(0, 4)) expect(Math.abs(c - 1000)).toBeLessThan(120);
    expect(sorted(Array.from(randperm(1000, g)))).toEqual(range(1000));
  });
});
