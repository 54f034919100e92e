// maxPool2d / maxPool2dWithIndices, avgPool2d, adaptiveAvgPool2d: gradients against finite
// differences and WebGPU against the float64 reference (odd sizes, padding, stride > 1,
// dilation, ceil mode, batch 1, 3-D input, non-contiguous views), PyTorch's values and
// indices, exact gradients on ties, and the errors.
import { describe, expect, it } from 'vitest';
import { F, adaptiveAvgPool2d, avgPool2d, gradcheck, maxPool2d, maxPool2dWithIndices, memory, scope, tensor } from '../../src/index.ts';
import { useGpu } from '../helpers/gpu.ts';
import { collectGarbage } from '../helpers/gc.ts';
import { input } from '../helpers/data.ts';

useGpu();

/** The tutorial-style x from the torch snippets below: x = (arange(35).view(1,1,5,7) * 7 % 11) - 5. */
const X35 = Array.from({ length: 35 }, (_, i) => ((i * 7) % 11) - 5);

describe('maxPool2d', () => {
  it('matches finite differences and the reference over odd sizes, padding, stride, dilation, ceil mode', async () => {
    const cases: [number[], Parameters<typeof maxPool2d>[1]][] = [
      [[2, 3, 8, 8], 2],
      [[1, 1, 5, 7], { kernelSize: 3, stride: 2, padding: 1 }],
      [[1, 2, 7, 5], { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }],
      [[2, 1, 9, 9], { kernelSize: [3, 2], stride: [2, 3], padding: [1, 1], dilation: [2, 1] }],
      [[1, 1, 1, 1], 1],
      [[1, 1, 17, 3], { kernelSize: [4, 3], stride: 1, padding: [2, 1] }],
      [[3, 6, 6], { kernelSize: 2, stride: 1 }], // unbatched [C, H, W]
      // Disjoint windows (backward runs per window over its cell): gaps, padding, dilation, ceil mode.
      [[2, 2, 7, 8], { kernelSize: 2, stride: 3, padding: 1 }],
      [[1, 2, 9, 10], { kernelSize: [2, 3], stride: [4, 3], padding: [1, 1], dilation: [2, 1] }],
      [[1, 3, 7, 7], { kernelSize: 2, ceilMode: true }],
      [[2, 1, 5, 6], { kernelSize: 3, stride: 3, padding: 1, ceilMode: true }],
    ];
    for (const [shape, opts] of cases) {
      await gradcheck((x) => maxPool2d(x, opts).exp(), [input(shape, { seed: shape.length + shape[2]! })]);
    }
  });

  it('reads non-contiguous inputs through their strides', async () => {
    await gradcheck((x) => maxPool2d(x.permute(0, 1, 3, 2), { kernelSize: 3, stride: 2, padding: 1 }).exp(), [input([2, 2, 7, 6])]);
    await gradcheck((x) => maxPool2d(x.slice(3, 1, 9, 2), 2).exp(), [input([1, 3, 6, 9], { seed: 5 })]);
    await gradcheck((x) => maxPool2d(x.permute(1, 0, 2, 3), { kernelSize: 2, stride: 1 }).exp(), [input([3, 2, 5, 5], { seed: 6 })]);
  });

  it('gives the values, indices and gradients of torch.nn.functional.max_pool2d', async () => {
    // x = (torch.arange(35.).view(1,1,5,7) * 7 % 11) - 5
    // y, i = F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, return_indices=True); y.sum().backward()
    const x = tensor(X35, { shape: [1, 1, 5, 7], requiresGrad: true });
    const [y, i] = maxPool2dWithIndices(x, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true });
    expect(y.shape).toEqual([1, 1, 3, 4]);
    expect(Array.from(await y.data())).toEqual([2, 5, 5, 4, 5, 4, 5, 3, 4, 3, 5, 2]);
    expect(i.dtype).toBe('int32');
    expect(Array.from(await i.data())).toEqual([1, 3, 3, 6, 14, 17, 25, 20, 28, 31, 25, 34]);
    y.sum().backward();
    expect(Array.from(await x.grad!.data())).toEqual([
      0, 1, 0, 2, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0, 1, 0, 0, 1, 0, 0, 1,
    ]);
    // y, i = F.max_pool2d(x, (2,3), stride=(1,2), padding=(1,1), dilation=(2,1), return_indices=True)
    const x2 = tensor(X35, { shape: [1, 1, 5, 7], requiresGrad: true });
    const [y2, i2] = F.maxPool2dWithIndices(x2, [2, 3], { stride: [1, 2], padding: [1, 1], dilation: [2, 1] });
    expect(y2.shape).toEqual([1, 1, 5, 4]);
    expect(Array.from(await y2.data())).toEqual([0, 3, 2, 2, 5, 5, 5, 4, 0, 3, 5, 2, 5, 4, 4, 3, -1, 2, 5, 1]);
    expect(Array.from(await i2.data())).toEqual([7, 9, 12, 12, 14, 3, 3, 6, 7, 9, 25, 12, 14, 17, 17, 20, 21, 23, 25, 26]);
    y2.sum().backward();
    expect(Array.from(await x2.grad!.data())).toEqual([
      0, 0, 0, 2, 0, 0, 1, 2, 0, 2, 0, 0, 3, 0, 2, 0, 0, 2, 0, 0, 1, 1, 0, 1, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
  });

  it('sends the gradient of a tie to the first max of each window (row-major)', async () => {
    for (const device of ['webgpu', 'cpu'] as const) {
      // F.max_pool2d(x, 2, stride=1, return_indices=True) on [[1,1,0],[1,1,0],[0,0,0]]: indices [0,1,3,4]
      const x = tensor([1, 1, 0, 1, 1, 0, 0, 0, 0], { shape: [1, 1, 3, 3], requiresGrad: true, device });
      const [y, i] = maxPool2dWithIndices(x, 2, { stride: 1 });
      expect(Array.from(await i.data())).toEqual([0, 1, 3, 4]);
      y.sum().backward();
      expect(Array.from(await x.grad!.data())).toEqual([1, 1, 0, 1, 1, 0, 0, 0, 0]);
      // All ones, k3 s1 p1 (overlapping windows): torch gives indices
      // [0,0,1,2, 0,0,1,2, 4,4,5,6, 8,8,9,10] and grad [4,2,2,0, 2,1,1,0, 2,1,1,0, 0,0,0,0].
      const ones = tensor(new Array(16).fill(1), { shape: [1, 1, 4, 4], requiresGrad: true, device });
      const [y2, i2] = maxPool2dWithIndices(ones, 3, { stride: 1, padding: 1 });
      expect(Array.from(await i2.data())).toEqual([0, 0, 1, 2, 0, 0, 1, 2, 4, 4, 5, 6, 8, 8, 9, 10]);
      y2.sum().backward();
      expect(Array.from(await ones.grad!.data())).toEqual([4, 2, 2, 0, 2, 1, 1, 0, 2, 1, 1, 0, 0, 0, 0, 0]);
    }
  });

  it('lets NaN win and seeds -inf windows with their first in-range tap, as torch', async () => {
    // F.max_pool2d([[nan,1,nan],[1,1,0],[0,0,0]], 3, stride=1, return_indices=True) → nan at index 2 (the last NaN)
    const x = tensor([NaN, 1, NaN, 1, 1, 0, 0, 0, 0], { shape: [1, 1, 3, 3] });
    const [y, i] = maxPool2dWithIndices(x, 3, { stride: 1 });
    expect(Number.isNaN((await y.data())[0])).toBe(true);
    expect(Array.from(await i.data())).toEqual([2]);
    // F.max_pool2d(full((1,1,3,3), -inf), 2, stride=2, padding=1, return_indices=True) → indices [0,1,3,4]
    const [y2, i2] = maxPool2dWithIndices(tensor(new Array(9).fill(-Infinity), { shape: [1, 1, 3, 3] }), 2, { padding: 1 });
    expect(Array.from(await y2.data())).toEqual([-Infinity, -Infinity, -Infinity, -Infinity]);
    expect(Array.from(await i2.data())).toEqual([0, 1, 3, 4]);
  });

  it('keeps the tutorial shapes: [64, 20, 24, 24] → [64, 20, 12, 12] matching the reference', async () => {
    const x = input([4, 20, 24, 24], { requiresGrad: true });
    const r = await gradcheck((t) => maxPool2d(t, 2), [x], { fast: true });
    expect(r.ok).toBe(true);
    expect(x.maxPool2d(2).shape).toEqual([4, 20, 12, 12]);
  });

  it('names the op, the shapes and the fix in its errors', () => {
    // torch: "pad should be at most half of kernel size, but got pad=2 and kernel_size=3"
    expect(() => maxPool2d(input([1, 1, 4, 4]), 3, { padding: 2 })).toThrow(/maxPool2d: pad should be at most half of kernel size, but got padding \[2, 2\] and kernel size \[3, 3\]/);
    // torch: "Given input size: (1x2x2). Calculated output size: (1x0x0). Output size is too small"
    expect(() => maxPool2d(input([1, 1, 2, 2]), 3)).toThrow(/maxPool2d: input of shape \[1, 1, 2, 2\] gives output size 1x0x0, which is too small: the kernel \[3, 3\] is larger than the padded input \[2, 2\]/);
    expect(() => maxPool2d(input([1, 1, 5, 5]), 3, { dilation: 3 })).toThrow(/too small.*dilation \[3, 3\]/);
    expect(() => maxPool2d(input([2, 2]), 1)).toThrow(/maxPool2d: expected a 3-D \[C, H, W\] or 4-D \[N, C, H, W\] input, got shape \[2, 2\]/);
    expect(() => maxPool2d(input([1, 1, 1, 2, 2]), 1)).toThrow(/expected a 3-D/);
    expect(() => maxPool2d(input([1, 2, 2], { dtype: 'int32' }), 1)).toThrow(/maxPool2d: expected a float32 input, got int32/);
    expect(() => maxPool2d(input([1, 1, 4, 4]), 0)).toThrow(/maxPool2d: kernelSize must be an integer >= 1/);
    expect(() => maxPool2d(input([1, 1, 4, 4]), 2, { stride: 0 })).toThrow(/maxPool2d: stride must be an integer >= 1/);
    expect(() => maxPool2d(input([1, 1, 4, 4]), [2, 2, 2] as unknown as number)).toThrow(/kernelSize must be an integer >= 1 or a pair/);
  });
});

describe('avgPool2d', () => {
  it('matches finite differences and the reference over padding, stride, ceil mode, divisors, views', async () => {
    await gradcheck((x) => avgPool2d(x, 2), [input([2, 3, 6, 7])]);
    await gradcheck((x) => avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }), [input([1, 2, 7, 8], { seed: 2 })]);
    await gradcheck((x) => avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }), [input([1, 2, 8, 5], { seed: 3 })]);
    await gradcheck((x) => avgPool2d(x, [2, 3], { stride: [1, 2], padding: [1, 0], divisorOverride: 4 }), [input([2, 1, 5, 9], { seed: 4 })]);
    await gradcheck((x) => avgPool2d(x.transpose(2, 3), 3, { stride: 1, padding: 1 }), [input([1, 3, 5, 4], { seed: 5 })]);
    await gradcheck((x) => avgPool2d(x, 1), [input([1, 1, 1])]);
    // Disjoint windows with gaps, padding and ceil mode (per-window backward).
    await gradcheck((x) => avgPool2d(x, 2, { stride: 3, padding: 1, ceilMode: true, countIncludePad: false }), [input([2, 1, 8, 7], { seed: 6 })]);
    await gradcheck((x) => avgPool2d(x.permute(1, 0, 2, 3), 2, { ceilMode: true }), [input([3, 2, 5, 7], { seed: 7 })]);
  });

  it('gives torch.nn.functional.avg_pool2d values', async () => {
    const a = tensor(Array.from({ length: 25 }, (_, i) => i), { shape: [1, 1, 5, 5] });
    const run = async (k: Parameters<typeof avgPool2d>[1], o: Parameters<typeof avgPool2d>[2] = {}) => Array.from(await avgPool2d(a, k, o).data());
    // a = torch.arange(25.).view(1,1,5,5); F.avg_pool2d(a, 2, ceil_mode=True, padding=1)
    expect(await run(2, { ceilMode: true, padding: 1 })).toEqual([0, 0.75, 1.75, 3.75, 9, 11, 8.75, 19, 21]);
    // F.avg_pool2d(a, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
    expect(await run(3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false })).toEqual([3, 4.5, 6, 10.5, 12, 13.5, 18, 19.5, 21]);
    // F.avg_pool2d(a, 3, stride=2, padding=1, divisor_override=2)
    expect(await run(3, { stride: 2, padding: 1, divisorOverride: 2 })).toEqual([6, 13.5, 12, 31.5, 54, 40.5, 36, 58.5, 42]);
    // F.avg_pool2d(a, (2,3), stride=(2,1), padding=(1,0))
    expect(await run({ kernelSize: [2, 3], stride: [2, 1], padding: [1, 0] })).toEqual([0.5, 1, 1.5, 8.5, 9.5, 10.5, 18.5, 19.5, 20.5]);
  });

  it('names the op in its errors', () => {
    expect(() => avgPool2d(input([1, 1, 2, 2]), 3)).toThrow(/avgPool2d: input of shape \[1, 1, 2, 2\] gives output size 1x0x0, which is too small/);
    expect(() => avgPool2d(input([1, 1, 4, 4]), 2, { padding: 2 })).toThrow(/avgPool2d: pad should be at most half of kernel size/);
    expect(() => avgPool2d(input([1, 1, 4, 4]), 2, { divisorOverride: 0 })).toThrow(/avgPool2d: divisorOverride must be a nonzero integer, got 0/);
    expect(() => avgPool2d(input([4]), 1)).toThrow(/avgPool2d: expected a 3-D/);
  });
});

describe('adaptiveAvgPool2d', () => {
  it('uses PyTorch start/end windows, with gradients', async () => {
    // F.adaptive_avg_pool2d(torch.arange(35.).view(1,1,5,7), (3,4))
    const b = tensor(Array.from({ length: 35 }, (_, i) => i), { shape: [1, 1, 5, 7] });
    expect(Array.from(await adaptiveAvgPool2d(b, [3, 4]).data())).toEqual([4, 5.5, 7.5, 9, 14.5, 16, 18, 19.5, 25, 26.5, 28.5, 30]);
    expect(adaptiveAvgPool2d(b, [2, null]).shape).toEqual([1, 1, 2, 7]);
    await gradcheck((x) => adaptiveAvgPool2d(x, [3, 4]), [input([2, 2, 5, 7])]);
    await gradcheck((x) => adaptiveAvgPool2d(x, [4, 3]), [input([1, 3, 3, 9], { seed: 2 })]); // upsampling rows: overlapping windows
    await gradcheck((x) => adaptiveAvgPool2d(x.permute(0, 1, 3, 2), 1), [input([2, 3, 4, 5], { seed: 3 })]);
    await gradcheck((x) => x.adaptiveAvgPool2d([2, 2]), [input([3, 5, 5], { seed: 4 })]);
  });

  it('rejects bad output sizes', () => {
    expect(() => adaptiveAvgPool2d(input([1, 1, 4, 4]), 0)).toThrow(/adaptiveAvgPool2d: outputSize must be positive integers/);
    expect(() => adaptiveAvgPool2d(input([4, 4]), 1)).toThrow(/adaptiveAvgPool2d: expected a 3-D/);
  });
});

describe('pooling, dropout and activations in a training step', () => {
  it('leave no tensor or buffer behind', async () => {
    const x = input([8, 4, 12, 12]);
    const step = () =>
      scope(() => {
        const h = F.dropout2d(x.maxPool2d(2).gelu(), 0.25);
        const y = F.dropout(F.avgPool2d(h.leakyRelu(0.1), 3, { stride: 2, padding: 1 }).softplus().clamp(-5, 5), 0.5);
        F.adaptiveAvgPool2d(y, 1).logSigmoid().sum().backward();
      });
    step();
    x.grad!.dispose();
    x.grad = null;
    const sync = async () => {
      const s = x.sum();
      await s.item(); // waits for the queued work, so freed buffers are back
      s.dispose();
    };
    await sync();
    await collectGarbage(); // earlier tests' garbage must not be finalized inside the measured window
    const before = memory();
    for (let i = 0; i < 3; i++) {
      step();
      x.grad!.dispose();
      x.grad = null;
    }
    await sync();
    const after = memory();
    expect(after.liveTensors).toBe(before.liveTensors);
    expect(after.webgpu!.liveBuffers).toBe(before.webgpu!.liveBuffers);
  });
});
