// Pooling ops, declared once: maxPool2d (and maxPool2dWithIndices), avgPool2d,
// adaptiveAvgPool2d, with PyTorch's option rules and output-size formula, validation before
// anything is enqueued, the backend primitives, and backward rules. Each backward is an op
// too: avg pooling's backward is linear, with the forward (its adjoint) as its rule; max
// pooling's backward (a scatter through saved indices) throws if differentiated (TODO(#4)).

import type { AvgPoolDivisor, Pool2dGeometry } from '../../backend/pool-activation-types.ts';
import type { View } from '../../backend/types.ts';
import { AutogradError, DTypeError, ShapeError, ValueError, fmtShape } from '../../errors.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { apply, type OpDef } from '../function.ts';
import { wrap } from './common.ts';

/** A size given as one number or [h, w]. */
export type Size2 = number | readonly [number, number];

/** Options of {@link maxPool2d}, as torch.nn.functional.max_pool2d (camelCase). */
export interface MaxPool2dOptions {
  /** Window size, a number or [h, w]. */
  kernelSize: Size2;
  /** Step between windows (default: kernelSize). */
  stride?: Size2 | null;
  /** Implicit -inf padding on both sides (default 0; at most half the kernel). */
  padding?: Size2;
  /** Spacing between window taps (default 1). */
  dilation?: Size2;
  /** Round the output size up, letting the last window hang over the edge (default false). */
  ceilMode?: boolean;
}

/** Options of {@link avgPool2d}, as torch.nn.functional.avg_pool2d (camelCase). */
export interface AvgPool2dOptions {
  /** Window size, a number or [h, w]. */
  kernelSize: Size2;
  /** Step between windows (default: kernelSize). */
  stride?: Size2 | null;
  /** Implicit zero padding on both sides (default 0; at most half the kernel). */
  padding?: Size2;
  /** Round the output size up, letting the last window hang over the edge (default false). */
  ceilMode?: boolean;
  /** Count padded zeros in the divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
  /** Divide every window by this instead (default: none). */
  divisorOverride?: number | null;
}

function pair(op: string, name: string, v: Size2, min: number): [number, number] {
  const p: readonly number[] = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((x) => Number.isInteger(x) && x >= min)) {
    throw new ValueError(op, `${name} must be an integer >= ${min} or a pair [h, w] of them, got ${JSON.stringify(v)}`);
  }
  return [p[0]!, p[1]!];
}

/** PyTorch's pooling_output_shape: floor (or ceil) division, and a ceil-mode window must start inside the input or its left padding. */
function outSize(size: number, k: number, pad: number, stride: number, dilation: number, ceil: boolean): number {
  let out = Math.floor((size + 2 * pad - dilation * (k - 1) - 1 + (ceil ? stride - 1 : 0)) / stride) + 1;
  if (ceil && (out - 1) * stride >= size + pad) out--;
  return out;
}

/** The input as a 4-D view (a 3-D [C, H, W] input gets batch 1) after dtype/rank checks. */
function check4d(op: string, x: Tensor): { batched: boolean } {
  x.assertAlive(op);
  if (x.dtype !== 'float32') throw new DTypeError(op, `expected a float32 input, got ${x.dtype}; cast with .float() first`);
  if (x.ndim !== 3 && x.ndim !== 4) {
    throw new ShapeError(op, `expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got shape ${fmtShape(x.shape)}`, [x.shape]);
  }
  const spatial = x.shape.slice(-3);
  if (spatial.some((d) => d === 0)) {
    throw new ShapeError(op, `expected non-empty channel and spatial dims, got shape ${fmtShape(x.shape)}`, [x.shape]);
  }
  return { batched: x.ndim === 4 };
}

/** Validates the options and resolves the geometry (PyTorch's pool2d_shape_check). */
function resolve(op: string, x: Tensor, o: { kernelSize: Size2; stride?: Size2 | null; padding?: Size2; dilation?: Size2; ceilMode?: boolean }): Pool2dGeometry {
  if (o === null || typeof o !== 'object' || o.kernelSize === undefined) throw new ValueError(op, 'kernelSize is required');
  const [kH, kW] = pair(op, 'kernelSize', o.kernelSize, 1);
  const [sH, sW] = o.stride === undefined || o.stride === null ? [kH, kW] : pair(op, 'stride', o.stride, 1);
  const [pH, pW] = pair(op, 'padding', o.padding ?? 0, 0);
  const [dH, dW] = pair(op, 'dilation', o.dilation ?? 1, 1);
  if (pH > Math.floor(kH / 2) || pW > Math.floor(kW / 2)) {
    throw new ValueError(op, `pad should be at most half of kernel size, but got padding ${fmtShape([pH, pW])} and kernel size ${fmtShape([kH, kW])}`);
  }
  const [inH, inW] = x.shape.slice(-2) as [number, number];
  const ceil = !!o.ceilMode;
  const outH = outSize(inH, kH, pH, sH, dH, ceil);
  const outW = outSize(inW, kW, pW, sW, dW, ceil);
  if (outH < 1 || outW < 1) {
    const c = x.shape[x.ndim - 3]!;
    throw new ShapeError(
      op,
      `input of shape ${fmtShape(x.shape)} gives output size ${c}x${outH}x${outW}, which is too small: the kernel ${fmtShape([kH, kW])}` +
        `${dH > 1 || dW > 1 ? ` (dilation ${fmtShape([dH, dW])})` : ''} is larger than the padded input ${fmtShape([inH + 2 * pH, inW + 2 * pW])}; use a smaller kernel or more padding`,
      [x.shape],
    );
  }
  return { inH, inW, outH, outW, kH, kW, sH, sW, pH, pW, dH, dW };
}

/** `t` seen as 4-D (a leading batch of 1 for 3-D tensors), without a copy. */
function as4d(t: Tensor): View {
  const v = t.layout;
  if (t.ndim === 4) return v;
  return { storage: v.storage, shape: [1, ...v.shape], strides: [0, ...v.strides], offset: v.offset };
}

/** The output shape for an input of x's rank. */
function outShape(x: readonly number[], outH: number, outW: number): number[] {
  return [...x.slice(0, -2), outH, outW];
}

// ---- max pooling -----------------------------------------------------------------------------

interface MaxAttrs {
  geom: Pool2dGeometry;
  /** Set by forward: the int32 argmax positions (h·W + w in each plane). */
  indices?: Tensor;
}

const maxPoolDef: OpDef<MaxAttrs> = {
  name: 'maxPool2dWithIndices',
  forward: ([x], a) => {
    const [values, indices] = x!.storage.backend.maxPool2d(as4d(x!), a.geom);
    const shape = outShape(x!.shape, a.geom.outH, a.geom.outW);
    a.indices = wrap(indices, shape);
    return wrap(values, shape);
  },
  save: (_i, _o, a) => [a.indices!],
  // d out[o] / d x[i] = 1 where indices[o] == i (the first max of window o), else 0.
  backward: (g, [indices], a, _n, meta) => [apply(maxPoolBackwardDef, [g, indices!], { geom: a.geom, inputShape: meta.shapes[0]! })],
};

interface MaxBackAttrs {
  geom: Pool2dGeometry;
  inputShape: readonly number[];
}

/** dx = Σ over windows o with indices[o] = i of g[o] (a scatter, run as a gather per input element). */
const maxPoolBackwardDef: OpDef<MaxBackAttrs> = {
  name: 'maxPool2dWithIndicesBackward',
  forward: ([g, indices], a) => wrap(g!.storage.backend.maxPool2dBackward(as4d(g!), as4d(indices!), a.geom), a.inputShape),
  backward: () => {
    throw new AutogradError('maxPool2d: double backward (a gradient of the gradient) is not implemented yet; TODO(#4)');
  },
};

/** maxPool2d's arguments: `(x, 2)`, `(x, 2, { stride: 1 })` or `(x, { kernelSize: 2, stride: 1 })`. */
function maxOpts(kernelSize: Size2 | MaxPool2dOptions, opts: Partial<MaxPool2dOptions>): MaxPool2dOptions {
  return typeof kernelSize === 'object' && !Array.isArray(kernelSize) ? { ...(kernelSize as MaxPool2dOptions), ...opts } : { ...opts, kernelSize: kernelSize as Size2 };
}

/**
 * Max pooling over an [N, C, H, W] (or [C, H, W]) float32 input, with PyTorch's semantics:
 * padding is -inf, the first max of a window (row-major) gets the gradient, NaN propagates.
 * Returns [values, indices]: indices (int32, same shape) are h·W + w in each input plane
 * (PyTorch's return_indices=True).
 * @example const [y, idx] = maxPool2dWithIndices(x /* [64, 20, 24, 24] *\/, 2) // both [64, 20, 12, 12]
 */
export function maxPool2dWithIndices(x: Tensor, kernelSize: Size2 | MaxPool2dOptions, opts: Partial<MaxPool2dOptions> = {}): [Tensor, Tensor] {
  const op = 'maxPool2d';
  check4d(op, x);
  const geom = resolve(op, x, maxOpts(kernelSize, opts));
  const attrs: MaxAttrs = { geom };
  const values = apply(maxPoolDef, [x], attrs);
  return [values, attrs.indices!];
}

/**
 * Max pooling over an [N, C, H, W] (or [C, H, W]) float32 input (PyTorch's F.max_pool2d):
 * stride defaults to the kernel size; padding is -inf; ties send the gradient to the first max.
 * @example maxPool2d(x /* [64, 20, 24, 24] *\/, 2) // [64, 20, 12, 12]
 * @example maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true })
 */
export function maxPool2d(x: Tensor, kernelSize: Size2 | MaxPool2dOptions, opts: Partial<MaxPool2dOptions> = {}): Tensor {
  const [values, indices] = maxPool2dWithIndices(x, kernelSize, opts);
  indices.dispose(); // backward keeps its own reference
  return values;
}

// ---- average pooling -------------------------------------------------------------------------

interface AvgAttrs {
  geom: Pool2dGeometry;
  div: AvgPoolDivisor;
  inputShape: readonly number[];
}

/** out[o] = Σ_{i in window o} x[i] / divisor(o): linear, so backward is its adjoint and vice versa. */
const avgPoolDef: OpDef<AvgAttrs> = {
  name: 'avgPool2d',
  forward: ([x], a) => wrap(x!.storage.backend.avgPool2d(as4d(x!), a.geom, a.div), outShape(x!.shape, a.geom.outH, a.geom.outW)),
  // d out[o] / d x[i] = 1/divisor(o) for i in window o.
  backward: (g, _s, a) => [apply(avgPoolBackwardDef, [g], a)],
};

const avgPoolBackwardDef: OpDef<AvgAttrs> = {
  name: 'avgPool2dBackward',
  forward: ([g], a) => wrap(g!.storage.backend.avgPool2dBackward(as4d(g!), a.geom, a.div), a.inputShape),
  // The adjoint of the adjoint is the forward pooling.
  backward: (gg, _s, a) => [apply(avgPoolDef, [gg], a)],
};

function avgOpts(kernelSize: Size2 | AvgPool2dOptions, opts: Partial<AvgPool2dOptions>): AvgPool2dOptions {
  return typeof kernelSize === 'object' && !Array.isArray(kernelSize) ? { ...(kernelSize as AvgPool2dOptions), ...opts } : { ...opts, kernelSize: kernelSize as Size2 };
}

/**
 * Average pooling over an [N, C, H, W] (or [C, H, W]) float32 input (PyTorch's F.avg_pool2d):
 * padding counts as zeros; the divisor is the window area including padding
 * (countIncludePad, default true), the in-range area, or divisorOverride.
 * @example avgPool2d(x /* [1, 3, 7, 7] *\/, 3, { stride: 2, padding: 1 }) // [1, 3, 4, 4]
 */
export function avgPool2d(x: Tensor, kernelSize: Size2 | AvgPool2dOptions, opts: Partial<AvgPool2dOptions> = {}): Tensor {
  const op = 'avgPool2d';
  check4d(op, x);
  const o = avgOpts(kernelSize, opts);
  const geom = resolve(op, x, { ...o, dilation: 1 });
  const d = o.divisorOverride ?? 0;
  if (o.divisorOverride !== undefined && o.divisorOverride !== null && !(Number.isInteger(d) && d !== 0)) {
    throw new ValueError(op, `divisorOverride must be a nonzero integer, got ${o.divisorOverride}`);
  }
  return apply(avgPoolDef, [x], { geom, div: { countIncludePad: o.countIncludePad ?? true, divisorOverride: d }, inputShape: x.shape });
}

// ---- adaptive average pooling ----------------------------------------------------------------

interface AdaptiveAttrs {
  outH: number;
  outW: number;
  inputShape: readonly number[];
}

/** out[o] = mean of window o, windows [⌊o·n/m⌋, ⌈(o+1)·n/m⌉): linear, adjoint pair as avgPool2d. */
const adaptiveDef: OpDef<AdaptiveAttrs> = {
  name: 'adaptiveAvgPool2d',
  forward: ([x], a) => wrap(x!.storage.backend.adaptiveAvgPool2d(as4d(x!), a.outH, a.outW), outShape(x!.shape, a.outH, a.outW)),
  // d out[o] / d x[i] = 1/|window o| for i in window o.
  backward: (g, _s, a) => [apply(adaptiveBackwardDef, [g], a)],
};

const adaptiveBackwardDef: OpDef<AdaptiveAttrs> = {
  name: 'adaptiveAvgPool2dBackward',
  forward: ([g], a) => {
    const [inH, inW] = a.inputShape.slice(-2) as [number, number];
    return wrap(g!.storage.backend.adaptiveAvgPool2dBackward(as4d(g!), inH, inW), a.inputShape);
  },
  backward: (gg, _s, a) => [apply(adaptiveDef, [gg], a)],
};

/**
 * Average pooling to a fixed output size (PyTorch's F.adaptive_avg_pool2d): output (oh, ow)
 * averages rows ⌊oh·H/outH⌋ .. ⌈(oh+1)·H/outH⌉ − 1 and columns likewise. A null size keeps
 * the input's.
 * @example adaptiveAvgPool2d(x /* [8, 512, 7, 9] *\/, 1) // [8, 512, 1, 1]
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | readonly [number | null, number | null]): Tensor {
  const op = 'adaptiveAvgPool2d';
  check4d(op, x);
  const [inH, inW] = x.shape.slice(-2) as [number, number];
  const raw: readonly (number | null)[] = typeof outputSize === 'number' ? [outputSize, outputSize] : outputSize;
  if (!Array.isArray(raw) || raw.length !== 2) throw new ValueError(op, `outputSize must be a number or a pair [h, w], got ${JSON.stringify(outputSize)}`);
  const [outH, outW] = [raw[0] ?? inH, raw[1] ?? inW];
  if (![outH, outW].every((s) => Number.isInteger(s) && s >= 1)) {
    throw new ValueError(op, `outputSize must be positive integers (or null to keep a dim), got ${JSON.stringify(outputSize)}`);
  }
  return apply(adaptiveDef, [x], { outH, outW, inputShape: x.shape });
}
