// conv2d, declared once: PyTorch's option rules (stride/padding/dilation as a number or [h, w],
// padding 'valid'/'same', groups), validation before anything is enqueued, and the three
// backend primitives (forward, gradient wrt input, gradient wrt weight). The two gradient
// primitives are ops too, with their own rules, so second derivatives exist.

import type { Conv2dGeometry } from '../../backend/conv-geometry.ts';
import { convOutSize } from '../../backend/conv-geometry.ts';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../../errors.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { scope } from '../../tensor/scope.ts';
import { apply, type OpDef } from '../function.ts';
import { backendOf, wrap } from './common.ts';
import { activationGrad } from './elementwise.ts';
import { checkActivation, type FusedActivation } from '../../backend/fused-activation.ts';

/** Options of {@link conv2d}, as in torch.nn.functional.conv2d (camelCase). */
export interface Conv2dOptions {
  /** Step between output pixels, a number or [h, w] (default 1). */
  stride?: number | readonly [number, number];
  /**
   * Zeros added on both sides, a number or [h, w] (default 0); 'valid' is 0; 'same' keeps the
   * input size (stride 1 only) and, like PyTorch, puts an odd remainder after the last row/column.
   */
  padding?: number | readonly [number, number] | 'valid' | 'same';
  /** Spacing between kernel taps, a number or [h, w] (default 1). */
  dilation?: number | readonly [number, number];
  /** Input and output channels split into this many independent groups (default 1). */
  groups?: number;
  /**
   * webgrad's addition (like TF.js's fused.conv2d): 'relu', 'sigmoid' or 'tanh' applied in the
   * convolution's own kernel as it stores each output, instead of a separate op over the output.
   */
  activation?: FusedActivation;
}

const OP = 'conv2d';

function pair(name: string, v: number | readonly [number, number], min: number): [number, number] {
  const p: readonly number[] = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((x) => Number.isInteger(x) && x >= min)) {
    throw new ValueError(OP, `${name} must be an integer >= ${min} or a pair [h, w] of them, got ${JSON.stringify(v)}`);
  }
  return [p[0]!, p[1]!];
}

function checkFloat(t: Tensor, what: string): void {
  t.assertAlive(OP);
  if (t.dtype !== 'float32') throw new DTypeError(OP, `${what} has dtype ${t.dtype}; conv2d takes float32 (cast with .float() first)`);
}

/** Validates everything and resolves the geometry; throws before anything is enqueued. */
function geometry(x: Tensor, w: Tensor, bias: Tensor | null, opts: Conv2dOptions, shown: readonly number[] = x.shape): Conv2dGeometry {
  checkFloat(x, 'input');
  checkFloat(w, 'weight');
  if (bias) checkFloat(bias, 'bias');
  if (x.ndim !== 4) {
    throw new ShapeError(OP, `expected a 4-D input [N, C, H, W] (or 3-D [C, H, W] unbatched), got ${fmtShape(x.shape)}`, [x.shape]);
  }
  if (w.ndim !== 4) {
    throw new ShapeError(OP, `expected a 4-D weight [Cout, Cin/groups, kH, kW], got ${fmtShape(w.shape)}`, [w.shape]);
  }
  const [batch, inChannels, height, width] = x.shape as [number, number, number, number];
  const [outChannels, cinG, kernelH, kernelW] = w.shape as [number, number, number, number];
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new ValueError(OP, `groups must be a positive integer, got ${groups}`);
  if (outChannels % groups !== 0) {
    throw new ValueError(OP, `weight ${fmtShape(w.shape)} has ${outChannels} output channels, not divisible by groups=${groups}`);
  }
  if (inChannels !== cinG * groups) {
    throw new ShapeError(
      OP,
      `input ${fmtShape(shown)} has ${inChannels} channels but weight ${fmtShape(w.shape)} expects ${cinG * groups} (groups=${groups})`,
      [x.shape, w.shape],
    );
  }
  if (kernelH === 0 || kernelW === 0 || cinG === 0) throw new ShapeError(OP, `weight ${fmtShape(w.shape)} has a zero-size dim`, [w.shape]);
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== outChannels)) {
    throw new ShapeError(OP, `bias ${fmtShape(bias.shape)} does not match weight ${fmtShape(w.shape)}: expected [${outChannels}]`, [bias.shape, w.shape]);
  }
  checkActivation(OP, opts.activation);
  const [strideH, strideW] = pair('stride', opts.stride ?? 1, 1);
  const [dilationH, dilationW] = pair('dilation', opts.dilation ?? 1, 1);
  const pad = opts.padding ?? 0;
  let pads: [number, number, number, number]; // top, bottom, left, right
  if (pad === 'valid') pads = [0, 0, 0, 0];
  else if (pad === 'same') {
    if (strideH !== 1 || strideW !== 1) {
      throw new ValueError(OP, `padding='same' is not supported for strided convolutions (stride ${fmtShape([strideH, strideW])}); give the padding as numbers`);
    }
    // PyTorch: total = dilation·(k − 1), left = total / 2 rounded down, the rest after.
    const th = dilationH * (kernelH - 1);
    const tw = dilationW * (kernelW - 1);
    pads = [th >> 1, th - (th >> 1), tw >> 1, tw - (tw >> 1)];
  } else if (typeof pad === 'string') {
    throw new ValueError(OP, `padding must be a number, a pair [h, w], 'valid' or 'same', got '${pad}'`);
  } else {
    const [ph, pw] = pair('padding', pad, 0);
    pads = [ph, ph, pw, pw];
  }
  const paddedH = height + pads[0] + pads[1];
  const paddedW = width + pads[2] + pads[3];
  const spanH = dilationH * (kernelH - 1) + 1;
  const spanW = dilationW * (kernelW - 1) + 1;
  if (spanH > paddedH || spanW > paddedW) {
    const dil = dilationH > 1 || dilationW > 1 ? ` (${spanH}×${spanW} dilated)` : '';
    throw new ShapeError(
      OP,
      `kernel ${kernelH}×${kernelW}${dil} of weight ${fmtShape(w.shape)} is larger than the padded input ${paddedH}×${paddedW} ` +
        `(input ${fmtShape(shown)}, padding ${fmtShape([pads[0], pads[2]])}); pad the input more or use a smaller kernel`,
      [x.shape, w.shape],
    );
  }
  return {
    batch, inChannels, height, width, outChannels, kernelH, kernelW,
    strideH, strideW, padTop: pads[0], padLeft: pads[2], dilationH, dilationW, groups,
    outH: convOutSize(height, kernelH, strideH, pads[0], pads[1], dilationH),
    outW: convOutSize(width, kernelW, strideW, pads[2], pads[3], dilationW),
  };
}

const outShape = (g: Conv2dGeometry): number[] => [g.batch, g.outChannels, g.outH, g.outW];
const inShape = (g: Conv2dGeometry): number[] => [g.batch, g.inChannels, g.height, g.width];
const weightShape = (g: Conv2dGeometry): number[] => [g.outChannels, g.inChannels / g.groups, g.kernelH, g.kernelW];

// y = conv(x, w) + b is bilinear in (x, w): each gradient is the other primitive of the pair,
// and the gradients of those primitives are again conv primitives.
const conv2dDef: OpDef<Conv2dGeometry> = {
  name: OP,
  forward: ([x, w, b], g) => wrap(backendOf(OP, x!, w!, ...(b ? [b] : [])).conv2d(x!.layout, w!.layout, b ? b.layout : null, g), outShape(g)),
  save: ([x, w]) => [x!, w!],
  backward: (gy, [x, w], g, needs) => convGrads(gy, x!, w!, g, needs),
};

/** Gradients of conv(x, w) + b given the gradient gy of that sum. */
function convGrads(gy: Tensor, x: Tensor, w: Tensor, g: Conv2dGeometry, needs: readonly boolean[]): (Tensor | null)[] {
  return [
    needs[0] ? convInputGrad(gy, w, g) : null, // ∂L/∂x = convᵀ(gy, w)
    needs[1] ? convWeightGrad(x, gy, g) : null, // ∂L/∂w[co,ci,kh,kw] = Σ gy[n,co,oh,ow]·x[n,ci,ih,iw]
    needs[2] ? gy.sum([0, 2, 3]) : null, // ∂L/∂b[co] = Σ_{n,oh,ow} gy[n,co,oh,ow]
  ];
}

/**
 * y = act(conv(x, w) + b) in one kernel (the activation in the forward's epilogue). Backward
 * turns gy into the pre-activation gradient with the saved output (act'(y)·gy), then as conv2d.
 */
const conv2dActDef: OpDef<{ g: Conv2dGeometry; act: FusedActivation }> = {
  name: OP,
  forward: ([x, w, b], { g, act }) => wrap(backendOf(OP, x!, w!, ...(b ? [b] : [])).conv2d(x!.layout, w!.layout, b ? b.layout : null, g, act), outShape(g)),
  save: ([x, w], y) => [x!, w!, y],
  backward: (gy, [x, w, y], { g, act }, needs) => convGrads(activationGrad(act, gy, y!), x!, w!, g, needs),
};

/** The forward op for these options: with a fused activation or without. */
function convApply(inputs: Tensor[], g: Conv2dGeometry, act: FusedActivation | undefined): Tensor {
  return act ? apply(conv2dActDef, inputs, { g, act }) : apply(conv2dDef, inputs, g);
}

// gx = convᵀ(gy, w) is bilinear in (gy, w): d/dgy is the forward conv, d/dw the weight gradient.
const inputGradDef: OpDef<Conv2dGeometry> = {
  name: 'conv2dInputGrad',
  forward: ([gy, w], g) => wrap(backendOf(OP, gy!, w!).conv2dBackwardInput(gy!.layout, w!.layout, g), inShape(g)),
  save: ([gy, w]) => [gy!, w!],
  backward: (ggx, [gy, w], g, needs) => [
    needs[0] ? apply(conv2dDef, [ggx, w!], g) : null, // ∂/∂gy = conv(ggx, w)
    needs[1] ? convWeightGrad(ggx, gy!, g) : null, // ∂/∂w = weight gradient with ggx as input
  ],
};

// gw = corr(x, gy) is bilinear in (x, gy): d/dx is the input gradient, d/dgy the forward conv.
const weightGradDef: OpDef<Conv2dGeometry> = {
  name: 'conv2dWeightGrad',
  forward: ([x, gy], g) => wrap(backendOf(OP, x!, gy!).conv2dBackwardWeight(x!.layout, gy!.layout, g), weightShape(g)),
  save: ([x, gy]) => [x!, gy!],
  backward: (ggw, [x, gy], g, needs) => [
    needs[0] ? convInputGrad(gy!, ggw, g) : null, // ∂/∂x = convᵀ(gy, ggw)
    needs[1] ? apply(conv2dDef, [x!, ggw], g) : null, // ∂/∂gy = conv(x, ggw)
  ],
};

const convInputGrad = (gy: Tensor, w: Tensor, g: Conv2dGeometry): Tensor => apply(inputGradDef, [gy, w], g);
const convWeightGrad = (x: Tensor, gy: Tensor, g: Conv2dGeometry): Tensor => apply(weightGradDef, [x, gy], g);

/**
 * 2-D convolution (cross-correlation, as PyTorch) of an NCHW input with a [Cout, Cin/groups, kH, kW]
 * weight and an optional [Cout] bias → [N, Cout, Ho, Wo]. A 3-D input [C, H, W] is one unbatched image.
 * Differentiable in input, weight and bias.
 * @example conv2d(x /* [64, 1, 28, 28] *\/, w /* [20, 1, 5, 5] *\/, b /* [20] *\/) // [64, 20, 24, 24]
 * @example conv2d(x, w, null, { stride: 2, padding: 'same' }) // throws: 'same' needs stride 1
 */
export function conv2d(input: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  input.assertAlive(OP);
  if (input.ndim === 3) {
    // Unbatched, as PyTorch: run as a batch of one and drop that dim.
    checkFloat(input, 'input');
    return scope(() => {
      const x = input.unsqueeze(0);
      const g = geometry(x, weight, bias ?? null, opts, input.shape);
      return convApply(bias ? [x, weight, bias] : [x, weight], g, opts.activation).squeeze(0);
    });
  }
  const g = geometry(input, weight, bias ?? null, opts);
  return convApply(bias ? [input, weight, bias] : [input, weight], g, opts.activation);
}
