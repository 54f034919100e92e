// What `webgrad train` and `webgrad eval` do: build a recipe's data, model and optimizer,
// train with a progress bar, evaluate after every epoch, write metrics.json, a checkpoint and
// the three plots to the output folder. The command-line parsing is in main.ts.

import { writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { adapterInfo, data, defaultGenerator, disposeCheckpoint, init, load, manualSeed, save, type nn } from 'webgrad';
import { checkDataFlag, resolveDataDir } from './data-source.ts';
import { CliError, oneLine } from './errors.ts';
import { ensureWritableDir, ensureWritableFile } from './output-paths.ts';
import { curvesSpec, histogramSpec, renderSvg, samplesSpec, svgToPng, type DigitSample } from './recipes/plots.ts';
import { RECIPES, getRecipe, type EpochMetrics, type Recipe, type RecipeData } from './recipes/registry.ts';
import { evaluate, trainEpoch, type BatchLoader, type EvalResult } from './recipes/trainer.ts';
import { EpochProgress } from './progress.ts';

export interface TrainOptions {
  data?: string;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  limit?: number;
  save?: string;
  resume?: string;
  out?: string;
  plots: boolean;
  progress: boolean;
  /** The command line, recorded in metrics.json. */
  command: string;
}

/** What a run leaves in its output folder (metrics.json's shape). */
export interface RunMetrics {
  recipe: string;
  title: string;
  tutorial: string;
  command: string;
  device: string;
  data: string;
  hyperparameters: { epochs: number; batchSize: number; lr: number; seed: number; limit: number | null };
  trainSize: number;
  evalName: string;
  evalSize: number;
  epochs: EpochMetrics[];
  final: { epoch: number; evalAccuracy: number; evalLoss: number; correct: number; count: number } | null;
  meanEpochSeconds: number | null;
  checkpoint: string;
  plots: string[];
  startedAt: string;
  finishedAt: string | null;
}

const stamp = () => new Date().toISOString().replace(/:/g, '-').replace(/\..*$/, '');

/** What preflight settled: the recipe and where the run writes. */
export interface Preflight {
  recipe: Recipe;
  /** The output folder (created, and known to be writable). */
  out: string;
  /** The checkpoint file (its folder known to be writable). */
  checkpoint: string;
}

/**
 * Checks everything that can be checked before the GPU starts and before any training: the
 * recipe name, the data folder, the resume file, and that the output folder, the checkpoint's
 * folder and so the plots can be written (creating the output folder).
 */
export function preflight(recipeName: string, opts: { data?: string | undefined; resume?: string | undefined; out?: string | undefined; save?: string | undefined }): Preflight {
  const recipe = getRecipe(recipeName);
  checkDataFlag(opts.data);
  if (opts.resume !== undefined && !existsSync(opts.resume)) throw new CliError(`--resume ${opts.resume}: no such file; pass a checkpoint written by \`webgrad train\` (its --save file, or <out>/checkpoint.safetensors)`);
  const out = resolve(opts.out ?? join('runs', `${recipe.id}-${stamp()}`));
  ensureWritableDir(out, '--out');
  const checkpoint = resolve(opts.save ?? join(out, 'checkpoint.safetensors'));
  if (opts.save !== undefined) ensureWritableFile(checkpoint, '--save');
  return { recipe, out, checkpoint };
}

/**
 * Loads a checkpoint written by `webgrad train`, or throws a CliError that says what the file is
 * instead and what to do (a state dict of another program, another recipe's checkpoint).
 */
async function loadRunCheckpoint(file: string, flag: string): Promise<Record<string, any>> {
  try {
    return await load(file);
  } catch (e) {
    throw new CliError(`${flag} ${file}: not a checkpoint webgrad can read (${oneLine((e as Error).message)}); pass a file written by \`webgrad train\``);
  }
}

/** Loads `state` into `target`, turning a mismatch into a one-line CliError naming the file. */
function loadState(target: { loadStateDict(s: any): void }, state: unknown, what: string, file: string, flag: string): void {
  try {
    target.loadStateDict(state);
  } catch (e) {
    throw new CliError(`${flag} ${file}: its ${what} does not fit this recipe's (${oneLine((e as Error).message)})`);
  }
}

function loaders(recipe: Recipe, d: RecipeData, batchSize: number): { train: BatchLoader; eval: BatchLoader } {
  return {
    train: new data.DataLoader(d.train, { batchSize, shuffle: true }) as unknown as BatchLoader,
    eval: new data.DataLoader(d.eval, { batchSize: recipe.evalBatchSize, shuffle: false }) as unknown as BatchLoader,
  };
}

/** Trains `recipeName`; returns the metrics written to `<out>/metrics.json`. */
export async function train(recipeName: string, o: TrainOptions): Promise<RunMetrics> {
  const { recipe, out, checkpoint } = preflight(recipeName, o);
  const hyper = {
    epochs: o.epochs ?? recipe.defaults.epochs,
    batchSize: o.batchSize ?? recipe.defaults.batchSize,
    lr: o.lr ?? recipe.defaults.lr,
    seed: o.seed ?? recipe.defaults.seed,
    limit: o.limit ?? null,
  };
  const dataDir = await resolveDataDir(o.data, { progress: o.progress });

  await init();
  manualSeed(hyper.seed);
  const d = recipe.data({ dataDir, limit: o.limit });
  const { train: trainLoader, eval: evalLoader } = loaders(recipe, d, hyper.batchSize);
  const model = recipe.model();
  const opt = recipe.optimizer(model, hyper.lr);

  const metrics: RunMetrics = {
    recipe: recipe.id,
    title: recipe.title,
    tutorial: recipe.tutorial,
    command: o.command,
    device: adapterInfo() ?? 'unknown',
    data: d.source,
    hyperparameters: hyper,
    trainSize: d.train.length,
    evalName: recipe.evalName,
    evalSize: d.eval.length,
    epochs: [],
    final: null,
    meanEpochSeconds: null,
    checkpoint,
    plots: [],
    startedAt: new Date().toISOString(),
    finishedAt: null,
  };

  let firstEpoch = 1;
  if (o.resume) {
    const ck = await loadRunCheckpoint(o.resume, '--resume');
    try {
      if (typeof ck.recipe !== 'string' || typeof ck.epoch !== 'number' || !ck.model || !ck.optimizer) {
        throw new CliError(`--resume ${o.resume}: not a checkpoint of \`webgrad train\` (it has no recipe, epoch, model and optimizer entries); resume from the --save file of a run, or train from scratch without --resume`);
      }
      if (ck.recipe !== recipe.id) throw new CliError(`--resume ${o.resume}: a checkpoint of recipe ${ck.recipe}, not ${recipe.id}; run \`webgrad train ${ck.recipe} --resume ${o.resume}\``);
      loadState(model, ck.model, 'model', o.resume, '--resume');
      loadState(opt, ck.optimizer, 'optimizer state', o.resume, '--resume');
      if (ck.rng) defaultGenerator.setState(ck.rng);
      metrics.epochs = (ck.epochs as EpochMetrics[] | undefined) ?? [];
      firstEpoch = ck.epoch + 1;
    } finally {
      disposeCheckpoint(ck);
    }
  }

  console.log(`webgrad train ${recipe.id}: ${recipe.title}`);
  console.log(`device: ${metrics.device}`);
  console.log(`data: ${d.train.length} training and ${d.eval.length} ${recipe.evalName} samples from ${d.source}`);
  console.log(`epochs ${hyper.epochs}, batch size ${hyper.batchSize}, lr ${hyper.lr}, seed ${hyper.seed}${o.resume ? `, resumed at epoch ${firstEpoch}` : ''}; output: ${out}`);
  console.log(model.toString());

  const progress = new EpochProgress(o.progress);
  const writeMetrics = () => writeFile(join(out, 'metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
  let last: EvalResult | null = null;
  try {
    for (let epoch = firstEpoch; epoch <= hyper.epochs; epoch++) {
      progress.start(epoch, hyper.epochs, trainLoader.length);
      const tr = await trainEpoch(recipe, model, opt, trainLoader, epoch, {
        onBatch: (b, _n, loss) => progress.update(b, loss),
        log: (line) => progress.log(line),
        // Each read waits for the GPU queue to drain: only for a visible bar's loss.
        readEvery: progress.enabled ? 20 : 0,
      });
      progress.end();
      last = await evaluate(recipe, model, evalLoader);
      const m: EpochMetrics = { epoch, trainLoss: tr.loss, evalLoss: last.loss, evalAccuracy: last.accuracy, seconds: tr.seconds, evalSeconds: last.seconds };
      metrics.epochs.push(m);
      progress.log(recipe.epochLog(m, last.count));
      progress.log(`[epoch ${epoch}/${hyper.epochs}] ${tr.seconds.toFixed(1)} s training (${(trainLoader.length / tr.seconds).toFixed(1)} batch/s), ${last.seconds.toFixed(1)} s evaluation`);
      await save(
        { recipe: recipe.id, epoch, seed: hyper.seed, data: dataDir ?? null, model: model.stateDict(), optimizer: opt.stateDict(), rng: defaultGenerator.getState(), epochs: metrics.epochs as any },
        checkpoint,
      );
      await writeMetrics();
    }
  } finally {
    progress.stop();
  }

  if (!last) last = await evaluate(recipe, model, evalLoader); // nothing left to train (resumed at the end)
  metrics.final = { epoch: metrics.epochs.at(-1)?.epoch ?? 0, evalAccuracy: last.accuracy, evalLoss: last.loss, correct: last.correct, count: last.count };
  const secs = metrics.epochs.map((e) => e.seconds);
  metrics.meanEpochSeconds = secs.length ? secs.reduce((a, b) => a + b, 0) / secs.length : null;
  if (o.plots) metrics.plots = await writePlots(out, recipe, metrics, d, last);
  metrics.finishedAt = new Date().toISOString();
  await writeMetrics();
  console.log(`${recipe.evalName} accuracy ${(100 * last.accuracy).toFixed(2)}% (${last.correct}/${last.count}), loss ${last.loss.toFixed(4)}`);
  console.log(`wrote ${join(out, 'metrics.json')}, ${checkpoint}${metrics.plots.length ? `, ${metrics.plots.map((p) => p.split('/').pop()).join(', ')}` : ''}`);
  return metrics;
}

/** Up to 16 first evaluation samples and 8 misclassified ones, for the digits grid. */
function pickSamples(recipe: Recipe, d: RecipeData, r: EvalResult): DigitSample[] {
  const chosen: number[] = [];
  for (let i = 0; i < Math.min(16, r.preds.length); i++) chosen.push(i);
  for (let i = 0; i < r.preds.length && chosen.length < 24; i++) if (r.preds[i] !== r.labels[i] && !chosen.includes(i)) chosen.push(i);
  return chosen.map((i) => {
    const [x] = d.eval.get(i);
    const side = Math.round(Math.sqrt(x.data.length));
    return { pixels: x.data as ArrayLike<number>, height: side, width: side, pred: recipe.classNames[r.preds[i]!] ?? '?', label: recipe.classNames[r.labels[i]!] ?? '?' };
  });
}

/** Writes curves, samples and histogram as SVG (and PNG when resvg is available); returns the paths. */
export async function writePlots(out: string, recipe: Recipe, metrics: RunMetrics | null, d: RecipeData, r: EvalResult): Promise<string[]> {
  const title = `webgrad ${recipe.id}: ${recipe.title}`;
  const specs: [string, Parameters<typeof renderSvg>[0]][] = [];
  if (metrics && metrics.epochs.length) specs.push(['curves', curvesSpec(metrics.epochs, { title, evalName: recipe.evalName })]);
  specs.push(['samples', samplesSpec(pickSamples(recipe, d, r), { title: `${recipe.evalName} digits: ${title}` })]);
  specs.push(['histogram', histogramSpec(r.preds, r.labels, { title: `Predictions vs labels (${recipe.evalName} set, ${r.count} samples)`, classNames: recipe.classNames })]);
  const written: string[] = [];
  for (const [name, spec] of specs) {
    const svg = await renderSvg(spec);
    const svgPath = join(out, `${name}.svg`);
    await writeFile(svgPath, svg);
    written.push(svgPath);
    const png = await svgToPng(svg);
    if (png) {
      const pngPath = join(out, `${name}.png`);
      await writeFile(pngPath, png);
      written.push(pngPath);
    }
  }
  return written;
}

export interface EvalOptions {
  recipe?: string;
  data?: string;
  limit?: number;
  out?: string;
}

/** Evaluates a checkpoint written by `train` on its recipe's test or validation set. */
export async function evalCheckpoint(file: string, o: EvalOptions): Promise<EvalResult> {
  if (!existsSync(file)) throw new CliError(`checkpoint ${file}: no such file; pass a file written by \`webgrad train\` (its --save file, or <out>/checkpoint.safetensors)`);
  if (o.recipe !== undefined) getRecipe(o.recipe);
  checkDataFlag(o.data);
  const out = o.out === undefined ? undefined : resolve(o.out);
  if (out !== undefined) ensureWritableDir(out, '--out');
  await init();
  const ck = await loadRunCheckpoint(file, 'checkpoint');
  let model: nn.Module;
  let recipe: Recipe;
  let d: RecipeData;
  try {
    const name = o.recipe ?? (typeof ck.recipe === 'string' ? ck.recipe : undefined);
    if (!name) throw new CliError(`checkpoint ${file} does not say which recipe wrote it: pass --recipe (one of ${RECIPES.map((r) => r.id).join(', ')})`);
    recipe = getRecipe(name);
    // The data the run used, when it is still there; else as `train` would choose.
    const recorded = typeof ck.data === 'string' && existsSync(ck.data) ? ck.data : undefined;
    const dataDir = o.data !== undefined || recorded === undefined ? await resolveDataDir(o.data, { progress: false }) : recorded;
    manualSeed(typeof ck.seed === 'number' ? ck.seed : recipe.defaults.seed); // the same validation split as in training
    d = recipe.data({ dataDir, limit: o.limit });
    model = recipe.model();
    loadState(model, ck.model ?? ck, 'model', file, 'checkpoint');
  } finally {
    disposeCheckpoint(ck);
  }
  const { eval: evalLoader } = loaders(recipe, d, recipe.defaults.batchSize);
  const r = await evaluate(recipe, model, evalLoader);
  console.log(`webgrad eval ${file} (recipe ${recipe.id}${typeof ck.epoch === 'number' ? `, epoch ${ck.epoch}` : ''})`);
  console.log(`data: ${d.eval.length} ${recipe.evalName} samples from ${d.source}`);
  console.log(`${recipe.evalName} accuracy ${(100 * r.accuracy).toFixed(2)}% (${r.correct}/${r.count}), loss ${r.loss.toFixed(4)}`);
  if (out !== undefined) {
    const plots = await writePlots(out, recipe, null, d, r);
    console.log(`wrote ${plots.join(', ')}`);
  }
  return r;
}
