// Tutorial 003's two 3-vs-7 models run on a subset of the rebuilt MNIST_TINY (embedded
// digits), in-process through their exported main(), and their loss goes down.
import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectLossDecreases } from './helpers.ts';
import { main as linear } from '../../examples/003-linear-3v7.ts';
import { main as twoLayer } from '../../examples/003-two-layer-3v7.ts';

useGpu();

describe('examples: 3 vs 7 from scratch', () => {
  // The whole 709-image training set is only 3 batches of 256: train on batches of 32 instead.
  it('003-linear-3v7: x @ w + b, sigmoid loss, lr 1', async () => {
    const r = await linear(['--batch-size', '32', '--epochs', '1', '--quiet']);
    expect(r.batchLosses).toHaveLength(23);
    expectLossDecreases(r.batchLosses, 4, 0.02);
    expect(r.accuracy).toHaveLength(1);
  });

  it('003-two-layer-3v7: 784-30-1 with max(0)', async () => {
    const r = await twoLayer(['--batch-size', '32', '--epochs', '1', '--quiet']);
    expectLossDecreases(r.batchLosses, 4, 0.02);
    expect(r.accuracy[0]).toBeGreaterThan(0.5);
  });
});
