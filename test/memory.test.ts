// Memory stays bounded: 1000 small training steps leave live tensors and GPU bytes flat.
import { describe, expect, it } from 'vitest';
import { memory, noGrad, randn, scope, tensor, manualSeed, type Tensor } from '../src/index.ts';
import { useGpu } from './helpers/gpu.ts';
import { collectGarbage } from './helpers/gc.ts';

useGpu();

describe('memory', () => {
  it('a loop of 1000 forward/backward/update steps leaves memory() flat', async () => {
    manualSeed(1);
    const w1 = randn(8, 16, { requiresGrad: true });
    const w2 = randn(16, 4, { requiresGrad: true });
    const x = randn(32, 8);
    const y = randn(32, 4);
    const params: Tensor[] = [w1, w2];
    const step = () =>
      scope(() => {
        const h = x.matmul(w1).relu();
        const loss = h.matmul(w2).sub(y).square().mean();
        loss.backward();
        noGrad(() => {
          for (const p of params) {
            p.sub_(p.grad!.mul(1e-3));
            p.grad!.zero_();
          }
        });
        return loss.detach();
      });
    // Warm up so the pool and the grads exist.
    for (let i = 0; i < 5; i++) step().dispose();
    const l0 = step();
    await l0.item();
    l0.dispose();
    await collectGarbage(); // earlier tests' garbage must not be finalized inside the measured window
    const before = memory();
    let last = 0;
    for (let i = 0; i < 1000; i++) {
      const l = step();
      if (i % 250 === 249) last = await l.item();
      l.dispose();
    }
    const after = memory();
    expect(Number.isFinite(last)).toBe(true);
    expect(after.liveTensors).toBe(before.liveTensors);
    expect(after.webgpu!.liveBuffers).toBe(before.webgpu!.liveBuffers);
    expect(after.webgpu!.bytesInUse).toBe(before.webgpu!.bytesInUse);
    expect(after.webgpu!.bytesAllocated).toBe(before.webgpu!.bytesAllocated);
  });

  it('dispose, scope and [Symbol.dispose] free storages; graphs without backward are freed too', () => {
    const base = memory();
    {
      using t = tensor([1, 2, 3]);
      expect(memory().liveTensors).toBe(base.liveTensors + 1);
      void t;
    }
    expect(memory().liveTensors).toBe(base.liveTensors);
    const x = tensor([1, 2, 3], { dtype: 'float32', requiresGrad: true });
    const kept = scope(() => x.exp().mul(2).sum());
    expect(kept.gradFn).not.toBeNull();
    kept.dispose(); // never backwarded: its saved tensors go with it
    x.dispose();
    expect(memory().liveTensors).toBe(base.liveTensors);
    expect(memory().webgpu!.liveBuffers).toBe(base.webgpu!.liveBuffers);
  });
});
