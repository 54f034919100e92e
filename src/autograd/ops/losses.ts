// Losses: crossEntropy and nllLoss over a class dim (one fused pass forward, one backward),
// and the elementwise binaryCrossEntropy, binaryCrossEntropyWithLogits and mseLoss (loss and
// reduction in one pass). Each validates everything before anything is enqueued and follows
// PyTorch 1.13's semantics (torch.nn.functional), noted where a choice had to be made.

import type { View } from '../../backend/types.ts';
import type { ClassLossOptions, LossReduction, PointwiseLossOp, TargetCheck } from '../../backend/loss-options.ts';
import { AutogradError, DTypeError, ShapeError, ValueError, fmtShape } from '../../errors.ts';
import { broadcastShapes, broadcastStrides, numel, sameShape, type Shape } from '../../shape.ts';
import { Tensor } from '../../tensor/tensor.ts';
import { apply, type OpDef } from '../function.ts';
import { isGradEnabled } from '../grad-mode.ts';
import { backendOf, wrap } from './common.ts';
import { logSoftmax } from './softmax.ts';

export type { LossReduction };

/** Options of crossEntropy (PyTorch's F.cross_entropy keywords, camelCased). */
export interface CrossEntropyOptions {
  /** 'mean' (default): Σ loss / Σ weight of the non-ignored targets; 'sum'; 'none': one loss per sample. */
  reduction?: LossReduction;
  /** Class-index targets equal to this add no loss, gradient or weight (default -100). */
  ignoreIndex?: number;
  /** ε in [0, 1]: mixes the target with the uniform distribution, (1 − ε)·target + ε/C (default 0). */
  labelSmoothing?: number;
  /** Per-class weight, float32 [C]; constant (not differentiated, as in PyTorch). */
  weight?: Tensor | null;
}

/** Options of nllLoss. */
export interface NllLossOptions {
  /** 'mean' (default): Σ loss / Σ weight of the non-ignored targets; 'sum'; 'none': one loss per sample. */
  reduction?: LossReduction;
  /** Targets equal to this add no loss, gradient or weight (default -100). */
  ignoreIndex?: number;
  /** Per-class weight, float32 [C]; constant (not differentiated, as in PyTorch). */
  weight?: Tensor | null;
}

/** Options of binaryCrossEntropy. */
export interface BinaryCrossEntropyOptions {
  /** Rescales each element's loss; broadcast to the input's shape; constant. */
  weight?: Tensor | null;
  /** 'mean' (default): the mean over all elements; 'sum'; 'none': the input's shape. */
  reduction?: LossReduction;
}

/** Options of binaryCrossEntropyWithLogits. */
export interface BinaryCrossEntropyWithLogitsOptions extends BinaryCrossEntropyOptions {
  /** Weight of the positive term, broadcast to the input's shape (typically [C]); constant. */
  posWeight?: Tensor | null;
}

/** Options of mseLoss. */
export interface MseLossOptions {
  /** 'mean' (default): the mean over all elements; 'sum'; 'none': the input's shape. */
  reduction?: LossReduction;
}

const REDUCTIONS: readonly LossReduction[] = ['none', 'mean', 'sum'];

function checkReduction(op: string, r: LossReduction): void {
  if (!REDUCTIONS.includes(r)) throw new ValueError(op, `reduction must be 'none', 'mean' or 'sum', got '${String(r)}'`);
}

/** Weights are constants in PyTorch too: refuse one that asks for a gradient rather than drop it silently. */
function checkConstant(op: string, name: string, t: Tensor | null | undefined): void {
  if (t && t.requiresGrad && isGradEnabled()) {
    throw new AutogradError(`${op}: the loss is not differentiable with respect to '${name}' (as in PyTorch); pass ${name}.detach()`);
  }
}

/** The gradient `g` of a loss seen over `shape`: itself for 'none', its one value broadcast (0-strides) otherwise. */
function gradOver(g: Tensor, shape: Shape, reduced: boolean): View {
  if (!reduced) return g.layout;
  return { storage: g.storage, shape, strides: shape.map(() => 0), offset: g.offset };
}

// ---- crossEntropy / nllLoss -------------------------------------------------------------------

interface ClassAttrs {
  opts: ClassLossOptions;
  /** Row shape: the input's shape without the class dim (the shape of a 'none' loss). */
  rowShape: number[];
  hasWeight: boolean;
  /** Set by forward: what backward reads (see Backend.classLoss); moved into `save`. */
  stats: Tensor | null;
}

const classDef = (name: 'crossEntropy' | 'nllLoss'): OpDef<ClassAttrs> => ({
  name,
  forward: (inputs, a) => {
    const [x, t, w] = inputs as [Tensor, Tensor, Tensor?];
    const be = backendOf(name, x, t, ...(w ? [w] : []));
    const { loss, stats } = be.classLoss(x.layout, t.layout, w ? w.layout : null, a.opts);
    a.stats = new Tensor(stats, [stats.numel], undefined, 0, { track: false });
    return wrap(loss, a.opts.reduction === 'none' ? a.rowShape : []);
  },
  // The logits themselves, not the probabilities: backward recomputes p = exp((x − m) − log s)
  // from the saved row stats, so forward writes R·3 numbers instead of an [N, C] tensor.
  save: (inputs, _out, a) => [...inputs, a.stats!],
  /**
   * d loss / d x_c = s·(p_c·A − B_c), s = g / divisor (see Backend.classLossBackward):
   * ce, index target t:  A = (1 − ε)·w_t + (ε/C)·Σ_k w_k,  B_c = (1 − ε)·w_t·[c = t] + (ε/C)·w_c
   * ce, probabilities q: A = Σ_k w_k·q_k,  B_c = w_c·q_c  (q already smoothed)
   * nll (x = log p):     A = 0,  B_c = w_t·[c = t]  (−s·w_t at the target, 0 elsewhere)
   * d loss / d q_c (probability targets) = −(1 − ε)·w_c·log p_c·s, with Tensor ops.
   */
  backward: (g, saved, a, needs) => {
    if (isGradEnabled()) {
      throw new AutogradError(`${name}: backward with createGraph (second derivatives) is not supported yet; TODO(#4)`);
    }
    const [x, t] = saved as [Tensor, Tensor];
    const w = a.hasWeight ? saved[2]! : null;
    const stats = saved[saved.length - 1]!;
    const reduced = a.opts.reduction !== 'none';
    const gradX = needs[0]
      ? wrap(x.storage.backend.classLossBackward(x.layout, t.layout, w ? w.layout : null, stats.layout, gradOver(g, a.rowShape, reduced), a.opts), x.shape)
      : null;
    let gradT: Tensor | null = null;
    if (needs[1] && a.opts.probTargets) {
      const cd = a.opts.classDim;
      // s per row: g (or g / rows for the mean), broadcast along the class dim.
      let s = reduced ? g : g.unsqueeze(cd);
      if (a.opts.reduction === 'mean') s = s.div(numel(a.rowShape));
      let d = logSoftmax(x, cd).mul(-(1 - a.opts.labelSmoothing));
      if (w) d = d.mul(w.reshape(x.shape.map((n, i) => (i === cd ? n : 1))));
      gradT = d.mul(s);
    }
    return [gradX, gradT, ...(a.hasWeight ? [null] : [])];
  },
});

const crossEntropyDef = classDef('crossEntropy');
const nllLossDef = classDef('nllLoss');

/** Coordinates of row-major flat position `i` over `shape`. */
function unravel(i: number, shape: Shape): number[] {
  const c = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    c[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return c;
}

/**
 * The error for a class-index target out of range. Built outside classLoss on purpose: the check
 * lives in the graph node's attrs, and a closure made inside classLoss would keep its whole scope
 * (the input and target tensors) alive for as long as the node lives.
 */
function targetCheck(op: 'crossEntropy' | 'nllLoss', inputShape: Shape, rowShape: Shape, ignoreIndex: number): TargetCheck {
  const cd = inputShape.length === 1 ? 0 : 1;
  const C = inputShape[cd]!;
  const what = op === 'crossEntropy' ? 'logits' : 'log-probabilities';
  return {
    error: (row, value) =>
      new ValueError(
        op,
        `target ${value} at position [${unravel(row, rowShape).join(', ')}] is out of range for ${C} classes ` +
          `(${what} shape ${fmtShape(inputShape)}): class indices must lie in [0, ${C - 1}]${ignoreIndex < 0 || ignoreIndex >= C ? ` or equal ignoreIndex ${ignoreIndex}` : ''}`,
      ),
  };
}

function classLoss(
  op: 'crossEntropy' | 'nllLoss', input: Tensor, target: Tensor,
  o: { reduction?: LossReduction; ignoreIndex?: number; labelSmoothing?: number; weight?: Tensor | null },
): Tensor {
  input.assertAlive(op);
  target.assertAlive(op);
  const reduction = o.reduction ?? 'mean';
  const ignoreIndex = o.ignoreIndex ?? -100;
  const eps = o.labelSmoothing ?? 0;
  const weight = o.weight ?? null;
  checkReduction(op, reduction);
  if (input.dtype !== 'float32') throw new DTypeError(op, `input dtype ${input.dtype} is not floating point; call .float() first`);
  if (input.ndim === 0) throw new ShapeError(op, 'input must have at least 1 dim ([C], [N, C] or [N, C, d1, …]), got a 0-d tensor', [input.shape]);
  const cd = input.ndim === 1 ? 0 : 1;
  const C = input.shape[cd]!;
  const rowShape = input.shape.filter((_, i) => i !== cd);
  const what = op === 'crossEntropy' ? 'logits' : 'log-probabilities';
  if (C === 0) throw new ShapeError(op, `input of shape ${fmtShape(input.shape)} has no classes (dim ${cd} is 0)`, [input.shape]);
  if (!Number.isInteger(ignoreIndex)) throw new ValueError(op, `ignoreIndex must be an integer, got ${ignoreIndex}`);
  if (!(eps >= 0 && eps <= 1)) throw new ValueError(op, `labelSmoothing must be in [0, 1], got ${eps}`);
  // Probability targets: float32 of the input's shape (PyTorch ≥ 1.10). Anything else float is a mistake.
  const probTargets = op === 'crossEntropy' && target.dtype === 'float32' && sameShape(target.shape, input.shape);
  if (!probTargets) {
    if (target.dtype !== 'int32') {
      const hint = op === 'crossEntropy' ? ` (or float32 class probabilities of shape ${fmtShape(input.shape)})` : '';
      throw new DTypeError(
        op,
        `target must hold int32 class indices of shape ${fmtShape(rowShape)}${hint}, got ${target.dtype} of shape ${fmtShape(target.shape)}; ` +
          `convert labels with .int() or create them with { dtype: 'int32' }`,
      );
    }
    if (!sameShape(target.shape, rowShape)) {
      throw new ShapeError(
        op,
        `target shape ${fmtShape(target.shape)} does not match ${what} shape ${fmtShape(input.shape)}: class-index targets need shape ${fmtShape(rowShape)} (the ${what} without the class dim ${cd})`,
        [input.shape, target.shape],
      );
    }
  } else if (ignoreIndex >= 0) {
    throw new ValueError(op, `ignoreIndex is not supported for probability (float32) targets, got ${ignoreIndex}`);
  }
  if (weight) {
    weight.assertAlive(op);
    if (weight.dtype !== 'float32') throw new DTypeError(op, `weight dtype ${weight.dtype} is not float32`);
    if (!sameShape(weight.shape, [C])) {
      throw new ShapeError(op, `weight shape ${fmtShape(weight.shape)} does not match the ${C} classes of ${what} shape ${fmtShape(input.shape)}; expected [${C}]`, [weight.shape, input.shape]);
    }
    checkConstant(op, 'weight', weight);
  }
  backendOf(op, input, target, ...(weight ? [weight] : []));
  const check = targetCheck(op, input.shape, rowShape, ignoreIndex);
  const opts: ClassLossOptions = { kind: op === 'crossEntropy' ? 'ce' : 'nll', classDim: cd, probTargets, reduction, ignoreIndex, labelSmoothing: eps, check };
  const attrs: ClassAttrs = { opts, rowShape, hasWeight: weight !== null, stats: null };
  try {
    return apply(op === 'crossEntropy' ? crossEntropyDef : nllLossDef, weight ? [input, target, weight] : [input, target], attrs);
  } finally {
    // backward holds its own alias when it was recorded; this reference is forward's.
    attrs.stats?.dispose();
    attrs.stats = null;
  }
}

/**
 * Cross entropy between logits and targets, fused: log-softmax, the loss and what backward
 * needs in one pass (PyTorch's F.cross_entropy). input [C], [N, C] or [N, C, d1, …]; target
 * int32 class indices [N] / [N, d1, …] (or [] for [C]), or float32 class probabilities of the
 * input's shape. Weighted mean divides by the summed weight of the non-ignored targets.
 * A target outside [0, C) throws a ValueError: at once on the CPU, at the next readback on
 * WebGPU (the values live on the GPU; its loss and gradient are NaN meanwhile).
 * @example crossEntropy(logits /* [64, 10] *\/, labels /* int32 [64] *\/) // scalar
 */
export function crossEntropy(input: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  return classLoss('crossEntropy', input, target, opts);
}

/**
 * Negative log likelihood of class-index targets under log-probabilities (PyTorch's
 * F.nll_loss): −weight[t]·input[t] per sample, weighted mean by default.
 * @example nllLoss(logSoftmax(logits, 1), labels) // equals crossEntropy(logits, labels)
 */
export function nllLoss(input: Tensor, target: Tensor, opts: NllLossOptions = {}): Tensor {
  return classLoss('nllLoss', input, target, opts);
}

// ---- elementwise losses ----------------------------------------------------------------------

interface PointAttrs {
  op: PointwiseLossOp;
  reduction: LossReduction;
  hasWeight: boolean;
  hasPos: boolean;
}

/** A constant operand broadcast to `shape`, or null. */
function broadcastTo(t: Tensor | undefined, shape: Shape): View | null {
  return t ? { storage: t.storage, shape, strides: broadcastStrides(t.shape, t.strides, shape), offset: t.offset } : null;
}

function pointOperands(inputs: readonly Tensor[], a: PointAttrs): { x: Tensor; y: Tensor; w: View | null; pw: View | null } {
  const [x, y] = inputs as [Tensor, Tensor];
  let k = 2;
  const w = a.hasWeight ? broadcastTo(inputs[k++], x.shape) : null;
  const pw = a.hasPos ? broadcastTo(inputs[k++], x.shape) : null;
  return { x, y, w, pw };
}

const pointNames: Record<PointwiseLossOp, string> = { mse: 'mseLoss', bce: 'binaryCrossEntropy', bceWithLogits: 'binaryCrossEntropyWithLogits' };

// Derivatives (x input, y target, w weight, p posWeight, σ sigmoid, sp(−x) = log(1 + e^−x)),
// PyTorch 1.13's backward formulas, each times g (and 1/n for the mean):
//   mse:           d/dx = 2(x − y)                             d/dy = −2(x − y)
//   bce:           d/dx = w·(x − y) / max(x(1 − x), 1e-12)      d/dy = w·(log(1 − x) − log x)  (PyTorch leaves this
//                  one unclamped: ±inf at x = 0 or 1, though the forward clamps its logs at −100)
//   bceWithLogits: d/dx = w·((p·y + 1 − y)·σ(x) − p·y)          d/dy = w·(−x + (p − 1)·sp(−x))

const pointDefs = new Map<PointwiseLossOp, OpDef<PointAttrs>>();
function pointDef(op: PointwiseLossOp): OpDef<PointAttrs> {
  let def = pointDefs.get(op);
  if (def) return def;
  def = {
    name: pointNames[op],
    forward: (inputs, a) => {
      const { x, y, w, pw } = pointOperands(inputs, a);
      return wrap(x.storage.backend.pointwiseLoss(op, x.layout, y.layout, w, pw, a.reduction), a.reduction === 'none' ? x.shape : []);
    },
    save: (inputs) => [...inputs],
    // The derivatives above, in one fused kernel per input that wants a gradient.
    backward: (g, saved, a, needs) => {
      if (isGradEnabled()) {
        throw new AutogradError(`${pointNames[op]}: backward with createGraph (second derivatives) is not supported yet; TODO(#4)`);
      }
      const { x, y, w, pw } = pointOperands(saved, a);
      const gv = gradOver(g, x.shape, a.reduction !== 'none');
      const scale = a.reduction === 'mean' ? 1 / x.numel : 1;
      const be = x.storage.backend;
      const grad = (wrt: 'input' | 'target') => wrap(be.pointwiseLossBackward(op, wrt, x.layout, y.layout, w, pw, gv, scale), x.shape);
      return [needs[0] ? grad('input') : null, needs[1] ? grad('target') : null, ...(a.hasWeight ? [null] : []), ...(a.hasPos ? [null] : [])];
    },
  };
  pointDefs.set(op, def);
  return def;
}

function pointwise(
  op: PointwiseLossOp, input: Tensor, target: Tensor, reduction: LossReduction, weight: Tensor | null, posWeight: Tensor | null,
): Tensor {
  const name = pointNames[op];
  input.assertAlive(name);
  target.assertAlive(name);
  checkReduction(name, reduction);
  if (input.dtype !== 'float32') throw new DTypeError(name, `input dtype ${input.dtype} is not floating point; call .float() first`);
  if (target.dtype !== 'float32') throw new DTypeError(name, `target dtype ${target.dtype} is not floating point (shape ${fmtShape(target.shape)}); call .float() first`);
  if (!sameShape(input.shape, target.shape)) {
    throw new ShapeError(
      name,
      `target shape ${fmtShape(target.shape)} differs from input shape ${fmtShape(input.shape)}; reshape one of them (PyTorch deprecates broadcasting here)`,
      [input.shape, target.shape],
    );
  }
  for (const [label, t] of [['weight', weight], ['posWeight', posWeight]] as const) {
    if (!t) continue;
    t.assertAlive(name);
    if (t.dtype !== 'float32') throw new DTypeError(name, `${label} dtype ${t.dtype} is not float32`);
    const b = broadcastShapes(name, input.shape, t.shape);
    if (!sameShape(b, input.shape)) {
      throw new ShapeError(name, `${label} shape ${fmtShape(t.shape)} does not broadcast to input shape ${fmtShape(input.shape)}`, [t.shape, input.shape]);
    }
    checkConstant(name, label, t);
  }
  const extra = [weight, posWeight].filter((t): t is Tensor => t !== null);
  backendOf(name, input, target, ...extra);
  return apply(pointDef(op), [input, target, ...extra], { op, reduction, hasWeight: weight !== null, hasPos: posWeight !== null });
}

/**
 * Binary cross entropy of probabilities (PyTorch's F.binary_cross_entropy):
 * −w·(y·log x + (1 − y)·log(1 − x)), each log clamped at −100 so x = 0 or 1 stays finite.
 * @example binaryCrossEntropy(x.sigmoid(), y) // scalar mean
 */
export function binaryCrossEntropy(input: Tensor, target: Tensor, opts: BinaryCrossEntropyOptions = {}): Tensor {
  return pointwise('bce', input, target, opts.reduction ?? 'mean', opts.weight ?? null, null);
}

/**
 * Binary cross entropy on logits, in the stable form (PyTorch's
 * F.binary_cross_entropy_with_logits): w·((1 − y)·x + (1 + (p − 1)·y)·log(1 + e^−x)).
 * @example binaryCrossEntropyWithLogits(logits, y, { posWeight: tensor([3]) })
 */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, opts: BinaryCrossEntropyWithLogitsOptions = {}): Tensor {
  return pointwise('bceWithLogits', input, target, opts.reduction ?? 'mean', opts.weight ?? null, opts.posWeight ?? null);
}

/**
 * Mean squared error (PyTorch's F.mse_loss): (x − y)², averaged by default.
 * @example mseLoss(pred, target, { reduction: 'sum' })
 */
export function mseLoss(input: Tensor, target: Tensor, opts: MseLossOptions = {}): Tensor {
  return pointwise('mse', input, target, opts.reduction ?? 'mean', null, null);
}
