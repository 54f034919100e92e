// Pooling kernels over [B, C, H, W]: max pooling (values and int32 argmax positions), average
// pooling, adaptive average pooling, and their backward passes. Inputs are read through their
// strides (no contiguous copy); outputs are fresh contiguous storages.
//
// Backward passes gather instead of scatter (WGSL has no float atomics): one thread per INPUT
// element walks the few windows that can cover it (kH·kW candidates, found by inverting
// h = oh·sH − pH + kh·dH) and sums their gradients. Float64 twins: src/backend/cpu/pool.ts.
//
// The window geometry and the spatial sizes (H, W, OH, OW) are baked into each shader as WGSL
// constants, so the index arithmetic (÷ OW, % sH, …) folds into shifts and multiplies and the
// window loops unroll: llvmpipe scalarises integer division by a uniform, which made the
// uniform-only version 3–5× slower (bench/pool.ts). One pipeline per pooling layer shape;
// batch, channels, strides and offsets stay uniforms.

import type { View } from '../backend/types.ts';
import type { AvgPoolDivisor, Pool2dGeometry } from '../backend/pool-activation-types.ts';
import type { GpuRuntime } from '../device/runtime.ts';
import { numel as sizeOf } from '../shape.ts';
import { GpuStorage } from './storage.ts';
import { exceedsBinding, runSplit } from './split.ts';
import { MAIN_ARGS, UniformWriter, flatIndex, grid1d } from './wgsl.ts';
import { kernel } from './ieee.ts';

/**
 * Uniforms. `xs`/`xOff`/`xPlane`: strides (b, c, h, w), offset and plane stride of the strided
 * operand (x forward, g backward); `ist`/`iOff`/`iPlane`: the same for max pooling's indices.
 * A plane stride serves when (b, c) walk planes evenly (contiguous inputs, broadcast g);
 * otherwise the shader splits the plane index by C.
 */
const PARAMS = `struct Params {
  numel: u32, C: u32, xOff: u32, iOff: u32,
  xs: vec4<u32>,
  ist: vec4<u32>,
  xPlane: u32, iPlane: u32, _a: u32, _b: u32,
};`;

/** Geometry constants of one shader (abstract ints: they take the type of their use). */
interface Consts {
  H: number;
  W: number;
  OH: number;
  OW: number;
  KH: number;
  KW: number;
  SH: number;
  SW: number;
  PH: number;
  PW: number;
  DH: number;
  DW: number;
}

function constsOf(g: Pool2dGeometry): Consts {
  return { H: g.inH, W: g.inW, OH: g.outH, OW: g.outW, KH: g.kH, KW: g.kW, SH: g.sH, SW: g.sW, PH: g.pH, PW: g.pW, DH: g.dH, DW: g.dW };
}

function constDecls(c: Consts): string {
  return Object.entries(c)
    .map(([k, v]) => `const ${k} = ${v};`)
    .join(' ');
}

/**
 * Thread i's position: s_ (column), r_ (row) over the R×S plane, and `plane` (b·C + c), then
 * the plane's base offset of each operand (`xBase`, and `iBase` when `indices`).
 */
function unravel(r: string, s: string, split: boolean, indices = false): string {
  const bases = split
    ? `let c_ = plane % p.C; let b_ = plane / p.C;
  let xBase = p.xOff + b_ * p.xs.x + c_ * p.xs.y;${indices ? '\n  let iBase = p.iOff + b_ * p.ist.x + c_ * p.ist.y;' : ''}`
    : `let xBase = p.xOff + plane * p.xPlane;${indices ? '\n  let iBase = p.iOff + plane * p.iPlane;' : ''}`;
  return `let s_ = i % ${s}; let q_ = i / ${s};
  let r_ = q_ % ${r}; let plane = q_ / ${r};
  ${bases}`;
}

type KernelName = 'maxPool2d' | 'maxPool2dBackward' | 'avgPool2d' | 'avgPool2dBackward' | 'adaptiveAvgPool2d' | 'adaptiveAvgPool2dBackward';

interface Variant {
  c: Consts;
  split: boolean;
  /** avg pooling only. */
  div?: AvgPoolDivisor;
}

/** Average pooling's divisor of window (oh, ow), PyTorch's formula (windows clipped at H + pH). */
function avgDivisor(d: AvgPoolDivisor): string {
  if (d.divisorOverride) return `fn divisorOf(oh: i32, ow: i32) -> f32 { return ${d.divisorOverride}.0; }`;
  return `fn divisorOf(oh: i32, ow: i32) -> f32 {
  let hs = oh * SH - PH; let ws = ow * SW - PW;
  let he = min(hs + KH, H + PH); let we = min(ws + KW, W + PW);
  ${d.countIncludePad ? 'return f32((he - hs) * (we - ws));' : 'return f32((min(he, H) - max(hs, 0)) * (min(we, W) - max(ws, 0)));'}
}`;
}

/** True when windows never overlap (stride ≥ dilated extent): backward then runs per window. */
function disjoint(c: Consts): boolean {
  return c.SH >= (c.KH - 1) * c.DH + 1 && c.SW >= (c.KW - 1) * c.DW + 1;
}

/** One storage binding after `out`: name, element type, and read_write where the shader writes it. */
type Binding = readonly [name: string, type: 'f32' | 'i32', access?: 'read_write'];

/**
 * A pooling shader: `doc`, then `out` (f32) at binding 0, `inputs` after it, the uniforms last;
 * `decls` holds module-scope helpers, and main() runs `body` for each thread i < p.numel.
 */
function shader(doc: string, inputs: readonly Binding[], body: string, decls = ''): string {
  const bindings = [['out', 'f32', 'read_write'] as const, ...inputs].map(
    ([name, type, access], k) => `@group(0) @binding(${k}) var<storage, ${access ?? 'read'}> ${name}: array<${type}>;`,
  );
  return `${doc}
${bindings.join('\n')}
@group(0) @binding(${bindings.length}) var<uniform> p: Params;
${decls}
@compute @workgroup_size(256)
fn main(${MAIN_ARGS}) {
  ${flatIndex()}
  if (i >= p.numel) { return; }
  ${body}
}`;
}

/**
 * WGSL running `visit` on each in-range tap (h, w) of the dilated window whose top-left is
 * (h0, w0); `row` is x's offset of row h. (Average pooling's geometry always has DH = DW = 1.)
 */
function forTaps(visit: string): string {
  return `for (var kh = 0; kh < KH; kh++) {
    let h = h0 + kh * DH;
    if (h < 0 || h >= H) { continue; }
    let row = xBase + u32(h) * p.xs.z;
    for (var kw = 0; kw < KW; kw++) {
      let w = w0 + kw * DW;
      if (w < 0 || w >= W) { continue; }
      ${visit}
    }
  }`;
}

/**
 * WGSL running `visit` on each window (oh, ow) that covers input (h, w): oh = (h + PH − kh·DH) / SH
 * where that divides exactly and lies below OH, ow likewise.
 */
function forCoveringWindows(visit: string): string {
  return `for (var kh = 0; kh < KH; kh++) {
    let th = h + PH - kh * DH;
    if (th < 0) { break; }
    if (th % SH != 0) { continue; }
    let oh = th / SH;
    if (oh >= OH) { continue; }
    for (var kw = 0; kw < KW; kw++) {
      let tw = w + PW - kw * DW;
      if (tw < 0) { break; }
      if (tw % SW != 0) { continue; }
      let ow = tw / SW;
      if (ow >= OW) { continue; }
      ${visit}
    }
  }`;
}

/** g at window (oh, ow) of the thread's plane. */
const G_AT = 'g[xBase + u32(oh) * p.xs.z + u32(ow) * p.xs.w]';

/**
 * Backward over disjoint windows: thread i owns output window i and the CELL of input rows
 * [oh·SH − PH, (oh+1)·SH − PH) × columns likewise (the first and last cells stretched to the
 * edges), which holds the window's taps; the cells tile the input, so the thread writes every
 * element of its cell: `value` where isTap holds, 0 elsewhere. One thread per OUTPUT
 * (not per input) and no candidate search: 4× fewer threads for 2×2 pooling.
 */
function cellBackward(v: Variant, load: string, isTap: string): string {
  return `${unravel('OH', 'OW', v.split, load.includes('iBase'))}
  let oh = i32(r_); let ow = i32(s_);
  let hs = oh * SH - PH; let ws = ow * SW - PW;
  let h0 = select(max(hs, 0), 0, oh == 0); let h1 = select(min(hs + SH, H), H, oh == OH - 1);
  let w0 = select(max(ws, 0), 0, ow == 0); let w1 = select(min(ws + SW, W), W, ow == OW - 1);
  ${load}
  let outBase = plane * u32(H * W);
  for (var h = h0; h < h1; h++) {
    for (var w = w0; w < w1; w++) {
      out[outBase + u32(h * W + w)] = select(0.0, value, ${isTap});
    }
  }`;
}

const BODIES: Record<KernelName, (v: Variant) => string> = {
  maxPool2d: (v) =>
    shader(
      `// max_pool2d: thread i computes output element i of the contiguous [B, C, OH, OW] result:
// the max over its dilated KH×KW window (padding is -inf, so out-of-range taps are skipped)
// and where it is, h·W + w in the input plane. Row-major scan, strict '>': the FIRST max wins
// ties; a NaN always wins (the last NaN), as torch's CPU kernel. A window with no in-range tap
// (impossible after validation) gives -inf and index -1.`,
      [['idx', 'i32', 'read_write'], ['x', 'f32']],
      `${unravel('OH', 'OW', v.split)}
  let h0 = i32(r_) * SH - PH;
  let w0 = i32(s_) * SW - PW;
  var best = -ieee_inf();
  var arg = -1;
  ${forTaps(`let v = x[row + u32(w) * p.xs.w];
      if (arg < 0 || v > best || ieee_isnan(v)) {
        best = v;
        arg = h * W + w;
      }`)}
  out[i] = best;
  idx[i] = arg;`,
    ),

  maxPool2dBackward: (v) =>
    disjoint(v.c)
      ? shader(
          `// max_pool2d backward (disjoint windows): thread i owns output window i of [B, C, OH, OW] and
// writes its cell of the contiguous [B, C, H, W] input gradient: g[i] at the saved index, 0 elsewhere.`,
          [['g', 'f32'], ['idx', 'i32']],
          cellBackward(v, `let value = ${G_AT};
  let at = idx[iBase + u32(oh) * p.ist.z + u32(ow) * p.ist.w];`, 'h * W + w == at'),
        )
      : shader(
          `// max_pool2d backward: thread i computes input-gradient element i of the contiguous
// [B, C, H, W] result, summing g over the windows (oh, ow) that cover (h, w) and whose saved
// index is h·W + w. Candidates: oh = (h + PH − kh·DH) / SH when that divides exactly.`,
          [['g', 'f32'], ['idx', 'i32']],
          `${unravel('H', 'W', v.split, true)}
  let h = i32(r_); let w = i32(s_);
  let want = h * W + w;
  var acc = 0.0;
  ${forCoveringWindows(`if (idx[iBase + u32(oh) * p.ist.z + u32(ow) * p.ist.w] == want) {
        acc += ${G_AT};
      }`)}
  out[i] = acc;`,
        ),

  avgPool2d: (v) =>
    shader(
      `// avg_pool2d: thread i computes output element i of the contiguous [B, C, OH, OW] result:
// the sum of its window's in-range taps divided by divisorOf (padding counts as zeros).`,
      [['x', 'f32']],
      `${unravel('OH', 'OW', v.split)}
  let oh = i32(r_); let ow = i32(s_);
  let h0 = oh * SH - PH; let w0 = ow * SW - PW;
  var acc = 0.0;
  ${forTaps('acc += x[row + u32(w) * p.xs.w];')}
  out[i] = acc / divisorOf(oh, ow);`,
      avgDivisor(v.div!),
    ),

  avgPool2dBackward: (v) =>
    disjoint(v.c)
      ? shader(
          `// avg_pool2d backward (disjoint windows): thread i owns output window i of [B, C, OH, OW] and
// writes its cell of the contiguous [B, C, H, W] input gradient: g[i] / divisorOf on the
// window's in-range taps, 0 elsewhere.`,
          [['g', 'f32']],
          cellBackward(v, `let value = ${G_AT} / divisorOf(oh, ow);`, 'h >= hs && h < hs + KH && w >= ws && w < ws + KW'),
          avgDivisor(v.div!),
        )
      : shader(
          `// avg_pool2d backward: thread i computes input-gradient element i of the contiguous
// [B, C, H, W] result: Σ g[oh, ow] / divisorOf(oh, ow) over the windows covering (h, w).`,
          [['g', 'f32']],
          `${unravel('H', 'W', v.split)}
  let h = i32(r_); let w = i32(s_);
  var acc = 0.0;
  ${forCoveringWindows(`acc += ${G_AT} / divisorOf(oh, ow);`)}
  out[i] = acc;`,
          avgDivisor(v.div!),
        ),

  adaptiveAvgPool2d: (v) =>
    shader(
      `// adaptive_avg_pool2d: thread i computes output element i of the contiguous [B, C, OH, OW]
// result: the mean over rows ⌊oh·H/OH⌋ .. ⌈(oh+1)·H/OH⌉ − 1, columns likewise (PyTorch's start/end).`,
      [['x', 'f32']],
      `${unravel('OH', 'OW', v.split)}
  let hs = (r_ * H) / OH; let he = ((r_ + 1u) * H + OH - 1u) / OH;
  let ws = (s_ * W) / OW; let we = ((s_ + 1u) * W + OW - 1u) / OW;
  var acc = 0.0;
  for (var h = hs; h < he; h++) {
    let row = xBase + h * p.xs.z;
    for (var w = ws; w < we; w++) { acc += x[row + w * p.xs.w]; }
  }
  out[i] = acc / f32((he - hs) * (we - ws));`,
    ),

  adaptiveAvgPool2dBackward: (v) =>
    shader(
      `// adaptive_avg_pool2d backward: thread i computes input-gradient element i of the contiguous
// [B, C, H, W] result: Σ g[oh, ow] / |window| over the windows containing (h, w), i.e. oh in
// [⌊h·OH/H⌋, ⌈(h+1)·OH/H⌉) (each checked against its start/end), ow likewise.`,
      [['g', 'f32']],
      `${unravel('H', 'W', v.split)}
  let h = r_; let w = s_;
  var acc = 0.0;
  let oh1 = min(((h + 1u) * OH + H - 1u) / H, OH); let ow1 = min(((w + 1u) * OW + W - 1u) / W, OW);
  for (var oh = (h * OH) / H; oh < oh1; oh++) {
    let hs = (oh * H) / OH; let he = ((oh + 1u) * H + OH - 1u) / OH;
    if (h < hs || h >= he) { continue; }
    for (var ow = (w * OW) / W; ow < ow1; ow++) {
      let ws = (ow * W) / OW; let we = ((ow + 1u) * W + OW - 1u) / OW;
      if (w < ws || w >= we) { continue; }
      acc += g[xBase + oh * p.xs.z + ow * p.xs.w] / f32((he - hs) * (we - ws));
    }
  }
  out[i] = acc;`,
    ),
};

const sourceCache = new Map<string, string>();

function source(name: KernelName, v: Variant): string {
  const key = `${name}|${JSON.stringify(v)}`;
  let src = sourceCache.get(key);
  if (!src) {
    src = `${constDecls(v.c)}\n${PARAMS}\n${BODIES[name](v)}`;
    sourceCache.set(key, src);
  }
  return src;
}

/** Plane stride of a [B, C, ·, ·] view when plane b·C + c sits at b·s0 + c·s1 = plane·stride, else null. */
function planeStride(v: View): number | null {
  const [b, c] = v.shape as [number, number];
  const [s0, s1] = v.strides as [number, number];
  if (c === 1) return s0;
  if (b === 1 || s0 === c * s1) return s1;
  return null;
}

/** Uniforms and the split flag for a launch over `numel` threads. */
function params(numel: number, strided: View, indices?: View): { u: Uint32Array; split: boolean } {
  const u = new UniformWriter(4);
  const xp = planeStride(strided);
  const ip = indices ? planeStride(indices) : 0;
  u.list(0, [numel, strided.shape[1]!, strided.offset, indices?.offset ?? 0]);
  u.list(1, strided.strides);
  if (indices) u.list(2, indices.strides);
  u.list(3, [xp ?? 0, ip ?? 0]);
  return { u: u.u32, split: xp === null || ip === null };
}

/**
 * Records kernel `name` over `threads` threads: `outs` bind first, then the strided operand and
 * max pooling's indices.
 */
function launch(rt: GpuRuntime, name: KernelName, v: Omit<Variant, 'split'>, outs: GpuStorage[], strided: View, threads: number, indices?: View): void {
  const { u, split } = params(threads, strided, indices);
  const inputs = indices ? [strided, indices] : [strided];
  rt.dispatch(
    kernel(rt, name, source(name, { ...v, split })),
    [...outs, ...inputs.map((s) => s.storage as GpuStorage)].map((s) => s.buffer),
    u,
    grid1d(threads),
  );
}

function fresh(rt: GpuRuntime, backend: GpuStorage['backend'], numel: number, dtype: 'float32' | 'int32'): GpuStorage {
  return new GpuStorage(backend, rt, rt.pool.acquire(Math.max(numel, 1) * 4), dtype, numel);
}

/** A fresh float32 storage of `n` elements, filled by kernel `name` (no launch when n is 0). */
function pooled(
  rt: GpuRuntime, backend: GpuStorage['backend'], name: KernelName, v: Omit<Variant, 'split'>, strided: View, n: number, threads = n, indices?: View,
): GpuStorage {
  const out = fresh(rt, backend, n, 'float32');
  if (n > 0) launch(rt, name, v, [out], strided, threads, indices);
  return out;
}

/** B·C of a [B, C, ·, ·] view. */
function planes(v: View): number {
  return v.shape[0]! * v.shape[1]!;
}

/** dx [B, C, H, W] of max or average pooling from g ([B, C, OH, OW]). */
function windowBackward(
  rt: GpuRuntime, backend: GpuStorage['backend'], name: 'maxPool2dBackward' | 'avgPool2dBackward', v: Omit<Variant, 'split'>, g: View, indices?: View,
): GpuStorage {
  const n = planes(g) * v.c.H * v.c.W;
  // Disjoint windows: one thread per window (g's elements); else one per input element.
  const threads = disjoint(v.c) ? planes(g) * v.c.OH * v.c.OW : n;
  return pooled(rt, backend, name, v, g, n, threads, indices);
}

/**
 * A pooling op over a tensor larger than one binding, in parts of whole planes (batch entries,
 * then channels; src/kernels/split.ts): every operand and output is [B, C, ·, ·] and pools
 * each plane on its own, so the parts' results are slabs of the whole.
 */
function byPlanes(
  rt: GpuRuntime, backend: GpuStorage['backend'], name: string, inputs: readonly View[], roles: readonly string[],
  outputs: { shape: readonly number[]; dtype: 'float32' | 'int32' }[], run: (parts: readonly View[]) => GpuStorage[],
): GpuStorage[] {
  const dims = (d: number): number[] => new Array<number>(inputs.length + outputs.length).fill(d);
  const [b, c] = inputs[0]!.shape as [number, number];
  return runSplit(rt, {
    name, backend, inputs, roles, outputs,
    cuts: [{ axis: 'the batch', extent: b, dims: dims(0), join: 'slab' }, { axis: 'channels', extent: c, dims: dims(1), join: 'slab' }],
    leaf: (parts) => run(parts as View[]),
  });
}

/** [values [B, C, OH, OW] float32, indices int32 (h·W + w)], x a 4-D float32 view. */
export function maxPool2d(rt: GpuRuntime, backend: GpuStorage['backend'], x: View, geom: Pool2dGeometry): [GpuStorage, GpuStorage] {
  const n = planes(x) * geom.outH * geom.outW;
  if (n > 0 && exceedsBinding(rt, [x], [n])) {
    const shape = [x.shape[0]!, x.shape[1]!, geom.outH, geom.outW];
    const [v, i] = byPlanes(rt, backend, 'maxPool2d', [x], ['input'], [{ shape, dtype: 'float32' }, { shape, dtype: 'int32' }], ([p]) => maxPool2d(rt, backend, p!, geom));
    return [v!, i!];
  }
  const values = fresh(rt, backend, n, 'float32');
  const indices = fresh(rt, backend, n, 'int32');
  if (n > 0) launch(rt, 'maxPool2d', { c: constsOf(geom) }, [values, indices], x, n);
  return [values, indices];
}

/** dx [B, C, H, W] from g and the saved indices (both [B, C, OH, OW] views). */
export function maxPool2dBackward(rt: GpuRuntime, backend: GpuStorage['backend'], g: View, indices: View, geom: Pool2dGeometry): GpuStorage {
  const shape = [g.shape[0]!, g.shape[1]!, geom.inH, geom.inW];
  if (planes(g) > 0 && exceedsBinding(rt, [g, indices], [sizeOf(shape)])) {
    return byPlanes(rt, backend, 'maxPool2dBackward', [g, indices], ['gradient', 'indices'], [{ shape, dtype: 'float32' }], ([pg, pi]) => [maxPool2dBackward(rt, backend, pg!, pi!, geom)])[0]!;
  }
  return windowBackward(rt, backend, 'maxPool2dBackward', { c: constsOf(geom) }, g, indices);
}

export function avgPool2d(rt: GpuRuntime, backend: GpuStorage['backend'], x: View, geom: Pool2dGeometry, div: AvgPoolDivisor): GpuStorage {
  const shape = [x.shape[0]!, x.shape[1]!, geom.outH, geom.outW];
  if (planes(x) > 0 && exceedsBinding(rt, [x], [sizeOf(shape)])) {
    return byPlanes(rt, backend, 'avgPool2d', [x], ['input'], [{ shape, dtype: 'float32' }], ([p]) => [avgPool2d(rt, backend, p!, geom, div)])[0]!;
  }
  return pooled(rt, backend, 'avgPool2d', { c: constsOf(geom), div }, x, planes(x) * geom.outH * geom.outW);
}

export function avgPool2dBackward(rt: GpuRuntime, backend: GpuStorage['backend'], g: View, geom: Pool2dGeometry, div: AvgPoolDivisor): GpuStorage {
  const shape = [g.shape[0]!, g.shape[1]!, geom.inH, geom.inW];
  if (planes(g) > 0 && exceedsBinding(rt, [g], [sizeOf(shape)])) {
    return byPlanes(rt, backend, 'avgPool2dBackward', [g], ['gradient'], [{ shape, dtype: 'float32' }], ([p]) => [avgPool2dBackward(rt, backend, p!, geom, div)])[0]!;
  }
  return windowBackward(rt, backend, 'avgPool2dBackward', { c: constsOf(geom), div }, g);
}

/** Geometry fields the adaptive kernels read (the rest unused). */
function adaptiveGeom(inH: number, inW: number, outH: number, outW: number): Pool2dGeometry {
  return { inH, inW, outH, outW, kH: 0, kW: 0, sH: 1, sW: 1, pH: 0, pW: 0, dH: 1, dW: 1 };
}

export function adaptiveAvgPool2d(rt: GpuRuntime, backend: GpuStorage['backend'], x: View, outH: number, outW: number): GpuStorage {
  const [h, w] = x.shape.slice(2) as [number, number];
  const shape = [x.shape[0]!, x.shape[1]!, outH, outW];
  if (planes(x) > 0 && exceedsBinding(rt, [x], [sizeOf(shape)])) {
    return byPlanes(rt, backend, 'adaptiveAvgPool2d', [x], ['input'], [{ shape, dtype: 'float32' }], ([p]) => [adaptiveAvgPool2d(rt, backend, p!, outH, outW)])[0]!;
  }
  return pooled(rt, backend, 'adaptiveAvgPool2d', { c: constsOf(adaptiveGeom(h, w, outH, outW)) }, x, planes(x) * outH * outW);
}

export function adaptiveAvgPool2dBackward(rt: GpuRuntime, backend: GpuStorage['backend'], g: View, inH: number, inW: number): GpuStorage {
  const [oh, ow] = g.shape.slice(2) as [number, number];
  const shape = [g.shape[0]!, g.shape[1]!, inH, inW];
  if (planes(g) > 0 && exceedsBinding(rt, [g], [sizeOf(shape)])) {
    return byPlanes(rt, backend, 'adaptiveAvgPool2dBackward', [g], ['gradient'], [{ shape, dtype: 'float32' }], ([p]) => [adaptiveAvgPool2dBackward(rt, backend, p!, inH, inW)])[0]!;
  }
  return pooled(rt, backend, 'adaptiveAvgPool2dBackward', { c: constsOf(adaptiveGeom(inH, inW, oh, ow)) }, g, planes(g) * inH * inW);
}
