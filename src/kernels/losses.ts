// Loss kernels: cross entropy / NLL over a class dim (forward and gradient, one pass each),
// the elementwise losses (mse, bce, bce with logits) with their reduction fused in, and the
// small "finalize" pass that adds per-workgroup partial sums. Owns their WGSL, launchers and
// the device-side check of class-index targets; knows nothing of autograd.
//
// Cross entropy forward, row r (rows and lanes as in softmax.ts, whose machinery it shares):
// lanes fold (m, s, d, e) = (max, Σ exp(x − m), Σ e_c·(m − x_c), Σ e_c) where e_c is the
// smoothing weight w_c (index targets, ε > 0) or w_c·q_c (probability targets), combine them
// in a tree, and lane 0 writes the row's loss and what backward needs (m, log s, e):
//   index target t: (1 − ε)·w_t·((m − x_t) + log s) + (ε/C)·(d + e·log s)
//   probabilities:  d + e·log s               (= Σ_c e_c·(lse − x_c), no cancellation)
// Every term is a difference of nearby numbers taken exactly in f32, so ±1e4 logits cost no
// precision. A reduced loss never leaves the pass: each workgroup loops over a chunk of rows
// and adds (loss, weight) in workgroup memory; one workgroup writes the mean or sum itself,
// several write partials that `finalize` adds (2 dispatches instead of a chain).
// The gradient pass needs no reduction (every element's value follows from its row's saved
// stats), so it has no barriers: s·(p_c·A − B_c) with p_c = exp((x_c − m) − log s).
//
// Targets outside [0, C) (other than ignoreIndex): a kernel cannot throw, so the row's loss and
// gradient become NaN and the first such row claims a 16-byte flag (op id, row, value) with a
// compare-exchange; the runtime copies the flag out at the next submit (GpuRuntime.watch) and
// the op's TargetCheck turns it into the error that the next readback throws (error-flag.ts, the
// same scheme as the index kernels).

import type { View } from '../backend/types.ts';
import type { ClassLossOptions, InputCheck, LossReduction, PointwiseLossOp, TargetCheck } from '../backend/loss-options.ts';
import { coalesce, numel as sizeOf } from '../shape.ts';
import { ShapeError, fmtShape } from '../errors.ts';
import type { GpuRuntime } from '../device/runtime.ts';
import type { PooledBuffer } from '../device/buffer-pool.ts';
import { GpuStorage } from './storage.ts';
import { errorFlags, failWgsl } from './error-flag.ts';
import { exceedsBinding } from './split.ts';
import { classLossBackwardExceeds, classLossExceeds, splitClassLoss, splitClassLossBackward, splitPointwiseLoss, splitPointwiseLossBackward } from './loss-split.ts';
import { MAX_RANK, UniformWriter, WG } from './wgsl.ts';
import { kernel } from './ieee.ts';
import {
  ROWS_IDS, ROWS_MAIN_ARGS, ROWS_WGSL, ROW_SLOTS, grid2d, isSoftware, outputOperand, planRows, rowOperand, splitDim, type RowOperand,
} from './softmax.ts';

/**
 * Elements one workgroup of a reduced loss should cover before the work is split over several
 * workgroups (and a finalize pass). Few big workgroups suit llvmpipe (2 cores, µs per workgroup);
 * GPUs want many.
 */
export const lossTuning = { elemsPerGroup: { software: 1 << 16, hardware: 1 << 12 } };

const f32Bits = (v: number): number => new Uint32Array(new Float32Array([v]).buffer)[0]!;

// ---- the device-side target check -----------------------------------------------------------

/** The flag of the class-loss kernels; an entry is the op's target check. */
const guardOf = errorFlags<TargetCheck>((check, words) => check.error(words[1]!, words[2]! | 0));

/** The flag of the pointwise losses that check their input's domain (bce: [0, 1]); words: (op id, index, value bits). */
const inputGuardOf = errorFlags<InputCheck>((check, words) => check.error(words[1]!, new Float32Array(new Uint32Array([words[2]!]).buffer)[0]!));

// ---- cross entropy / NLL ----------------------------------------------------------------------

/** Compile-time shape of a class-loss kernel. */
interface ClassSpec {
  kind: 'ce' | 'nll';
  prob: boolean;
  weighted: boolean;
  /** Fold smoothing / soft-target weights (ε > 0 or probability targets). */
  smooth: boolean;
  /** none: a loss per row; total: one workgroup writes the reduced loss; partial: (loss, weight) per workgroup. */
  mode: 'none' | 'total' | 'partial';
  mean: boolean;
  tree: boolean;
}

const sources = new Map<string, string>();

/**
 * WGSL adding every thread's `value` over the workgroup: a tree in `buf` (a var<workgroup>
 * array of WG elements, thread index t), after which buf[0] holds the sum.
 */
function workgroupSum(buf: string, value: string): string {
  return `${buf}[t] = ${value};
  workgroupBarrier();
  for (var h = ${WG / 2}u; h > 0u; h >>= 1u) {
    if (t < h) { ${buf}[t] += ${buf}[t + h]; }
    workgroupBarrier();
  }`;
}

/** The class-loss uniforms beyond the row layout (written by classExtras). */
const CLASS_PARAMS = `// extra = (ignoreIndex, ε, weight offset, weight stride); extra2 = (op id for the flag, ε/C, 1 − ε, -).
fn epsOverC() -> f32 { return bitcast<f32>(p.extra2.y); }
fn oneMinusEps() -> f32 { return bitcast<f32>(p.extra2.z); }`;

/**
 * e_c: the smoothing weight of class j (index targets) or w_j·q_j (probabilities: q from the
 * target row starting at `tb`, stepping `ts`).
 */
function smoothWeight(s: ClassSpec, j: string, tb: string, ts: string): string {
  const w = s.weighted ? `w[p.extra.z + ${j} * p.extra.w]` : '1.0';
  if (!s.prob) return w;
  const q = `(oneMinusEps() * tgt[${tb} + ${j} * ${ts}] + epsOverC())`;
  return s.weighted ? `${w} * ${q}` : q;
}

function classForwardSource(s: ClassSpec): string {
  const key = `cf|${JSON.stringify(s)}`;
  const hit = sources.get(key);
  if (hit) return hit;
  const ce = s.kind === 'ce';
  const tgtType = s.prob ? 'f32' : 'i32';
  let b = 0;
  const decls = [
    `@group(0) @binding(${b++}) var<storage, read_write> out: array<f32>;`,
    `@group(0) @binding(${b++}) var<storage, read_write> stats: array<f32>;`,
    `@group(0) @binding(${b++}) var<storage, read> x: array<f32>;`,
    `@group(0) @binding(${b++}) var<storage, read> tgt: array<${tgtType}>;`,
  ];
  if (s.weighted) decls.push(`@group(0) @binding(${b++}) var<storage, read> w: array<f32>;`);
  if (!s.prob) decls.push(`@group(0) @binding(${b++}) var<storage, read_write> flag: array<atomic<u32>, 4>;`);
  decls.push(`@group(0) @binding(${b++}) var<uniform> p: Params;`);

  // One lane's fold over its elements of the row whose operands start at bs.
  const lanePass = ce
    ? `fn lanePass(bs: vec4<u32>, lane: u32) -> vec4<f32> {
  let xs = p.dstr.x;
  var m = -ieee_inf();
  // A NaN the builtin max drops still reaches s through exp(x − m), so the row's loss is NaN, as in torch.
  for (var j = lane; j < p.n; j += p.lanes) { m = max(m, x[bs.x + j * xs]); }
  var s = 0.0; var d = 0.0; var e = 0.0;
  for (var j = lane; j < p.n; j += p.lanes) {
    let v = x[bs.x + j * xs];
    let dv = fromMax(v, m);
    s += exp(dv);${s.smooth ? `
    let ec = ${smoothWeight(s, 'j', 'bs.y', 'p.dstr.y')};
    d -= ec * dv;
    e += ec;` : ''}
  }
  return vec4<f32>(m, s, d, e);
}`
    : '';

  // Lane 0 of row r: the row's (loss, weight); writes the stats backward reads.
  const target = s.prob
    ? `  let loss = st.z + st.w * ls;
  return vec2<f32>(loss, 1.0);`
    : `  let ti = tgt[bs.y];
  if (ti == bitcast<i32>(p.extra.x)) { return vec2<f32>(0.0, 0.0); }
  if (ti < 0 || ti >= i32(p.n)) {
    fail(r, ti);
    return vec2<f32>(ieee_nan(), ieee_nan());
  }
  let xt = x[bs.x + u32(ti) * p.dstr.x];
  let wt = ${s.weighted ? 'w[p.extra.z + u32(ti) * p.extra.w]' : '1.0'};
  ${ce ? `var loss = oneMinusEps() * wt * ((m - xt) + ls);` : 'var loss = -wt * xt;'}${s.smooth ? `
  loss += epsOverC() * (st.z + st.w * ls);` : ''}
  return vec2<f32>(loss, wt);`;
  const finish = `fn finishRow(r: u32, bs: vec4<u32>, st: vec4<f32>) -> vec2<f32> {
  ${ce ? 'let m = st.x;\n  let ls = log(st.y);' : 'let m = 0.0;\n  let ls = 0.0;'}
  stats[r] = m;
  stats[p.rows + r] = ls;
  stats[2u * p.rows + r] = st.w;
${target}
}`;

  const fail = s.prob
    ? ''
    : `// The first bad target claims the flag: (op id, row, value).
${failWgsl('r: u32, v: i32', 'p.extra2.x', ['r', 'bitcast<u32>(v)'])}`;

  const tree = s.tree
    ? `
    workgroupBarrier(); // the previous pass has read red
    red[t] = st;
    workgroupBarrier();
    for (var h = p.lanes >> 1u; h > 0u; h >>= 1u) {
      if (lane < h) { red[t] = comb(red[t], red[t + (h << p.laneShift)]); }
      workgroupBarrier();
    }
    st = red[head];`
    : '';
  const comb = s.tree
    ? `var<workgroup> red: array<vec4<f32>, ${WG}>;
// (m, s, d, e) of two lanes. A lane without elements has s = 0 and adds nothing to s; a lane whose
// max is −∞ (no elements, or only −∞) kept d absolute (see fromMax), so it is not rebased. A NaN
// in s or d propagates (no comparison decides on it).
fn comb(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  let m = max(a.x, b.x);
  let sa = select(a.y * exp(a.x - m), 0.0, a.y == 0.0);
  let sb = select(b.y * exp(b.x - m), 0.0, b.y == 0.0);
  let ninf = -ieee_inf();
  let da = select(a.z + a.w * (m - a.x), a.z, a.x == ninf);
  let db = select(b.z + b.w * (m - b.x), b.z, b.x == ninf);
  return vec4<f32>(m, sa + sb, da + db, a.w + b.w);
}`
    : '';
  const reduced = s.mode !== 'none';
  const store = reduced
    ? `accL += res.x;
        accW += res.y;`
    : 'out[r] = res.x;';
  const epilogue = reduced
    ? `
  ${workgroupSum('wred', 'vec2<f32>(accL, accW)')}
  if (t == 0u) {
    let tot = wred[0];
    ${s.mode === 'total'
      ? `out[0] = ${s.mean ? 'tot.x / tot.y' : 'tot.x'};
    stats[3u * p.rows] = ${s.mean ? 'tot.y' : '1.0'};`
      : `out[2u * grp] = tot.x;
    out[2u * grp + 1u] = tot.y;`}
  }`
    : `
  if (grp == 0u && t == 0u) { stats[3u * p.rows] = 1.0; }`;

  const src = `// ${s.kind === 'ce' ? 'cross_entropy' : 'nll_loss'} forward (${s.tree ? 'tree' : 'seq'}, ${s.mode}${s.prob ? ', probability targets' : ''}${s.weighted ? ', weighted' : ''}${s.smooth ? ', smoothing' : ''}):
// workgroup grp loops over rows grp·chunk … grp·chunk + chunk − 1, G rows per pass; row r = pass + slot
// has L lanes (lane k folds classes k, k + L, …). Lane 0 of each row computes its loss${reduced ? ' and adds it (and its\n// weight) to the thread\'s total; the totals are added in workgroup memory at the end' : ' and writes it'}.
// stats: [0, R) row max m, [R, 2R) log Σ exp(x − m), [2R, 3R) Σ e_c, 3R the divisor.
// Operands: 0 x, 1 target (${s.prob ? 'a row of probabilities' : 'one int32 per row'}).
${ROWS_WGSL}
${CLASS_PARAMS}
${decls.join('\n')}
${s.mode !== 'none' ? `var<workgroup> wred: array<vec2<f32>, ${WG}>;` : ''}
${comb}
${fail}
${lanePass}
${finish}
@compute @workgroup_size(${WG})
fn main(${ROWS_MAIN_ARGS}) {
  ${ROWS_IDS}
  let chunkStart = grp * p.chunkRows;
  let chunkEnd = min(p.rows, chunkStart + p.chunkRows);
  var accL = 0.0;
  var accW = 0.0;
  for (var rb = chunkStart; rb < chunkEnd; rb += p.groupRows) {
    let r = rb + slot;
    let live = r < chunkEnd;
    let bs = rowBases(min(r, p.rows - 1u));
    var st = vec4<f32>(${ce ? '-ieee_inf(), 0.0' : '0.0, 1.0'}, 0.0, 0.0);
    ${ce ? 'if (live) { st = lanePass(bs, lane); }' : ''}${tree}
    if (live && lane == 0u) {
      let res = finishRow(r, bs, st);
      ${store}
    }
  }${epilogue}
}`;
  sources.set(key, src);
  return src;
}

function classBackwardSource(s: ClassSpec): string {
  const key = `cb|${JSON.stringify(s)}`;
  const hit = sources.get(key);
  if (hit) return hit;
  const ce = s.kind === 'ce';
  let b = 0;
  const decls = [`@group(0) @binding(${b++}) var<storage, read_write> out: array<f32>;`];
  if (ce) decls.push(`@group(0) @binding(${b++}) var<storage, read> x: array<f32>;`);
  decls.push(`@group(0) @binding(${b++}) var<storage, read> tgt: array<${s.prob ? 'f32' : 'i32'}>;`);
  if (s.weighted) decls.push(`@group(0) @binding(${b++}) var<storage, read> w: array<f32>;`);
  decls.push(`@group(0) @binding(${b++}) var<storage, read> stats: array<f32>;`);
  decls.push(`@group(0) @binding(${b++}) var<storage, read> g: array<f32>;`);
  decls.push(`@group(0) @binding(${b++}) var<uniform> p: Params;`);
  const os = 'p.dstr.x';
  const pc = 'exp((x[bs.y + j * p.dstr.y] - m) - ls)';
  let body: string;
  if (s.prob) {
    body = `  let m = stats[r];
  let ls = stats[p.rows + r];
  let a = stats[2u * p.rows + r];
  for (var j = lane; j < p.n; j += p.lanes) {
    out[bs.x + j * ${os}] = scale * (${pc} * a - ${smoothWeight(s, 'j', 'bs.z', 'p.dstr.z')});
  }`;
  } else {
    body = `  let ti = tgt[bs.z];
  let ignored = ti == bitcast<i32>(p.extra.x);
  let bad = !ignored && (ti < 0 || ti >= i32(p.n));
  if (ignored || bad) {
    let v = select(0.0, ieee_nan(), bad);
    for (var j = lane; j < p.n; j += p.lanes) { out[bs.x + j * ${os}] = v; }
    return;
  }
  let tu = u32(ti);
  let wt = ${s.weighted ? 'w[p.extra.z + tu * p.extra.w]' : '1.0'};
  ${ce
    ? `let m = stats[r];
  let ls = stats[p.rows + r];
  let hitW = oneMinusEps() * wt;
  let a = hitW${s.smooth ? ' + epsOverC() * stats[2u * p.rows + r]' : ''};
  for (var j = lane; j < p.n; j += p.lanes) {
    var gc = ${pc} * a - select(0.0, hitW, j == tu);${s.smooth ? `
    gc -= epsOverC() * ${smoothWeight(s, 'j', '', '')};` : ''}
    out[bs.x + j * ${os}] = scale * gc;
  }`
    : `for (var j = lane; j < p.n; j += p.lanes) {
    out[bs.x + j * ${os}] = select(0.0, -scale * wt, j == tu);
  }`}`;
  }
  const src = `// ${ce ? 'cross_entropy' : 'nll_loss'} backward (${s.prob ? 'probability targets' : 'index targets'}${s.weighted ? ', weighted' : ''}${s.smooth ? ', smoothing' : ''}): row r = grp·G + slot,
// lane k of L writes classes k, k + L, … of d loss / d x = s·(p_c·A − B_c), s = g_r / divisor,
// p_c = exp((x_c − m) − log s) from the forward's stats. No reduction, so no barriers.
// Operands: 0 out (gradient of x), 1 x, 2 target, 3 g (one value per row).
${ROWS_WGSL}
${CLASS_PARAMS}
${decls.join('\n')}
@compute @workgroup_size(${WG})
fn main(${ROWS_MAIN_ARGS}) {
  ${ROWS_IDS}
  _ = head;
  let r = grp * p.groupRows + slot;
  if (r >= p.rows) { return; }
  let bs = rowBases(r);
  let scale = g[bs.w] / stats[3u * p.rows];
${body}
}`;
  sources.set(key, src);
  return src;
}

/** Row operands of the target (index: one value per row; probabilities: a row like x's). */
function targetOperand(target: View, o: ClassLossOptions): RowOperand {
  if (o.probTargets) return rowOperand(target, o.classDim);
  return { buffer: (target.storage as GpuStorage).buffer, offset: target.offset, dimStride: 0, strides: target.strides };
}

function classSpec(weight: View | null, o: ClassLossOptions, mode: ClassSpec['mode'], tree: boolean): ClassSpec {
  return {
    kind: o.kind,
    prob: o.probTargets,
    weighted: weight !== null,
    smooth: o.kind === 'ce' && (o.probTargets || o.labelSmoothing > 0),
    mode,
    mean: o.reduction === 'mean',
    tree: tree && o.kind === 'ce',
  };
}

function classExtras(plan: { uniforms: UniformWriter }, C: number, weight: View | null, o: ClassLossOptions, opId: number): void {
  const u = plan.uniforms;
  u.list(ROW_SLOTS.extra, [o.ignoreIndex >>> 0, f32Bits(o.labelSmoothing), weight ? weight.offset : 0, weight ? weight.strides[0]! >>> 0 : 0]);
  u.list(ROW_SLOTS.extra2, [opId, f32Bits(o.labelSmoothing / C), f32Bits(1 - o.labelSmoothing), 0]);
}

function checkClassShapes(name: string, x: View, target: View, weight: View | null, o: ClassLossOptions): void {
  const C = x.shape[o.classDim];
  if (C === undefined) throw new ShapeError(name, `class dim ${o.classDim} is out of range for shape ${fmtShape(x.shape)}`, [x.shape]);
  const want = o.probTargets ? x.shape : x.shape.filter((_, d) => d !== o.classDim);
  if (target.shape.length !== want.length || target.shape.some((d, i) => d !== want[i])) {
    throw new ShapeError(name, `target shape ${fmtShape(target.shape)} should be ${fmtShape(want)}`, [target.shape, want]);
  }
  if (weight && (weight.shape.length !== 1 || weight.shape[0] !== C)) throw new ShapeError(name, `weight shape ${fmtShape(weight.shape)} should be [${C}]`, [weight.shape]);
}

/** Cross entropy / NLL forward: the loss (per row or reduced) and the stats backward reads. */
export function classLoss(
  rt: GpuRuntime, backend: GpuStorage['backend'], x: View, target: View, weight: View | null, o: ClassLossOptions,
): { loss: GpuStorage; stats: GpuStorage } {
  const name = o.kind === 'ce' ? 'cross_entropy' : 'nll_loss';
  checkClassShapes(name, x, target, weight, o);
  if (classLossExceeds(rt, x, target, weight, o)) return splitClassLoss(rt, backend, x, target, weight, o);
  const { loss, stats } = classLossRun(rt, backend, x, target, weight, o, false);
  return { loss, stats };
}

/**
 * classLoss's one launch. With `keepPartials` a reduced loss is left as its per-workgroup
 * (loss, weight) partials (returned; `loss` is then an unwritten 1-element storage), for
 * loss-split.ts to finalize with other parts' partials.
 */
export function classLossRun(
  rt: GpuRuntime, backend: GpuStorage['backend'], x: View, target: View, weight: View | null, o: ClassLossOptions, keepPartials: boolean,
): { loss: GpuStorage; stats: GpuStorage; partials: GpuStorage | null } {
  const name = o.kind === 'ce' ? 'cross_entropy' : 'nll_loss';
  const C = x.shape[o.classDim]!;
  const { rowShape } = splitDim(x.shape, x.strides, o.classDim);
  const R = sizeOf(rowShape);
  const reduced = o.reduction !== 'none';
  const loss = new GpuStorage(backend, rt, rt.pool.acquire(Math.max(reduced ? 1 : R, 1) * 4), 'float32', reduced ? 1 : R);
  const stats = new GpuStorage(backend, rt, rt.pool.acquire((3 * R + 1) * 4), 'float32', 3 * R + 1);
  if (R === 0 || C === 0) {
    // No rows: the mean is 0/0 (NaN, as PyTorch), the sum 0; backward has nothing to read.
    if (reduced) finalize(rt, loss.buffer, stats.buffer, null, 0, o.reduction === 'mean' ? 'weights' : 'sum', 1, 3 * R);
    return { loss, stats, partials: null };
  }
  const operands = [rowOperand(x, o.classDim), targetOperand(target, o)];
  const plan = planRows(name, rt, rowShape, C, operands, 0, o.kind === 'nll' ? 1 : undefined);
  // Rows per workgroup pass: one pass for 'none'; a reduced loss gives each workgroup about
  // elemsPerGroup elements, so small problems finish in one workgroup and one dispatch.
  let chunkRows = plan.groupRows;
  let groups = plan.groups;
  let mode: ClassSpec['mode'] = 'none';
  if (reduced) {
    const per = lossTuning.elemsPerGroup[isSoftware(rt) ? 'software' : 'hardware'];
    const wanted = Math.min(plan.groups, Math.max(1, Math.ceil((R * C) / per)));
    chunkRows = Math.ceil(R / wanted / plan.groupRows) * plan.groupRows;
    groups = Math.ceil(R / chunkRows);
    mode = groups === 1 && !keepPartials ? 'total' : 'partial';
  }
  plan.uniforms.u32[ROW_SLOTS.head2 * 4 + 3] = chunkRows;
  const guard = o.probTargets ? null : guardOf(rt);
  const opId = guard ? guard.open(o.check) : 0;
  classExtras(plan, C, weight, o, opId);
  const spec = classSpec(weight, o, mode, plan.lanes > 1);
  const partials = mode === 'partial' ? new GpuStorage(backend, rt, rt.pool.acquire(groups * 8), 'float32', 2 * groups) : null;
  const buffers = [partials?.buffer ?? loss.buffer, stats.buffer, plan.buffers[0]!, plan.buffers[1]!];
  if (weight) buffers.push((weight.storage as GpuStorage).buffer);
  if (guard) buffers.push(guard.flag);
  const kname = `${name}_${spec.tree ? 'tree' : 'seq'}_${mode}`;
  rt.dispatch(kernel(rt, kname, classForwardSource(spec)), buffers, plan.uniforms.u32, grid2d(rt, groups));
  if (guard) guard.watch(opId);
  if (partials && !keepPartials) {
    finalize(rt, loss.buffer, stats.buffer, partials.buffer, groups, o.reduction === 'mean' ? 'weights' : 'sum', 1, 3 * R);
    // Safe before the GPU ran: the queue executes in order, so a later user of the buffer
    // only writes it after finalize has read it.
    partials.release();
    return { loss, stats, partials: null };
  }
  return { loss, stats, partials };
}

/** Gradient of classLoss wrt x; contiguous, x's shape. `g` is the loss gradient broadcast to the row shape. */
export function classLossBackward(
  rt: GpuRuntime, backend: GpuStorage['backend'], x: View, target: View, weight: View | null, stats: View, g: View, o: ClassLossOptions,
): GpuStorage {
  const name = o.kind === 'ce' ? 'cross_entropy_backward' : 'nll_loss_backward';
  checkClassShapes(name, x, target, weight, o);
  const C = x.shape[o.classDim]!;
  const { rowShape } = splitDim(x.shape, x.strides, o.classDim);
  if (g.shape.length !== rowShape.length || g.shape.some((d, i) => d !== rowShape[i])) {
    throw new ShapeError(name, `gradient shape ${fmtShape(g.shape)} should be the row shape ${fmtShape(rowShape)}`, [g.shape, rowShape]);
  }
  if (stats.offset !== 0) throw new ShapeError(name, 'stats must be the storage classLoss returned (offset 0)');
  if (classLossBackwardExceeds(rt, x, target, weight, stats, g, o)) return splitClassLossBackward(rt, backend, x, target, weight, stats, g, o);
  const total = sizeOf(x.shape);
  const out = new GpuStorage(backend, rt, rt.pool.acquire(Math.max(total, 1) * 4), 'float32', total);
  if (total === 0) return out;
  const gOp: RowOperand = { buffer: (g.storage as GpuStorage).buffer, offset: g.offset, dimStride: 0, strides: g.strides };
  const operands = [outputOperand(out.buffer, x.shape, o.classDim), rowOperand(x, o.classDim), targetOperand(target, o), gOp];
  const plan = planRows(name, rt, rowShape, C, operands, 1);
  classExtras(plan, C, weight, o, 0);
  const spec = classSpec(weight, o, 'none', false);
  const buffers = [out.buffer];
  if (o.kind === 'ce') buffers.push(plan.buffers[1]!);
  buffers.push(plan.buffers[2]!);
  if (weight) buffers.push((weight.storage as GpuStorage).buffer);
  buffers.push((stats.storage as GpuStorage).buffer, plan.buffers[3]!);
  rt.dispatch(kernel(rt, name, classBackwardSource(spec)), buffers, plan.uniforms.u32, grid2d(rt, plan.groups));
  return out;
}

// ---- finalize: partial sums → the reduced loss --------------------------------------------------

const FINALIZE_SLOTS = 1;

function finalizeSource(withStats: boolean): string {
  const key = `fin|${withStats}`;
  const hit = sources.get(key);
  if (hit) return hit;
  const src = `// loss_finalize: one workgroup adds \`count\` (loss, weight) partials (thread t takes t, t + WG, …,
// then a tree in workgroup memory) and writes the sum, or the mean over Σ weight (mode 1) or
// over a constant (mode 2)${withStats ? '; the divisor goes to stats[statsAt] for backward' : ''}.
struct Params { count: u32, mode: u32, divisor: f32, statsAt: u32 };
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
${withStats ? '@group(0) @binding(1) var<storage, read_write> stats: array<f32>;' : ''}
@group(0) @binding(${withStats ? 2 : 1}) var<storage, read> part: array<vec2<f32>>;
@group(0) @binding(${withStats ? 3 : 2}) var<uniform> p: Params;
var<workgroup> red: array<vec2<f32>, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) t: u32) {
  var acc = vec2<f32>(0.0, 0.0);
  for (var i = t; i < p.count; i += ${WG}u) { acc += part[i]; }
  ${workgroupSum('red', 'acc')}
  if (t == 0u) {
    let tot = red[0];
    let d = select(select(1.0, tot.y, p.mode == 1u), p.divisor, p.mode == 2u);
    out[0] = select(tot.x / d, tot.x, p.mode == 0u);
    ${withStats ? 'stats[p.statsAt] = d;' : ''}
  }
}`;
  sources.set(key, src);
  return src;
}

/** Sums `count` (loss, weight) partials into out[0]; `parts` null means none (an empty input). */
export function finalize(
  rt: GpuRuntime, out: PooledBuffer, stats: PooledBuffer | null, parts: PooledBuffer | null, count: number,
  mode: 'sum' | 'weights' | 'const', divisor: number, statsAt: number,
): void {
  const u = new UniformWriter(FINALIZE_SLOTS);
  u.list(0, [count, mode === 'sum' ? 0 : mode === 'weights' ? 1 : 2, f32Bits(divisor), statsAt]);
  // With no partials, bind the output as a dummy `part` (count 0: never read).
  const partBuf = parts ?? rt.pool.acquire(8);
  try {
    const buffers = stats ? [out, stats, partBuf] : [out, partBuf];
    rt.dispatch(kernel(rt, `loss_finalize${stats ? '_stats' : ''}`, finalizeSource(stats !== null)), buffers, u.u32, [1, 1]);
  } finally {
    if (!parts) rt.pool.release(partBuf);
  }
}

// ---- elementwise losses ---------------------------------------------------------------------------

interface PointSpec {
  op: PointwiseLossOp;
  weighted: boolean;
  pos: boolean;
  /** Forward of a loss with an input domain (bce): elements outside it claim the error flag. */
  checked?: boolean;
  /** forward: none | total | partial; backward: 'input' | 'target'. */
  pass: 'none' | 'total' | 'partial' | 'input' | 'target';
}

/** WGSL of the loss (forward) or its derivative (backward) at one element, from a, y, w, pw. */
function pointExpr(s: PointSpec): string {
  const sp = 'let sp = ieee_max(-a, 0.0) + log(1.0 + exp(-abs(a)));'; // softplus(−a), stable
  const w = s.weighted ? ' * wv' : '';
  switch (`${s.op}|${s.pass === 'input' || s.pass === 'target' ? s.pass : 'loss'}`) {
    case 'mse|loss': return 'let d = a - y; return d * d;';
    case 'mse|input': return 'return 2.0 * (a - y);';
    case 'mse|target': return 'return -2.0 * (a - y);';
    case 'bce|loss': return `return -(y * ieee_max(ieee_log(a), -100.0) + (1.0 - y) * ieee_max(ieee_log(1.0 - a), -100.0))${w};`;
    case 'bce|input': return `return (a - y) / ieee_max((1.0 - a) * a, 1e-12)${w};`;
    case 'bce|target': return `return (ieee_log(1.0 - a) - ieee_log(a))${w};`; // unclamped, as PyTorch
    case 'bceWithLogits|loss': return `${sp} return ((1.0 - y) * a + ${s.pos ? '(1.0 + (pw - 1.0) * y)' : '1.0'} * sp)${w};`;
    case 'bceWithLogits|input':
      return `let sig = ieee_sigmoid(a); return (${s.pos ? '(pw * y + 1.0 - y) * sig - pw * y' : 'sig - y'})${w};`;
    case 'bceWithLogits|target': return `${sp} return (${s.pos ? '-a + (pw - 1.0) * sp' : '-a'})${w};`;
  }
  throw new Error(`pointwise loss: no expression for ${s.op} ${s.pass}`);
}

const PS = MAX_RANK / 4;

function pointSource(s: PointSpec): string {
  const key = `pt|${JSON.stringify(s)}`;
  const hit = sources.get(key);
  if (hit) return hit;
  const backward = s.pass === 'input' || s.pass === 'target';
  const reduced = s.pass === 'total' || s.pass === 'partial';
  let b = 0;
  const decls = [`@group(0) @binding(${b++}) var<storage, read_write> out: array<f32>;`];
  decls.push(`@group(0) @binding(${b++}) var<storage, read> ain: array<f32>;`);
  decls.push(`@group(0) @binding(${b++}) var<storage, read> yin: array<f32>;`);
  if (s.weighted) decls.push(`@group(0) @binding(${b++}) var<storage, read> win: array<f32>;`);
  if (s.pos) decls.push(`@group(0) @binding(${b++}) var<storage, read> pin: array<f32>;`);
  if (backward) decls.push(`@group(0) @binding(${b++}) var<storage, read> gin: array<f32>;`);
  if (s.checked) decls.push(`@group(0) @binding(${b++}) var<storage, read_write> flag: array<atomic<u32>, 4>;`);
  decls.push(`@group(0) @binding(${b++}) var<uniform> p: Params;`);
  // bce's input must lie in [0, 1] (torch raises otherwise): the first element outside, or NaN,
  // records (op id, index, value); its loss is NaN already (the clamped logs keep NaN).
  const check = s.checked ? '\n    if (ieee_isnan(ain[o.x]) || ain[o.x] < 0.0 || ain[o.x] > 1.0) { fail(i, bitcast<u32>(ain[o.x])); }' : '';
  const args = ['a: f32', 'y: f32', ...(s.weighted ? ['wv: f32'] : []), ...(s.pos ? ['pw: f32'] : [])].join(', ');
  const call = ['ain[o.x]', 'yin[o.y]', ...(s.weighted ? ['win[o.z]'] : []), ...(s.pos ? ['pin[o.w]'] : [])].join(', ');
  const main = backward
    ? `  let i = (wid.x + wid.y * nwg.x) * ${WG}u + t;
  if (i >= p.numel) { return; }
  let o = offsets(i);
  out[i] = f(${call}) * gin[gOffset(i)] * bitcast<f32>(p.scaleBits);`
    : reduced
      ? `  let grp = wid.x + wid.y * nwg.x;
  let start = grp * p.chunk;
  let end = min(p.numel, start + p.chunk);
  var acc = 0.0;
  for (var i = start + t; i < end; i += ${WG}u) {
    let o = offsets(i);${check}
    acc += f(${call});
  }
  ${workgroupSum('red', 'acc')}
  if (t == 0u) {
    ${s.pass === 'total' ? 'out[0] = red[0] / bitcast<f32>(p.scaleBits);' : 'out[2u * grp] = red[0];\n    out[2u * grp + 1u] = 0.0;'}
  }`
      : `  let i = (wid.x + wid.y * nwg.x) * ${WG}u + t;
  if (i >= p.numel) { return; }
  let o = offsets(i);${check}
  out[i] = f(${call});`;
  const src = `// ${s.op} ${backward ? `backward (d loss / d ${s.pass})` : `loss (${s.pass})`}: element i (row-major over the shape) reads a, y${s.weighted ? ', weight' : ''}${s.pos ? ', posWeight' : ''}
// at its coordinates dotted with each operand's strides (0 on broadcast dims).${reduced ? ` Workgroup grp adds
// elements grp·chunk … (thread t takes every ${WG}th) in workgroup memory and writes ${s.pass === 'total' ? 'the total / divisor' : 'a partial sum'}.` : ''}
struct Params {
  numel: u32, rank: u32, chunk: u32, scaleBits: u32,
  offs: vec4<u32>, goff: u32, opId: u32, _b: u32, _c: u32,
  shape: array<vec4<u32>, ${PS}>,
  str: array<vec4<u32>, ${MAX_RANK}>,
  gstr: array<vec4<u32>, ${PS}>,
};
${decls.join('\n')}
${reduced ? `var<workgroup> red: array<f32, ${WG}>;` : ''}
${s.checked ? failWgsl('i: u32, v: u32', 'p.opId', ['i', 'v']) : ''}
// Offsets of element i in a, y, weight, posWeight (one vec4 lane each).
fn offsets(i: u32) -> vec4<u32> {
  var rem = i;
  var o = p.offs;
  for (var d = p.rank; d > 1u && d <= ${MAX_RANK}u; ) {
    d--;
    let n = p.shape[d / 4u][d % 4u];
    o += (rem % n) * p.str[d];
    rem = rem / n;
  }
  if (p.rank > 0u) { o += rem * p.str[0]; }
  return o;
}
${backward ? `fn gOffset(i: u32) -> u32 {
  var rem = i;
  var o = p.goff;
  for (var d = p.rank; d > 1u && d <= ${MAX_RANK}u; ) {
    d--;
    let n = p.shape[d / 4u][d % 4u];
    o += (rem % n) * p.gstr[d / 4u][d % 4u];
    rem = rem / n;
  }
  if (p.rank > 0u) { o += rem * p.gstr[0][0]; }
  return o;
}` : ''}
fn f(${args}) -> f32 {
  ${pointExpr(s)}
}
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
${main}
}`;
  sources.set(key, src);
  return src;
}

/** Uniforms and buffers of a pointwise launch over a.shape. */
function pointLayout(name: string, a: View, b: View, weight: View | null, posWeight: View | null, g: View | null) {
  const views = [a, b, weight, posWeight].filter((v): v is View => v !== null);
  for (const v of [...views, ...(g ? [g] : [])]) {
    if (v.shape.length !== a.shape.length || v.shape.some((d, i) => d !== a.shape[i])) {
      throw new ShapeError(name, `operand shape ${fmtShape(v.shape)} differs from the input's ${fmtShape(a.shape)}`, [a.shape, v.shape]);
    }
  }
  const all = g ? [...views, g] : views;
  const co = coalesce(a.shape, all.map((v) => v.strides));
  if (co.shape.length > MAX_RANK) throw new ShapeError(name, `shape ${fmtShape(a.shape)} has more than ${MAX_RANK} dims after merging`, [a.shape]);
  const u = new UniformWriter(3 + PS + MAX_RANK + PS);
  const n = sizeOf(a.shape);
  u.list(0, [n, co.shape.length, 0, 0]);
  // Lane k of offs/str belongs to a, y, weight, posWeight in that order (absent ones stay 0).
  const lanes = [a, b, weight, posWeight];
  const strideOf = (v: View) => co.strides[all.indexOf(v)]!;
  u.list(1, lanes.map((v) => (v ? v.offset >>> 0 : 0)));
  u.u32[8] = g ? g.offset >>> 0 : 0;
  u.list(3, co.shape);
  co.shape.forEach((_, d) => u.list(3 + PS + d, lanes.map((v) => (v ? strideOf(v)[d]! >>> 0 : 0))));
  if (g) u.list(3 + PS + MAX_RANK, strideOf(g).map((s) => s >>> 0));
  const buffers = [a, b, weight, posWeight, g].filter((v): v is View => v !== null).map((v) => (v.storage as GpuStorage).buffer);
  return { n, u, buffers };
}

/**
 * Elementwise loss of a vs b ('none': a.shape; else one element, mean or sum). bce checks its
 * input's domain on the device: an element outside [0, 1] sets the flag that `check` turns into
 * the error the next readback throws.
 */
export function pointwiseLoss(
  rt: GpuRuntime, backend: GpuStorage['backend'], op: PointwiseLossOp, a: View, b: View, weight: View | null, posWeight: View | null,
  reduction: LossReduction, check: InputCheck,
): GpuStorage {
  const { n, u, buffers } = pointLayout(op, a, b, weight, posWeight, null);
  const reduced = reduction !== 'none';
  if (n > 0 && exceedsBinding(rt, [a, b, weight, posWeight], [reduced ? 1 : n])) return splitPointwiseLoss(rt, backend, op, a, b, weight, posWeight, reduction, check);
  const out = new GpuStorage(backend, rt, rt.pool.acquire(Math.max(reduced ? 1 : n, 1) * 4), 'float32', reduced ? 1 : n);
  const checked = op === 'bce';
  const spec = (pass: PointSpec['pass']): PointSpec => ({ op, weighted: weight !== null, pos: posWeight !== null, pass, checked });
  const guard = checked && n > 0 ? inputGuardOf(rt) : null;
  if (guard) {
    u.u32[9] = guard.open(check);
    buffers.push(guard.flag);
  }
  try {
    pointwiseLaunch(rt, op, n, u, buffers, out, reduction, spec);
  } finally {
    guard?.watch(u.u32[9]!);
  }
  return out;
}

/** Records the passes of pointwiseLoss into `out`. */
function pointwiseLaunch(
  rt: GpuRuntime, op: PointwiseLossOp, n: number, u: UniformWriter, buffers: PooledBuffer[], out: GpuStorage, reduction: LossReduction,
  spec: (pass: PointSpec['pass']) => PointSpec,
): void {
  const reduced = reduction !== 'none';
  const divisor = reduction === 'mean' ? n : 1;
  if (!reduced) {
    if (n > 0) rt.dispatch(kernel(rt, `${op}_loss`, pointSource(spec('none'))), [out.buffer, ...buffers], u.u32, grid2d(rt, Math.ceil(n / WG)));
    return;
  }
  if (n === 0) {
    finalize(rt, out.buffer, null, null, 0, reduction === 'mean' ? 'const' : 'sum', 0, 0);
    return;
  }
  const per = lossTuning.elemsPerGroup[isSoftware(rt) ? 'software' : 'hardware'];
  const groups = Math.max(1, Math.min(Math.ceil(n / per), 4096));
  const chunk = Math.ceil(n / groups / WG) * WG;
  const used = Math.ceil(n / chunk);
  u.u32[2] = chunk;
  u.u32[3] = f32Bits(divisor);
  if (used === 1) {
    rt.dispatch(kernel(rt, `${op}_loss_total`, pointSource(spec('total'))), [out.buffer, ...buffers], u.u32, [1, 1]);
    return;
  }
  const partials = rt.pool.acquire(used * 8);
  rt.dispatch(kernel(rt, `${op}_loss_partial`, pointSource(spec('partial'))), [partials, ...buffers], u.u32, grid2d(rt, used));
  finalize(rt, out.buffer, null, partials, used, reduction === 'mean' ? 'const' : 'sum', divisor, 0);
  rt.pool.release(partials);
  return;
}

/** Gradient of pointwiseLoss wrt a or b, times g (broadcast to a.shape) and scale; contiguous, a.shape. */
export function pointwiseLossBackward(
  rt: GpuRuntime, backend: GpuStorage['backend'], op: PointwiseLossOp, wrt: 'input' | 'target', a: View, b: View, weight: View | null,
  posWeight: View | null, g: View, scale: number,
): GpuStorage {
  const { n, u, buffers } = pointLayout(`${op}_backward`, a, b, weight, posWeight, g);
  if (n > 0 && exceedsBinding(rt, [a, b, weight, posWeight, g], [n])) return splitPointwiseLossBackward(rt, backend, op, wrt, a, b, weight, posWeight, g, scale);
  const out = new GpuStorage(backend, rt, rt.pool.acquire(Math.max(n, 1) * 4), 'float32', n);
  if (n === 0) return out;
  u.u32[3] = f32Bits(scale);
  const spec: PointSpec = { op, weighted: weight !== null, pos: posWeight !== null, pass: wrt };
  rt.dispatch(kernel(rt, `${op}_backward_${wrt}`, pointSource(spec)), [out.buffer, ...buffers], u.u32, grid2d(rt, Math.ceil(n / WG)));
  return out;
}
