// dropout and dropout2d: masks reproducible under manualSeed and identical on WebGPU and the
// float64 reference, the kept fraction over 1M elements, inverted scaling, the element → bits
// mapping shared with rand(), whole channels for dropout2d, backward (the regenerated mask),
// eval / p = 0 / p = 1, non-contiguous inputs, and the errors.
import { describe, expect, it } from 'vitest';
import { F, defaultGenerator, dropout, dropout2d, gradcheck, manualSeed, ones, rand, tensor, type Tensor } from '../../src/index.ts';
import { useGpu } from '../helpers/gpu.ts';
import { ODD_SIZES, input } from '../helpers/data.ts';

useGpu();

async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

describe('dropout', () => {
  it('gives identical masks for the same seed, on WebGPU and on the CPU reference', async () => {
    for (const n of [...ODD_SIZES, 1000, 1001]) {
      manualSeed(0);
      const a = await values(dropout(ones(n), 0.3));
      manualSeed(0);
      const b = await values(dropout(ones(n), 0.3));
      manualSeed(0);
      const c = await values(dropout(ones(n, { device: 'cpu' }), 0.3));
      expect(b).toEqual(a);
      expect(c.map((v) => Math.fround(v))).toEqual(a); // 1/(1 − 0.3) rounds to f32 on the GPU
      expect(a.every((v) => v === 0 || v === Math.fround(1 / 0.7))).toBe(true);
    }
    // A different seed, or the next draw of the same stream, gives another mask.
    manualSeed(0);
    const first = await values(dropout(ones(1000), 0.5));
    const second = await values(dropout(ones(1000), 0.5));
    manualSeed(1);
    const other = await values(dropout(ones(1000), 0.5));
    expect(second).not.toEqual(first);
    expect(other).not.toEqual(first);
  });

  it('keeps 1 − p of 1M elements (within 0.5 %) and scales them by 1/(1 − p)', async () => {
    const n = 1 << 20;
    const x = ones(n);
    for (const p of [0.1, 0.5, 0.8]) {
      manualSeed(42);
      const y = (await dropout(x, p).data()) as Float32Array;
      let kept = 0;
      for (const v of y) if (v !== 0) kept++;
      expect(Math.abs(kept / n - (1 - p)), `p = ${p}: kept ${kept / n}`).toBeLessThan(0.005);
      expect(y.find((v) => v !== 0)).toBe(Math.fround(1 / (1 - p)));
    }
  });

  it('draws element r from the word rand() turns into its r-th value: kept iff that uniform >= p', async () => {
    manualSeed(9);
    const u = await values(rand(777));
    manualSeed(9);
    const y = await values(dropout(ones(777), 0.5));
    expect(y.map((v) => v !== 0)).toEqual(u.map((v) => v >= 0.5));
  });

  it('advances the generator by one Philox block per 4 draws, and not at all when it draws nothing', () => {
    manualSeed(3);
    dropout(ones(10), 0.5);
    expect(defaultGenerator.getState().counter).toBe(3); // ⌈10/4⌉
    dropout2d(ones(2, 3, 4, 5), 0.5);
    expect(defaultGenerator.getState().counter).toBe(3 + 2); // ⌈6 channels / 4⌉
    dropout(ones(10), 0.5, false);
    dropout(ones(10), 0);
    dropout(ones(10), 1);
    expect(defaultGenerator.getState().counter).toBe(5);
  });

  it('has gradient mask · 1/(1 − p), the same mask regenerated in backward', async () => {
    for (const n of ODD_SIZES) {
      await gradcheck((x) => {
        manualSeed(7);
        return dropout(x, 0.3);
      }, [input([n, 3], { seed: n })]);
    }
    manualSeed(5);
    const x = ones(4099, { requiresGrad: true });
    const y = dropout(x, 0.25);
    y.backward(input([4099], { seed: 2, requiresGrad: false }).abs().add(1)); // g ≥ 1, never 0
    const yv = await values(y);
    const gv = await values(x.grad!);
    expect(gv.map((v) => v !== 0)).toEqual(yv.map((v) => v !== 0));
  });

  it('follows the logical (row-major) order on non-contiguous inputs', async () => {
    const base = input([7, 9], { requiresGrad: false });
    manualSeed(11);
    const a = await values(dropout(base.T, 0.5));
    manualSeed(11);
    const b = await values(dropout(base.T.contiguous().clone(), 0.5));
    expect(a).toEqual(b);
    await gradcheck((x) => {
      manualSeed(2);
      return dropout(x.T.slice(0, 1, 9, 2), 0.4);
    }, [input([5, 9])]);
  });

  it('is the identity in eval mode and for p = 0 (a view: same values, gradient passes through)', async () => {
    const x = input([3, 5]);
    for (const y of [dropout(x, 0.5, false), dropout(x, 0), F.dropout(x, 0.9, false), x.dropout(0.5, false)]) {
      expect(await values(y)).toEqual(await values(x));
      expect(y).not.toBe(x);
      expect(y.storage).toBe(x.storage);
      y.dispose(); // the caller owns the view; the input is untouched
    }
    expect(x.disposed).toBe(false);
    const y = dropout(x, 0.5, false);
    y.sum().backward();
    expect(await values(x.grad!)).toEqual(new Array(15).fill(1));
  });

  it('zeroes everything (and its gradient) for p = 1', async () => {
    const x = input([4, 4]);
    const y = dropout(x, 1); // x · 0, as torch: negative inputs give -0
    expect((await values(y)).every((v) => v === 0)).toBe(true);
    y.sum().backward();
    expect(await values(x.grad!)).toEqual(new Array(16).fill(0));
  });

  it('rejects p outside [0, 1] and non-float input', () => {
    // torch: "dropout probability has to be between 0 and 1, but got 1.5"
    expect(() => dropout(input([2]), 1.5)).toThrow(/dropout: dropout probability has to be between 0 and 1, but got 1.5/);
    expect(() => dropout(input([2]), -0.1)).toThrow(/between 0 and 1, but got -0.1/);
    expect(() => dropout(input([2]), NaN)).toThrow(/between 0 and 1, but got NaN/);
    expect(() => dropout2d(input([1, 2, 2]), 2)).toThrow(/dropout2d: dropout probability has to be between 0 and 1/);
    expect(() => dropout(tensor([1, 2], { dtype: 'int32' }))).toThrow(/dropout: expected a float32 input, got int32/);
  });
});

describe('dropout2d', () => {
  it('zeroes whole channels of [N, C, H, W] and [C, H, W], identically on both backends', async () => {
    for (const shape of [[4, 6, 3, 5], [5, 2, 2], [2, 30, 8, 8], [1, 1, 1, 1]]) {
      const hw = shape.at(-1)! * shape.at(-2)!;
      manualSeed(1);
      const g = await values(dropout2d(ones(shape), 0.5));
      manualSeed(1);
      const c = await values(dropout2d(ones(shape, { device: 'cpu' }), 0.5));
      expect(c).toEqual(g);
      for (let ch = 0; ch < g.length / hw; ch++) {
        const plane = g.slice(ch * hw, (ch + 1) * hw);
        expect(plane.every((v) => v === plane[0]) && (plane[0] === 0 || plane[0] === 2), `channel ${ch} of ${JSON.stringify(shape)}`).toBe(true);
      }
    }
  });

  it('keeps about 1 − p of the channels (the tutorial\'s [64, 30, 8, 8], 5 batches)', async () => {
    manualSeed(0);
    let kept = 0;
    for (let b = 0; b < 5; b++) {
      const y = await values(dropout2d(ones(64, 30, 8, 8), 0.5));
      for (let ch = 0; ch < 64 * 30; ch++) if (y[ch * 64] !== 0) kept++;
    }
    expect(Math.abs(kept / (5 * 64 * 30) - 0.5)).toBeLessThan(0.02); // σ ≈ 0.0051
  });

  it('has the channel mask as gradient, and reads non-contiguous inputs in logical order', async () => {
    await gradcheck((x) => {
      manualSeed(4);
      return dropout2d(x, 0.5);
    }, [input([2, 5, 3, 3])]);
    await gradcheck((x) => {
      manualSeed(6);
      return dropout2d(x.permute(1, 0, 3, 2), 0.3);
    }, [input([3, 2, 4, 5], { seed: 2 })]);
    await gradcheck((x) => {
      manualSeed(8);
      return x.dropout2d(0.5);
    }, [input([3, 1, 7], { seed: 3 })]);
  });

  it('is the identity when not training, and rejects other ranks', async () => {
    const x = input([2, 3, 4, 4]);
    expect(await values(dropout2d(x, 0.5, false))).toEqual(await values(x));
    expect(() => dropout2d(input([3, 4]), 0.5)).toThrow(/dropout2d: expected a 3-D \[C, H, W\] or 4-D \[N, C, H, W\] input, got shape \[3, 4\]; use dropout for other ranks/);
    expect(() => dropout2d(input([1, 2, 3, 4, 5]), 0.5)).toThrow(/dropout2d: expected a 3-D/);
  });
});
