// Transforms: ToTensor and Normalize against the float32 reference formula (and PyTorch's
// own numbers), the batched path equal to the per-sample one, Compose and Lambda. No GPU.
import { describe, expect, it } from 'vitest';
import { Compose, HostTensor, Lambda, Normalize, ToTensor } from '../../src/data/index.ts';

const allBytes = new HostTensor(Uint8Array.from({ length: 256 * 3 }, (_, i) => i % 256), [3, 16, 16]);

describe('ToTensor', () => {
  it('uint8 [H, W] → float32 [1, H, W] = float32(v / 255); [H, W, C] → [C, H, W]', () => {
    const img = new HostTensor(Uint8Array.from({ length: 256 }, (_, i) => i), [16, 16]);
    const x = new ToTensor().forward(img);
    expect(x.shape).toEqual([1, 16, 16]);
    for (let v = 0; v < 256; v++) expect(x.data[v]).toBe(Math.fround(v / 255));
    const hwc = new HostTensor(Uint8Array.from([1, 2, 3, 4, 5, 6]), [1, 2, 3]);
    const chw = new ToTensor().forward(hwc);
    expect(chw.shape).toEqual([3, 1, 2]);
    expect(Array.from(chw.data, (v) => Math.round(v * 255))).toEqual([1, 4, 2, 5, 3, 6]);
    expect(() => new ToTensor().forward(new HostTensor(new Uint8Array(4), [4]))).toThrow(/ToTensor: expects an image \[H, W\] or \[H, W, C\], got \[4\]/);
  });
});

describe('Normalize', () => {
  it('equals (x − mean) / std in float32 for every pixel value, and PyTorch bit for bit', () => {
    const x = new ToTensor().forward(new HostTensor(Uint8Array.from({ length: 256 }, (_, i) => i), [16, 16]));
    const y = new Normalize([0.1307], [0.3081]).forward(x);
    const m = Math.fround(0.1307);
    const s = Math.fround(0.3081);
    for (let v = 0; v < 256; v++) expect(y.data[v]).toBe(Math.fround(Math.fround(Math.fround(v / 255) - m) / s));
    // PyTorch 1.13:
    //   x = torch.arange(256, dtype=torch.uint8).float().div(255); y = (x - 0.1307) / 0.3081
    //   y[[0, 1, 2, 127, 128, 254, 255]].numpy().view(np.uint32)
    //   np.frombuffer(y.numpy().tobytes(), dtype=np.uint32).astype(np.uint64).sum()  → 0x505264dd57
    const bits = new Uint32Array(y.data.buffer as ArrayBuffer);
    expect([0, 1, 2, 127, 128, 254, 255].map((i) => bits[i])).toEqual([3201905265, 3201478176, 3201051088, 1066966116, 1067072890, 1077134003, 1077187389]);
    expect(bits.reduce((a, b) => a + b, 0)).toBe(0x505264dd57);
    // The batched Compose (one table lookup per byte) gives the same bits.
    const fused = new Compose([new ToTensor(), new Normalize([0.1307], [0.3081])]).forwardBatch!(new HostTensor(Uint8Array.from({ length: 256 }, (_, i) => i), [1, 16, 16]));
    expect(fused.shape).toEqual([1, 1, 16, 16]);
    expect(Array.from(new Uint32Array(fused.data.buffer as ArrayBuffer))).toEqual(Array.from(bits));
  });

  it('normalises each channel with its own mean and std; a single value covers all channels', () => {
    const x = new ToTensor().forward(new HostTensor(allBytes.data.slice(), [16, 16, 3]));
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const y = new Normalize(mean, std).forward(x);
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 256; p += 37) {
        const i = c * 256 + p;
        expect(y.data[i]).toBe(Math.fround(Math.fround(x.data[i]! - Math.fround(mean[c]!)) / Math.fround(std[c]!)));
      }
    }
    const one = new Normalize(0.5, 0.5).forward(x);
    expect(one.data[300]).toBe(Math.fround(Math.fround(x.data[300]! - 0.5) / 0.5));
  });

  it('rejects uint8 input, channel mismatches and a zero std', () => {
    expect(() => new Normalize([0.5], [0.5]).forward(allBytes)).toThrow(/Normalize: expects float32 input, got uint8 \[3, 16, 16\]: put ToTensor\(\) before Normalize/);
    const x = new HostTensor(new Float32Array(2 * 4), [2, 2, 2]);
    expect(() => new Normalize([0.1, 0.2, 0.3], [1, 1, 1]).forward(x)).toThrow(/Normalize: 3 mean\/std values for 2 channels/);
    expect(() => new Normalize([0.1], [0])).toThrow(/std must be finite and nonzero/);
  });
});

describe('Compose and Lambda', () => {
  it('a batched Compose equals the per-sample transforms stacked', () => {
    const t = new Compose([new ToTensor(), new Normalize([0.1307], [0.3081])]);
    expect(t.forwardBatch).toBeDefined();
    const batch = t.forwardBatch!(allBytes);
    expect(batch.shape).toEqual([3, 1, 16, 16]);
    for (let b = 0; b < 3; b++) {
      const one = t.forward(allBytes.row(b));
      expect(Array.from(batch.data.subarray(b * 256, (b + 1) * 256))).toEqual(Array.from(one.data));
    }
    expect(t.toString()).toMatch(/^Compose\(\n    ToTensor\(\)\n    Normalize\(mean=\[0\.1307\d*\], std=\[0\.308\d*\]\)\n\)$/);
  });

  it('a Lambda without batchFn makes Compose per-sample only; functions are accepted as transforms', () => {
    const flat = new Lambda((x: HostTensor) => x.reshape([x.numel]));
    const t = new Compose([new ToTensor(), flat]);
    expect(t.forwardBatch).toBeUndefined();
    expect(t.forward(allBytes.row(0)).shape).toEqual([256]);
    const f = new Compose([(x: HostTensor) => x.reshape([256])]);
    expect(f.forward(allBytes.row(1)).shape).toEqual([256]);
  });
});
