// Every ```ts block of README.md and docs/*.md, so that the documentation cannot rot: all
// blocks are type-checked together (tsc, strict, `import … from 'webgrad'` meaning the
// sources), and each block not marked ```ts no-run (the browser one) runs as its own Node
// process, as a user would run it after copying it into a file, and must exit 0 on its own
// (no open GPU keeping it alive). MNIST comes from the real files through $WEBGRAD_DATA_DIR,
// so nothing is downloaded. Where a block claims a result in its comments or the text beside
// it, the claim is checked against what it printed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireMnist } from '../data/helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** Git-ignored: the extracted blocks and their tsconfig. */
const OUT = join(ROOT, '.snippets');

interface Snippet {
  /** "README.md:29": where the block starts (the line of its opening fence). */
  where: string;
  file: string;
  line: number;
  code: string;
  run: boolean;
  /** Where it is written for tsc and for running. */
  path: string;
}

/** The ```ts blocks of one markdown file. */
function extract(file: string): Snippet[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```ts( no-run)?\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    const name = `${file.replace(/[/.]/g, '_')}_L${start + 1}`;
    out.push({ where: `${file}:${start + 1}`, file, line: start + 1, code: `${body.join('\n')}\n`, run: !open[1], path: join(OUT, `${name}.ts`) });
  }
  return out;
}

const docs = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const snippets = docs.flatMap(extract);

/** What some blocks print, checked against what their text claims. */
const CLAIMS: { marker: string; check: (stdout: string) => void }[] = [
  {
    marker: "await save({ model: model.stateDict(), optimizer: optimizer.stateDict() }, 'mnist-mlp.safetensors');",
    check: (out) => {
      // "about 96 % then 97 % test accuracy"; the restored model scores what the trained one did.
      const acc = [...out.matchAll(/test accuracy (\d+\.\d+) %/g)].map((m) => Number(m[1]));
      expect(acc, out).toHaveLength(3);
      expect(acc[0]).toBeGreaterThan(94);
      expect(acc[1]).toBeGreaterThan(96);
      expect(acc[2]).toBe(acc[1]);
      expect(out).toMatch(/epoch 1 step 300: loss \d\.\d{4}/);
    },
  },
  {
    marker: 'a.sin().sum().backward(); // queued',
    check: (out) => expect(out).toContain('tensor([[ 0.5403, -0.4161],'),
  },
  {
    marker: 'return l.detach(); // the one tensor that leaves the scope',
    check: (out) => {
      const live = [...out.matchAll(/step (\d+): loss [\d.]+, (\d+) live tensors/g)].map((m) => Number(m[2]));
      expect(live, out).toHaveLength(4);
      expect(new Set(live).size, `live tensors at steps 25, 50, 75, 100: ${live.join(', ')}`).toBe(1);
    },
  },
  {
    marker: 'console.log(x.shape, y.shape); // [2500, 1, 28, 28] [2500], 4 times',
    check: (out) => expect(out.match(/\[ 2500, 1, 28, 28 \] \[ 2500 \]/g), out).toHaveLength(4),
  },
];

beforeAll(() => {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  for (const s of snippets) writeFileSync(s.path, s.code);
  writeFileSync(join(OUT, 'tsconfig.json'), JSON.stringify({ extends: '../tsconfig.json', include: ['*.ts'] }, null, 2));
});

describe('README.md and docs/*.md code blocks', () => {
  it('there are blocks to check, and every one is complete', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(6);
    for (const s of snippets) expect(s.code, `${s.where} imports what it uses`).toMatch(/^import .* from 'webgrad';$/m);
  });

  it('all type-check (strict), each on its own', () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', join(OUT, 'tsconfig.json')], { encoding: 'utf8', cwd: ROOT });
    // Report each error at its place in the markdown file.
    const errors = r.stdout
      .split('\n')
      .filter((l) => /error TS\d+/.test(l))
      .map((l) => {
        const m = /^(.*?)\((\d+),(\d+)\): (.*)$/.exec(l);
        const s = m && snippets.find((x) => resolve(ROOT, m[1]!) === x.path);
        return s ? `${s.file}:${s.line + Number(m![2])}: ${m![4]}` : l;
      });
    expect(errors, errors.join('\n')).toEqual([]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  let dataRoot: string;
  beforeAll(() => {
    // A data folder holding (links to) the real MNIST files: `download: true` finds them there.
    dataRoot = mkdtempSync(join(tmpdir(), 'webgrad-snippets-data-'));
    mkdirSync(join(dataRoot, 'MNIST', 'raw'), { recursive: true });
    const mnist = requireMnist();
    for (const f of ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']) {
      symlinkSync(join(mnist, f), join(dataRoot, 'MNIST', 'raw', f));
    }
  });

  for (const s of snippets.filter((x) => x.run)) {
    it(`${s.where} runs as written`, () => {
      const cwd = mkdtempSync(join(tmpdir(), 'webgrad-snippet-'));
      const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;
      const r = spawnSync(process.execPath, ['--import', tsx, s.path], {
        cwd,
        encoding: 'utf8',
        timeout: 280_000,
        env: { ...process.env, TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.json'), WEBGRAD_DATA_DIR: dataRoot, NO_COLOR: '1' },
      });
      const detail = `${s.where} (${relative(ROOT, s.path)}) exited ${r.status}${r.signal ? ` (${r.signal}: it did not finish in time, or did not exit)` : ''}\n${r.stdout}\n${r.stderr}`;
      expect(r.status, detail).toBe(0);
      for (const c of CLAIMS.filter((c) => s.code.includes(c.marker))) c.check(r.stdout);
    }, 300_000);
  }

  it('every claim checked above belongs to a block that still exists', () => {
    for (const c of CLAIMS) expect(snippets.some((s) => s.run && s.code.includes(c.marker)), c.marker).toBe(true);
  });
});
