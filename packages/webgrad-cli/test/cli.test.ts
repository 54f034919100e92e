// The `webgrad` command, run as a subprocess through bin/webgrad.mjs: help and --version, errors
// (each one line naming the fix, before anything trains: unknown recipe, missing data folder,
// unwritable output paths, a foreign checkpoint), the data folder by default, one short training
// run whose output folder holds metrics.json, a checkpoint that `webgrad eval` reads back, and
// the three plots as well-formed SVG (with the marks each plot should draw) and PNG; and the
// launcher's filter of Dawn's informational stderr lines.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, existsSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { dawnStderrFilter, isDawnInfoLine } from '../bin/dawn-stderr.mjs';
import { MNIST_ROOT } from '../../../test/data/helpers.ts';

const BIN = resolve(import.meta.dirname, '../bin/webgrad.mjs');

function run(env: Record<string, string>, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 110_000, env: { ...process.env, NO_COLOR: '1', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const webgrad = (...args: string[]) => run({}, ...args);
const tmp = () => mkdtempSync(join(tmpdir(), 'webgrad-cli-'));

/** A failure before any training: exit code 1, nothing on stdout, one stderr line matching `message`. */
function expectOneLineError(r: ReturnType<typeof webgrad>, message: RegExp): void {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(message);
}

/** A safetensors file with one tensor and no webgrad metadata: what another program saves. */
function foreignCheckpoint(file: string): void {
  const header = Buffer.from(JSON.stringify({ weight: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  writeFileSync(file, Buffer.concat([len, header, Buffer.from(new Float32Array([1]).buffer)]));
}

/** Counts the `path`/`text` elements under each vega mark group (`rect/mark:path` → bars …). */
function svgMarks(svg: string): Record<string, number> {
  expect(XMLValidator.validate(svg)).toBe(true);
  const tree = new XMLParser({ ignoreAttributes: false, preserveOrder: true }).parse(svg) as Record<string, unknown>[];
  const counts: Record<string, number> = {};
  const walk = (nodes: Record<string, unknown>[], mark: string) => {
    for (const n of nodes) {
      const tag = Object.keys(n).find((k) => k !== ':@')!;
      const cls = ((n[':@'] as Record<string, string> | undefined)?.['@_class'] ?? '').match(/mark-(\w+) role-(\w+)/);
      const m = cls ? `${cls[1]}/${cls[2]}` : mark;
      if (tag === 'path' || tag === 'text') counts[`${m}:${tag}`] = (counts[`${m}:${tag}`] ?? 0) + 1;
      if (Array.isArray(n[tag])) walk(n[tag] as Record<string, unknown>[], m);
    }
  };
  walk(tree, '');
  return counts;
}

function expectPng(file: string): void {
  const bytes = readFileSync(file);
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(bytes.length).toBeGreaterThan(10_000);
}

describe('webgrad CLI', () => {
  it('--help explains the commands, and train --help every option and recipe', () => {
    const top = webgrad('--help');
    expect(top.code).toBe(0);
    for (const w of ['train', 'eval', 'recipes']) expect(top.stdout).toContain(w);
    const train = webgrad('train', '--help');
    expect(train.code).toBe(0);
    for (const w of ['--data', '--epochs', '--batch-size', '--lr', '--seed', '--limit', '--save', '--resume', '--out', '000', '001-tiny', '001-pool', '002-scratch', '002-modules', '003-linear', '003-two-layer', '004']) {
      expect(train.stdout).toContain(w);
    }
  });

  it('an unknown recipe fails with the list of valid ones', () => {
    const r = webgrad('train', '005');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown recipe "005"');
    expect(r.stderr).toContain('000, 001-tiny, 001-pool, 002-scratch, 002-modules, 003-linear, 003-two-layer, 004');
  });

  it('a missing data folder fails before training, naming the folder and the fix', () => {
    const r = webgrad('train', '000', '--data', '/no/such/mnist');
    expectOneLineError(r, /data folder "\/no\/such\/mnist" does not exist: pass --data with a folder holding MNIST's four IDX files \(train-images-idx3-ubyte/);
  });

  it('--version prints the versions of webgrad-cli and of the library', () => {
    const r = webgrad('--version');
    expect(r.code).toBe(0);
    const version = (f: string) => JSON.parse(readFileSync(resolve(import.meta.dirname, f), 'utf8')).version;
    expect(r.stdout.trim()).toBe(`webgrad-cli ${version('../package.json')} (webgrad ${version('../../../package.json')})`);
  });

  it('every command-line mistake is one line that points at the help', () => {
    expectOneLineError(webgrad('train', '004', '--foo'), /^error: unknown option '--foo' \(see `webgrad train --help`\)$/);
    expectOneLineError(webgrad('train'), /^error: missing required argument 'recipe' \(see `webgrad train --help`\)$/);
    expectOneLineError(webgrad('train', '004', '--epochs', 'x'), /--epochs must be an integer ≥ 0, got "x"\. \(see `webgrad train --help`\)$/);
    expectOneLineError(webgrad('frobnicate'), /^error: unknown command 'frobnicate' \(see `webgrad --help`\)$/);
  });

  it('output paths that cannot be written fail before training starts', () => {
    const dir = tmp();
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    expectOneLineError(webgrad('train', '004', '--data', 'embedded', '--save', join(file, 'ck.safetensors')), /^error: --save: cannot create the folder of .*a-file\/ck\.safetensors: .*a-file is a file, not a folder; pass a path you can write$/);
    expectOneLineError(webgrad('train', '004', '--data', 'embedded', '--out', join(file, 'run')), /^error: --out: cannot create the folder .*a-file\/run: /);
    expectOneLineError(webgrad('train', '004', '--data', 'embedded', '--out', file), /^error: --out .*a-file is a file, not a folder: pass a folder path$/);
    expectOneLineError(webgrad('train', '004', '--data', 'embedded', '--save', dir), /^error: --save .* is a folder: pass a file path such as .*\/checkpoint\.safetensors$/);
    expectOneLineError(webgrad('train', '004', '--data', 'embedded', '--out', '/proc/webgrad-run'), /^error: --out: cannot create the folder \/proc\/webgrad-run \(E[A-Z]+ at \/proc\/webgrad-run\)/);
    expectOneLineError(webgrad('eval', file, '--out', join(file, 'plots')), /^error: --out: cannot create the folder /);
  });

  it('--resume of a file that is not a webgrad train checkpoint says what it is and what to do', () => {
    const dir = tmp();
    const foreign = join(dir, 'state.safetensors');
    foreignCheckpoint(foreign);
    let r = webgrad('train', '004', '--data', 'embedded', '--out', join(dir, 'run'), '--resume', foreign);
    expectOneLineError(r, /^error: --resume .*state\.safetensors: not a checkpoint of `webgrad train` \(it has no recipe, epoch, model and optimizer entries\); resume from the --save file of a run, or train from scratch without --resume$/);
    writeFileSync(join(dir, 'notes.txt'), 'hello');
    r = webgrad('train', '004', '--data', 'embedded', '--out', join(dir, 'run'), '--resume', join(dir, 'notes.txt'));
    expectOneLineError(r, /^error: --resume .*notes\.txt: not a checkpoint webgrad can read \(.*\); pass a file written by `webgrad train`$/);
    r = webgrad('eval', foreign);
    expectOneLineError(r, /^error: checkpoint .*state\.safetensors does not say which recipe wrote it: pass --recipe \(one of 000, 001-tiny/);
  });

  it('without --data, MNIST comes from the data folder (downloaded there on first use)', () => {
    // A data folder that already holds the files (links to the real ones): no network needed.
    const root = tmp();
    mkdirSync(join(root, 'MNIST', 'raw'), { recursive: true });
    for (const f of ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) symlinkSync(join(MNIST_ROOT, f), join(root, 'MNIST', 'raw', f));
    const r = run({ WEBGRAD_DATA_DIR: root }, 'train', '004', '--epochs', '1', '--limit', '128', '--no-plots', '--out', join(tmp(), 'run'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`data: 128 training and 128 test samples from MNIST (${root})`);
    expect(r.stderr).toBe('');
  });

  it('train writes metrics.json, a checkpoint and the three plots; eval reads the checkpoint back', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'webgrad-cli-')), 'run');
    const r = webgrad('train', '004', '--data', 'embedded', '--epochs', '2', '--limit', '320', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Epoch: 2, Loss:');
    // Dawn's informational lines are filtered by the launcher: nothing else was written to stderr.
    expect(r.stderr).toBe('');

    const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(m.recipe).toBe('004');
    expect(m.hyperparameters).toMatchObject({ epochs: 2, batchSize: 64, lr: 0.001, seed: 0, limit: 320 });
    expect(m.epochs).toHaveLength(2);
    for (const e of m.epochs) {
      for (const k of ['trainLoss', 'evalLoss', 'evalAccuracy', 'seconds']) expect(Number.isFinite(e[k]), k).toBe(true);
    }
    expect(m.epochs[1].trainLoss).toBeLessThan(m.epochs[0].trainLoss);
    expect(m.final.count).toBe(320);

    const curves = svgMarks(readFileSync(join(out, 'curves.svg'), 'utf8'));
    expect(curves['line/mark:path']).toBe(3); // training loss, test loss, test accuracy
    expect(curves['symbol/mark:path']).toBe(6); // one point per epoch on each line
    const samples = svgMarks(readFileSync(join(out, 'samples.svg'), 'utf8'));
    expect(samples['text/mark:text']).toBe(24); // 24 digits, each captioned "pred P · true T"
    expect(samples['rect/mark:path']).toBeGreaterThan(24 * 50); // their pixels
    const histogram = svgMarks(readFileSync(join(out, 'histogram.svg'), 'utf8'));
    expect(histogram['rect/mark:path']).toBe(20); // predictions and labels for 10 classes
    for (const name of ['curves', 'samples', 'histogram']) expectPng(join(out, `${name}.png`));

    const ck = join(out, 'checkpoint.safetensors');
    expect(existsSync(ck) && statSync(ck).size > 100_000).toBe(true);
    const ev = webgrad('eval', ck, '--limit', '320', '--data', 'embedded');
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stdout).toContain(`(${m.final.correct}/320)`);

    // Resuming another recipe's checkpoint names both recipes and the command that fits.
    const other = webgrad('train', '000', '--data', 'embedded', '--out', join(out, 'other'), '--resume', ck);
    expectOneLineError(other, new RegExp(`^error: --resume .*checkpoint\\.safetensors: a checkpoint of recipe 004, not 000; run \`webgrad train 004 --resume ${ck.replace(/[.\\/]/g, '\\$&')}\`$`));
  });
});

describe('the launcher\'s stderr filter', () => {
  const DAWN = [
    'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.',
    'Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.',
  ];
  it('drops exactly Dawn\'s informational lines', () => {
    for (const l of DAWN) expect(isDawnInfoLine(l)).toBe(true);
    for (const l of ['Warning: something else', 'error: device lost', 'Error: Dawn validation failed: maxDynamicUniformBuffersPerPipelineLayout artificially reduced']) expect(isDawnInfoLine(l)).toBe(false);
  });

  it('passes every other line through, whole, however the bytes are split', async () => {
    const input = `${DAWN[0]}\nfirst line\n${DAWN[1]}\nerror: real trouble\nno newline at the end`;
    for (const cut of [1, 7, 50, input.length]) {
      const f = dawnStderrFilter();
      const out: string[] = [];
      f.on('data', (b: Buffer) => out.push(b.toString()));
      const ended = new Promise((r) => f.on('end', r));
      for (let i = 0; i < input.length; i += cut) f.write(input.slice(i, i + cut));
      f.end();
      await ended;
      expect(out.join(''), `chunks of ${cut}`).toBe('first line\nerror: real trouble\nno newline at the end');
    }
  });
});
