// Float64 reference of the loss primitives: cross entropy / NLL over a class dim (classLoss)
// and the elementwise losses (mse, bce, bce with logits), forward and gradients. Plain loops
// written from PyTorch 1.13's formulas (aten/src/ATen/native/Loss.cpp, LossNLL.cpp); every
// index target is validated before anything is computed, so a bad one throws the op's error.

import type { View } from '../types.ts';
import type { ClassLossOptions, InputCheck, LossReduction, PointwiseLossOp } from '../loss-options.ts';
import { ShapeError, fmtShape } from '../../errors.ts';
import { gather } from './storage.ts';
import { splitAt } from './softmax.ts';

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** Rows of x around the class dim, its values, the targets and weights, validated. */
function prepare(op: string, x: View, target: View, weight: View | null, o: ClassLossOptions) {
  const { outer, n: C, inner } = splitAt(op, x.shape, o.classDim);
  const rowShape = x.shape.filter((_, d) => d !== o.classDim);
  const want = o.probTargets ? x.shape : rowShape;
  if (!sameShape(target.shape, want)) throw new ShapeError(op, `target shape ${fmtShape(target.shape)} should be ${fmtShape(want)}`, [target.shape, want]);
  if (weight && !sameShape(weight.shape, [C])) throw new ShapeError(op, `weight shape ${fmtShape(weight.shape)} should be [${C}]`, [weight.shape]);
  const xv = gather(op, x);
  const tv = gather(op, target);
  const wv = weight ? gather(op, weight) : new Float64Array(C).fill(1);
  const R = outer * inner;
  if (!o.probTargets) {
    for (let r = 0; r < R; r++) {
      const t = tv[r]!;
      if (t !== o.ignoreIndex && !(t >= 0 && t < C)) throw o.check.error(r, t);
    }
  }
  /** Position in x's row-major order of class c of row r (rows row-major over x without the class dim). */
  const at = (r: number, c: number) => (Math.floor(r / inner) * C + c) * inner + (r % inner);
  /** log-probabilities of row r: log-softmax for 'ce', x itself for 'nll'; and the row max and log-sum. */
  const logProbs = (r: number): { lp: Float64Array; m: number; logS: number } => {
    const lp = new Float64Array(C);
    for (let c = 0; c < C; c++) lp[c] = xv[at(r, c)]!;
    if (o.kind === 'nll') return { lp, m: 0, logS: 0 };
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, lp[c]!);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(lp[c]! - m);
    const logS = Math.log(s);
    for (let c = 0; c < C; c++) lp[c] = lp[c]! - m - logS;
    return { lp, m, logS };
  };
  /** Soft-target weights e_c = w_c·q_c with q = (1 − ε)·t + ε/C. */
  const soft = (r: number, c: number) => wv[c]! * ((1 - o.labelSmoothing) * tv[at(r, c)]! + o.labelSmoothing / C);
  return { C, R, tv, wv, logProbs, soft };
}

/**
 * Per row: index targets, loss = (1 − ε)·w_t·(−lp_t) + (ε/C)·Σ_c w_c·(−lp_c), weight w_t (0 and
 * no loss when t = ignoreIndex); probability targets, loss = −Σ_c w_c·q_c·lp_c, weight 1.
 * 'mean' divides the summed loss by the summed weight (PyTorch's weighted mean, NaN when 0).
 */
export function classLoss(x: View, target: View, weight: View | null, o: ClassLossOptions): { loss: Float64Array; stats: Float64Array } {
  const op = `cpu.${o.kind === 'ce' ? 'crossEntropy' : 'nllLoss'}`;
  const { C, R, tv, wv, logProbs, soft } = prepare(op, x, target, weight, o);
  const eps = o.labelSmoothing;
  const perRow = new Float64Array(R);
  const stats = new Float64Array(3 * R + 1);
  let total = 0;
  let totalWeight = 0;
  for (let r = 0; r < R; r++) {
    const { lp, m, logS } = logProbs(r);
    stats[r] = m;
    stats[R + r] = logS;
    let loss = 0;
    let rowWeight: number;
    let e = 0;
    if (o.probTargets) {
      for (let c = 0; c < C; c++) {
        loss -= soft(r, c) * lp[c]!;
        e += soft(r, c);
      }
      rowWeight = 1;
    } else {
      if (eps > 0) for (let c = 0; c < C; c++) e += wv[c]!;
      const t = tv[r]!;
      if (t === o.ignoreIndex) rowWeight = 0;
      else {
        rowWeight = wv[t]!;
        loss = -(1 - eps) * rowWeight * lp[t]!;
        if (eps > 0) for (let c = 0; c < C; c++) loss -= (eps / C) * wv[c]! * lp[c]!;
      }
    }
    stats[2 * R + r] = e;
    perRow[r] = loss;
    total += loss;
    totalWeight += rowWeight;
  }
  const divisor = o.reduction === 'mean' ? totalWeight : 1;
  stats[3 * R] = divisor;
  const loss = o.reduction === 'none' ? perRow : Float64Array.of(o.reduction === 'mean' ? total / totalWeight : total);
  return { loss, stats };
}

/**
 * d loss / d x, with s = g_r / divisor and p = exp(lp):
 *   ce, index target t: s·[(1 − ε)·w_t·(p_c − [c = t]) + (ε/C)·Σ_k w_k·(p_c − [c = k])]  (0 when ignored)
 *   nll, index target:  −s·w_t·[c = t]
 *   ce, probabilities:  s·[p_c·Σ_k w_k·q_k − w_c·q_c]
 */
export function classLossBackward(x: View, target: View, weight: View | null, stats: View, g: View, o: ClassLossOptions): Float64Array {
  const op = `cpu.${o.kind === 'ce' ? 'crossEntropy' : 'nllLoss'}Backward`;
  const { C, R, tv, wv, logProbs, soft } = prepare(op, x, target, weight, o);
  const gv = gather(op, g);
  if (gv.length !== R) throw new ShapeError(op, `gradient shape ${fmtShape(g.shape)} does not have one value per row (${R} rows)`, [g.shape]);
  const divisor = gather(op, stats)[3 * R]!;
  const eps = o.labelSmoothing;
  let W = 0;
  for (let c = 0; c < C; c++) W += wv[c]!;
  const out = new Float64Array(R * C);
  const { inner } = splitAt(op, x.shape, o.classDim);
  for (let r = 0; r < R; r++) {
    const s = gv[r]! / divisor;
    const put = (c: number, v: number) => (out[(Math.floor(r / inner) * C + c) * inner + (r % inner)] = v);
    const t = tv[r]!;
    if (!o.probTargets && t === o.ignoreIndex) continue; // zeros
    const p = o.kind === 'ce' ? logProbs(r).lp.map(Math.exp) : null;
    for (let c = 0; c < C; c++) {
      if (o.probTargets) {
        let a = 0;
        for (let k = 0; k < C; k++) a += soft(r, k);
        put(c, s * (p![c]! * a - soft(r, c)));
      } else if (o.kind === 'nll') {
        put(c, c === t ? -s * wv[t]! : 0);
      } else {
        const hit = c === t ? 1 : 0;
        put(c, s * ((1 - eps) * wv[t]! * (p![c]! - hit) + (eps / C) * (W * p![c]! - wv[c]!)));
      }
    }
  }
  return out;
}

/** softplus(−x) = log(1 + e^−x), stable for any x. */
const softplusNeg = (x: number) => Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

function checkSame(op: string, a: View, others: (View | null)[]): void {
  for (const v of others) {
    if (v && !sameShape(v.shape, a.shape)) throw new ShapeError(op, `operand shape ${fmtShape(v.shape)} differs from the input's ${fmtShape(a.shape)}`, [a.shape, v.shape]);
  }
}

/**
 * Elementwise loss of input a against target y, times weight w:
 *   mse (a − y)²;  bce −w·(y·max(log a, −100) + (1 − y)·max(log(1 − a), −100));
 *   bceWithLogits w·((1 − y)·a + (1 + (pw − 1)·y)·softplus(−a)).
 * bce throws `check`'s error for the first input outside [0, 1] (NaN included), as PyTorch does.
 */
export function pointwiseLoss(
  op: PointwiseLossOp, a: View, b: View, weight: View | null, posWeight: View | null, reduction: LossReduction, check: InputCheck,
): Float64Array {
  const name = `cpu.${op}`;
  checkSame(name, a, [b, weight, posWeight]);
  const av = gather(name, a);
  if (op === 'bce') {
    for (let i = 0; i < av.length; i++) if (!(av[i]! >= 0 && av[i]! <= 1)) throw check.error(i, av[i]!);
  }
  const bv = gather(name, b);
  const wv = weight ? gather(name, weight) : null;
  const pv = posWeight ? gather(name, posWeight) : null;
  const out = new Float64Array(av.length);
  for (let i = 0; i < av.length; i++) {
    const x = av[i]!;
    const y = bv[i]!;
    let l: number;
    if (op === 'mse') l = (x - y) ** 2;
    else if (op === 'bce') l = -(y * Math.max(Math.log(x), -100) + (1 - y) * Math.max(Math.log(1 - x), -100));
    else l = (1 - y) * x + (pv ? 1 + (pv[i]! - 1) * y : 1) * softplusNeg(x);
    out[i] = wv ? wv[i]! * l : l;
  }
  if (reduction === 'none') return out;
  let s = 0;
  for (const v of out) s += v;
  return Float64Array.of(reduction === 'mean' ? s / out.length : s);
}

/**
 * Gradient of pointwiseLoss times g·scale (PyTorch 1.13's backward formulas):
 *   input:  mse 2(a − y); bce w·(a − y)/max(a(1 − a), 1e-12); bceWithLogits w·((pw·y + 1 − y)·σ(a) − pw·y)
 *   target: mse −2(a − y); bce w·(log(1 − a) − log a) (unclamped, as PyTorch); bceWithLogits w·(−a + (pw − 1)·softplus(−a))
 */
export function pointwiseLossBackward(
  op: PointwiseLossOp, wrt: 'input' | 'target', a: View, b: View, weight: View | null, posWeight: View | null, g: View, scale: number,
): Float64Array {
  const name = `cpu.${op}Backward`;
  checkSame(name, a, [b, weight, posWeight, g]);
  const av = gather(name, a);
  const bv = gather(name, b);
  const wv = weight ? gather(name, weight) : null;
  const pv = posWeight ? gather(name, posWeight) : null;
  const gv = gather(name, g);
  const out = new Float64Array(av.length);
  for (let i = 0; i < av.length; i++) {
    const x = av[i]!;
    const y = bv[i]!;
    const pw = pv ? pv[i]! : 1;
    let d: number;
    if (op === 'mse') d = wrt === 'input' ? 2 * (x - y) : -2 * (x - y);
    else if (op === 'bce') {
      // The target derivative is PyTorch's unclamped log(1 − x) − log x (±inf at x = 0 or 1).
      d = wrt === 'input' ? (x - y) / Math.max((1 - x) * x, 1e-12) : Math.log1p(-x) - Math.log(x);
    } else if (pv) {
      const sig = 1 / (1 + Math.exp(-x));
      d = wrt === 'input' ? (pw * y + 1 - y) * sig - pw * y : -x + (pw - 1) * softplusNeg(x);
    } else {
      // torch's forms without posWeight (the general ones give ∞ − ∞ = NaN at an infinite target).
      d = wrt === 'input' ? 1 / (1 + Math.exp(-x)) - y : -x;
    }
    out[i] = (wv ? wv[i]! : 1) * d * gv[i]! * scale;
  }
  return out;
}
