// What every example shares besides the tutorial's code: its command-line options and how it
// runs as a script (init, then exit, since Dawn keeps Node alive) or in-process from a test.

import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { adapterInfo, init, manualSeed, shutdown } from '../../src/index.node.ts';

export interface ExampleOptions {
  epochs: number;
  /** Folder with the full MNIST IDX files; undefined: the embedded digits. */
  dataDir: string | undefined;
  seed: number;
  /** Use only the first N training (and evaluation) samples. */
  limit: number | undefined;
  batchSize: number;
  /** Print nothing (tests). */
  quiet: boolean;
}

const USAGE = `options:
  --epochs N       training epochs (default: the tutorial's)
  --data DIR       folder with the full MNIST IDX files (default: the embedded digits of the mnist package)
  --seed N         random seed (default: the tutorial's, else 0)
  --limit N        use only the first N training (and evaluation) samples, for quick checks
  --batch-size N   batch size (default: the tutorial's)
  --quiet          print nothing`;

function positiveInt(name: string, v: string | undefined, fallback: number | undefined): number | undefined {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${v}"\n${USAGE}`);
  return n;
}

/** Parses an example's argv against the tutorial's defaults, seeds webgrad and initialises the device. */
export async function setup(argv: string[], defaults: { epochs: number; batchSize: number; seed?: number }): Promise<ExampleOptions & { log: (...a: unknown[]) => void }> {
  const { values } = parseArgs({
    args: argv,
    options: {
      epochs: { type: 'string' },
      data: { type: 'string' },
      seed: { type: 'string' },
      limit: { type: 'string' },
      'batch-size': { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const opts: ExampleOptions = {
    epochs: positiveInt('epochs', values.epochs, defaults.epochs)!,
    dataDir: values.data,
    seed: positiveInt('seed', values.seed, defaults.seed ?? 0)!,
    limit: positiveInt('limit', values.limit, undefined),
    batchSize: positiveInt('batch-size', values['batch-size'], defaults.batchSize)!,
    quiet: values.quiet ?? false,
  };
  await init();
  manualSeed(opts.seed);
  const log = opts.quiet ? () => {} : (...a: unknown[]) => console.log(...a);
  log(`webgrad on ${adapterInfo()}`);
  return { ...opts, log };
}

/** Runs `main(process.argv)` when `moduleUrl` is the script node was started with, then exits. */
export function runIfMain(moduleUrl: string, main: (argv: string[]) => Promise<unknown>): void {
  const entry = process.argv[1];
  if (!entry || pathToFileURL(entry).href !== moduleUrl) return;
  main(process.argv.slice(2)).then(
    () => {
      shutdown();
      process.exit(0); // Dawn keeps the event loop alive
    },
    (e: unknown) => {
      console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
      process.exit(1);
    },
  );
}

/** Seconds since `t0` (a performance.now() value). */
export const since = (t0: number): number => (performance.now() - t0) / 1000;

/** Every loss in one readback (the CLI's helper): reading each would stall the GPU queue once per batch. */
export { readAll } from '../../packages/webgrad-cli/src/recipes/trainer.ts';
