// Elementwise kernels: unary, binary, where, and strided copy/cast, on any strided or
// broadcast (0-stride) operands, with scalars passed as uniforms.
//
// Two variants per op:
//  - vec4: every operand contiguous and 4-aligned: one thread maps one vec4 (llvmpipe
//    reads vec4 2.5x faster than scalars);
//  - strided: one thread per output element; it decomposes its flat index over the
//    (coalesced) shape and dots the coordinates with each operand's strides. The rank is
//    compiled in (loops unrolled, uniform reads at constant positions) and, below 2^24
//    elements, each `÷ dim` is a multiply by the f32 reciprocal plus one integer correction:
//    llvmpipe has no vector integer division and emulated `%`/`/` by uniform values lane by
//    lane, which made this path 20–40× slower than the vec4 one (bench/run.ts, elementwise).
// Operands are cast to the compute dtype on load, so mixed-dtype inputs need no extra pass:
// float → int32 by the documented rule (ieee_f2i), and conditions / casts to bool as truthiness
// (NaN is true). NaN-sensitive ops use the helpers of ieee.ts.

import type { DType } from '../dtype.ts';
import type { BinaryOp, Operand, UnaryOp, View } from '../backend/types.ts';
import { coalesce, contiguousStrides, numel as sizeOf, type Shape } from '../shape.ts';
import type { GpuRuntime } from '../device/runtime.ts';
import type { PooledBuffer } from '../device/buffer-pool.ts';
import type { Candidate } from '../device/autotune.ts';
import { isSoftwareAdapter } from './matmul.ts';
import { GpuStorage } from './storage.ts';
import { alignedCuts, runSplit } from './split.ts';
import { MAIN_ARGS, MAX_RANK, UniformWriter, WG, flatIndex, grid1d, scalarBits, wgslType } from './wgsl.ts';
import { ieeeFn, kernel } from './ieee.ts';

/** WGSL of one op over already-loaded values; `v` is the compute type (scalar or vec4). */
export type Expr = (args: string[], v: string) => string;


const isFloat = (v: string): boolean => v.includes('f32');
/** The truthiness of `x` (compute type `v`) as bool(s): NaN is true, as torch's bool cast. */
const truthy = (x: string, v: string): string => (isFloat(v) ? `${ieeeFn('nonzero', v)}(${x})` : `(${x} != ${v}(0))`);
const isNan = (x: string, v: string): string => `${ieeeFn('isnan', v)}(${x})`;
const bool01 = (cond: string, v: string): string => `select(${v}(0), ${v}(1), ${cond})`;

/**
 * Unary ops. Transcendentals compute in f32; the rest keep the input's type. NaN-sensitive ones
 * go through the helpers of ieee.ts (the builtins drop or invent NaNs on some drivers).
 */
const UNARY: Record<UnaryOp, { expr: Expr; float?: boolean }> = {
  identity: { expr: ([x]) => x! },
  neg: { expr: ([x]) => `-${x}` },
  abs: { expr: ([x]) => `abs(${x})` },
  // sign(NaN) = 0, as torch's CPU kernel.
  sign: { expr: ([x], v) => (isFloat(v) ? `select(sign(${x}), ${v}(0), ${isNan(x!, v)})` : `sign(${x})`) },
  square: { expr: ([x]) => `${x} * ${x}` },
  relu: { expr: ([x], v) => (isFloat(v) ? `${ieeeFn('relu', v)}(${x})` : `max(${x}, ${v}(0))`) },
  floor: { expr: ([x], v) => (isFloat(v) ? `floor(${x})` : x!) },
  ceil: { expr: ([x], v) => (isFloat(v) ? `ceil(${x})` : x!) },
  // WGSL round() is round-half-to-even, like torch.round.
  round: { expr: ([x], v) => (isFloat(v) ? `round(${x})` : x!) },
  logicalNot: { expr: ([x], v) => bool01(`!${truthy(x!, v)}`, v) },
  exp: { expr: ([x]) => `exp(${x})`, float: true },
  log: { expr: ([x], v) => `${ieeeFn('log', v)}(${x})`, float: true },
  sqrt: { expr: ([x]) => `sqrt(${x})`, float: true },
  rsqrt: { expr: ([x]) => `inverseSqrt(${x})`, float: true },
  reciprocal: { expr: ([x], v) => `${v}(1) / ${x}`, float: true },
  sin: { expr: ([x], v) => `${ieeeFn('sin', v)}(${x})`, float: true },
  cos: { expr: ([x], v) => `${ieeeFn('cos', v)}(${x})`, float: true },
  tanh: { expr: ([x], v) => `${ieeeFn('tanh', v)}(${x})`, float: true },
  sigmoid: { expr: ([x], v) => `${ieeeFn('sigmoid', v)}(${x})`, float: true },
};

/** A comparison: IEEE's, where only `!=` holds when an operand is NaN. */
const cmp = (o: string): Expr => ([a, b], v) => {
  if (!isFloat(v)) return bool01(`${a} ${o} ${b}`, v);
  const nan = `(${isNan(a!, v)} | ${isNan(b!, v)})`;
  return bool01(o === '!=' ? `(${a} != ${b}) | ${nan}` : `(${a} ${o} ${b}) & !${nan}`, v);
};

const BINARY: Record<BinaryOp, { expr: Expr; float?: boolean; bool?: boolean }> = {
  add: { expr: ([a, b]) => `${a} + ${b}` },
  sub: { expr: ([a, b]) => `${a} - ${b}` },
  mul: { expr: ([a, b]) => `${a} * ${b}` },
  div: { expr: ([a, b]) => `${a} / ${b}`, float: true },
  // torch.pow (C99 pow) semantics; see ieee.ts.
  pow: { expr: ([a, b], v) => `${ieeeFn('pow', v)}(${a}, ${b})`, float: true },
  // NaN-propagating like torch.maximum (WGSL max() may drop NaNs).
  maximum: { expr: ([a, b], v) => (isFloat(v) ? `${ieeeFn('max', v)}(${a}, ${b})` : `max(${a}, ${b})`) },
  minimum: { expr: ([a, b], v) => (isFloat(v) ? `${ieeeFn('min', v)}(${a}, ${b})` : `min(${a}, ${b})`) },
  eq: { expr: cmp('=='), bool: true },
  ne: { expr: cmp('!='), bool: true },
  lt: { expr: cmp('<'), bool: true },
  le: { expr: cmp('<='), bool: true },
  gt: { expr: cmp('>'), bool: true },
  ge: { expr: cmp('>='), bool: true },
  logicalAnd: { expr: ([a, b], v) => bool01(`${truthy(a!, v)} & ${truthy(b!, v)}`, v), bool: true },
  logicalOr: { expr: ([a, b], v) => bool01(`${truthy(a!, v)} | ${truthy(b!, v)}`, v), bool: true },
};

/** True when the op computes in float whatever its input dtype. */
export function unaryIsFloat(op: UnaryOp): boolean {
  return !!UNARY[op].float;
}
export function binaryIsFloat(op: BinaryOp): boolean {
  return !!BINARY[op].float;
}
export function binaryIsBool(op: BinaryOp): boolean {
  return !!BINARY[op].bool;
}

interface MapSpec {
  /** Used in kernel names and errors. */
  name: string;
  /** Compute dtype (values are cast to it on load). */
  dtype: DType;
  outDtype: DType;
  /** Storage dtype of each operand, or null for a scalar. */
  operands: (DType | null)[];
  expr: Expr;
  /** WGSL functions the expression calls, for compute type `v` (emitted before the entry point). */
  helpers?: (v: string) => string;
  /** Operands loaded as their truthiness (0 or 1 in the compute type; NaN is true) instead of converted: conditions, casts to bool. */
  truthy?: readonly number[];
}

/** WGSL converting a computed value (compute type `c`, vec4 when `lanes4`) to the output type `o`: float → int by the cast rule. */
function storeAs(value: string, c: string, o: string, lanes4: boolean): string {
  if (c === 'f32' && o === 'i32') return `${ieeeFn('f2i', lanes4 ? 'vec4<f32>' : 'f32')}(${value})`;
  return `${lanes4 ? `vec4<${o}>` : o}(${value})`;
}

/**
 * WGSL loading operand `k` (storage type `from`, WGSL expression `at`) as compute type `c`
 * (scalar) or `cv` (vec4 lanes; `splat` when one scalar fills them): a float → int conversion
 * follows the documented cast rule (ieee_f2i), a truthy operand becomes 0/1.
 */
function loadAs(spec: MapSpec, k: number, from: DType, at: string, c: string, cv: string, splat: boolean): string {
  const f = wgslType(from);
  const t = splat ? c : cv;
  const ft = splat || t === c ? f : `vec4<${f}>`;
  let v: string;
  if (spec.truthy?.includes(k)) v = bool01(truthy(at, ft), t);
  else if (f === 'f32' && c === 'i32') v = `${ieeeFn('f2i', ft)}(${at})`;
  else v = `${t}(${at})`;
  return splat ? `${cv}(${v})` : v;
}

/** Where the output goes: a buffer, offset and strides over `shape` (contiguous for fresh outputs). */
interface Target {
  storage: GpuStorage;
  offset: number;
  strides: Shape;
}

const sourceCache = new Map<string, string>();

/**
 * Benchmark knob: `legacy` runs every non-contiguous map as before issue #7 — one element per
 * thread, integer `/` and `%` by the shape — to compare with the 4×4-block, 4-inner-element and
 * reciprocal-division forms.
 */
export const elementwiseTuning = { legacy: false, blockColFast: true };

/** Largest element count for which the f32-reciprocal division is exact after one correction. */
const FAST_DIV_LIMIT = 1 << 24;

/** How the strided kernel is compiled: its (coalesced) rank and whether it divides by reciprocals. */
interface StridedShape {
  rank: number;
  fastDiv: boolean;
  /**
   * Set when each thread maps 4 consecutive elements of the innermost dim (size % 4 = 0, the
   * output unit-strided there): per view operand, true when it is unit-strided there too (read
   * as vec4), false when broadcast along it (one scalar, splatted).
   */
  inner4?: boolean[];
  /** With inner4: vec4s per thread along the innermost dim (its vec4 count is a multiple of this), so the index maths is paid once per group. */
  group?: number;
}

/**
 * The frame every map shader shares: `doc`, `helpers`, the Params
 * struct (`params`: its fields), the storage bindings `decls` and the uniforms after them, and
 * main() around `body`.
 */
function mapShader(doc: string, helpers: string, params: string, decls: readonly string[], body: string): string {
  return `${doc}
${helpers}
struct Params { ${params} };
${decls.join('\n')}
@group(0) @binding(${decls.length}) var<uniform> p: Params;
@compute @workgroup_size(${WG})
fn main(${MAIN_ARGS}) {
  ${body}
}`;
}

function shaderSource(spec: MapSpec, vec4: boolean, strided: StridedShape = { rank: MAX_RANK, fastDiv: false }, perThread = 1): string {
  const inner4 = vec4 ? undefined : strided.inner4;
  const key = `${spec.name}|${spec.dtype}|${spec.outDtype}|${spec.operands.join(',')}|t${spec.truthy?.join('') ?? ''}|${vec4}|${vec4 ? perThread : `${strided.rank}|${strided.fastDiv}|${inner4?.map(Number).join('') ?? '-'}|${strided.group ?? 1}`}`;
  const hit = sourceCache.get(key);
  if (hit) return hit;
  const c = wgslType(spec.dtype);
  const o = wgslType(spec.outDtype);
  const lanes4 = vec4 || !!inner4;
  const cv = lanes4 ? `vec4<${c}>` : c;
  const ov = lanes4 ? `vec4<${o}>` : o;
  let view = 0;
  const decls: string[] = [`@group(0) @binding(0) var<storage, read_write> out: array<${ov}>;`];
  const loads: string[] = [];
  const args: string[] = [];
  spec.operands.forEach((d, k) => {
    if (d === null) {
      args.push(`${cv}(bitcast<${c}>(p.scalars[${k}]))`);
      return;
    }
    const vecLoad = vec4 || (inner4?.[view++] ?? false);
    const t = vecLoad ? `vec4<${wgslType(d)}>` : wgslType(d);
    decls.push(`@group(0) @binding(${decls.length}) var<storage, read> in${k}: array<${t}>;`);
    const at = `in${k}[${vec4 ? `i + p.offs[${k + 1}]` : `o${k}`}]`;
    // A splatted scalar converts first (WGSL has no vec4<f32>(i32)).
    loads.push(`let x${k} = ${loadAs(spec, k, d, at, c, cv, lanes4 && !vecLoad)};`);
    args.push(`x${k}`);
  });
  const value = storeAs(spec.expr(args, cv), c, o, lanes4);
  const helpers = spec.helpers ? spec.helpers(cv) : '';
  const rankSlots = MAX_RANK / 4;
  let src: string;
  if (vec4) {
    // offs are in vec4 units; numel is the number of vec4s.
    // perThread > 1: thread t maps vec4s t·perThread … (one lane's work per loop trip; fewer
    // invocations amortise llvmpipe's per-invocation cost, ~1.3× on a 4M add).
    const body = `${loads.join('\n  ')}
  out[i + p.offs[0]] = ${value};`;
    src = mapShader(
      `// ${spec.name} (vec4${perThread > 1 ? ` × ${perThread}` : ''}): thread t maps vec4s ${perThread > 1 ? `${perThread}t … ${perThread}t+${perThread - 1}` : 't'} (elements 4i..4i+3 each) of contiguous operands.`,
      helpers,
      'numel: u32, _a: u32, _b: u32, _c: u32, offs: vec4<u32>, scalars: vec4<u32>',
      decls,
      perThread > 1
        ? `${flatIndex().replace('let i', 'let t')}
  for (var j = 0u; j < ${perThread}u; j++) {
  let i = t * ${perThread}u + j;
  if (i >= p.numel) { return; }
  ${body}
  }`
        : `${flatIndex()}
  if (i >= p.numel) { return; }
  ${body}`,
    );
  } else {
    // Unrolled over the compiled rank, innermost dim first; dim 0 needs no division (rem < shape[0]).
    const at = (slot: number, d: number): string => `[${slot + (d >> 2)}][${d & 3}]`;
    const steps: string[] = [];
    for (let d = strided.rank - 1; d >= 0; d--) {
      const dots = [`oo += c${d} * p.strides${at(0, d)};`, ...spec.operands.map((op, k) => (op === null ? '' : `o${k} += c${d} * p.strides${at((k + 1) * rankSlots, d)};`))].join(' ');
      if (d === 0) steps.push(`let c0 = rem; ${dots}`);
      else if (strided.fastDiv) {
        steps.push(
          `{ let n = p.shape${at(0, d)}; let q0 = u32(f32(rem) * p.rcp${at(0, d)}); let r0 = i32(rem) - i32(q0 * n);
` +
            `    let lo = r0 < 0; let hi = r0 >= i32(n);
` +
            `    let c${d} = u32(select(select(r0, r0 - i32(n), hi), r0 + i32(n), lo)); rem = select(select(q0, q0 + 1u, hi), q0 - 1u, lo); ${dots} }`,
        );
      } else steps.push(`{ let n = p.shape${at(0, d)}; let c${d} = rem % n; rem = rem / n; ${dots} }`);
    }
    const offInits = spec.operands.map((d, k) => (d === null ? '' : `var o${k} = p.offs[${k + 1}];`)).join(' ');
    // Thread i takes `group` consecutive vec4s of one row (inner4 only): the first's coordinates, then +1 along the row.
    const group = inner4 ? strided.group ?? 1 : 1;
    let vc = 0;
    const viewOf = spec.operands.map((d) => (d === null ? -1 : vc++));
    src = mapShader(
      `// ${spec.name} (strided, rank ${strided.rank}${strided.fastDiv ? ', reciprocal division' : ''}${inner4 ? ', 4 inner elements per thread' : ''}): thread i computes output
// element i (row-major over shape${inner4 ? ', whose innermost dim counts vec4s' : ''}); its coordinates, dotted with each operand's strides, give
// where to read and write. c = rem mod n comes from q = ⌊rem · (1/n)⌋ in f32 (exact to ±1 below
// 2^24) and one correction step.`,
      helpers,
      `numel: u32, rank: u32, _a: u32, _b: u32, shape: array<vec4<u32>, ${rankSlots}>, offs: vec4<u32>,
  strides: array<vec4<u32>, ${rankSlots * 4}>, scalars: vec4<u32>, rcp: array<vec4<f32>, ${rankSlots}>`,
      decls,
      `${flatIndex()}
  if (i >= p.numel) { return; }
  var rem = i${group > 1 ? ` * ${group}u` : ''}; var oo = p.offs[0]; ${offInits}
  ${steps.join('\n  ')}
  ${group > 1 ? `for (var j = 0u; j < ${group}u; j++) {
  ${loads.join('\n  ')}
  out[oo] = ${value};
  oo += 1u; ${spec.operands.map((d, k) => (d !== null && inner4![viewOf[k]!] ? `o${k} += 1u;` : '')).join(' ')}
  }` : `${loads.join('\n  ')}
  out[oo] = ${value};`}`,
    );
  }
  sourceCache.set(key, src);
  return src;
}

/**
 * WGSL of the 4×4-block form for 2-D maps with transposed operands (a row-major output, each view
 * either row-major or column-major, all 4-aligned): thread t owns the 4×4 block at block row
 * t / cb, block column t % cb. A row-major view gives 4 vec4 rows; a column-major one 4 vec4
 * columns, transposed in registers. Every load and store is a vec4, where the strided form reads
 * a column-major view one scalar per lane at a stride (TF.js uses a workgroup-memory tile; on
 * llvmpipe registers do better, bench/run.ts "transposed view").
 */
function blockSource(spec: MapSpec, modes: ('row' | 'col')[], colFast = elementwiseTuning.blockColFast): string {
  const key = `${spec.name}|${spec.dtype}|${spec.outDtype}|${spec.operands.join(',')}|t${spec.truthy?.join('') ?? ''}|block|${modes.join(',')}|${colFast}`;
  const hit = sourceCache.get(key);
  if (hit) return hit;
  const c = wgslType(spec.dtype);
  const cv = `vec4<${c}>`;
  const ov = `vec4<${wgslType(spec.outDtype)}>`;
  const decls: string[] = [`@group(0) @binding(0) var<storage, read_write> out: array<${ov}>;`];
  const loads: string[] = [];
  const argsOf: string[][] = [[], [], [], []];
  let view = 0;
  spec.operands.forEach((d, k) => {
    if (d === null) {
      for (let i = 0; i < 4; i++) argsOf[i]!.push(`${cv}(bitcast<${c}>(p.scalars[${k}]))`);
      return;
    }
    const mode = modes[view++]!;
    decls.push(`@group(0) @binding(${decls.length}) var<storage, read> in${k}: array<vec4<${wgslType(d)}>>;`);
    for (let j = 0; j < 4; j++) loads.push(`let v${k}_${j} = ${loadAs(spec, k, d, `in${k}[p.offs[${k + 1}] + (${mode === 'row' ? 'r0' : 'c0'} + ${j}u) * p.st[${k + 1}] + ${mode === 'row' ? 'bc' : 'br'}]`, c, cv, false)};`);
    for (let i = 0; i < 4; i++) argsOf[i]!.push(mode === 'row' ? `v${k}_${i}` : `${cv}(v${k}_0[${i}], v${k}_1[${i}], v${k}_2[${i}], v${k}_3[${i}])`);
  });
  const stores = [0, 1, 2, 3].map((i) => `out[p.offs[0] + (r0 + ${i}u) * p.st[0] + bc] = ${storeAs(spec.expr(argsOf[i]!, cv), c, wgslType(spec.outDtype), true)};`);
  const src = mapShader(
    `// ${spec.name} (4×4 blocks, operands ${modes.join('/')}): thread t computes out rows r0..r0+3, vec4 column bc,
// with br = t / cb, bc = t % cb, r0 = 4·br, c0 = 4·bc (offsets and strides in vec4 units).`,
    spec.helpers ? spec.helpers(cv) : '',
    'numel: u32, cb: u32, rb: u32, _b: u32, offs: vec4<u32>, st: vec4<u32>, scalars: vec4<u32>',
    decls,
    `${flatIndex()}
  if (i >= p.numel) { return; }
  ${colFast ? 'let br = i / p.cb; let bc = i - br * p.cb;' : 'let bc = i / p.rb; let br = i - bc * p.rb;'}
  let r0 = br * 4u;
  let c0 = bc * 4u;
  ${loads.join('\n  ')}
  ${stores.join('\n  ')}`,
  );
  sourceCache.set(key, src);
  return src;
}

/**
 * The 4×4-block form when it applies: a 2-D (after coalescing) map whose output is row-major,
 * with at least one column-major view and every view row- or column-major, all 4-aligned.
 * Returns false to fall through to the strided forms.
 */
function tryBlock(rt: GpuRuntime, spec: MapSpec, co: { shape: number[]; strides: number[][] }, offsets: number[], scalars: number[], operands: Operand[], buffers: PooledBuffer[]): boolean {
  if (co.shape.length !== 2) return false;
  const [R, C] = co.shape as [number, number];
  const al = (...xs: number[]): boolean => xs.every((x) => x % 4 === 0);
  const [o0, o1] = co.strides[0]!;
  if (R % 4 !== 0 || C % 4 !== 0 || o1 !== 1 || !al(o0!, offsets[0]!)) return false;
  const modes: ('row' | 'col')[] = [];
  const st = [o0! / 4, 0, 0, 0];
  const offs = [offsets[0]! / 4, 0, 0, 0];
  let view = 0;
  for (let k = 0; k < operands.length; k++) {
    if (typeof operands[k] === 'number') continue;
    const [a, b] = co.strides[++view]!;
    const off = offsets[k + 1]!;
    if (b === 1 && al(a!, off)) {
      modes.push('row');
      st[k + 1] = a! / 4;
    } else if (a === 1 && al(b!, off)) {
      modes.push('col');
      st[k + 1] = b! / 4;
    } else return false;
    offs[k + 1] = off / 4;
  }
  if (!modes.includes('col')) return false;
  const blocks = (R / 4) * (C / 4);
  const u = new UniformWriter(4);
  u.u32[0] = blocks;
  u.u32[1] = C / 4;
  u.u32[2] = R / 4;
  u.list(1, offs);
  u.list(2, st);
  u.list(3, scalars);
  rt.dispatch(kernel(rt, `${spec.name}_block4`, blockSource(spec, modes, elementwiseTuning.blockColFast)), buffers, u.u32, grid1d(blocks));
  return true;
}

/** Runs a map kernel writing into `target` over `shape`. */
function runMap(rt: GpuRuntime, spec: MapSpec, target: Target, operands: Operand[], shape: Shape): void {
  const n = sizeOf(shape);
  if (n === 0) return;
  const views = operands.filter((x): x is View => typeof x !== 'number');
  const max = rt.limits.maxStorageBufferBindingSize;
  if (target.storage.buffer.size > max || views.some((v) => (v.storage as GpuStorage).buffer.size > max)) {
    splitMap(rt, spec, target, operands, views, shape);
    return;
  }
  const co = coalesce(shape, [target.strides, ...views.map((v) => v.strides)]);
  const offsets = [target.offset, ...operands.map((x) => (typeof x === 'number' ? 0 : x.offset))];
  const scalars = operands.map((x) => (typeof x === 'number' ? scalarBits(x, spec.dtype) : 0));
  const buffers = [target.storage.buffer, ...views.map((v) => (v.storage as GpuStorage).buffer)];
  const vec4 =
    n % 4 === 0 && co.shape.length <= 1 && co.strides.every((s) => s.length === 0 || s[0] === 1) && offsets.every((o) => o % 4 === 0);
  const runVec4 = (bufs: PooledBuffer[], perThread: number): void => {
    const u = new UniformWriter(3);
    u.u32[0] = n / 4;
    u.list(1, offsets.map((o) => o / 4));
    u.list(2, scalars);
    rt.dispatch(kernel(rt, `${spec.name}_vec4${perThread > 1 ? `x${perThread}` : ''}`, shaderSource(spec, true, undefined, perThread)), bufs, u.u32, grid1d(Math.ceil(n / 4 / perThread)));
  };
  if (vec4) {
    // vec4 (one or four per thread) or scalar for contiguous operands: the tuner's pick per arity
    // and size bucket, or the adapter's default (four vec4s per thread on CPU adapters).
    const fallback = isSoftwareAdapter(rt.adapterInfo) && n >= 4096 ? VEC_CANDIDATES[1]! : VEC_CANDIDATES[0]!;
    const choice = rt.tuner.mode === 'off'
      ? fallback.value
      : rt.tuner.choose('elementwise', `${spec.operands.length}|${spec.dtype}|n${Math.ceil(Math.log2(n))}`, VEC_CANDIDATES, fallback, (c) => {
          const scratch = rt.pool.acquire(target.storage.buffer.size);
          try {
            if (c === 'scalar') runStrided(rt, spec, co, offsets, scalars, operands, [scratch, ...buffers.slice(1)], n);
            else runVec4([scratch, ...buffers.slice(1)], c === 'vec4x4' ? 4 : 1);
          } finally {
            rt.pool.release(scratch);
          }
        }, 7);
    if (choice !== 'scalar') return runVec4(buffers, choice === 'vec4x4' ? 4 : 1);
  }
  if (!elementwiseTuning.legacy && tryBlock(rt, spec, co, offsets, scalars, operands, buffers)) return;
  // Innermost dim a multiple of 4 and unit-strided in the output: 4 elements per thread, each
  // view read as vec4 (unit stride there, 4-aligned elsewhere) or as one splatted scalar (stride 0).
  const r = co.shape.length;
  const inner = r > 0 ? co.shape[r - 1]! : 0;
  const al = (xs: number[]): boolean => xs.every((x) => x % 4 === 0);
  if (!elementwiseTuning.legacy && r >= 2 && inner % 4 === 0 && co.strides[0]![r - 1] === 1 && al(co.strides[0]!.slice(0, -1)) && target.offset % 4 === 0) {
    const flags = views.map((v, k) => {
      const st = co.strides[k + 1]!;
      if (st[r - 1] === 0) return false;
      return st[r - 1] === 1 && al(st.slice(0, -1)) && v.offset % 4 === 0 ? true : null;
    });
    if (flags.every((f) => f !== null)) {
      const vf = flags as boolean[];
      const shape4 = [...co.shape.slice(0, -1), inner / 4];
      const strides4 = co.strides.map((st, k) => (k === 0 || vf[k - 1] ? [...st.slice(0, -1).map((x) => x / 4), 1] : st));
      let vi = 0;
      const offs4 = offsets.map((off, k) => (k === 0 ? off / 4 : typeof operands[k - 1] === 'number' ? 0 : vf[vi++] ? off / 4 : off));
      runStrided(rt, spec, { shape: shape4, strides: strides4 }, offs4, scalars, operands, buffers, n / 4, vf);
      return;
    }
  }
  runStrided(rt, spec, co, offsets, scalars, operands, buffers, n);
}

/**
 * A map whose output or an operand exceeds one binding: cut along the output's dims, outer
 * first, each part writing its own window of the target (src/kernels/split.ts).
 */
function splitMap(rt: GpuRuntime, spec: MapSpec, target: Target, operands: Operand[], views: View[], shape: Shape): void {
  const out: View = { storage: target.storage, shape, strides: target.strides, offset: target.offset };
  const inputs = [out, ...views];
  runSplit(rt, {
    name: spec.name,
    backend: target.storage.backend,
    inputs,
    roles: ['output', ...views.map((_, k) => `operand ${k}`)],
    outputs: [],
    cuts: alignedCuts(shape, inputs.length),
    leaf: ([o, ...vs]) => {
      let k = 0;
      const parts = operands.map((x) => (typeof x === 'number' ? x : vs[k++]!));
      runMap(rt, spec, { storage: o!.storage as GpuStorage, offset: o!.offset, strides: o!.strides }, parts, o!.shape);
      return [];
    },
  });
}

/** The vec4 (one or four per thread) and scalar forms of a contiguous map, as autotune candidates. */
const VEC_CANDIDATES: Candidate<'vec4' | 'vec4x4' | 'scalar'>[] = [
  { key: 'vec4', value: 'vec4' },
  { key: 'vec4x4', value: 'vec4x4' },
  { key: 'scalar', value: 'scalar' },
];

/** Records the strided (one element per thread) form of a map over the coalesced `co`. */
function runStrided(
  rt: GpuRuntime, spec: MapSpec, co: { shape: number[]; strides: number[][] }, offsets: number[], scalars: number[], operands: Operand[], buffers: PooledBuffer[], n: number,
  inner4?: boolean[],
): void {
  if (co.shape.length > MAX_RANK) throw new Error(`${spec.name}: rank ${co.shape.length} after merging dims exceeds ${MAX_RANK}`);
  const rankSlots = MAX_RANK / 4;
  // Slots: numel/rank, shape, offsets, strides (4 operands), scalars, reciprocals of shape.
  const rcpSlot = 3 + 5 * rankSlots;
  const u = new UniformWriter(rcpSlot + rankSlots);
  co.shape.forEach((d, k) => (u.f32[rcpSlot * 4 + k] = 1 / d));
  u.u32[0] = n;
  u.u32[1] = co.shape.length;
  u.list(1, co.shape);
  u.list(1 + rankSlots, offsets);
  // Strides of operand k (k = 0 is the output) start at slot 2 + rankSlots + k * rankSlots.
  let viewIdx = 0;
  const strideOf = (k: number): number[] | null => (k === 0 ? co.strides[0]! : typeof operands[k - 1] === 'number' ? null : co.strides[++viewIdx]!);
  for (let k = 0; k < 4; k++) {
    const s = k <= operands.length ? strideOf(k) : null;
    if (s) u.list(2 + rankSlots + k * rankSlots, s);
  }
  u.list(2 + rankSlots + 4 * rankSlots, scalars);
  // Four vec4s per thread along the row when the row allows it (the index maths then costs a quarter).
  const group = inner4 && co.shape[co.shape.length - 1]! % 4 === 0 ? 4 : 1;
  const shape: StridedShape = { rank: co.shape.length, fastDiv: n < FAST_DIV_LIMIT && !elementwiseTuning.legacy, inner4, group };
  u.u32[0] = n / group;
  rt.dispatch(kernel(rt, `${spec.name}_r${shape.rank}${inner4 ? `_inner4${group > 1 ? `x${group}` : ''}` : ''}`, shaderSource(spec, false, shape)), buffers, u.u32, grid1d(n / group));
}

function dtypeOf(x: Operand): DType | null {
  return typeof x === 'number' ? null : x.storage.dtype;
}

export function computeDtypeUnary(op: UnaryOp, x: DType): DType {
  return UNARY[op].float ? 'float32' : x === 'bool' ? 'int32' : x;
}

/** A fresh contiguous storage and the target that writes it. */
function fresh(rt: GpuRuntime, backend: GpuStorage['backend'], shape: Shape, dtype: DType): [GpuStorage, Target] {
  const n = sizeOf(shape);
  const s = new GpuStorage(backend, rt, rt.pool.acquire(Math.max(n, 1) * 4), dtype, n);
  return [s, { storage: s, offset: 0, strides: contiguousStrides(shape) }];
}

export function unary(rt: GpuRuntime, backend: GpuStorage['backend'], op: UnaryOp, x: View, outDtype: DType): GpuStorage {
  const [s, t] = fresh(rt, backend, x.shape, outDtype);
  const dtype = computeDtypeUnary(op, x.storage.dtype);
  // A cast to bool is the truthiness (NaN is true), not a numeric conversion (which would truncate 0.2 to 0).
  const toBool = op === 'identity' && outDtype === 'bool';
  runMap(rt, { name: `unary_${op}${toBool ? '_bool' : ''}`, dtype, outDtype, operands: [x.storage.dtype], expr: UNARY[op].expr, truthy: toBool ? [0] : undefined }, t, [x], x.shape);
  return s;
}

export function binary(rt: GpuRuntime, backend: GpuStorage['backend'], op: BinaryOp, a: Operand, b: Operand, shape: Shape, dtype: DType, outDtype: DType): GpuStorage {
  const [s, t] = fresh(rt, backend, shape, outDtype);
  runMap(rt, { name: `binary_${op}`, dtype, outDtype, operands: [dtypeOf(a), dtypeOf(b)], expr: BINARY[op].expr }, t, [a, b], shape);
  return s;
}

export function where(rt: GpuRuntime, backend: GpuStorage['backend'], cond: View, a: Operand, b: Operand, shape: Shape, dtype: DType): GpuStorage {
  const [s, t] = fresh(rt, backend, shape, dtype);
  // The condition is loaded as its truthiness (0 or 1; NaN is true), whatever the compute type.
  const expr: Expr = ([c, x, y], v) => `select(${y}, ${x}, ${c} != ${v}(0))`;
  runMap(rt, { name: 'where', dtype, outDtype: dtype, operands: [cond.storage.dtype, dtypeOf(a), dtypeOf(b)], expr, truthy: [0] }, t, [cond, a, b], shape);
  return s;
}

/**
 * A map kernel into a fresh contiguous storage of `shape`: out[i] = expr(operands at i), with
 * views broadcast to `shape` and numbers passed as uniforms (the scalars slot: at most 4
 * operands, 3 of them views). For kernel families that bring their own expressions (src/kernels/activation.ts);
 * `name` must identify the expression and helpers, since it keys the shader cache.
 */
export function mapKernel(
  rt: GpuRuntime,
  backend: GpuStorage['backend'],
  spec: { name: string; dtype: DType; outDtype: DType; expr: Expr; helpers?: (v: string) => string },
  operands: Operand[],
  shape: Shape,
): GpuStorage {
  const [s, t] = fresh(rt, backend, shape, spec.outDtype);
  runMap(rt, { ...spec, operands: operands.map(dtypeOf) }, t, operands, shape);
  return s;
}

/** dst[i] = src[i] over dst's shape, casting to dst's dtype. */
export function copy(rt: GpuRuntime, dst: View, src: Operand): void {
  const d = dst.storage as GpuStorage;
  const toBool = d.dtype === 'bool';
  // A float source cast to int follows the documented rule (castToInt32: truncate, saturate, NaN → 0);
  // to bool, every operand is loaded as its truthiness; a scalar is converted here.
  const dtype = toBool ? 'int32' : d.dtype;
  const value = typeof src === 'number' && toBool ? (src !== 0 ? 1 : 0) : src;
  runMap(
    rt, { name: 'copy', dtype, outDtype: d.dtype, operands: [dtypeOf(value)], expr: ([x]) => x!, truthy: toBool && typeof value !== 'number' ? [0] : undefined },
    { storage: d, offset: dst.offset, strides: dst.strides }, [value], dst.shape,
  );
}
