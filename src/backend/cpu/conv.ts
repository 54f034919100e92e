// Float64 reference of the conv2d primitives: direct loops over strided NCHW views, written
// from the definition (no im2col, no transposed-conv tricks) so they can judge the kernels.
// Knows nothing of autograd; the geometry arrives validated (src/backend/conv-geometry.ts).

import type { View } from '../types.ts';
import type { Conv2dGeometry } from '../conv-geometry.ts';
import { ShapeError, fmtShape } from '../../errors.ts';
import { cpuStorageOf, viewPositions } from './storage.ts';
import { activate, type FusedActivation } from '../fused-activation.ts';

type Dims4 = readonly [number, number, number, number];

/** The view's data and strides after a bounds check of the whole view, for direct indexing. */
function open<S extends readonly number[]>(op: string, v: View, shape: S, name: string): { d: Float64Array; o: number; s: S } {
  if (v.shape.length !== shape.length || v.shape.some((n, i) => n !== shape[i])) {
    throw new ShapeError(op, `${name} has shape ${fmtShape(v.shape)}, expected ${fmtShape(shape)}`, [v.shape, shape]);
  }
  const d = cpuStorageOf(op, v).data;
  viewPositions(op, v);
  // Same length as `shape`, checked above.
  return { d, o: v.offset, s: v.strides as unknown as S };
}

/** Channels per group and the operands' shapes (each checked by the primitives that read it). */
function layout(g: Conv2dGeometry): { cinG: number; coutG: number; input: Dims4; weight: Dims4; output: Dims4 } {
  return {
    cinG: g.inChannels / g.groups,
    coutG: g.outChannels / g.groups,
    input: [g.batch, g.inChannels, g.height, g.width],
    weight: [g.outChannels, g.inChannels / g.groups, g.kernelH, g.kernelW],
    output: [g.batch, g.outChannels, g.outH, g.outW],
  };
}

/** A row-major array over `dims` whose element (a, b, c, d) is at(a, b, c, d). */
function fill(dims: Dims4, at: (a: number, b: number, c: number, d: number) => number): Float64Array {
  const [A, B, C, D] = dims;
  const out = new Float64Array(A * B * C * D);
  let i = 0;
  for (let a = 0; a < A; a++) {
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) {
        for (let d = 0; d < D; d++) out[i++] = at(a, b, c, d);
      }
    }
  }
  return out;
}

/** out[n, co, oh, ow] = act(bias[co] + Σ_{ci, kh, kw} w[co, ci, kh, kw] · x[n, g·Cin/G + ci, oh·sh − pt + kh·dh, ow·sw − pl + kw·dw]). */
export function conv2d(xv: View, wv: View, bv: View | null, g: Conv2dGeometry, act: FusedActivation | null = null): Float64Array {
  const op = 'cpu.conv2d';
  const { cinG, coutG, ...sz } = layout(g);
  const x = open(op, xv, sz.input, 'input');
  const w = open(op, wv, sz.weight, 'weight');
  const b = bv ? open(op, bv, [g.outChannels], 'bias') : null;
  const [xn, xc, xh, xw] = x.s;
  const [wo, wc, wh, ww] = w.s;
  const { strideH: sh, strideW: sw, dilationH: dh, dilationW: dw, padTop: pt, padLeft: pl, height: H, width: W } = g;
  return fill(sz.output, (n, co, oh, ow) => {
    const c0 = Math.floor(co / coutG) * cinG;
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
    return activate(act, acc);
  });
}

/**
 * gx[n, c, ih, iw] = Σ over the output pixels and taps that read (ih, iw):
 * Σ_{co in c's group, kh, kw : oh = (ih + pt − kh·dh) / sh and ow likewise are whole and in range} gy[n, co, oh, ow] · w[co, c − g·Cin/G, kh, kw].
 */
export function conv2dBackwardInput(gyv: View, wv: View, g: Conv2dGeometry): Float64Array {
  const op = 'cpu.conv2dBackwardInput';
  const { cinG, coutG, ...sz } = layout(g);
  const gy = open(op, gyv, sz.output, 'output gradient');
  const w = open(op, wv, sz.weight, 'weight');
  const [gn, gc, gh, gw] = gy.s;
  const [wo, wc, wh, ww] = w.s;
  const { strideH: sh, strideW: sw, dilationH: dh, dilationW: dw, padTop: pt, padLeft: pl, outH: Ho, outW: Wo } = g;
  return fill(sz.input, (n, c, ih, iw) => {
    const grp = Math.floor(c / cinG);
    const ci = c - grp * cinG;
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
    return acc;
  });
}

/** gw[co, ci, kh, kw] = Σ_{n, oh, ow} gy[n, co, oh, ow] · x[n, g·Cin/G + ci, oh·sh − pt + kh·dh, ow·sw − pl + kw·dw]. */
export function conv2dBackwardWeight(xv: View, gyv: View, g: Conv2dGeometry): Float64Array {
  const op = 'cpu.conv2dBackwardWeight';
  const { cinG, coutG, ...sz } = layout(g);
  const x = open(op, xv, sz.input, 'input');
  const gy = open(op, gyv, sz.output, 'output gradient');
  const [xn, xc, xh, xw] = x.s;
  const [gn, gc, gh, gw] = gy.s;
  const { strideH: sh, strideW: sw, dilationH: dh, dilationW: dw, padTop: pt, padLeft: pl, height: H, width: W } = g;
  return fill(sz.weight, (co, ci, kh, kw) => {
    const c0 = Math.floor(co / coutG) * cinG;
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
    return acc;
  });
}
