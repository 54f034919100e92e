// The demo's drawing → MNIST input conversion (demo/digit.ts): fit the ink's bounding box into
// 20×20 keeping its aspect, centre the centre of mass in 28×28, brightest pixel 1.
import { describe, expect, it } from 'vitest';
import { toMnist } from '../../demo/digit.ts';

/** A width×height drawing with ink where `inked(x, y)`. */
function drawing(width: number, height: number, inked: (x: number, y: number) => boolean): Float32Array {
  const a = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) a[y * width + x] = inked(x, y) ? 255 : 0;
  return a;
}

function stats(img: Float32Array) {
  let m = 0, cx = 0, cy = 0, x0 = 28, x1 = -1, y0 = 28, y1 = -1, peak = 0;
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const v = img[y * 28 + x]!;
      if (v > 0) [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
      m += v;
      cx += v * (x + 0.5);
      cy += v * (y + 0.5);
      peak = Math.max(peak, v);
    }
  }
  return { w: x1 - x0 + 1, h: y1 - y0 + 1, cx: cx / m, cy: cy / m, peak };
}

describe('toMnist', () => {
  it('returns null for an empty drawing', () => {
    expect(toMnist(new Float32Array(280 * 280), 280, 280)).toBeNull();
  });

  it('scales a tall stroke in a corner to 20 px high, centred by mass', () => {
    // A vertical bar 20 px wide and 200 px high near the top-left corner of a 280×280 pad.
    const img = toMnist(drawing(280, 280, (x, y) => x >= 10 && x < 30 && y >= 5 && y < 205), 280, 280)!;
    const s = stats(img);
    expect(img.length).toBe(784);
    expect(s.h).toBe(20);
    expect(s.w).toBe(2);
    expect(Math.abs(s.cx - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(s.cy - 14)).toBeLessThanOrEqual(0.5);
    expect(s.peak).toBe(1);
  });

  it('keeps the aspect ratio of a wide shape and stays inside the field', () => {
    // A filled 200×50 rectangle: 20×5 after scaling.
    const img = toMnist(drawing(280, 280, (x, y) => x >= 40 && x < 240 && y >= 200 && y < 250), 280, 280)!;
    const s = stats(img);
    expect(s.w).toBe(20);
    expect(s.h).toBe(5);
    expect(Math.abs(s.cy - 14)).toBeLessThanOrEqual(0.5);
  });

  it('moves a lopsided digit only as far as the field allows', () => {
    // An L with most of its mass in the bottom bar: centring its mass would push the top of
    // the 20-px digit out of the 28-px field, so the shift stops at the edge.
    const img = toMnist(drawing(100, 100, (x, y) => (x < 10 && y < 100) || (y >= 80 && x < 100)), 100, 100)!;
    const s = stats(img);
    expect(s.h).toBe(20);
    expect(s.w).toBe(20);
    // Mass centre (35, 76.7) of 100 → (7, 15.3) of 20: x shifts by 7; y would need -1, so the
    // digit sits at the top edge and its centre stays a little low.
    expect(Math.abs(s.cx - 14)).toBeLessThanOrEqual(0.5);
    expect(img.slice(0, 28).some((v) => v > 0)).toBe(true);
    expect(s.cy).toBeGreaterThan(14.5);
  });
});
