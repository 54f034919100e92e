// Float64 reference of the conv2d primitives: direct loops over strided NCHW views, written
// from the definition (no im2col, no transposed-conv tricks) so they can judge the kernels.
// Knows nothing of autograd; the geometry arrives validated (src/backend/conv-geometry.ts).

import type { View } from '../types.ts';
import type { Conv2dGeometry } from '../conv-geometry.ts';
import { ShapeError, fmtShape } from '../../errors.ts';
import { cpuStorageOf, viewPositions } from './storage.ts';

/** The view's data and strides after a bounds check of the whole view, for direct indexing. */
function open(op: string, v: View, shape: readonly number[], name: string): { d: Float64Array; o: number; s: readonly number[] } {
  if (v.shape.length !== shape.length || v.shape.some((n, i) => n !== shape[i])) {
    throw new ShapeError(op, `${name} has shape ${fmtShape(v.shape)}, expected ${fmtShape(shape)}`, [v.shape, shape]);
  }
  const d = cpuStorageOf(op, v).data;
  viewPositions(op, v);
  return { d, o: v.offset, s: v.strides };
}

/** out[n, co, oh, ow] = bias[co] + Σ_{ci, kh, kw} w[co, ci, kh, kw] · x[n, g·Cin/G + ci, oh·sh − pt + kh·dh, ow·sw − pl + kw·dw]. */
export function conv2d(xv: View, wv: View, bv: View | null, g: Conv2dGeometry): Float64Array {
  const op = 'cpu.conv2d';
  const cinG = g.inChannels / g.groups;
  const coutG = g.outChannels / g.groups;
  const x = open(op, xv, [g.batch, g.inChannels, g.height, g.width], 'input');
  const w = open(op, wv, [g.outChannels, cinG, g.kernelH, g.kernelW], 'weight');
  const b = bv ? open(op, bv, [g.outChannels], 'bias') : null;
  const [xn, xc, xh, xw] = x.s as [number, number, number, number];
  const [wo, wc, wh, ww] = w.s as [number, number, number, number];
  const { strideH: sh, strideW: sw, dilationH: dh, dilationW: dw, padTop: pt, padLeft: pl, height: H, width: W } = g;
  const out = new Float64Array(g.batch * g.outChannels * g.outH * g.outW);
  let i = 0;
  for (let n = 0; n < g.batch; n++) {
    for (let co = 0; co < g.outChannels; co++) {
      const c0 = Math.floor(co / coutG) * cinG;
      for (let oh = 0; oh < g.outH; oh++) {
        for (let ow = 0; ow < g.outW; ow++) {
          let acc = b ? b.d[b.o + co * b.s[0]!]! : 0;
          for (let ci = 0; ci < cinG; ci++) {
            for (let kh = 0; kh < g.kernelH; kh++) {
              const ih = oh * sh - pt + kh * dh;
              if (ih < 0 || ih >= H) continue;
              const xr = x.o + n * xn + (c0 + ci) * xc + ih * xh;
              const wr = w.o + co * wo + ci * wc + kh * wh;
              for (let kw = 0; kw < g.kernelW; kw++) {
                const iw = ow * sw - pl + kw * dw;
                if (iw < 0 || iw >= W) continue;
                acc += w.d[wr + kw * ww]! * x.d[xr + iw * xw]!;
              }
            }
          }
          out[i++] = acc;
        }
      }
    }
  }
  return out;
}

/**
 * gx[n, c, ih, iw] = Σ over the output pixels and taps that read (ih, iw):
 * Σ_{co in c's group, kh, kw : oh = (ih + pt − kh·dh) / sh and ow likewise are whole and in range} gy[n, co, oh, ow] · w[co, c − g·Cin/G, kh, kw].
 */
export function conv2dBackwardInput(gyv: View, wv: View, g: Conv2dGeometry): Float64Array {
  const op = 'cpu.conv2dBackwardInput';
  const cinG = g.inChannels / g.groups;
  const coutG = g.outChannels / g.groups;
  const gy = open(op, gyv, [g.batch, g.outChannels, g.outH, g.outW], 'output gradient');
  const w = open(op, wv, [g.outChannels, cinG, g.kernelH, g.kernelW], 'weight');
  const [gn, gc, gh, gw] = gy.s as [number, number, number, number];
  const [wo, wc, wh, ww] = w.s as [number, number, number, number];
  const { strideH: sh, strideW: sw, dilationH: dh, dilationW: dw, padTop: pt, padLeft: pl, outH: Ho, outW: Wo } = g;
  const out = new Float64Array(g.batch * g.inChannels * g.height * g.width);
  let i = 0;
  for (let n = 0; n < g.batch; n++) {
    for (let c = 0; c < g.inChannels; c++) {
      const grp = Math.floor(c / cinG);
      const ci = c - grp * cinG;
      for (let ih = 0; ih < g.height; ih++) {
        for (let iw = 0; iw < g.width; iw++) {
          let acc = 0;
          for (let col = 0; col < coutG; col++) {
            const co = grp * coutG + col;
            for (let kh = 0; kh < g.kernelH; kh++) {
              // Output row oh reads input row oh·sh − pt + kh·dh = ih.
              const th = ih + pt - kh * dh;
              if (th < 0 || th % sh !== 0 || th / sh >= Ho) continue;
              const gr = gy.o + n * gn + co * gc + (th / sh) * gh;
              const wr = w.o + co * wo + ci * wc + kh * wh;
              for (let kw = 0; kw < g.kernelW; kw++) {
                const tw = iw + pl - kw * dw;
                if (tw < 0 || tw % sw !== 0 || tw / sw >= Wo) continue;
                acc += gy.d[gr + (tw / sw) * gw]! * w.d[wr + kw * ww]!;
              }
            }
          }
          out[i++] = acc;
        }
      }
    }
  }
  return out;
}

/** gw[co, ci, kh, kw] = Σ_{n, oh, ow} gy[n, co, oh, ow] · x[n, g·Cin/G + ci, oh·sh − pt + kh·dh, ow·sw − pl + kw·dw]. */
export function conv2dBackwardWeight(xv: View, gyv: View, g: Conv2dGeometry): Float64Array {
  const op = 'cpu.conv2dBackwardWeight';
  const cinG = g.inChannels / g.groups;
  const coutG = g.outChannels / g.groups;
  const x = open(op, xv, [g.batch, g.inChannels, g.height, g.width], 'input');
  const gy = open(op, gyv, [g.batch, g.outChannels, g.outH, g.outW], 'output gradient');
  const [xn, xc, xh, xw] = x.s as [number, number, number, number];
  const [gn, gc, gh, gw] = gy.s as [number, number, number, number];
  const { strideH: sh, strideW: sw, dilationH: dh, dilationW: dw, padTop: pt, padLeft: pl, height: H, width: W } = g;
  const out = new Float64Array(g.outChannels * cinG * g.kernelH * g.kernelW);
  let i = 0;
  for (let co = 0; co < g.outChannels; co++) {
    const c0 = Math.floor(co / coutG) * cinG;
    for (let ci = 0; ci < cinG; ci++) {
      for (let kh = 0; kh < g.kernelH; kh++) {
        for (let kw = 0; kw < g.kernelW; kw++) {
          let acc = 0;
          for (let n = 0; n < g.batch; n++) {
            for (let oh = 0; oh < g.outH; oh++) {
              const ih = oh * sh - pt + kh * dh;
              if (ih < 0 || ih >= H) continue;
              const gr = gy.o + n * gn + co * gc + oh * gh;
              const xr = x.o + n * xn + (c0 + ci) * xc + ih * xh;
              for (let ow = 0; ow < g.outW; ow++) {
                const iw = ow * sw - pl + kw * dw;
                if (iw < 0 || iw >= W) continue;
                acc += gy.d[gr + ow * gw]! * x.d[xr + iw * xw]!;
              }
            }
          }
          out[i++] = acc;
        }
      }
    }
  }
  return out;
}
