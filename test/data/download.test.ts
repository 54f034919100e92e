// Downloading MNIST and Fashion-MNIST as torchvision does (`download: true`), against a local
// mirror server started here (test/helpers/mirror-server.mjs; no network): the MD5 of every
// file, falling through dead and corrupt mirrors, resuming a partial file with a Range request
// (left by an earlier run, or by a connection cut mid-file), the blocking constructor and the
// asynchronous `load`, the in-memory path browsers take, and MD5 itself against node:crypto.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError, defaultDataRoot, FashionMNIST, MNIST, type DownloadProgress } from '../../src/data/index.ts';
import { Md5, md5Hex } from '../../src/data/md5.ts';
import { requireMnist } from './helpers.ts';

let server: ChildProcess;
let base: string;
/** A port nothing listens on: connections are refused (a dead mirror). */
let closed: string;
let mnistDir: string;

async function startServer(folder: string): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(process.execPath, [fileURLToPath(new URL('../helpers/mirror-server.mjs', import.meta.url)), folder], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout!.once('data', (b: Buffer) => resolve(JSON.parse(b.toString()).port));
    proc.once('exit', (c) => reject(new Error(`mirror server exited (${c})`)));
  });
  return { proc, port };
}

beforeAll(async () => {
  mnistDir = requireMnist();
  const s = await startServer(mnistDir);
  server = s.proc;
  base = `http://127.0.0.1:${s.port}`;
  // A privileged port nothing listens on (and not one of fetch's blocked ports): refused.
  closed = 'http://127.0.0.1:2/ok/';
});
afterAll(() => server?.kill());

const requests = async (): Promise<{ path: string; range: string | null }[]> => (await fetch(`${base}/__log`)).json();
const resetLog = () => fetch(`${base}/__reset`);
const tmp = () => mkdtempSync(join(tmpdir(), 'webgrad-download-'));
const listing = (root: string) => readdirSync(join(root, 'MNIST', 'raw')).sort();
const ALL = ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'];

describe('Md5', () => {
  it('agrees with node:crypto at every padding boundary and when fed in pieces', () => {
    for (const n of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 121, 1000, 4099]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 255);
      const want = createHash('md5').update(bytes).digest('hex');
      expect(md5Hex(bytes), `length ${n}`).toBe(want);
      const h = new Md5();
      for (let i = 0; i < n; i += 13) h.update(bytes.subarray(i, i + 13));
      expect(h.hex(), `length ${n} in pieces`).toBe(want);
    }
  });

  it('gives torchvision\'s published MD5 of the MNIST files', () => {
    for (const r of MNIST.resources) expect(md5Hex(readFileSync(join(mnistDir, r.name)))).toBe(r.md5);
  });
});

describe('MNIST download', () => {
  it('await MNIST.load({ download: true }) fetches the four files into <root>/MNIST/raw, reports progress, and reads them', async () => {
    const root = tmp();
    const events: DownloadProgress[] = [];
    const train = await MNIST.load({ root, download: true, mirrors: [`${base}/ok/`], onProgress: (p) => events.push(p) });
    expect(train.length).toBe(60000);
    expect(Array.from(train.labels.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
    expect(listing(root)).toEqual(ALL); // no .part or .lock left behind
    expect(events.filter((e) => e.done).map((e) => e.file).sort()).toEqual(ALL);
    const big = events.filter((e) => e.file === 'train-images-idx3-ubyte.gz');
    expect(big.at(-1)).toMatchObject({ dataset: 'MNIST', received: 9912422, total: 9912422, done: true });
    // The test split needs no second download: the four files are there.
    await resetLog();
    const test = await MNIST.load({ root, train: false, download: true, mirrors: [`${base}/ok/`] });
    expect(test.length).toBe(10000);
    expect(await requests()).toEqual([]);
  });

  it('the constructor downloads synchronously, as torchvision\'s does', () => {
    const root = tmp();
    const ds = new MNIST({ root, train: false, download: true, mirrors: [`${base}/ok/`], progress: false });
    expect(ds.length).toBe(10000);
    expect(listing(root)).toEqual(ALL);
  });

  it('a dead mirror (refused connection, 404) falls through to the next', async () => {
    const root = tmp();
    await resetLog();
    const ds = await MNIST.load({ root, train: false, download: true, mirrors: [closed, `${base}/missing/`, `${base}/ok/`], progress: false });
    expect(ds.length).toBe(10000);
    const paths = (await requests()).map((r) => r.path);
    expect(paths.filter((p) => p.startsWith('/missing/')).length).toBe(4);
    expect(paths.filter((p) => p.startsWith('/ok/')).length).toBe(4);
  });

  it('a corrupt download fails its MD5 check: a clear error, and no file (or part) left in place', async () => {
    const root = tmp();
    const err = await MNIST.load({ root, download: true, mirrors: [`${base}/corrupt/`], progress: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^MNIST: could not download train-images-idx3-ubyte\.gz: http:\/\/127\.0\.0\.1:\d+\/corrupt\/train-images-idx3-ubyte\.gz: MD5 [0-9a-f]{32} differs from the published f68b3c2dcbeaaa9fbdd348bbdeb94873/);
    expect(existsSync(join(root, 'MNIST', 'raw'))).toBe(true);
    expect(listing(root)).toEqual([]);
    // The same through the blocking constructor.
    expect(() => new MNIST({ root, download: true, mirrors: [`${base}/corrupt/`], progress: false })).toThrow(/MD5 [0-9a-f]{32} differs from the published/);
    expect(listing(root)).toEqual([]);
    // A corrupt mirror followed by a good one: the good one's file is kept.
    const ds = await MNIST.load({ root, train: false, download: true, mirrors: [`${base}/corrupt/`, `${base}/ok/`], progress: false });
    expect(ds.length).toBe(10000);
  });

  it('every mirror failing names each one and what it did', () => {
    const root = tmp();
    expect(() => new MNIST({ root, download: true, mirrors: [closed, `${base}/missing/`], progress: false })).toThrow(
      new RegExp(`^MNIST: could not download train-images-idx3-ubyte\\.gz: ${closed.replace(/[/.]/g, '\\$&')}train-images-idx3-ubyte\\.gz: ECONNREFUSED; ${base.replace(/[/.]/g, '\\$&')}/missing/train-images-idx3-ubyte\\.gz: HTTP 404 Not Found$`),
    );
    expect(listing(root)).toEqual([]);
  });

  it('without download, missing files say where they were looked for and how to download them', () => {
    const root = tmp();
    expect(() => new MNIST({ root })).toThrow(/^MNIST: no train-images-idx3-ubyte\[\.gz\] found in .*MNIST\/raw.*Pass \{ download: true \} to download the files into .*MNIST\/raw/);
  });

  it('resumes a partial file left by an earlier run with a Range request', async () => {
    const root = tmp();
    const raw = join(root, 'MNIST', 'raw');
    mkdirSync(raw, { recursive: true });
    const whole = readFileSync(join(mnistDir, 'train-images-idx3-ubyte.gz'));
    writeFileSync(join(raw, 'train-images-idx3-ubyte.gz.part'), whole.subarray(0, 4_000_000));
    await resetLog();
    const ds = await MNIST.load({ root, download: true, mirrors: [`${base}/ok/`], progress: false });
    expect(ds.length).toBe(60000);
    const log = await requests();
    expect(log.find((r) => r.path.endsWith('train-images-idx3-ubyte.gz'))).toEqual({ path: '/ok/train-images-idx3-ubyte.gz', range: 'bytes=4000000-' });
    expect(listing(root)).toEqual(ALL);
  });

  it('a cancelled download keeps its part, and the next one resumes it', async () => {
    const root = tmp();
    const stop = new AbortController();
    // The slow mirror sends the second half of each file in pieces, so progress reports come
    // while the file is still arriving, however fast this machine is.
    const err = await MNIST.load({
      root, download: true, mirrors: [`${base}/slow/`], signal: stop.signal,
      onProgress: (p) => p.file === 'train-images-idx3-ubyte.gz' && p.received > 2_000_000 && stop.abort(new Error('cancelled by the user')),
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('cancelled by the user');
    const part = join(root, 'MNIST', 'raw', 'train-images-idx3-ubyte.gz.part');
    const kept = readFileSync(part).length;
    expect(kept).toBeGreaterThan(2_000_000);
    expect(listing(root)).toEqual(['train-images-idx3-ubyte.gz.part']); // the lock is gone too
    await resetLog();
    const ds = await MNIST.load({ root, download: true, mirrors: [`${base}/ok/`], progress: false });
    expect(ds.length).toBe(60000);
    expect((await requests())[0]).toEqual({ path: '/ok/train-images-idx3-ubyte.gz', range: `bytes=${kept}-` });
    expect(listing(root)).toEqual(ALL);
  });

  it('resumes on the same mirror when the connection is cut mid-file', async () => {
    const root = tmp();
    await resetLog();
    const ds = await MNIST.load({ root, train: false, download: true, mirrors: [`${base}/drop/`], progress: false });
    expect(ds.length).toBe(10000);
    const images = (await requests()).filter((r) => r.path === '/drop/t10k-images-idx3-ubyte.gz');
    expect(images).toEqual([
      { path: '/drop/t10k-images-idx3-ubyte.gz', range: null },
      { path: '/drop/t10k-images-idx3-ubyte.gz', range: `bytes=${1648877 >> 1}-` },
    ]);
  });

  it('a partial file that does not belong to the download is fetched again whole', async () => {
    // A mirror that ignores Range sends the whole file at once; one that honours it sends the
    // rest, which fails the MD5 check, and the file is then fetched again from its start.
    for (const [mode, ranges] of [['norange', ['bytes=1000-']], ['ok', ['bytes=1000-', null]]] as const) {
      const root = tmp();
      const raw = join(root, 'MNIST', 'raw');
      mkdirSync(raw, { recursive: true });
      writeFileSync(join(raw, 't10k-labels-idx1-ubyte.gz.part'), new Uint8Array(1000).fill(7));
      await resetLog();
      const ds = await MNIST.load({ root, train: false, download: true, mirrors: [`${base}/${mode}/`], progress: false });
      expect(ds.length).toBe(10000);
      expect(md5Hex(readFileSync(join(raw, 't10k-labels-idx1-ubyte.gz')))).toBe('ec29112dd5afa0611ce80d1b7f02629c');
      expect((await requests()).filter((r) => r.path.endsWith('t10k-labels-idx1-ubyte.gz')).map((r) => r.range), mode).toEqual(ranges);
    }
  });

  it('the in-memory path (browsers) fetches the split\'s two files, checks and decompresses them', async () => {
    // Without process.getBuiltinModule webgrad behaves as in a browser: no files, fetch into memory.
    const proc = process as { getBuiltinModule?: unknown };
    const saved = proc.getBuiltinModule;
    await resetLog();
    let ds: MNIST;
    try {
      proc.getBuiltinModule = undefined;
      expect(() => new MNIST({ download: true })).toThrow(/MNIST: in a browser, use `await MNIST\.load\(\{ download: true \}\)`/);
      ds = await MNIST.load({ train: false, download: true, mirrors: [closed, `${base}/ok/`] });
    } finally {
      proc.getBuiltinModule = saved;
    }
    expect(ds.length).toBe(10000);
    expect(Array.from(ds.labels.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
    expect((await requests()).map((r) => r.path)).toEqual(['/ok/t10k-images-idx3-ubyte.gz', '/ok/t10k-labels-idx1-ubyte.gz']);
  });

  it('the default root is webgrad\'s cache folder, and WEBGRAD_DATA_DIR moves it', () => {
    const keys = ['WEBGRAD_DATA_DIR', 'WEBGRAD_CACHE_DIR', 'XDG_CACHE_HOME'] as const;
    const saved = keys.map((k) => process.env[k]);
    try {
      delete process.env.WEBGRAD_DATA_DIR;
      delete process.env.WEBGRAD_CACHE_DIR;
      process.env.XDG_CACHE_HOME = '/x/cache';
      expect(defaultDataRoot()).toBe('/x/cache/webgrad/datasets');
      process.env.WEBGRAD_DATA_DIR = '/y/data';
      expect(defaultDataRoot()).toBe('/y/data');
    } finally {
      keys.forEach((k, i) => (saved[i] === undefined ? delete process.env[k] : (process.env[k] = saved[i])));
    }
  });
});

describe('FashionMNIST download', () => {
  it('downloads into <root>/FashionMNIST/raw and checks Zalando\'s MD5s', async () => {
    // Debian's package recompressed the files (same images, other gzip bytes), so against the
    // published MD5 they count as different files: the check must say so and keep nothing.
    const debian = '/usr/share/datasets/fashion-mnist';
    if (!existsSync(join(debian, 't10k-labels-idx1-ubyte.gz'))) throw new Error(`${debian} is missing: run scripts/setup.sh`);
    const { proc, port } = await startServer(debian);
    try {
      const root = tmp();
      const err = await FashionMNIST.load({ root, train: false, download: true, mirrors: [`http://127.0.0.1:${port}/ok/`], progress: false }).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/^FashionMNIST: could not download train-images-idx3-ubyte\.gz: .*MD5 cf8536b0aa1a6ac5fa3f23001093305c differs from the published 8d4fb7e6c68d591d4c3dfef9ec88bf0d/);
      expect(readdirSync(join(root, 'FashionMNIST', 'raw'))).toEqual([]);
      // Without a root the Debian folder is found, and nothing is downloaded.
      expect(new FashionMNIST({ train: false, download: true, mirrors: [closed] }).length).toBe(10000);
    } finally {
      proc.kill();
    }
  });
});
