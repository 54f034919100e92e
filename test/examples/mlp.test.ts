// The MLP examples (tutorials 000, 002 and 004) each run one short epoch on a subset of the
// embedded digits, in-process through their exported main(), and their loss goes down.
import { describe, expect, it } from 'vitest';
import { useGpu } from '../helpers/gpu.ts';
import { expectLossDecreases } from './helpers.ts';
import { main as simpleNN } from '../../examples/000-simple-nn.ts';
import { main as autogradBasics } from '../../examples/002-autograd-basics.ts';
import { main as fromScratch } from '../../examples/002-mlp-from-scratch.ts';
import { main as modules } from '../../examples/002-mlp-modules.ts';
import { main as adam } from '../../examples/004-adam-mlp.ts';

useGpu();

describe('examples: MLPs on a tiny subset', () => {
  it('000-simple-nn: SGD lr 0.01, one epoch of 40 batches', async () => {
    const r = await simpleNN(['--limit', '1000', '--batch-size', '25', '--epochs', '1', '--quiet']);
    expect(r.batchLosses).toHaveLength(40);
    expectLossDecreases(r.batchLosses, 5, 0.05);
    expect(r.testAcc).toBeGreaterThan(0.2); // chance is 0.1
  });

  it('002-autograd-basics: gradients are cos(a) and -sin(b), then accumulate', async () => {
    const r = await autogradBasics(['--quiet']);
    const a = [1, 2, 3];
    const b = [4, 5, 6];
    r.aGrad.forEach((g, i) => expect(g).toBeCloseTo(Math.cos(a[i]!), 5));
    r.bGrad.forEach((g, i) => expect(g).toBeCloseTo(-Math.sin(b[i]!), 5));
    r.accumulated.forEach((g, i) => expect(g).toBeCloseTo(Math.cos(a[i]!) + 1, 5));
    expect(r.zeroed).toEqual([0, 0, 0]);
  });

  it('002-mlp-from-scratch: raw tensors, hand-written CE, manual SGD', async () => {
    const r = await fromScratch(['--limit', '1200', '--batch-size', '64', '--epochs', '1', '--quiet']);
    expect(r.batchLosses.length).toBe(18); // 1100 training images after the 11:1 split
    expectLossDecreases(r.batchLosses, 3, 0.2);
    expect(r.validationAccuracy[0]).toBeGreaterThan(0.3); // 100 validation images; chance is 0.1
  });

  it('002-mlp-modules: FullyConnected + F.crossEntropy + optim.SGD', async () => {
    const r = await modules(['--limit', '1200', '--batch-size', '64', '--epochs', '1', '--quiet']);
    expectLossDecreases(r.batchLosses, 3, 0.2);
    expect(r.validationAccuracy[0]).toBeGreaterThan(0.4);
  });

  it('004-adam-mlp: Adam lr 0.001', async () => {
    const r = await adam(['--limit', '1000', '--epochs', '1', '--quiet']);
    expect(r.batchLosses).toHaveLength(16);
    expectLossDecreases(r.batchLosses, 3, 0.3);
    expect(r.testAcc).toBeGreaterThan(0.5);
  });
});
