// The global random generator: a Philox4x32-10 key (the seed) and a block counter that
// every random op advances by the blocks it consumes, so `manualSeed(n)` replays every
// random op exactly, on the GPU and on the CPU reference alike.

import type { RandomKind, RandomState } from '../backend/types.ts';
import { CpuStorage, cpuBackend, philoxBlocks } from '../backend/cpu/index.ts';

/** PyTorch's default seed, so an unseeded run is still deterministic. */
const DEFAULT_SEED = 67280421310721;

/**
 * A seeded Philox4x32-10 stream of random numbers (PyTorch's `torch.Generator`): the same seed
 * gives the same numbers on the GPU and the CPU reference. Pass one as `{ generator }` to a
 * random creation function to draw from it instead of the global one.
 */
export class Generator {
  private key: [number, number] = [0, 0];
  private counter = 0;
  private seed = DEFAULT_SEED;

  constructor(seed = DEFAULT_SEED) {
    this.manualSeed(seed);
  }

  /** Resets the generator: the same seed gives the same stream of random numbers. */
  manualSeed(seed: number): this {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`manualSeed: seed must be a non-negative safe integer, got ${seed}`);
    this.seed = seed;
    this.key = [seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0];
    this.counter = 0;
    return this;
  }

  /** The seed this generator was last seeded with. */
  initialSeed(): number {
    return this.seed;
  }

  /** Reserves the blocks for one random op and returns where it starts. */
  next(kind: RandomKind, numel: number): RandomState {
    const state: RandomState = { key: this.key, counter: this.counter };
    this.counter += philoxBlocks(kind, numel);
    return state;
  }

  /** A uniform float in [0, 1) drawn on the host (for shuffling and splits). */
  nextFloat(): number {
    return this.nextFloats(1)[0]!;
  }

  /** `n` uniform floats in [0, 1) computed on the host with the same Philox stream. */
  nextFloats(n: number): Float64Array {
    const s = cpuBackend.random('uniform', n, 'float32', this.next('uniform', n), 0, 1) as CpuStorage;
    const out = s.data.slice();
    s.release();
    return out;
  }

  /** Snapshot for checkpoints (PyTorch's get_state/set_state). */
  getState(): {
    /** The seed last set. */
    seed: number;
    /** Philox blocks consumed since then. */
    counter: number;
  } {
    return { seed: this.seed, counter: this.counter };
  }
  /** Restores a `getState()` snapshot: the stream continues from where it was taken. */
  setState(s: { seed: number; counter: number }): void {
    this.manualSeed(s.seed);
    this.counter = s.counter;
  }
}

/** The global generator that random ops use by default; `manualSeed(n)` reseeds it. */
export const defaultGenerator = new Generator();

/** Seeds the default generator (PyTorch's `torch.manual_seed`). */
export function manualSeed(seed: number): Generator {
  return defaultGenerator.manualSeed(seed);
}
