// Turns a drawing into an MNIST-like 28×28 input, the way the MNIST digits were made (LeCun et
// al.): the ink's bounding box is scaled, aspect kept, to fit a 20×20 box with area averaging
// (anti-aliasing), then placed in the 28×28 field so that its centre of mass sits at the centre.
// Pure array code: no DOM, no webgrad (test/browser/digit.test.ts runs it in Node).

/** Side of the box the digit is scaled to fit, and of the field it is centred in. */
export const BOX = 20;
export const SIDE = 28;

/**
 * `ink` holds one value per pixel of a `width`×`height` drawing (0 = background, larger =
 * more ink, any scale). Returns 784 values in [0, 1] (the brightest pixel is 1, as in MNIST),
 * row by row, or null when nothing was drawn.
 */
export function toMnist(ink: ArrayLike<number>, width: number, height: number, threshold = 0): Float32Array | null {
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x]! > threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return null;
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const scale = BOX / Math.max(w, h);
  const tw = Math.max(1, Math.round(w * scale));
  const th = Math.max(1, Math.round(h * scale));

  // Area averaging: every source pixel adds its ink to the target pixel it falls in.
  const sum = new Float64Array(tw * th);
  const count = new Float64Array(tw * th);
  for (let y = y0; y <= y1; y++) {
    const ty = Math.min(th - 1, Math.floor(((y - y0) * th) / h));
    for (let x = x0; x <= x1; x++) {
      const tx = Math.min(tw - 1, Math.floor(((x - x0) * tw) / w));
      sum[ty * tw + tx]! += ink[y * width + x]!;
      count[ty * tw + tx]! += 1;
    }
  }
  const small = new Float64Array(tw * th);
  let peak = 0;
  for (let i = 0; i < small.length; i++) {
    small[i] = count[i]! ? sum[i]! / count[i]! : 0;
    peak = Math.max(peak, small[i]!);
  }
  if (peak <= 0) return null;

  // Centre of mass of the scaled digit, then the shift that puts it at the field's centre
  // (kept inside the field, so a lopsided digit is never clipped).
  let m = 0, cx = 0, cy = 0;
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const v = small[y * tw + x]!;
      m += v;
      cx += v * (x + 0.5);
      cy += v * (y + 0.5);
    }
  }
  const ox = clamp(Math.round(SIDE / 2 - cx / m), 0, SIDE - tw);
  const oy = clamp(Math.round(SIDE / 2 - cy / m), 0, SIDE - th);
  const out = new Float32Array(SIDE * SIDE);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) out[(y + oy) * SIDE + (x + ox)] = small[y * tw + x]! / peak;
  }
  return out;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
