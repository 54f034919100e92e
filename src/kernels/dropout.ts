// Dropout kernel: out = x · (keep ? scale : 0), the keep bits drawn inside the shader from
// Philox4x32-10 (philoxWgsl of src/kernels/random.ts), so no mask is ever stored or uploaded.
// One launch serves dropout (one draw per element) and dropout2d (one draw per channel:
// `group` consecutive elements share a draw). Element → bits mapping, shared bit for bit with
// the float64 twin src/backend/cpu/dropout.ts: element e uses draw r = ⌊e/group⌋ (e in
// row-major logical order), i.e. word r % 4 of Philox block ⌊r/4⌋ at counter state.counter +
// ⌊r/4⌋ — exactly the word `rand` would turn into its r-th uniform; keep iff (word >> 8) >= threshold.

import type { RandomState, View } from '../backend/types.ts';
import { coalesce, contiguousStrides, numel as sizeOf } from '../shape.ts';
import type { GpuRuntime } from '../device/runtime.ts';
import { GpuStorage } from './storage.ts';
import { exceedsBinding, runSplit, type Cut } from './split.ts';
import { philoxWgsl } from './random.ts';
import { MAIN_ARGS, MAX_RANK, UniformWriter, flatIndex, grid1d } from './wgsl.ts';
import { kernel } from './ieee.ts';

const RANK_SLOTS = MAX_RANK / 4;

/**
 * How a thread finds the draws of its 4 elements: 'element' (group 1: draws 4i..4i+3 are the
 * 4 words of block i), 'channel' (group a multiple of 4: one draw for all 4), 'any' (per element,
 * one Philox block per distinct ⌊r/4⌋). Specialised because integer division by a uniform is
 * scalarised on llvmpipe and the element case needs none.
 */
type MaskMode = 'element' | 'channel' | 'any';

const MASK: Record<MaskMode, string> = {
  element: `let w = philoxBlock(i);
  let m = select(vec4<f32>(0.0), vec4<f32>(p.scale), (w >> vec4<u32>(8u)) >= vec4<u32>(p.threshold));`,
  channel: `let r = first / p.group;
  let w = philoxBlock(r / 4u);
  let m = vec4<f32>(select(0.0, p.scale, (w[r % 4u] >> 8u) >= p.threshold));`,
  any: `var m = vec4<f32>(0.0);
  var blk = 0xffffffffu;
  var w = vec4<u32>(0u);
  for (var e = 0u; e < 4u; e++) {
    let r = (first + e) / p.group;
    if (r / 4u != blk) {
      blk = r / 4u;
      w = philoxBlock(blk);
    }
    m[e] = select(0.0, p.scale, (w[r % 4u] >> 8u) >= p.threshold);
  }`,
};

const sources = new Map<string, string>();
function source(vec4: boolean, mode: MaskMode): string {
  const key = `${vec4}|${mode}`;
  let src = sources.get(key);
  if (!src) sources.set(key, (src = buildSource(vec4, mode)));
  return src;
}

function buildSource(vec4: boolean, mode: MaskMode): string {
  const xType = vec4 ? 'vec4<f32>' : 'f32';
  const body = vec4
    ? `out[i] = x[i + p.xOff] * m;`
    : `for (var e = 0u; e < 4u; e++) {
    let el = first + e;
    if (el >= p.numel) { break; }
    var rem = el; var pos = p.xOff;
    for (var d = p.rank; d > 0u; ) {
      d--;
      let n = p.shape[d / 4u][d % 4u];
      pos += (rem % n) * p.strides[d / 4u][d % 4u];
      rem = rem / n;
    }
    out[el] = x[pos] * m[e];
  }`;
  return `// dropout (${vec4 ? 'vec4' : 'strided'}, ${mode} draws): thread i handles logical elements 4i .. 4i+3
// (bounds-checked): element e uses draw r = ⌊e/group⌋, word r%4 of Philox block ⌊r/4⌋; keep iff
// (word >> 8) >= threshold; out = x · (keep ? scale : 0).
struct Params { numel: u32, rank: u32, group: u32, threshold: u32, key: vec2<u32>, ctrLo: u32, ctrHi: u32,
  scale: f32, xOff: u32, _a: u32, _b: u32, shape: array<vec4<u32>, ${RANK_SLOTS}>, strides: array<vec4<u32>, ${RANK_SLOTS}> };
@group(0) @binding(0) var<storage, read_write> out: array<${xType}>;
@group(0) @binding(1) var<storage, read> x: array<${xType}>;
@group(0) @binding(2) var<uniform> p: Params;
${philoxWgsl}
// Block j of this op: counter state.counter + j (64-bit, with carry).
fn philoxBlock(j: u32) -> vec4<u32> {
  let lo = p.ctrLo + j;
  let hi = p.ctrHi + select(0u, 1u, lo < j);
  return philox4x32_10(vec4<u32>(lo, hi, 0u, 0u), p.key);
}
@compute @workgroup_size(256)
fn main(${MAIN_ARGS}) {
  ${flatIndex()}
  let first = i * 4u;
  if (first >= p.numel) { return; }
  ${MASK[mode]}
  ${body}
}`;
}

/**
 * out = x · (keep ? scale : 0) over x's shape (contiguous float32); see the file header for the
 * keep bits. Draws: ⌈numel/group⌉, so the caller advances its generator by ⌈numel/group/4⌉ blocks.
 * @example dropout(rt, be, x, 2 ** 23, 2, 1, defaultGenerator.next('uniform', n)) // p = 0.5
 */
export function dropout(
  rt: GpuRuntime,
  backend: GpuStorage['backend'],
  x: View,
  threshold: number,
  scale: number,
  group: number,
  state: RandomState,
): GpuStorage {
  const n = sizeOf(x.shape);
  if (n > 0 && exceedsBinding(rt, [x], [n])) {
    // Parts of whole rows along dim 0 that start on a whole Philox block of draws (a multiple of
    // 4·group elements), each with the counter of its first block: the same bits as one launch.
    const row = n / x.shape[0]!;
    const unit = (4 * group) / gcd(row, 4 * group);
    const cut: Cut = { axis: 'dim 0', extent: x.shape[0]!, dims: [0, 0], unit, join: 'slab' };
    return runSplit(rt, {
      name: 'dropout', backend, inputs: [x], roles: ['input'], outputs: [{ shape: x.shape, dtype: 'float32' }], cuts: [cut],
      leaf: ([part], _, under) => {
        const blocks = (under.get(cut)![0] * row) / group / 4;
        return [dropout(rt, backend, part!, threshold, scale, group, { key: state.key, counter: state.counter + blocks })];
      },
    })[0]!;
  }
  const out = new GpuStorage(backend, rt, rt.pool.acquire(Math.max(n, 1) * 4), 'float32', n);
  if (n === 0) return out;
  const co = coalesce(x.shape, [contiguousStrides(x.shape), x.strides]);
  const contiguous = co.shape.length <= 1 && (co.strides[1]!.length === 0 || co.strides[1]![0] === 1);
  const vec4 = contiguous && n % 4 === 0 && x.offset % 4 === 0;
  if (co.shape.length > MAX_RANK) throw new Error(`dropout: rank ${co.shape.length} after merging dims exceeds ${MAX_RANK}`);
  const u = new UniformWriter(3 + 2 * RANK_SLOTS);
  u.u32.set([n, co.shape.length, group, threshold, state.key[0] >>> 0, state.key[1] >>> 0, state.counter % 2 ** 32, Math.floor(state.counter / 2 ** 32)]);
  u.f32[8] = scale;
  u.u32[9] = vec4 ? x.offset / 4 : x.offset;
  u.list(3, co.shape);
  u.list(3 + RANK_SLOTS, co.strides[1]!);
  const mode: MaskMode = group === 1 ? 'element' : group % 4 === 0 ? 'channel' : 'any';
  const name = `dropout_${vec4 ? 'vec4' : 'strided'}_${mode}`;
  rt.dispatch(kernel(rt, name, source(vec4, mode)), [out.buffer, (x.storage as GpuStorage).buffer], u.u32, grid1d(Math.ceil(n / 4)));
  return out;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
