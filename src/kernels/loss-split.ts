// The loss kernels of losses.ts on tensors larger than one storage binding, in parts
// (src/kernels/split.ts). Cross entropy / NLL cut the batch (whole rows of classes): each
// part's stats are copied into the three planes of the whole, and a reduced loss is the one
// finalize pass over every part's (loss, weight) partials, so sums and weighted means are those
// of one launch. The elementwise losses cut any dim; their reduced forms add partial sums.

import type { View } from '../backend/types.ts';
import type { ClassLossOptions, InputCheck, LossReduction, PointwiseLossOp } from '../backend/loss-options.ts';
import { numel as sizeOf } from '../shape.ts';
import type { GpuRuntime } from '../device/runtime.ts';
import { GpuStorage } from './storage.ts';
import { alignedCuts, exceedsBinding, runSplit, type Cut, type Join } from './split.ts';
import { splitDim } from './softmax.ts';
import { classLossBackward, classLossRun, finalize, pointwiseLoss, pointwiseLossBackward } from './losses.ts';
import * as ew from './elementwise.ts';

type Backend = GpuStorage['backend'];

/** The batch of a class loss: dim 0 of the rows (x's dim 0, or 1 when the classes come first), and rows per batch entry. */
function batchOf(x: View, o: ClassLossOptions): { xDim: number; rows: number; rowsPer: number; rowShape: number[] } {
  const { rowShape } = splitDim(x.shape, x.strides, o.classDim);
  const rows = sizeOf(rowShape);
  return { xDim: o.classDim === 0 ? 1 : 0, rows, rowsPer: rows / rowShape[0]!, rowShape };
}

/** True when classLoss (validated) must run in parts. */
export function classLossExceeds(rt: GpuRuntime, x: View, target: View, weight: View | null, o: ClassLossOptions): boolean {
  const { rows } = batchOf(x, o);
  return rows > 0 && x.shape.length > 1 && exceedsBinding(rt, [x, target, weight], [o.reduction === 'none' ? rows : 1, 3 * rows + 1]);
}

/** classLoss (see losses.ts) in parts of whole batch entries. */
export function splitClassLoss(rt: GpuRuntime, backend: Backend, x: View, target: View, weight: View | null, o: ClassLossOptions): { loss: GpuStorage; stats: GpuStorage } {
  const name = o.kind === 'ce' ? 'cross_entropy' : 'nll_loss';
  const { xDim, rows: R, rowsPer, rowShape } = batchOf(x, o);
  const reduced = o.reduction !== 'none';
  const join: Join = (parts, ranges) => {
    const loss = new GpuStorage(backend, rt, rt.pool.acquire(Math.max(reduced ? 1 : R, 1) * 4), 'float32', reduced ? 1 : R);
    const stats = new GpuStorage(backend, rt, rt.pool.acquire((3 * R + 1) * 4), 'float32', 3 * R + 1);
    const counts = parts.map(([first]) => first!.numel / 2);
    const total = counts.reduce((a, b) => a + b, 0);
    const all = reduced ? new GpuStorage(backend, rt, rt.pool.acquire(Math.max(1, total) * 8), 'float32', 2 * total) : null;
    try {
      let at = 0;
      parts.forEach(([first, st], p) => {
        const r0 = ranges[p]![0] * rowsPer;
        const rp = (ranges[p]![1] - ranges[p]![0]) * rowsPer;
        for (let plane = 0; plane < 3; plane++) rt.copy(st!.buffer, plane * rp * 4, stats.buffer, (plane * R + r0) * 4, rp * 4);
        if (all) {
          rt.copy(first!.buffer, 0, all.buffer, at * 8, counts[p]! * 8);
          at += counts[p]!;
        } else rt.copy(first!.buffer, 0, loss.buffer, r0 * 4, rp * 4);
      });
      if (all) finalize(rt, loss.buffer, stats.buffer, all.buffer, at, o.reduction === 'mean' ? 'weights' : 'sum', 1, 3 * R);
      else rt.copy(parts[0]![1]!.buffer, 3 * ((ranges[0]![1] - ranges[0]![0]) * rowsPer) * 4, stats.buffer, 3 * R * 4, 4); // divisor 1
    } catch (e) {
      loss.release();
      stats.release();
      throw e;
    } finally {
      all?.release();
      for (const s of parts.flat()) s.release();
    }
    return [loss, stats];
  };
  const cut: Cut = { axis: 'the batch', extent: x.shape[xDim]!, dims: [xDim, o.probTargets ? xDim : 0, null, 0, 0], join };
  const [loss, stats] = runSplit(rt, {
    name, backend, inputs: [x, target, weight], roles: ['input', 'target', 'weight'],
    // Planning stand-ins for a part's outputs: its per-row losses (or a pair per row, more than its partials) and stats.
    outputs: [{ shape: reduced ? [rowShape[0]!, 2] : rowShape, dtype: 'float32' }, { shape: [...rowShape, 3], dtype: 'float32' }],
    cuts: [cut],
    leaf: ([px, pt, pw], _, under) => {
      const r0 = under.get(cut)![0] * rowsPer;
      // A bad target's row, counted in the whole batch.
      const check = { error: (row: number, value: number): Error => o.check.error(row + r0, value) };
      const { loss, stats, partials } = classLossRun(rt, backend, px!, pt!, pw, { ...o, check }, true);
      if (partials) loss.release();
      return [partials ?? loss, stats];
    },
  });
  return { loss: loss!, stats: stats! };
}

/** True when classLossBackward (validated) must run in parts. */
export function classLossBackwardExceeds(rt: GpuRuntime, x: View, target: View, weight: View | null, stats: View, g: View, o: ClassLossOptions): boolean {
  return batchOf(x, o).rows > 0 && x.shape.length > 1 && exceedsBinding(rt, [x, target, weight, stats, g], [sizeOf(x.shape)]);
}

/** classLossBackward in parts of whole batch entries, each with its rows' stats gathered from the three planes. */
export function splitClassLossBackward(
  rt: GpuRuntime, backend: Backend, x: View, target: View, weight: View | null, stats: View, g: View, o: ClassLossOptions,
): GpuStorage {
  const name = o.kind === 'ce' ? 'cross_entropy_backward' : 'nll_loss_backward';
  const { xDim, rows: R, rowsPer } = batchOf(x, o);
  const whole = (stats.storage as GpuStorage).buffer;
  const cut: Cut = { axis: 'the batch', extent: x.shape[xDim]!, dims: [xDim, o.probTargets ? xDim : 0, null, 0, xDim], join: 'slab' };
  return runSplit(rt, {
    name, backend, inputs: [x, target, weight, g], roles: ['input', 'target', 'weight', 'gradient'], outputs: [{ shape: x.shape, dtype: 'float32' }],
    cuts: [cut],
    leaf: ([px, pt, pw, pg], _, under) => {
      const r0 = under.get(cut)![0] * rowsPer;
      const rp = sizeOf(pg!.shape);
      const st = new GpuStorage(backend, rt, rt.pool.acquire((3 * rp + 1) * 4), 'float32', 3 * rp + 1);
      try {
        for (let plane = 0; plane < 3; plane++) rt.copy(whole, (plane * R + r0) * 4, st.buffer, plane * rp * 4, rp * 4);
        rt.copy(whole, 3 * R * 4, st.buffer, 3 * rp * 4, 4);
        return [classLossBackward(rt, backend, px!, pt!, pw, { storage: st, shape: [3 * rp + 1], strides: [1], offset: 0 }, pg!, o)];
      } finally {
        st.release();
      }
    },
  })[0]!;
}

/** pointwiseLoss in parts along any dims: slabs of a per-element loss, or partial sums that add up (a mean divides the total once). */
export function splitPointwiseLoss(
  rt: GpuRuntime, backend: Backend, op: PointwiseLossOp, a: View, b: View, weight: View | null, posWeight: View | null, reduction: LossReduction,
  check: InputCheck,
): GpuStorage {
  const reduced = reduction !== 'none';
  const cuts: Cut[] = a.shape.map((extent, d) => ({ axis: `dim ${d}`, extent, dims: [d, d, d, d, reduced ? null : d], join: reduced ? 'sum' : 'slab' }));
  const [total] = runSplit(rt, {
    name: `${op}_loss`, backend, inputs: [a, b, weight, posWeight], roles: ['input', 'target', 'weight', 'pos_weight'],
    outputs: [{ shape: reduced ? [1] : a.shape, dtype: 'float32' }], cuts,
    leaf: ([pa, pb, pw, pp]) => [pointwiseLoss(rt, backend, op, pa!, pb!, pw, pp, reduced ? 'sum' : 'none', check)],
  });
  if (reduction !== 'mean') return total!;
  const v: View = { storage: total!, shape: [1], strides: [1], offset: 0 };
  const mean = ew.binary(rt, backend, 'div', v, sizeOf(a.shape), [1], 'float32', 'float32');
  total!.release();
  return mean;
}

/** pointwiseLossBackward in parts along any dims. */
export function splitPointwiseLossBackward(
  rt: GpuRuntime, backend: Backend, op: PointwiseLossOp, wrt: 'input' | 'target', a: View, b: View, weight: View | null, posWeight: View | null, g: View, scale: number,
): GpuStorage {
  return runSplit(rt, {
    name: `${op}_backward`, backend, inputs: [a, b, weight, posWeight, g], roles: ['input', 'target', 'weight', 'pos_weight', 'gradient'],
    outputs: [{ shape: a.shape, dtype: 'float32' }], cuts: alignedCuts(a.shape, 6),
    leaf: ([pa, pb, pw, pp, pg]) => [pointwiseLossBackward(rt, backend, op, wrt, pa!, pb!, pw, pp, pg!, scale)],
  })[0]!;
}
