// Where `webgrad train` takes MNIST from without --data: downloaded into the data folder on first
// use (against the local mirror server of the library's download tests; no network), and the
// embedded digits with a one-line note when no mirror answers. In-process, no GPU.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { data } from 'webgrad';
import { resolveDataDir } from '../src/data-source.ts';
import { requireMnist } from '../../../test/data/helpers.ts';

let server: ChildProcess;
let base: string;
const mirrors = data.MNIST.mirrors;
const savedRoot = process.env.WEBGRAD_DATA_DIR;

beforeAll(async () => {
  server = spawn(process.execPath, [fileURLToPath(new URL('../../../test/helpers/mirror-server.mjs', import.meta.url)), requireMnist()], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => server.stdout!.once('data', (b: Buffer) => resolve(JSON.parse(b.toString()).port)));
  base = `http://127.0.0.1:${port}`;
});
afterAll(() => server.kill());
afterEach(() => {
  data.MNIST.mirrors = mirrors;
  if (savedRoot === undefined) delete process.env.WEBGRAD_DATA_DIR;
  else process.env.WEBGRAD_DATA_DIR = savedRoot;
  vi.restoreAllMocks();
});

describe('the CLI\'s data source', () => {
  it('--data DIR and --data embedded are taken as given', async () => {
    expect(await resolveDataDir('/some/dir', { progress: false })).toBe('/some/dir');
    expect(await resolveDataDir('embedded', { progress: false })).toBeUndefined();
  });

  it('by default MNIST is downloaded into the data folder, once', async () => {
    const root = mkdtempSync(join(tmpdir(), 'webgrad-cli-data-'));
    process.env.WEBGRAD_DATA_DIR = root;
    data.MNIST.mirrors = [`${base}/missing/`, `${base}/ok/`]; // torchvision's way of changing them
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((l: string) => void lines.push(l));
    expect(await resolveDataDir(undefined, { progress: true })).toBe(root);
    expect(readdirSync(join(root, 'MNIST', 'raw')).sort()).toEqual(['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz']);
    // Not a terminal: one line per file started and finished.
    expect(lines.filter((l) => l.startsWith('downloaded '))).toHaveLength(4);
    expect(lines).toContain('downloaded train-images-idx3-ubyte.gz (9.9 MB, MD5 checked)');
    lines.length = 0;
    expect(await resolveDataDir(undefined, { progress: true })).toBe(root);
    expect(lines).toEqual([]);
  });

  it('when no mirror answers it says so in one line and falls back to the embedded digits', async () => {
    process.env.WEBGRAD_DATA_DIR = mkdtempSync(join(tmpdir(), 'webgrad-cli-data-'));
    data.MNIST.mirrors = ['http://127.0.0.1:2/'];
    const warnings: string[] = [];
    expect(await resolveDataDir(undefined, { progress: false, warn: (l) => warnings.push(l) })).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^note: MNIST is not in .* and could not be downloaded \(MNIST: could not download train-images-idx3-ubyte\.gz: http:\/\/127\.0\.0\.1:2\/train-images-idx3-ubyte\.gz: ECONNREFUSED\); training on the 10 000 embedded digits of the mnist package instead\. Pass --data DIR with the four IDX files, or --data embedded to skip the download\.$/);
    expect(warnings[0]).not.toContain('\n');
  });
});
