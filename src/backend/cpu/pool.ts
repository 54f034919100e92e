// Float64 reference of the pooling primitives over [B, C, H, W]: max pooling with argmax
// positions, average pooling, adaptive average pooling, and their backward passes written as
// the obvious scatter loops (the WebGPU kernels gather instead; both must agree).
// PyTorch's CPU kernels define the semantics: first max on ties, NaN wins, padding is -inf
// for max and zeros for average, divisor rules of avg_pool2d, adaptive start/end indices.

import type { View } from '../types.ts';
import type { AvgPoolDivisor, Pool2dGeometry } from '../pool-activation-types.ts';
import { gather } from './storage.ts';

function dims4(v: View): [number, number, number, number] {
  const [b, c, h, w] = v.shape as [number, number, number, number];
  return [b, c, h, w];
}

/** [values, indices (h·W + w in the plane)] of max pooling, row-major [B, C, OH, OW]. */
export function maxPool2d(x: View, g: Pool2dGeometry): [Float64Array, Float64Array] {
  const xs = gather('cpu.maxPool2d', x);
  const [b, c] = dims4(x);
  const planes = b * c;
  const { inH: H, inW: W, outH: OH, outW: OW } = g;
  const values = new Float64Array(planes * OH * OW);
  const indices = new Float64Array(planes * OH * OW);
  for (let pl = 0; pl < planes; pl++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let best = -Infinity;
        let arg = -1;
        for (let kh = 0; kh < g.kH; kh++) {
          const h = oh * g.sH - g.pH + kh * g.dH;
          if (h < 0 || h >= H) continue;
          for (let kw = 0; kw < g.kW; kw++) {
            const w = ow * g.sW - g.pW + kw * g.dW;
            if (w < 0 || w >= W) continue;
            const v = xs[pl * H * W + h * W + w]!;
            // torch: `(val > maxval) || isnan(val)`; the first in-range tap seeds the scan.
            if (arg < 0 || v > best || Number.isNaN(v)) {
              best = v;
              arg = h * W + w;
            }
          }
        }
        const o = (pl * OH + oh) * OW + ow;
        values[o] = best;
        indices[o] = arg;
      }
    }
  }
  return [values, indices];
}

/** dx[plane, idx] += g for every output; g and indices are [B, C, OH, OW] views. */
export function maxPool2dBackward(gv: View, indices: View, g: Pool2dGeometry): Float64Array {
  const gs = gather('cpu.maxPool2dBackward', gv, 'float32');
  const is = gather('cpu.maxPool2dBackward', indices, 'int32');
  const [b, c] = dims4(gv);
  const plane = g.inH * g.inW;
  const outPlane = g.outH * g.outW;
  const dx = new Float64Array(b * c * plane);
  for (let pl = 0; pl < b * c; pl++) {
    for (let o = 0; o < outPlane; o++) {
      const k = is[pl * outPlane + o]!;
      if (k >= 0) dx[pl * plane + k]! += gs[pl * outPlane + o]!;
    }
  }
  return dx;
}

/** PyTorch's avg_pool2d divisor of window (oh, ow). */
function divisorOf(g: Pool2dGeometry, d: AvgPoolDivisor, oh: number, ow: number): number {
  if (d.divisorOverride) return d.divisorOverride;
  const hs = oh * g.sH - g.pH;
  const ws = ow * g.sW - g.pW;
  const he = Math.min(hs + g.kH, g.inH + g.pH);
  const we = Math.min(ws + g.kW, g.inW + g.pW);
  if (d.countIncludePad) return (he - hs) * (we - ws);
  return (Math.min(he, g.inH) - Math.max(hs, 0)) * (Math.min(we, g.inW) - Math.max(ws, 0));
}

/** Visits every (plane, oh, ow) and the in-range taps of its window. */
function forWindows(b: number, g: Pool2dGeometry, visit: (pl: number, oh: number, ow: number, h: number, w: number) => void): void {
  for (let pl = 0; pl < b; pl++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        const hs = oh * g.sH - g.pH;
        const ws = ow * g.sW - g.pW;
        for (let h = Math.max(hs, 0); h < Math.min(hs + g.kH, g.inH); h++) {
          for (let w = Math.max(ws, 0); w < Math.min(ws + g.kW, g.inW); w++) visit(pl, oh, ow, h, w);
        }
      }
    }
  }
}

export function avgPool2d(x: View, g: Pool2dGeometry, d: AvgPoolDivisor): Float64Array {
  const xs = gather('cpu.avgPool2d', x);
  const [b, c] = dims4(x);
  const out = new Float64Array(b * c * g.outH * g.outW);
  forWindows(b * c, g, (pl, oh, ow, h, w) => {
    out[(pl * g.outH + oh) * g.outW + ow]! += xs[(pl * g.inH + h) * g.inW + w]! / divisorOf(g, d, oh, ow);
  });
  return out;
}

export function avgPool2dBackward(gv: View, g: Pool2dGeometry, d: AvgPoolDivisor): Float64Array {
  const gs = gather('cpu.avgPool2dBackward', gv, 'float32');
  const [b, c] = dims4(gv);
  const dx = new Float64Array(b * c * g.inH * g.inW);
  forWindows(b * c, g, (pl, oh, ow, h, w) => {
    dx[(pl * g.inH + h) * g.inW + w]! += gs[(pl * g.outH + oh) * g.outW + ow]! / divisorOf(g, d, oh, ow);
  });
  return dx;
}

/** PyTorch's adaptive window of output `o`: [⌊o·n/m⌋, ⌈(o+1)·n/m⌉). */
function adaptiveRange(o: number, n: number, m: number): [number, number] {
  return [Math.floor((o * n) / m), Math.ceil(((o + 1) * n) / m)];
}

/** Visits every (plane, oh, ow), the in-window taps and the window size. */
function forAdaptive(planes: number, H: number, W: number, OH: number, OW: number, visit: (o: number, i: number, size: number) => void): void {
  for (let pl = 0; pl < planes; pl++) {
    for (let oh = 0; oh < OH; oh++) {
      const [hs, he] = adaptiveRange(oh, H, OH);
      for (let ow = 0; ow < OW; ow++) {
        const [ws, we] = adaptiveRange(ow, W, OW);
        const size = (he - hs) * (we - ws);
        for (let h = hs; h < he; h++) for (let w = ws; w < we; w++) visit((pl * OH + oh) * OW + ow, (pl * H + h) * W + w, size);
      }
    }
  }
}

export function adaptiveAvgPool2d(x: View, outH: number, outW: number): Float64Array {
  const xs = gather('cpu.adaptiveAvgPool2d', x);
  const [b, c, H, W] = dims4(x);
  const out = new Float64Array(b * c * outH * outW);
  forAdaptive(b * c, H, W, outH, outW, (o, i, size) => (out[o]! += xs[i]! / size));
  return out;
}

export function adaptiveAvgPool2dBackward(gv: View, inH: number, inW: number): Float64Array {
  const gs = gather('cpu.adaptiveAvgPool2dBackward', gv, 'float32');
  const [b, c, OH, OW] = dims4(gv);
  const dx = new Float64Array(b * c * inH * inW);
  forAdaptive(b * c, inH, inW, OH, OW, (o, i, size) => (dx[i]! += gs[o]! / size));
  return dx;
}
