// Exact resume from the README's checkpoint: { model, optimizer, scheduler } saved after k
// epochs and loaded into fresh objects (in what could be a fresh process, the generator
// reseeded) continues bit-identically to an uninterrupted run, although Dropout and the
// loader's shuffling draw random numbers: save() records the generator's state, load() puts it back.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CheckpointError, F, data, defaultGenerator, disposeCheckpoint, load, manualSeed, nn, optim, parseCheckpoint, randint, randn, save,
  serializeCheckpoint, type Tensor,
} from '../../src/index.node.ts';
import { useGpu } from '../helpers/gpu.ts';

useGpu();

const dir = mkdtempSync(join(tmpdir(), 'webgrad-resume-'));

/** Model, optimizer and scheduler of the run, freshly made (initialised from the generator as it stands). */
function setup() {
  const model = new nn.Sequential(new nn.Linear(6, 16), new nn.ReLU(), new nn.Dropout(0.3), new nn.Linear(16, 3));
  const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
  const sched = new optim.StepLR(opt, { stepSize: 2, gamma: 0.5 });
  return { model, opt, sched };
}

type Run = ReturnType<typeof setup>;

/** The data set, made once: 40 samples, loaded in shuffled batches of 8. */
let loader: data.DataLoader<[Tensor, Tensor]>;

async function trainEpoch({ model, opt, sched }: Run): Promise<void> {
  model.train();
  for await (const [x, y] of loader) {
    opt.zeroGrad();
    const loss = F.crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    loss.dispose();
    x.dispose();
    y.dispose();
  }
  sched.step();
}

/** The raw bits of every parameter, so the comparison is exact. */
async function paramBits(model: nn.Module): Promise<number[][]> {
  return Promise.all(model.parameters().map(async (p) => [...new Uint32Array(Float32Array.from(await p.data()).buffer)]));
}

describe('resuming from { model, optimizer, scheduler } is exact by default', () => {
  const EPOCHS = 4;
  const K = 2;

  /** Trains K epochs, saves, reloads into fresh objects after reseeding, trains the rest. */
  async function resumed(saveOpts: { generator?: null } = {}, loadOpts: { generator?: null } = {}): Promise<number[][]> {
    manualSeed(11);
    const first = setup();
    for (let e = 0; e < K; e++) await trainEpoch(first);
    const path = join(dir, `ck-${Math.random().toString(36).slice(2)}.safetensors`);
    await save({ model: first.model.stateDict(), optimizer: first.opt.stateDict(), scheduler: first.sched.stateDict() }, path, saveOpts);
    // A new process: its own seed, its own freshly initialised objects.
    manualSeed(12345);
    const second = setup();
    const ck = await load(path, loadOpts);
    second.model.loadStateDict(ck.model);
    second.opt.loadStateDict(ck.optimizer);
    second.sched.loadStateDict(ck.scheduler);
    disposeCheckpoint(ck);
    for (let e = K; e < EPOCHS; e++) await trainEpoch(second);
    return paramBits(second.model);
  }

  it('train N epochs == train k, save, load into fresh objects, train N − k (bit for bit)', async () => {
    manualSeed(5);
    loader = new data.DataLoader(new data.TensorDataset(randn(40, 6), randint(0, 3, [40])), { batchSize: 8, shuffle: true }) as typeof loader;
    manualSeed(11);
    const straight = setup();
    for (let e = 0; e < EPOCHS; e++) await trainEpoch(straight);
    const expected = await paramBits(straight.model);
    expect(await resumed()).toEqual(expected);
    // The generator state is what makes it exact: without it, dropout masks and batches differ.
    expect(await resumed({ generator: null })).not.toEqual(expected);
    expect(await resumed({}, { generator: null })).not.toEqual(expected);
  });

  it('the state travels in the file metadata; a bad record fails the load and leaves the generator alone', async () => {
    manualSeed(13); // two digits: the corrupt copy below swaps them for "-1" at the same length
    const w = randn(5);
    const state = defaultGenerator.getState();
    const bytes = await serializeCheckpoint({ epoch: 1, w });
    randn(2).dispose(); // draws after the state was recorded
    expect(defaultGenerator.getState()).not.toEqual(state);
    manualSeed(99);
    const ck = parseCheckpoint(bytes);
    expect(defaultGenerator.getState()).toEqual(state);
    disposeCheckpoint(ck);
    w.dispose();
    // A flat state dict (a plain weights file) records nothing and restores nothing.
    manualSeed(42);
    const flat = parseCheckpoint(await serializeCheckpoint({ w: randn(2) }));
    manualSeed(43);
    const here = defaultGenerator.getState();
    disposeCheckpoint(parseCheckpoint(await serializeCheckpoint({ w: flat.w as Tensor })));
    expect(defaultGenerator.getState()).toEqual(here);
    disposeCheckpoint(flat);
    // A hostile or corrupt record: a CheckpointError, no tensor left behind, the generator untouched.
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n)).replace(/"seed\\":\d\d/, '"seed\\":-1');
    const broken = bytes.slice();
    broken.set(new TextEncoder().encode(header), 8);
    expect(header).toContain('"seed\\":-1');
    manualSeed(7);
    const before = defaultGenerator.getState();
    expect(() => parseCheckpoint(broken)).toThrow(CheckpointError);
    expect(() => parseCheckpoint(broken)).toThrow(/metadata "webgrad\.rng" must be \{ "seed": n, "counter": n \}/);
    expect(defaultGenerator.getState()).toEqual(before);
    await expect(serializeCheckpoint({ epoch: 1 }, { 'webgrad.rng': 'x' })).rejects.toThrow(/metadata key "webgrad\.rng" is reserved/);
  });
});
