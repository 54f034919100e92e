// Submission batching (src/device/runtime.ts): after a wait the first submit comes after 8
// dispatches, and each full batch doubles the next one up to 128, so a short chain starts on the
// GPU early while a long one still amortises its submits. Counted with the runtime's stats.
import { describe, expect, it } from 'vitest';
import { noGrad, scope, zeros } from '../src/index.ts';
import { gpuRuntime } from '../src/tensor/backends.ts';
import { useGpu } from './helpers/gpu.ts';

useGpu();

describe('submission batching', () => {
  it('submits after 8, 16, 32 … dispatches once the GPU went idle, capped at 128; values unchanged', async () => {
    const rt = gpuRuntime();
    const x = zeros(64);
    await rt.sync();
    const submitsAfter = (ops: number): number[] => {
      const seen: number[] = [];
      noGrad(() =>
        scope(() => {
          let y = x;
          for (let i = 0; i < ops; i++) {
            const before = rt.stats.submits;
            y = y.add(1);
            if (rt.stats.submits > before) seen.push(i + 1);
          }
        }),
      );
      return seen;
    };
    // Each add is one dispatch: batches of 8, 16, 32, 64, 128, 128 … dispatches.
    expect(submitsAfter(8 + 16 + 32 + 64 + 128 + 128)).toEqual([8, 24, 56, 120, 248, 376]);
    // A readback waits for the GPU: the next batch starts small again.
    await x.data();
    expect(submitsAfter(30)).toEqual([8, 24]);
    const y = noGrad(() => x.add(1).add(2));
    expect(Array.from(await y.data()).every((v) => v === 3)).toBe(true);
    y.dispose();
    x.dispose();
  });
});
