// IDX parsing and the MNIST/FashionMNIST file loaders on small generated files, including
// truncated, padded, mislabelled and corrupt ones (each error names the file). No GPU.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DataError, encodeIdx, FashionMNIST, gunzip, gunzipIdx, HostTensor, MNIST, parseIdx } from '../../src/data/index.ts';
import { fakeFolder, fakeSplit, gzipBomb } from './helpers.ts';

describe('parseIdx', () => {
  it('reads a generated 3-D uint8 file: magic, dims, row-major bytes (no copy)', () => {
    const { images, pixels } = fakeSplit(5, 4, 3);
    expect(Array.from(images.subarray(0, 16))).toEqual([0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 4, 0, 0, 0, 3]);
    const a = parseIdx(images, 'x');
    expect(a.magic).toBe(2051);
    expect(a.dtype).toBe('uint8');
    expect(a.shape).toEqual([5, 4, 3]);
    expect(Array.from(a.data)).toEqual(Array.from(pixels));
    expect(a.data.buffer).toBe(images.buffer);
  });

  it('round-trips the wider big-endian types', () => {
    const cases = [new Int32Array([-5, 1 << 20, 7, 0, -1, 3]), new Float32Array([0.5, -2.25, 1e-3, 7, 8, 9]), new Float64Array([Math.PI, -1, 2, 3, 4, 5]), new Int16Array([-300, 2, 3, 4, 5, 6])];
    for (const data of cases) {
      const back = parseIdx(encodeIdx(data, [2, 3]));
      expect(back.shape).toEqual([2, 3]);
      expect(back.data.constructor).toBe(data.constructor);
      expect(Array.from(back.data)).toEqual(Array.from(data));
    }
    expect(parseIdx(encodeIdx(new Uint8Array([9]), [1])).magic).toBe(2049);
  });

  it('rejects truncated, padded, gzipped and foreign data with the file name and the sizes', () => {
    const { images } = fakeSplit(5, 4, 3);
    expect(() => parseIdx(images.subarray(0, images.length - 1), 'cut.idx')).toThrow(/^cut\.idx: is truncated: its header promises 5 × 4 × 3 uint8 = 60 bytes of data, but only 59 bytes follow/);
    expect(() => parseIdx(images.subarray(0, 10), 'hdr.idx')).toThrow(/hdr\.idx: is truncated: its 3-dim IDX header needs 16 bytes, the file has 10/);
    expect(() => parseIdx(new Uint8Array(2), 'tiny')).toThrow(/tiny: is 2 bytes long, too short/);
    const padded = new Uint8Array(images.length + 3);
    padded.set(images);
    expect(() => parseIdx(padded, 'pad')).toThrow(/pad: has 3 bytes more than its header promises/);
    expect(() => parseIdx(gzipSync(images), 'z.gz')).toThrow(/z\.gz: is gzip-compressed/);
    expect(() => parseIdx(new TextEncoder().encode('hello world!'), 'txt')).toThrow(/txt: is not an IDX file: magic number 0x68656c6c/);
    const badType = images.slice();
    badType[2] = 0x07;
    expect(() => parseIdx(badType, 'bt')).toThrow(/bt: is not an IDX file: unknown element type 0x07/);
    try {
      parseIdx(images.subarray(0, 20), 'named');
    } catch (e) {
      expect(e).toBeInstanceOf(DataError);
      expect((e as DataError).file).toBe('named');
    }
  });

  it('gunzip (DecompressionStream) undoes gzip and reports a corrupt stream', async () => {
    const { images } = fakeSplit(3);
    expect(Array.from(await gunzip(gzipSync(images)))).toEqual(Array.from(images));
    expect(await gunzip(images)).toBe(images);
    const z = gzipSync(images);
    await expect(gunzip(z.subarray(0, z.length - 12), 'cut.gz')).rejects.toThrow(/cut\.gz: gzip stream is corrupt or truncated/);
  });
});

describe('MNIST / FashionMNIST file loaders', () => {
  for (const gzip of [false, true]) {
    for (const layout of ['flat', 'torchvision'] as const) {
      it(`reads ${gzip ? 'gzipped' : 'plain'} files in the ${layout} layout`, () => {
        const root = fakeFolder({ gzip, layout });
        const train = new MNIST({ root, train: true });
        const test = new MNIST({ root, train: false });
        expect([train.length, test.length]).toEqual([12, 5]);
        const { pixels, labelValues } = fakeSplit(12);
        const [img, label] = train.get(7);
        expect(img).toBeInstanceOf(HostTensor);
        expect(img.shape).toEqual([4, 3]);
        expect(Array.from(img.data)).toEqual(Array.from(pixels.subarray(7 * 12, 8 * 12)));
        expect(label).toBe(labelValues[7]);
        expect(train.targets.shape).toEqual([12]);
        expect(train.data.shape).toEqual([12, 4, 3]);
      });
    }
  }

  it('FashionMNIST uses its own torchvision folder name and class names', () => {
    const root = fakeFolder({ layout: 'torchvision', name: 'FashionMNIST', gzip: true });
    const ds = new FashionMNIST({ root, train: false });
    expect(ds.length).toBe(5);
    expect(ds.classes[9]).toBe('Ankle boot');
    expect(() => new MNIST({ root })).toThrow(/MNIST: no train-images-idx3-ubyte\[\.gz\] found in .*MNIST\/raw/);
  });

  it('accepts the files as bytes, gzipped or not', () => {
    const s = fakeSplit(6);
    const ds = new MNIST({ files: { images: gzipSync(s.images), labels: s.labels } });
    expect(ds.length).toBe(6);
    expect(ds.labelCounts().slice(0, 7)).toEqual([1, 1, 1, 1, 1, 1, 0]);
  });

  it('names the file at fault: swapped, truncated, corrupt gzip, count mismatch, bad label, missing', () => {
    const root = fakeFolder({ gzip: false });
    const img = join(root, 'train-images-idx3-ubyte');
    const lbl = join(root, 'train-labels-idx1-ubyte');
    const imgBytes = readFileSync(img);

    // The labels file where the images file should be.
    writeFileSync(img, readFileSync(lbl));
    expect(() => new MNIST({ root })).toThrow(new RegExp(`^${img}: magic number 2049 \\(0x00000801: uint8, 1 dim\\) where an MNIST images file has 2051 \\(0x00000803\\) — this looks like the labels file`));

    // Truncated image data.
    writeFileSync(img, imgBytes.subarray(0, imgBytes.length - 5));
    expect(() => new MNIST({ root })).toThrow(new RegExp(`^${img}: is truncated: its header promises 12 × 4 × 3 uint8 = 144 bytes of data, but only 139`));

    // A gzip file cut short.
    renameSync(img, `${img}.bak`);
    const z = gzipSync(imgBytes);
    writeFileSync(`${img}.gz`, z.subarray(0, z.length - 20));
    expect(() => new MNIST({ root })).toThrow(new RegExp(`^${img}\\.gz: gzip stream is corrupt or truncated`));

    // Images and labels that disagree in count.
    writeFileSync(`${img}.gz`, gzipSync(fakeSplit(11).images));
    expect(() => new MNIST({ root })).toThrow(new RegExp(`^${lbl}: holds 12 labels but ${img}\\.gz holds 11 images`));

    // A label outside 0..9.
    writeFileSync(`${img}.gz`, gzipSync(imgBytes));
    writeFileSync(lbl, encodeIdx(new Uint8Array(12).fill(12, 3, 4), [12]));
    expect(() => new MNIST({ root })).toThrow(/label 12 at index 3 is outside 0\.\.9/);

    // Nothing there.
    expect(() => new MNIST({ root: join(root, 'nope') })).toThrow(/MNIST: no train-images-idx3-ubyte\[\.gz\] found \(.*nope is not a folder\)/);
    expect(() => new MNIST({})).toThrow(/MNIST: needs \{ root/);
  });
});

describe('gzipped IDX files are inflated no further than their header declares', () => {
  // An images header promising 1 × 2 × 2 uint8 (4 bytes of data), followed by 256 MiB of
  // zeros: a 260 KB file. Inflating it whole before the size check took seconds and the
  // memory of the whole stream; a bounded inflate stops one chunk past the declared 20 bytes.
  const head = new Uint8Array([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2]);
  const bomb = gzipBomb(head, 256);
  const tooBig = /inflates to more than its header declares \(1 × 2 × 2 uint8: 20 bytes with the header\)/;
  /** Peak resident memory growth in MiB while `fn` runs (maxRSS is in KiB). */
  const peakGrowth = async (fn: () => unknown): Promise<number> => {
    const before = process.resourceUsage().maxRSS;
    await fn();
    return (process.resourceUsage().maxRSS - before) / 1024;
  };
  const labels = encodeIdx(new Uint8Array([3]), [1]);
  /** The same gzip stream with an FCOMMENT of `n` bytes in its header (its header has no other optional field). */
  const withComment = (z: Uint8Array, n: number): Uint8Array =>
    Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0x10, 0, 0, 0, 0, 0, 0xff]), Buffer.alloc(n, 0x41), Buffer.from([0]), z.subarray(10)]);

  it('Node loaders (files as bytes, and files in a folder) stop at once with a DataError', async () => {
    let err: unknown;
    const growth = await peakGrowth(() => {
      try {
        new MNIST({ files: { images: bomb, labels } });
      } catch (e) {
        err = e;
      }
    });
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toMatch(tooBig);
    expect(growth).toBeLessThan(64);

    // Behind 40 KB of gzip comment, the first prefix that reaches the header inflates to far
    // more than one header pass may produce: the search narrows the prefix instead.
    expect(() => new MNIST({ files: { images: withComment(bomb, 40_000), labels } })).toThrow(tooBig);

    const root = fakeFolder({ gzip: true });
    writeFileSync(join(root, 'train-images-idx3-ubyte.gz'), bomb);
    expect(() => new MNIST({ root })).toThrow(new RegExp(`^${join(root, 'train-images-idx3-ubyte.gz')}: ${tooBig.source}`));
  });

  it('gunzipIdx (the browser path, DecompressionStream) stops at once too', async () => {
    let err: unknown;
    const growth = await peakGrowth(() => gunzipIdx(bomb, 'bomb.gz').catch((e: unknown) => (err = e)));
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toMatch(new RegExp(`^bomb\.gz: ${tooBig.source}`));
    expect(growth).toBeLessThan(64);
  });

  it('a header that is not IDX fails before the rest is inflated (a bomb of zeros)', async () => {
    const zeros = gzipBomb(new Uint8Array(0), 256);
    expect(() => new MNIST({ files: { images: zeros, labels } })).toThrow(/is not an IDX file: unknown element type 0x00/);
    await expect(gunzipIdx(zeros, 'z')).rejects.toThrow(/^z: is not an IDX file: unknown element type 0x00/);
  });

  it('a stream shorter than its header declares is truncated; one shorter than a header too', async () => {
    const { images } = fakeSplit(3);
    const cut = gzipSync(images.subarray(0, images.length - 2));
    const short = /is truncated: its header declares 3 × 4 × 3 uint8: 52 bytes with the header, but the gzip stream inflates to only 50/;
    expect(() => new MNIST({ files: { images: cut, labels } })).toThrow(short);
    await expect(gunzipIdx(cut, 'cut')).rejects.toThrow(short);
    const stub = gzipSync(images.subarray(0, 9));
    expect(() => new MNIST({ files: { images: stub, labels } })).toThrow(/is truncated: the gzip stream inflates to only 9 bytes, too short for its IDX header/);
    await expect(gunzipIdx(stub, 'stub')).rejects.toThrow(/^stub: is truncated: the gzip stream inflates to only 9 bytes/);
  });

  it('well-formed files still load, and a header after a long gzip comment is still found', async () => {
    const s = fakeSplit(6);
    expect(Array.from(await gunzipIdx(gzipSync(s.images)))).toEqual(Array.from(s.images));
    expect(await gunzipIdx(s.images)).toBe(s.images);
    // FCOMMENT: 64 KB of gzip header before the first deflate byte (the header search grows its prefix).
    expect(new MNIST({ files: { images: withComment(gzipSync(s.images), 65536), labels: s.labels } }).length).toBe(6);
  });

  it('gunzip takes a maxBytes bound for other gzip data', async () => {
    const z = gzipBomb(new Uint8Array(0), 64);
    await expect(gunzip(z, 'z', { maxBytes: 1000 })).rejects.toThrow(/^z: gzip stream inflates to more than the 1000 bytes allowed/);
    expect((await gunzip(gzipSync(new Uint8Array(10)), 'small', { maxBytes: 10 })).length).toBe(10);
  });
});
