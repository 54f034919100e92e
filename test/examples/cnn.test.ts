// Tutorial 001's two CNNs each run one short epoch on a subset of the embedded digits,
// in-process through their exported main(), and their loss goes down.
import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectLossDecreases } from './helpers.ts';
import { main as tiny } from '../../examples/001-tiny-cnn.ts';
import { main as pooling } from '../../examples/001-pooling-cnn.ts';

useGpu();

describe('examples: CNNs on a tiny subset', () => {
  it('001-pooling-cnn: conv/max-pool/dropout2d, SGD momentum 0.5', async () => {
    const r = await pooling(['--limit', '768', '--batch-size', '32', '--epochs', '1', '--quiet']);
    expect(r.batchLosses).toHaveLength(24);
    expectLossDecreases(r.batchLosses, 4, 0.01); // 24 steps at lr 0.01: 2.31 → 2.28
    expect(r.testAccuracy).toHaveLength(1);
  });

  it('001-tiny-cnn: two 1-channel convolutions', async () => {
    // Its one-channel convolutions start nearly dead for many seeds (PyTorch's too: seed 0
    // sits at chance for 3 epochs there) and then learn nothing in 32 steps; with webgrad's
    // seed 0 they start alive (seeds 1-8 do not), so one short epoch shows learning.
    const r = await tiny(['--limit', '1024', '--batch-size', '32', '--epochs', '1', '--seed', '0', '--quiet']);
    expect(r.batchLosses).toHaveLength(32);
    expectLossDecreases(r.batchLosses, 4, 0.03);
  });
});
