// conv2d kernels: forward, gradient wrt input (a transposed convolution) and gradient wrt weight,
// on strided NCHW float32 views, into fresh contiguous outputs. Sizes, strides and padding travel
// in uniforms; only what the unrolled loops need (kernel width, stride and dilation along W, the
// register tile) is compiled in. Knows nothing of autograd; the geometry arrives validated.
//
// Variants, chosen per call by ConvConfig (bench/conv2d.ts measures them):
//  - 'register' (implicit GEMM, no workgroup memory; the default). Forward: an invocation owns
//    `rows` output channels × an outRows × cols block of output pixels and walks (input channel,
//    kernel row). Per step it loads one input row segment and reuses it across the kW taps (the
//    sliding window along W) and, when stride_h = dilation_h, across the outRows output rows too
//    (the rows slide down one per kernel row, so one new row is loaded per step). Weights come as
//    vec4 over output channels from a copy packed [groups, Cin/g, kH, kW, Cout/g rounded up to 4]
//    by one small dispatch; with the 'subgroups' feature each lane loads 1/8 of them and
//    subgroupBroadcast shares them. Kernel rows that fall entirely into the padding are skipped.
//    The input gradient at stride 1 is this same kernel run on gy with the weight packed flipped
//    and transposed (gx = conv(gy padded by dilation·(k−1) − padding, rot180(w)ᵀ)). The weight
//    gradient keeps rows × khRows × kW accumulators per invocation and walks whole images row by
//    row, sliding its khRows input rows down (one new row per output row); gy is read as vec4
//    along W; the images are split into chunks (split-K) summed by a second small kernel.
//    Why: on llvmpipe every storage load or store is emulated lane by lane with a bounds check and
//    a branch (see matmul.ts), ~50 FMAs' worth, so what counts is FMAs per load. Results are
//    written through a loop over a private array: unrolled, the guarded stores took most of the
//    compile time (seconds per pipeline on llvmpipe).
//  - 'direct': one invocation per output element, plain loops. Serves every shape with three
//    pipelines: the input gradient at stride > 1, very wide kernels, and passes below
//    ConvConfig.minFlops (where compiling a specialised pipeline costs more than it saves).
//  - 'tiled' (conv-tiled.ts): implicit GEMM staged through workgroup memory, the usual GPU form,
//    for the forward and the stride-1 input gradient. Slower than 'register' on llvmpipe.
// Real GPUs get the register kernels with small tiles and large workgroups (GPU_CONFIG) by default
// and the autotuner times the tiled one against them: not measured here (this machine has only llvmpipe).

import type { Backend, View } from '../backend/types.ts';
import { convFlops, type Conv2dGeometry } from '../backend/conv-geometry.ts';
import { DTypeError, DisposedError, ShapeError, ValueError, fmtShape } from '../errors.ts';
import type { GpuRuntime } from '../device/runtime.ts';
import type { PooledBuffer } from '../device/buffer-pool.ts';
import { GpuStorage } from './storage.ts';
import { MAX_GROUPS, PARAMS_WGSL, cachedSource, fold, fresh, pack, strides, type ForwardOperands, type Params } from './conv-common.ts';
import { tiledForward } from './conv-tiled.ts';
import { isSoftwareAdapter } from './matmul.ts';
import { activationWgsl } from './wgsl.ts';
import { kernel } from './ieee.ts';
import type { FusedActivation } from '../backend/fused-activation.ts';

// ---------------------------------------------------------------------------------------
// Configuration.

/**
 * The 'register' (implicit GEMM) kernel for the forward pass, also used for the input
 * gradient at stride 1: each invocation owns a rows × outRows × cols block of outputs.
 * Checked by setConvConfig (a ValueError names the bad field).
 */
export interface ForwardRegisterConfig {
  /** Selects this kernel family. */
  variant: 'register';
  /** Output channels per invocation (multiple of 4; capped at the channels per group rounded up to 4). */
  rows: number;
  /** Output columns per invocation; 0 picks per problem (see pickCols). */
  cols: number;
  /** Output rows per invocation. */
  outRows: number;
  /** Invocations per workgroup. */
  workgroup: number;
  /** Neighbouring invocations take neighbouring images of one pixel tile (llvmpipe) rather than neighbouring tiles (GPUs). */
  batchFast: boolean;
  /** Share weight loads through subgroupBroadcast when the device has the 'subgroups' feature. */
  subgroups: boolean;
}

/**
 * The 'register' kernel for the weight gradient: rows × khRows × kW accumulators per
 * invocation, the (n, oh) rows split into chunks (split-K) summed by a second kernel.
 */
export interface WeightGradRegisterConfig {
  /** Selects this kernel family. */
  variant: 'register';
  /** Output channels per invocation. */
  rows: number;
  /** Kernel rows per invocation (capped at kH). */
  khRows: number;
  /** Output columns per step of the pixel walk (multiple of 4); 0 picks per problem. */
  cols: number;
  /** Invocations per workgroup. */
  workgroup: number;
  /** Split the (n, oh) rows into chunks until about this many invocations run. */
  targetInvocations: number;
}

/**
 * The 'tiled' forward (src/kernels/conv-tiled.ts): implicit GEMM staged through workgroup memory,
 * 32 output channels × 64 pixels per 16×16 workgroup; also the input gradient at stride 1.
 */
export interface TiledConfig {
  /** Selects this kernel family. */
  variant: 'tiled';
}

/** The 'direct' kernels: one invocation per output element, plain loops; covers every case. */
export interface DirectConfig {
  /** Selects this kernel family. */
  variant: 'direct';
}

/** How each conv primitive runs; `inputGrad` applies at stride 1 (stride > 1 is always 'direct'). */
export interface ConvConfig {
  /** Kernel of conv2d's forward. */
  forward: ForwardRegisterConfig | TiledConfig | DirectConfig;
  /** Kernel of the gradient wrt the input (conv2dBackwardInput) at stride 1. */
  inputGrad: ForwardRegisterConfig | TiledConfig | DirectConfig;
  /** Kernel of the gradient wrt the weight (conv2dBackwardWeight). */
  weightGrad: WeightGradRegisterConfig | DirectConfig;
  /**
   * Passes of fewer FLOPs (2·N·Cout·Ho·Wo·Cin/g·kH·kW) take the 'direct' kernels, which serve every
   * shape with three pipelines: below this, compiling a specialised register kernel (about a second
   * each on llvmpipe) costs more than it saves.
   */
  minFlops: number;
}

/**
 * For llvmpipe (picked by timing the tutorial shapes with bench/conv2d.ts on a 2-core Xeon):
 * 8 channels × 2 rows of 4–16 columns (or 4 channels × 4 rows where channels come in fours, e.g.
 * 20), weights shared over subgroups; weight gradient 4 channels × all 5 kernel rows, ~1024
 * invocations. Larger tiles measured no faster and compile seconds longer.
 */
export const SOFTWARE_CONFIG: ConvConfig = {
  forward: { variant: 'register', rows: 8, cols: 0, outRows: 2, workgroup: 16, batchFast: true, subgroups: true },
  inputGrad: { variant: 'register', rows: 8, cols: 0, outRows: 2, workgroup: 16, batchFast: true, subgroups: true },
  weightGrad: { variant: 'register', rows: 4, khRows: 5, cols: 0, workgroup: 16, targetInvocations: 1024 },
  minFlops: 1 << 19,
};

/**
 * For GPUs (not measured here: this machine has no GPU): small register tiles, 64 invocations per
 * workgroup with neighbouring lanes on neighbouring pixels, and enough invocations to fill the device.
 */
export const GPU_CONFIG: ConvConfig = {
  forward: { variant: 'register', rows: 4, cols: 4, outRows: 1, workgroup: 64, batchFast: false, subgroups: false },
  inputGrad: { variant: 'register', rows: 4, cols: 4, outRows: 1, workgroup: 64, batchFast: false, subgroups: false },
  weightGrad: { variant: 'register', rows: 4, khRows: 1, cols: 4, workgroup: 64, targetInvocations: 65536 },
  minFlops: 1 << 19,
};

/** Everything through the 'direct' kernels. */
export const DIRECT_CONFIG: ConvConfig = { forward: { variant: 'direct' }, inputGrad: { variant: 'direct' }, weightGrad: { variant: 'direct' }, minFlops: 0 };

let override: ConvConfig | null = null;

/** Sets the config every conv uses from now on (`null` restores the per-adapter default). For benchmarks and tests. */
export function setConvConfig(config: ConvConfig | null): void {
  if (config) checkConfig(config);
  override = config;
}

/** The config convs on `rt` use: the override if set, else SOFTWARE_CONFIG on CPU adapters and GPU_CONFIG on GPUs. */
export function convConfig(rt: GpuRuntime): ConvConfig {
  return override ?? (isSoftwareAdapter(rt.adapterInfo) ? SOFTWARE_CONFIG : GPU_CONFIG);
}

function checkConfig(c: ConvConfig): void {
  const bad = (why: string): never => {
    throw new ValueError('conv2d', `invalid config ${JSON.stringify(c)}: ${why}`);
  };
  const int = (v: number, lo: number, hi: number): boolean => Number.isInteger(v) && v >= lo && v <= hi;
  for (const f of [c.forward, c.inputGrad]) {
    if (f.variant !== 'register' && f.variant !== 'tiled' && f.variant !== 'direct') bad(`unknown variant '${(f as { variant: string }).variant}'`);
    if (f.variant !== 'register') continue;
    if (!(int(f.rows, 4, 32) && f.rows % 4 === 0)) bad('rows must be a multiple of 4 in 4..32');
    if (!int(f.cols, 0, 32)) bad('cols must be 0 (auto) or 1..32');
    if (!int(f.outRows, 1, 8)) bad('outRows must be in 1..8');
    if (!int(f.workgroup, 1, 256)) bad('workgroup must be in 1..256');
  }
  const w = c.weightGrad;
  if (w.variant === 'register') {
    if (!int(w.rows, 1, 32)) bad('weightGrad.rows must be in 1..32');
    if (!int(w.khRows, 1, 16)) bad('weightGrad.khRows must be in 1..16');
    if (!(int(w.cols, 0, 32) && w.cols % 4 === 0)) bad('weightGrad.cols must be 0 (auto) or a multiple of 4 up to 32');
    if (!int(w.workgroup, 1, 256)) bad('weightGrad.workgroup must be in 1..256');
    if (!int(w.targetInvocations, 1, 1 << 24)) bad('weightGrad.targetInvocations must be a positive integer');
  }
  if (!(c.minFlops >= 0)) bad('minFlops must be a number >= 0');
}

/**
 * Kernels wider than this (or reading more input columns per row than MAX_SEGMENT) take the 'direct'
 * path: the register kernels unroll kW, and their compile time grows with it.
 */
const MAX_KW = 7;

/** Most unrolled vec4 (or scalar) FMAs per step of a forward tile when the config picks its columns. */
const FMA_BUDGET = 160;
const MAX_SEGMENT = 96;

// ---------------------------------------------------------------------------------------
// 'direct' kernels: one invocation per output element.

/** Bindings of the direct kernels: out, a, b, then bias (forward only), then the uniforms. */
const directHead = (withBias: boolean): string => `${PARAMS_WGSL}
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
${withBias ? '@group(0) @binding(3) var<storage, read> bias: array<f32>;\n@group(0) @binding(4)' : '@group(0) @binding(3)'} var<uniform> p: Params;`;

const DIRECT_MAIN = `@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.z * nwg.x * 64u;
  if (i >= p.total) { return; }`;

/** Forward: thread i computes out[n, o, y, x] (i in row-major order); a = input, b = weight; `act` applied as it is stored. */
const directForward = (act: FusedActivation | null): string => `// conv2d 'direct' forward: thread i computes out[n, o, y, x] = ${act ?? ''}(bias[o] + Σ w[o, c, kh, kw]·in[n, g·cg + c, y·sh − pt + kh·dh, x·sw − pl + kw·dw]).
${directHead(true)}
${DIRECT_MAIN}
  let x = i % p.ow;
  let y = (i / p.ow) % p.oh;
  let o = (i / (p.ow * p.oh)) % p.m;
  let n = i / (p.ow * p.oh * p.m);
  let grp = o / p.mg;
  var acc = 0.0;
  if (p.hasBias != 0u) { acc = bias[p.bOff + o * p.bs]; }
  for (var c = 0u; c < p.cg; c++) {
    let xc = p.xOff + n * p.xsn + (grp * p.cg + c) * p.xsc;
    let wc = p.wOff + o * p.wsm + c * p.wsc;
    for (var kh = 0u; kh < p.kh; kh++) {
      let ih = i32(y * p.sh) - p.pt + i32(kh * p.dh);
      if (ih < 0 || ih >= i32(p.h)) { continue; }
      for (var kw = 0u; kw < p.kw; kw++) {
        let iw = i32(x * p.sw) - p.pl + i32(kw * p.dw);
        if (iw < 0 || iw >= i32(p.w)) { continue; }
        acc = fma(b[wc + kh * p.wsh + kw * p.wsw], a[xc + u32(ih) * p.xsh + u32(iw) * p.xsw], acc);
      }
    }
  }
  out[i] = ${activationWgsl(act, 'acc')};
}`;

/**
 * Input gradient: thread i computes gx[n, c, y, x] from every (o, kh, kw) whose output pixel reads it;
 * a = gy (X view fields), b = weight. X's n/c/h/w here are gy's; p.h/p.w hold the input size.
 */
const DIRECT_INPUT_GRAD = `// conv2d 'direct' input gradient: thread i computes gx[n, c, y, x] = Σ gy[n, o, oy, ox]·w[o, c − g·cg, kh, kw]
// over o in c's group and taps with oy = (y + pt − kh·dh) / sh, ox likewise, whole and in range.
${directHead(false)}
${DIRECT_MAIN}
  let x = i % p.w;
  let y = (i / p.w) % p.h;
  let cc = (i / (p.w * p.h)) % p.c;
  let n = i / (p.w * p.h * p.c);
  let grp = cc / p.cg;
  let c = cc - grp * p.cg;
  // With dilation 1 only every stride-th tap can land on an output pixel: start at the first one.
  let khStep = select(1u, p.sh, p.dh == 1u);
  let khStart = select(0u, (y + u32(p.pt)) % p.sh, p.dh == 1u);
  let kwStep = select(1u, p.sw, p.dw == 1u);
  let kwStart = select(0u, (x + u32(p.pl)) % p.sw, p.dw == 1u);
  var acc = 0.0;
  for (var j = 0u; j < p.mg; j++) {
    let o = grp * p.mg + j;
    let gc = p.gOff + n * p.gsn + o * p.gsc;
    let wc = p.wOff + o * p.wsm + c * p.wsc;
    for (var kh = khStart; kh < p.kh; kh += khStep) {
      let th = i32(y) + p.pt - i32(kh * p.dh);
      if (th < 0 || u32(th) % p.sh != 0u || u32(th) / p.sh >= p.oh) { continue; }
      let oy = u32(th) / p.sh;
      for (var kw = kwStart; kw < p.kw; kw += kwStep) {
        let tw = i32(x) + p.pl - i32(kw * p.dw);
        if (tw < 0 || u32(tw) % p.sw != 0u || u32(tw) / p.sw >= p.ow) { continue; }
        let ox = u32(tw) / p.sw;
        acc = fma(a[gc + oy * p.gsh + ox * p.gsw], b[wc + kh * p.wsh + kw * p.wsw], acc);
      }
    }
  }
  out[i] = acc;
}`;

/** Weight gradient: thread i computes gw[o, c, kh, kw] over every (n, oy, ox); a = input, b = gy. */
const DIRECT_WEIGHT_GRAD = `// conv2d 'direct' weight gradient: thread i computes gw[o, c, kh, kw] = Σ_{n, oy, ox} gy[n, o, oy, ox]·in[n, g·cg + c, oy·sh − pt + kh·dh, ox·sw − pl + kw·dw].
${directHead(false)}
${DIRECT_MAIN}
  let kw = i % p.kw;
  let kh = (i / p.kw) % p.kh;
  let c = (i / (p.kw * p.kh)) % p.cg;
  let o = i / (p.kw * p.kh * p.cg);
  let grp = o / p.mg;
  var acc = 0.0;
  for (var n = 0u; n < p.n; n++) {
    let xc = p.xOff + n * p.xsn + (grp * p.cg + c) * p.xsc;
    let gc = p.gOff + n * p.gsn + o * p.gsc;
    for (var oy = 0u; oy < p.oh; oy++) {
      let ih = i32(oy * p.sh) - p.pt + i32(kh * p.dh);
      if (ih < 0 || ih >= i32(p.h)) { continue; }
      for (var ox = 0u; ox < p.ow; ox++) {
        let iw = i32(ox * p.sw) - p.pl + i32(kw * p.dw);
        if (iw < 0 || iw >= i32(p.w)) { continue; }
        acc = fma(b[gc + oy * p.gsh + ox * p.gsw], a[xc + u32(ih) * p.xsh + u32(iw) * p.xsw], acc);
      }
    }
  }
  out[i] = acc;
}`;

// ---------------------------------------------------------------------------------------
// Weight packing for the register kernels: wp[((((g·cg + c)·kh + y)·kw + x)·mp + o] = w(g, o, c, y, x)
// (zero for o ≥ mg), read by them as vec4 over o. w(g, o, c, y, x) is the weight view seen through
// the strides wsg/wsm/wsc/wsh/wsw, which also express the flip and transpose of the input gradient.

const PACK = `// conv2d weight packing: thread i writes wp[i], i = (((g·cg + c)·kh + y)·kw + x)·mp + o:
// the weight at (group g, out channel o, in channel c, tap y, x), or 0 past the group's mg channels.
${PARAMS_WGSL}
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.z * nwg.x * 64u;
  if (i >= p.total) { return; }
  let mp = p.mp;
  let o = i % mp;
  let x = (i / mp) % p.kw;
  let y = (i / (mp * p.kw)) % p.kh;
  let c = (i / (mp * p.kw * p.kh)) % p.cg;
  let g = i / (mp * p.kw * p.kh * p.cg);
  var v = 0.0;
  if (o < p.mg) { v = w[p.wOff + g * p.wsg + o * p.wsm + c * p.wsc + y * p.wsh + x * p.wsw]; }
  out[i] = v;
}`;

// ---------------------------------------------------------------------------------------
// 'register' forward (and stride-1 input gradient).

interface ForwardSpec {
  /** Output channels (1..3, or a multiple of 4), columns and rows of the register tile. */
  tm: number;
  tn: number;
  tr: number;
  wg: number;
  /** Kernel width, stride and dilation along W. */
  kw: number;
  sw: number;
  dw: number;
  /** Input rows read as vec4 (4-aligned views, segment starts at multiples of 4). */
  x4: boolean;
  /**
   * Consecutive invocations take consecutive images of the same pixel tile, so a SIMD batch on
   * llvmpipe shares its rows and columns (uniform kernel-row bounds and masks); else consecutive
   * columns tiles, what GPUs want for neighbouring addresses.
   */
  batchFast: boolean;
  /** Lanes that share the weight loads through subgroupBroadcast; 0 loads them in every lane. */
  lanes: number;
  /**
   * stride_h = dilation_h: input row (r, kh + 1) is row (r + 1, kh), so the tr input rows of one
   * kernel row slide down by one per kernel row and only one new row is loaded per (c, kh).
   */
  win: boolean;
  /** Activation applied as each output is stored (the forward conv only), or null. */
  act: FusedActivation | null;
}

const XYZW = 'xyzw';

/** Input-row positions an invocation reads, relative to its first column iw0 = ow0·sw − pl. */
function usedPositions(tn: number, kw: number, sw: number, dw: number): number[] {
  const s = new Set<number>();
  for (let t = 0; t < tn; t++) for (let k = 0; k < kw; k++) s.add(t * sw + k * dw);
  return [...s].sort((a, b) => a - b);
}

/**
 * WGSL of the register forward. Invocation l of workgroup w computes out[n, g·mg + m0 .. +tm, oh0 .. +tr, ow0 .. +tn]
 * for tile = (w.x + w.z·nwg.x)·wg + l split into (n, oh0 = th·tr, ow0 = tw·tn) and w.y = g·mBlocks + m0 / tm.
 * Tiles past the end compute a clamped copy they never store. The packed weight holds mp4 units
 * (vec4 over 4 output channels, or single channels when tm < 4) per (group, c, kh, kw).
 */
function forwardSource(s: ForwardSpec): string {
  const { tm, tn, tr, wg, kw: KW, sw: SW, dw: DW, x4, batchFast, lanes: LN, win, act } = s;
  const vecM = tm % 4 === 0;
  const V = vecM ? tm / 4 : tm; // weight units per (kh, kw)
  const U = vecM ? 'vec4<f32>' : 'f32';
  const pos = usedPositions(tn, KW, SW, DW);
  const chunks = [...new Set(pos.map((j) => j >> 2))];
  const L: string[] = [];
  const line = (x: string): void => void L.push(x);
  line(`// conv2d 'register' forward: ${tm} out channels × ${tr}×${tn} pixels per invocation, kW ${KW}, stride_w ${SW}, dilation_w ${DW}, input ${x4 ? 'vec4' : 'scalar'}.`);
  line(`// Invocation l of workgroup w computes out[n, g·mg + m0 + 0..${tm - 1}, oh0 + 0..${tr - 1}, ow0 + 0..${tn - 1}] for tile = (w.x + w.z·nwg.x)·${wg} + l`);
  line(batchFast ? `// = (oh0/${tr} · tilesW + ow0/${tn})·n_batch + n` : `// = (n·tilesH + oh0/${tr})·tilesW + ow0/${tn}`);
  line(`// and w.y = g·mBlocks + m0/${tm}. For each (c, kh) it loads the input row segment once for all ${KW} taps; kernel rows`);
  line(`// that fall entirely into the padding are skipped.${LN ? ` The ${KW * (vecM ? tm / 4 : tm)} weight units of a (c, kh) are loaded once per ${LN} lanes and shared by subgroupBroadcast.` : ''}`);
  if (LN) line('enable subgroups;\ndiagnostic(off, subgroup_uniformity);');
  line(PARAMS_WGSL);
  line(`@group(0) @binding(0) var<storage, read_write> out: array<f32>;`);
  line(`@group(0) @binding(1) var<storage, read> x: array<${x4 ? 'vec4<f32>' : 'f32'}>;`);
  line(`@group(0) @binding(2) var<storage, read> wp: array<${U}>;`);
  line(`@group(0) @binding(3) var<storage, read> bias: array<f32>;`);
  line(`@group(0) @binding(4) var<uniform> p: Params;`);
  line(`@compute @workgroup_size(${wg})`);
  line(`fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32${LN ? ', @builtin(subgroup_invocation_id) sgi: u32' : ''}) {`);
  line(`  let tile = (wid.x + wid.z * nwg.x) * ${wg}u + lid;`);
  line(`  let live = tile < p.tiles;`);
  line(`  let tc = min(tile, p.tiles - 1u);`);
  if (batchFast) {
    line(`  let n = tc % p.n;`);
    line(`  let ow0 = ((tc / p.n) % p.tilesW) * ${tn}u;`);
    line(`  let oh0 = (tc / (p.n * p.tilesW)) * ${tr}u;`);
  } else {
    line(`  let ow0 = (tc % p.tilesW) * ${tn}u;`);
    line(`  let oh0 = ((tc / p.tilesW) % p.tilesH) * ${tr}u;`);
    line(`  let n = tc / (p.tilesW * p.tilesH);`);
  }
  line(`  let grp = wid.y / p.mBlocks;`);
  line(`  let m0 = (wid.y % p.mBlocks) * ${tm}u;`);
  line(`  let xBase = p.xOff + n * p.xsn + grp * p.cg * p.xsc;`);
  line(`  let iw0 = i32(ow0 * ${SW}u) - p.pl;`);
  line(`  let W = i32(p.w);`);
  line(`  let H = i32(p.h);`);
  line(`  let dh = i32(p.dh);`);
  if (x4) {
    for (const q of chunks) {
      line(`  let cv${q} = iw0 + ${4 * q};`);
      line(`  let cm${q} = vec4<bool>(${[0, 1, 2, 3].map((e) => `cv${q} + ${e} >= 0 && cv${q} + ${e} < W`).join(', ')});`);
      line(`  let ca${q} = any(cm${q});`);
    }
  } else {
    for (const j of pos) {
      line(`  let c${j} = iw0 + ${j};`);
      line(`  let co${j} = u32(c${j}) * p.xsw;`);
      line(`  let cm${j} = c${j} >= 0 && c${j} < W;`);
    }
  }
  // Kernel rows [kLo, kHi) that reach inside the input for at least one of the tile's rows.
  line(`  var kLo = i32(p.kh);`);
  line(`  var kHi = 0;`);
  for (let r = 0; r < tr; r++) {
    line(`  let ihb${r} = i32((oh0 + ${r}u) * p.sh) - p.pt;`);
    line(`  if (oh0 + ${r}u < p.oh) {`);
    line(`    let top = H - 1 - ihb${r};`);
    line(`    kLo = min(kLo, select(0, (dh - 1 - ihb${r}) / dh, ihb${r} < 0));`);
    line(`    kHi = max(kHi, select(0, min(top / dh + 1, i32(p.kh)), top >= 0));`);
    line(`  }`);
  }
  line(`  let wg0 = grp * p.cg * p.kh * ${KW}u * p.mp4;`);
  const NU = KW * V; // weight units per (c, kh): unit u = k·V + v
  const G = LN ? Math.ceil(NU / LN) : 0;
  if (LN) {
    // Every lane of a subgroup must reach each broadcast: make the kernel-row range subgroup-uniform.
    line(`  kLo = subgroupMin(kLo);`);
    line(`  kHi = subgroupMax(kHi);`);
    line(`  let lane = sgi % ${LN}u;`);
    for (let g = 0; g < G; g++) {
      line(`  let u${g} = min(lane + ${g * LN}u, ${NU - 1}u);`);
      line(`  let wo${g} = (u${g} / ${V}u) * p.mp4 + min(${vecM ? 'm0 / 4u' : 'm0'} + u${g} % ${V}u, p.mp4 - 1u);`);
    }
  } else {
    for (let v = 0; v < V; v++) line(`  let wv${v} = min(${vecM ? `m0 / 4u + ${v}u` : `m0 + ${v}u`}, p.mp4 - 1u);`);
  }
  // Accumulators acc{r}_{t}_{v}: output channel unit v (4 channels, or 1), pixel (oh0 + r, ow0 + t).
  for (let v = 0; v < V; v++) {
    line(`  var b${v} = ${U}(0.0);`);
    line(`  if (p.hasBias != 0u) {`);
    if (vecM) {
      line(`    let mb = grp * p.mg + m0 + ${4 * v}u;`);
      line(`    b${v} = vec4<f32>(${[0, 1, 2, 3].map((e) => `bias[p.bOff + min(mb + ${e}u, grp * p.mg + p.mg - 1u) * p.bs]`).join(', ')});`);
    } else {
      line(`    b${v} = bias[p.bOff + (grp * p.mg + min(m0 + ${v}u, p.mg - 1u)) * p.bs];`);
    }
    line(`  }`);
  }
  for (let r = 0; r < tr; r++) for (let t = 0; t < tn; t++) for (let v = 0; v < V; v++) line(`  var acc${r}_${t}_${v} = b${v};`);
  const weights = (pad: string): void => {
    if (LN) {
      for (let g = 0; g < G; g++) line(`${pad}let wl${g} = wp[wb + wo${g}];`);
      for (let k = 0; k < KW; k++) for (let v = 0; v < V; v++) {
        const u = k * V + v;
        line(`${pad}let w${k}_${v} = subgroupBroadcast(wl${Math.floor(u / LN)}, ${u % LN}u);`);
      }
    } else {
      for (let k = 0; k < KW; k++) for (let v = 0; v < V; v++) line(`${pad}let w${k}_${v} = wp[wb + ${k}u * p.mp4 + wv${v}];`);
    }
  };
  line(`  for (var c = 0u; c < p.cg; c++) {`);
  line(`    let xc = xBase + c * p.xsc;`);
  // The input row segment of tile row r at kernel row kh, as vars x{r}_{q} (vec4 chunks) or x{r}_{j}.
  const xv = (r: number, j: number): string => (x4 ? `x${r}_${j >> 2}.${XYZW[j & 3]}` : `x${r}_${j}`);
  const loadRow = (r: number, khExpr: string, pad: string): void => {
    line(`${pad}{`);
    line(`${pad}  let ih = ihb${r} + (${khExpr}) * dh;`);
    line(`${pad}  let rok = ih >= 0 && ih < H;`);
    line(`${pad}  let rb = xc + u32(ih) * p.xsh;`);
    if (x4) {
      for (const q of chunks) {
        line(`${pad}  x${r}_${q} = vec4<f32>(0.0);`);
        line(`${pad}  if (rok && ca${q}) { x${r}_${q} = select(vec4<f32>(0.0), x[(rb + u32(cv${q})) / 4u], cm${q}); }`);
      }
    } else {
      for (const j of pos) line(`${pad}  x${r}_${j} = select(0.0, x[rb + co${j}], cm${j} && rok);`);
    }
    line(`${pad}}`);
  };
  const declareRow = (r: number, pad: string): void => {
    if (x4) for (const q of chunks) line(`${pad}var x${r}_${q} = vec4<f32>(0.0);`);
    else for (const j of pos) line(`${pad}var x${r}_${j} = 0.0;`);
  };
  const fmas = (r: number, pad: string): void => {
    // Each accumulator's kW taps back to back (one load and store of a spilled accumulator per row).
    for (let t = 0; t < tn; t++) {
      for (let v = 0; v < V; v++) {
        const chain = Array.from({ length: KW }, (_, k) => k).reduce((acc, k) => `fma(w${k}_${v}, ${U}(${xv(r, t * SW + k * DW)}), ${acc})`, `acc${r}_${t}_${v}`);
        line(`${pad}acc${r}_${t}_${v} = ${chain};`);
      }
    }
  };
  if (win) {
    // Rows 0 .. tr−2 of the first kernel row are loaded before the loop; each step loads row tr−1,
    // uses all tr, then slides them up by one (row r at kh + 1 is row r + 1 at kh).
    for (let r = 0; r < tr; r++) declareRow(r, '      ');
    for (let r = 0; r < tr - 1; r++) loadRow(r, 'kLo', '      ');
    line(`      for (var khi = kLo; khi < kHi; khi++) {`);
    line(`        let kh = u32(khi);`);
    line(`        let wb = wg0 + (c * p.kh + kh) * ${KW}u * p.mp4;`);
    weights('        ');
    loadRow(tr - 1, 'khi', '        ');
    for (let r = 0; r < tr; r++) fmas(r, '        ');
    for (let r = 0; r < tr - 1; r++) {
      if (x4) for (const q of chunks) line(`        x${r}_${q} = x${r + 1}_${q};`);
      else for (const j of pos) line(`        x${r}_${j} = x${r + 1}_${j};`);
    }
    line(`      }`);
  } else {
    line(`      for (var khi = kLo; khi < kHi; khi++) {`);
    line(`        let kh = u32(khi);`);
    line(`        let wb = wg0 + (c * p.kh + kh) * ${KW}u * p.mp4;`);
    weights('        ');
    for (let r = 0; r < tr; r++) {
      line(`        if (ihb${r} + khi * dh >= 0 && ihb${r} + khi * dh < H) {`);
      declareRow(r, '          ');
      loadRow(r, 'khi', '          ');
      fmas(r, '          ');
      line(`        }`);
    }
    line(`      }`);
  }
  line(`  }`);
  // Results go out through a loop over a private array: unrolled, the tr·tn·tm guarded stores (each
  // a per-lane branchy sequence on llvmpipe) cost several times the compile time of the whole FMA body.
  const E = vecM ? 4 : 1;
  line(`  var res: array<${U}, ${tr * tn * V}>;`);
  for (let r = 0; r < tr; r++) for (let t = 0; t < tn; t++) for (let v = 0; v < V; v++) line(`  res[${(r * tn + t) * V + v}] = acc${r}_${t}_${v};`);
  line(`  if (!live) { return; }`);
  line(`  let ob = (n * p.m + grp * p.mg) * p.oh;`);
  // The trip count comes from a uniform (p.nres = tr·tn·units) so that the compiler does not unroll it again.
  line(`  for (var i = 0u; i < p.nres; i++) {`);
  line(`    let v = i % ${V}u;`);
  line(`    let t = (i / ${V}u) % ${tn}u;`);
  line(`    let r = i / ${V * tn}u;`);
  line(`    if (oh0 + r < p.oh && ow0 + t < p.ow) {`);
  line(`      let val = res[i];`);
  line(`      let o = (ob + oh0 + r) * p.ow + ow0 + t;`);
  for (let e = 0; e < E; e++) {
    const m = `m0 + v * ${E}u + ${e}u`;
    line(`      if (${m} < p.mg) { out[o + (${m}) * p.oh * p.ow] = ${activationWgsl(act, `val${vecM ? `.${XYZW[e]}` : ''}`)}; }`);
  }
  line(`    }`);
  line(`  }`);
  line(`}`);
  return L.join('\n');
}

// ---------------------------------------------------------------------------------------
// 'register' weight gradient.

interface WeightGradSpec {
  /** Output channels, kernel rows per invocation; columns per pixel step (multiple of 4). */
  tm: number;
  tk: number;
  tn: number;
  wg: number;
  kw: number;
  sw: number;
  dw: number;
  /** Input rows and gy rows read as vec4. */
  x4: boolean;
  g4: boolean;
  /**
   * Splits of whole images walked row by row with a sliding window of input rows (needs
   * stride_h = dilation_h): one new input row per output row instead of khRows.
   */
  win: boolean;
}

/**
 * WGSL of the register weight gradient. Invocation id = s·blocks + ((g·mBlocks + m0/tm)·cg + c)·khBlocks + kh0/tk
 * accumulates gw[g·mg + m0 .. +tm, c, kh0 .. +tk, 0 .. kw) over the output rows r = s·rowsPer .. (n = r / oh,
 * oy = r % oh) and writes them to part[s]. Neighbouring invocations take neighbouring blocks, so no lane idles
 * when there are few splits.
 */
function weightGradSource(s: WeightGradSpec): string {
  const { tm, tk, tn, wg, kw: KW, sw: SW, dw: DW, x4, g4, win } = s;
  const Q = tn / 4;
  const pos = usedPositions(tn, KW, SW, DW);
  const chunks = [...new Set(pos.map((j) => j >> 2))];
  const L: string[] = [];
  const line = (x: string): void => void L.push(x);
  line(`// conv2d 'register' weight gradient: ${tm} out channels × ${tk} kernel rows × ${KW} taps per invocation, ${tn} columns per step,`);
  line(`// stride_w ${SW}, dilation_w ${DW}, input ${x4 ? 'vec4' : 'scalar'}, gy ${g4 ? 'vec4' : 'scalar'}.`);
  line(`// Invocation id = (w.x + w.z·nwg.x)·${wg} + l = s·blocks + ((g·mBlocks + m0/${tm})·cg + c)·khBlocks + kh0/${tk} sums the`);
  line(win
    ? `// images [s·rowsPer, (s+1)·rowsPer), sliding ${tk} input rows down each image, and writes gw[g·mg + m0.., c, kh0.., 0..${KW - 1}] to part[s].`
    : `// output rows [s·rowsPer, (s+1)·rowsPer) of (n, oy) and writes gw[g·mg + m0.., c, kh0.., 0..${KW - 1}] to part[s].`);
  line(PARAMS_WGSL);
  line(`@group(0) @binding(0) var<storage, read_write> out: array<f32>;`);
  line(`@group(0) @binding(1) var<storage, read> x: array<${x4 ? 'vec4<f32>' : 'f32'}>;`);
  line(`@group(0) @binding(2) var<storage, read> gy: array<${g4 ? 'vec4<f32>' : 'f32'}>;`);
  line(`@group(0) @binding(3) var<uniform> p: Params;`);
  line(`@compute @workgroup_size(${wg})`);
  line(`fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {`);
  line(`  let id = (wid.x + wid.z * nwg.x) * ${wg}u + lid;`);
  line(`  let live = id < p.total;`);
  line(`  let blocks = p.groups * p.mBlocks * p.cg * p.khBlocks;`);
  line(`  let blk = id % blocks;`);
  line(`  let s = id / blocks;`);
  line(`  let kh0 = (blk % p.khBlocks) * ${tk}u;`);
  line(`  let c = (blk / p.khBlocks) % p.cg;`);
  line(`  let gm = blk / (p.khBlocks * p.cg);`);
  line(`  let grp = gm / p.mBlocks;`);
  line(`  let m0 = (gm % p.mBlocks) * ${tm}u;`);
  line(`  let xc = p.xOff + (grp * p.cg + c) * p.xsc;`);
  for (let m = 0; m < tm; m++) line(`  let gc${m} = p.gOff + (grp * p.mg + min(m0 + ${m}u, p.mg - 1u)) * p.gsc;`);
  // Kernel rows past kH (the last block) read rows they never store; left unclamped so the window slides evenly.
  for (let k = 0; k < tk; k++) line(`  let kd${k} = i32((kh0 + ${k}u) * p.dh) - p.pt;`);
  for (let m = 0; m < tm; m++) for (let k = 0; k < tk; k++) for (let e = 0; e < KW; e++) line(`  var acc${m}_${k}_${e} = 0.0;`);
  line(`  let H = i32(p.h);`);
  line(`  let W = i32(p.w);`);
  // gy values as vec4 g{m}_{q} over columns ow0 + 4q .. 4q + 3 (zero past the row), for row offset `gr`.
  const loadGy = (pad: string): void => {
    for (let m = 0; m < tm; m++) {
      for (let q = 0; q < Q; q++) {
        if (g4) {
          line(`${pad}let g${m}_${q} = select(vec4<f32>(0.0), gy[(gc${m} + gr + ow0) / 4u + ${q}u], ow0 + ${4 * q}u < p.ow);`);
        } else {
          const e = [0, 1, 2, 3].map((j) => `select(0.0, gy[gc${m} + gr + (ow0 + ${4 * q + j}u) * p.gsw], ow0 + ${4 * q + j}u < p.ow)`);
          line(`${pad}let g${m}_${q} = vec4<f32>(${e.join(', ')});`);
        }
      }
    }
  };
  // The input row segment for kernel row k: vars x{k}_{q} (vec4 chunks) or x{k}_{j}, zero outside the input.
  const declareRow = (k: number, pad: string): void => {
    if (x4) for (const q of chunks) line(`${pad}var x${k}_${q} = vec4<f32>(0.0);`);
    else for (const j of pos) line(`${pad}var x${k}_${j} = 0.0;`);
  };
  const loadRow = (k: number, ihExpr: string, pad: string): void => {
    line(`${pad}{`);
    line(`${pad}  let ih = ${ihExpr};`);
    line(`${pad}  let rok = ih >= 0 && ih < H;`);
    line(`${pad}  let rb = xr + u32(ih) * p.xsh;`);
    if (x4) {
      for (const q of chunks) {
        line(`${pad}  let cv${q} = iw0 + ${4 * q};`);
        line(`${pad}  x${k}_${q} = select(vec4<f32>(0.0), x[(rb + u32(cv${q})) / 4u], vec4<bool>(${[0, 1, 2, 3].map((e) => `cv${q} + ${e} >= 0 && cv${q} + ${e} < W`).join(', ')}) & vec4<bool>(rok));`);
      }
    } else {
      for (const j of pos) line(`${pad}  x${k}_${j} = select(0.0, x[rb + u32(iw0 + ${j}) * p.xsw], rok && iw0 + ${j} >= 0 && iw0 + ${j} < W);`);
    }
    line(`${pad}}`);
  };
  const accumulate = (k: number, pad: string): void => {
    const xv = (j: number): string => (x4 ? `x${k}_${j >> 2}.${XYZW[j & 3]}` : `x${k}_${j}`);
    for (let e = 0; e < KW; e++) {
      for (let q = 0; q < Q; q++) {
        const xs = [0, 1, 2, 3].map((j) => xv((4 * q + j) * SW + e * DW));
        line(`${pad}let v${k}_${e}_${q} = vec4<f32>(${xs.join(', ')});`);
      }
      for (let m = 0; m < tm; m++) {
        const sum = Array.from({ length: Q }, (_, q) => `dot(g${m}_${q}, v${k}_${e}_${q})`).join(' + ');
        line(`${pad}acc${m}_${k}_${e} += ${sum};`);
      }
    }
  };
  if (win) {
    // Whole images [n0, n1); per column step, output rows top to bottom. Kernel row k of output
    // row oy + 1 is kernel row k + 1 of row oy (stride_h = dilation_h), so the tk row segments
    // slide up by one and a single new one is loaded per output row.
    line(`  let n0 = min(s * p.rowsPer, p.n);`);
    line(`  let n1 = min(n0 + p.rowsPer, p.n);`);
    line(`  for (var n = n0; n < n1; n++) {`);
    line(`    let xr = xc + n * p.xsn;`);
    line(`    for (var ow0 = 0u; ow0 < p.ow; ow0 += ${tn}u) {`);
    line(`      let iw0 = i32(ow0 * ${SW}u) - p.pl;`);
    for (let k = 0; k < tk; k++) declareRow(k, '      ');
    for (let k = 0; k < tk - 1; k++) loadRow(k, `kd${k}`, '      ');
    line(`      for (var oy = 0u; oy < p.oh; oy++) {`);
    line(`        let gr = n * p.gsn + oy * p.gsh;`);
    loadGy('        ');
    loadRow(tk - 1, `i32(oy * p.sh) + kd${tk - 1}`, '        ');
    for (let k = 0; k < tk; k++) accumulate(k, '        ');
    for (let k = 0; k < tk - 1; k++) {
      if (x4) for (const q of chunks) line(`        x${k}_${q} = x${k + 1}_${q};`);
      else for (const j of pos) line(`        x${k}_${j} = x${k + 1}_${j};`);
    }
    line(`      }`);
    line(`    }`);
    line(`  }`);
  } else {
    line(`  let r0 = min(s * p.rowsPer, p.rows);`);
    line(`  let r1 = min(r0 + p.rowsPer, p.rows);`);
    line(`  for (var r = r0; r < r1; r++) {`);
    line(`    let n = r / p.oh;`);
    line(`    let oy = r - n * p.oh;`);
    line(`    let gr = n * p.gsn + oy * p.gsh;`);
    line(`    let xr = xc + n * p.xsn;`);
    line(`    let ihb = i32(oy * p.sh);`);
    line(`    for (var ow0 = 0u; ow0 < p.ow; ow0 += ${tn}u) {`);
    loadGy('      ');
    line(`      let iw0 = i32(ow0 * ${SW}u) - p.pl;`);
    for (let k = 0; k < tk; k++) {
      declareRow(k, '      ');
      loadRow(k, `ihb + kd${k}`, '      ');
      accumulate(k, '      ');
    }
    line(`    }`);
    line(`  }`);
  }
  // Results go out through a loop over a private array (see the forward kernel for why).
  const NA = tm * tk * KW;
  line(`  var res: array<f32, ${NA}>;`);
  for (let m = 0; m < tm; m++) for (let k = 0; k < tk; k++) for (let e = 0; e < KW; e++) line(`  res[${(m * tk + k) * KW + e}] = acc${m}_${k}_${e};`);
  line(`  if (!live) { return; }`);
  line(`  let ob = s * p.outSize;`);
  line(`  for (var i = 0u; i < p.nres; i++) {`);
  line(`    let e = i % ${KW}u;`);
  line(`    let k = (i / ${KW}u) % ${tk}u;`);
  line(`    let m = i / ${KW * tk}u;`);
  line(`    if (m0 + m < p.mg && kh0 + k < p.kh) {`);
  line(`      out[ob + (((grp * p.mg + m0 + m) * p.cg + c) * p.kh + kh0 + k) * ${KW}u + e] = res[i];`);
  line(`    }`);
  line(`  }`);
  line(`}`);
  return L.join('\n');
}

/** Sums the split partials: thread i writes out[i] = Σ_s part[s·outSize + i]. */
const SUM_SPLITS = `// conv2d weight gradient, split sum: thread i writes out[i] = Σ_s part[s·outSize + i].
${PARAMS_WGSL}
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> part: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.z * nwg.x * 64u;
  if (i >= p.outSize) { return; }
  var acc = 0.0;
  for (var s = 0u; s < p.splits; s++) { acc += part[s * p.outSize + i]; }
  out[i] = acc;
}`;

// ---------------------------------------------------------------------------------------
// Launchers.


function storageOf(op: string, v: View, which: string, shape: readonly number[]): GpuStorage {
  const s = v.storage;
  if (!(s instanceof GpuStorage)) throw new DTypeError(op, `${which} lives on the '${s.backend.name}' backend, not 'webgpu'`);
  if (s.dtype !== 'float32') throw new DTypeError(op, `${which} has dtype ${s.dtype}; conv2d takes float32 (cast with .float() first)`);
  if (s.disposed) throw new DisposedError(`${op} (${which})`, v.shape);
  if (v.shape.length !== shape.length || v.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(op, `${which} has shape ${fmtShape(v.shape)}, expected ${fmtShape(shape)}`, [v.shape, shape]);
  }
  return s;
}


const aligned4 = (...xs: number[]): boolean => xs.every((x) => ((x % 4) + 4) % 4 === 0);


function dispatch1d(rt: GpuRuntime, name: string, src: string, buffers: PooledBuffer[], p: Params, total: number): void {
  const [gx, gz] = fold(total, 64, Math.min(rt.limits.maxComputeWorkgroupsPerDimension, MAX_GROUPS));
  rt.dispatch(kernel(rt, name, src), buffers, pack({ ...p, total }), [gx, 1, gz]);
}

/**
 * Columns per invocation when the config says 0: among 4, 8, 12 and 16 (up to the row width),
 * the one that loads least per useful output. `fixed` counts the loads a tile pays whatever its
 * width (weights), `perCol` those per column (gy rows), `rows` the input rows it reads per step;
 * an input row costs ceil(((cols − 1)·stride + span) / 4) vec4 loads. Columns past the row are wasted work.
 */
function pickCols(ow: number, fixed: number, rows: number, sw: number, span: number, perCol = 0, candidates: readonly number[] = [4, 8, 12, 16]): number {
  let best = candidates[0]!;
  let bestCost = Infinity;
  for (const c of candidates) {
    if (c > candidates[0]! && c >= ow + 4) break;
    const useful = ow / (Math.ceil(ow / c) * c);
    const cost = (fixed + perCol * c + rows * Math.ceil(((c - 1) * sw + span) / 4)) / (c * useful);
    if (cost < bestCost * 0.97) [best, bestCost] = [c, cost]; // a wider tile must win clearly: it compiles slower
  }
  return best;
}

/**
 * The register forward over X [N, C, H, W] (view `xv`) with the weight seen as w(g, o, c, y, x) through
 * `ws` (offset and strides), producing a fresh contiguous [N, M, OH, OW] with the bias added and the
 * activation applied. The caller checks that the register kernel applies (registerFits).
 */
function registerForward(rt: GpuRuntime, backend: Backend, cfg: ForwardRegisterConfig, { xs, xv, w, ws, bias, geo, act }: ForwardOperands): GpuStorage {
  const { n, c, h, w: wd, m, oh, ow, groups, kh, kw, sh, sw, dh, dw, pt, pl } = geo;
  const cg = c / groups;
  const mg = m / groups;
  const out = fresh(rt, backend, n * m * oh * ow);
  if (n * m * oh * ow === 0) return out;
  // Fewer than 4 channels per group: single-channel weight units (no padding lanes to waste FMAs on).
  const vecM = mg >= 4;
  const mp = vecM ? 4 * Math.ceil(mg / 4) : mg;
  const mp4 = vecM ? mp / 4 : mp; // weight units per (group, c, kh, kw)
  // Pack the weight: [groups, cg, kh, kw, mp].
  const packedLen = groups * cg * kh * kw * mp;
  const wp = fresh(rt, backend, packedLen);
  try {
    dispatch1d(rt, 'conv2d_pack_weight', PACK, [wp.buffer, w.buffer],
      { cg, mg, kh, kw, mp, wOff: ws.off, wsg: ws.g, wsm: ws.m, wsc: ws.c, wsh: ws.h, wsw: ws.w }, packedLen);
    const [xsn, xsc, xsh, xsw] = strides(xv);
    // Output channels per invocation: the multiple of 4 up to cfg.rows that wastes fewest padding
    // channels (the wider on ties); a narrower tile gets proportionally more output rows, so the
    // register tile (and the compile time) stays the same size.
    let tm = mg;
    if (vecM) {
      tm = 4;
      for (let c = 8; c <= Math.min(cfg.rows, mp); c += 4) if (Math.ceil(mg / c) * c <= Math.ceil(mg / tm) * tm) tm = c;
    }
    const units = vecM ? tm / 4 : tm;
    let tr = Math.min(vecM ? Math.floor((cfg.outRows * cfg.rows) / tm) : cfg.outRows, oh, 8);
    const lanes = cfg.subgroups ? subgroupLanes(rt, cfg.workgroup) : 0;
    // Per (c, kh) a tile loads its weights (shared by `lanes`) and one input row (tr without the window).
    const tn = cfg.cols > 0 ? cfg.cols : pickCols(ow, (kw * units) / Math.max(1, lanes), tr > 1 && sh === dh ? 1 : tr, sw, (kw - 1) * dw + 1);
    // Compile time grows with the unrolled FMA body (tr·tn·units·kW): keep it within FMA_BUDGET.
    if (cfg.cols === 0) tr = Math.max(1, Math.min(tr, Math.floor(FMA_BUDGET / (tn * units * kw))));
    const win = tr > 1 && sh === dh;
    const x4 = xsw === 1 && aligned4(xv.offset, xsn!, xsc!, xsh!, pl) && (tn * sw) % 4 === 0;
    const spec: ForwardSpec = { tm, tn, tr, wg: cfg.workgroup, kw, sw, dw, x4, batchFast: cfg.batchFast, lanes, win, act };
    const tilesW = Math.ceil(ow / tn);
    const tilesH = Math.ceil(oh / tr);
    const tiles = n * tilesH * tilesW;
    const mBlocks = Math.ceil(mg / tm);
    const max = Math.min(rt.limits.maxComputeWorkgroupsPerDimension, MAX_GROUPS);
    if (groups * mBlocks > max) throw new ShapeError('conv2d', `${m} output channels in ${groups} groups need ${groups * mBlocks} workgroups in y (limit ${max})`);
    const [gx, gz] = fold(tiles, spec.wg, max);
    const key = `fwd|${tm}|${tn}|${tr}|${spec.wg}|${kw}|${sw}|${dw}|${x4}|${spec.batchFast}|${lanes}|${spec.win}|${act}`;
    const src = cachedSource(key, () => forwardSource(spec));
    const p: Params = {
      n, c, h, w: wd, m, oh, ow, groups, cg, mg, kh, kw, sh, sw, dh, dw, pt, pl,
      xOff: xv.offset, xsn, xsc, xsh, xsw,
      bOff: bias?.off ?? 0, bs: bias?.stride ?? 0, hasBias: bias ? 1 : 0,
      tiles, tilesW, tilesH, mBlocks, mp4, nres: tr * tn * (vecM ? tm / 4 : tm),
    };
    rt.dispatch(kernel(rt, `conv2d_register_fwd_${x4 ? 'x4' : 'xs'}${lanes ? '_sg' : ''}${act ? `_${act}` : ''}`, src), [out.buffer, xs.buffer, wp.buffer, (bias?.s ?? wp).buffer], pack(p), [gx, groups * mBlocks, gz]);
  } finally {
    wp.release();
  }
  return out;
}

/**
 * Lanes that can share loads on this device: the smallest subgroup size (capped by the workgroup),
 * or 0 without the 'subgroups' feature (the same rule as matmul's).
 */
function subgroupLanes(rt: GpuRuntime, wg: number): number {
  if (!rt.limits.subgroups) return 0;
  const lanes = Math.min(rt.limits.subgroupMinSize, wg, 64);
  return lanes >= 4 && (lanes & (lanes - 1)) === 0 && wg % lanes === 0 ? lanes : 0;
}

/** Whether the register kernels can unroll this kernel width / row segment. */
function registerFits(kw: number, sw: number, dw: number, cols: number): boolean {
  return kw <= MAX_KW && (cols - 1) * sw + (kw - 1) * dw + 1 <= MAX_SEGMENT;
}

/**
 * Forward conv2d: x [N, Cin, H, W], w [Cout, Cin/g, kH, kW], optional bias [Cout] → fresh contiguous [N, Cout, Ho, Wo].
 * @example conv2d(rt, backend, xView, wView, null, geometry)
 */
export function conv2d(
  rt: GpuRuntime, backend: Backend, x: View, w: View, bias: View | null, g: Conv2dGeometry, config: ConvConfig = convConfig(rt), act: FusedActivation | null = null,
): GpuStorage {
  const op = 'conv2d';
  const cg = g.inChannels / g.groups;
  const xs = storageOf(op, x, 'input', [g.batch, g.inChannels, g.height, g.width]);
  const wst = storageOf(op, w, 'weight', [g.outChannels, cg, g.kernelH, g.kernelW]);
  const bs = bias ? storageOf(op, bias, 'bias', [g.outChannels]) : null;
  if (config !== override && config !== SOFTWARE_CONFIG && config !== GPU_CONFIG && config !== DIRECT_CONFIG) checkConfig(config);
  const f = config.forward;
  const [wsm, wsc, wsh, wsw] = strides(w);
  const ws = { off: w.offset, g: (g.outChannels / g.groups) * wsm!, m: wsm!, c: wsc!, h: wsh!, w: wsw! };
  const bv = bs ? { s: bs, off: bias!.offset, stride: strides(bias!)[0]! } : null;
  const geo = { n: g.batch, c: g.inChannels, h: g.height, w: g.width, m: g.outChannels, oh: g.outH, ow: g.outW, groups: g.groups,
    kh: g.kernelH, kw: g.kernelW, sh: g.strideH, sw: g.strideW, dh: g.dilationH, dw: g.dilationW, pt: g.padTop, pl: g.padLeft };
  if (f.variant === 'register' && convFlops(g) >= config.minFlops && registerFits(g.kernelW, g.strideW, g.dilationW, f.cols || 16)) {
    return registerForward(rt, backend, f, { xs, xv: x, w: wst, ws, bias: bv, geo, act });
  }
  if (f.variant === 'tiled' && convFlops(g) >= config.minFlops) return tiledForward(rt, backend, { xs, xv: x, w: wst, ws, bias: bv, geo, act });
  const total = g.batch * g.outChannels * g.outH * g.outW;
  const out = fresh(rt, backend, total);
  if (total === 0) return out;
  const [xsn, xsc, xsh, xsw] = strides(x);
  dispatch1d(rt, `conv2d_direct_fwd${act ? `_${act}` : ''}`, cachedSource(`direct|fwd|${act}`, () => directForward(act)), [out.buffer, xs.buffer, wst.buffer, (bs ?? wst).buffer], {
    ...commonParams(g), xOff: x.offset, xsn, xsc, xsh, xsw, wOff: w.offset, wsm, wsc, wsh, wsw,
    bOff: bias?.offset ?? 0, bs: bias ? strides(bias)[0] : 0, hasBias: bias ? 1 : 0,
  }, total);
  return out;
}

function commonParams(g: Conv2dGeometry): Params {
  return {
    n: g.batch, c: g.inChannels, h: g.height, w: g.width, m: g.outChannels, oh: g.outH, ow: g.outW, groups: g.groups,
    cg: g.inChannels / g.groups, mg: g.outChannels / g.groups, kh: g.kernelH, kw: g.kernelW,
    sh: g.strideH, sw: g.strideW, dh: g.dilationH, dw: g.dilationW, pt: g.padTop, pl: g.padLeft,
  };
}

/**
 * Gradient of conv2d wrt its input: gy [N, Cout, Ho, Wo], w [Cout, Cin/g, kH, kW] → fresh contiguous [N, Cin, H, W].
 * At stride 1 with the register config this is the forward kernel on gy with the weight flipped and transposed.
 */
export function conv2dBackwardInput(rt: GpuRuntime, backend: Backend, gy: View, w: View, g: Conv2dGeometry, config: ConvConfig = convConfig(rt)): GpuStorage {
  const op = 'conv2dBackwardInput';
  const cg = g.inChannels / g.groups;
  const mg = g.outChannels / g.groups;
  const gs = storageOf(op, gy, 'output gradient', [g.batch, g.outChannels, g.outH, g.outW]);
  const wst = storageOf(op, w, 'weight', [g.outChannels, cg, g.kernelH, g.kernelW]);
  if (config !== override && config !== SOFTWARE_CONFIG && config !== GPU_CONFIG && config !== DIRECT_CONFIG) checkConfig(config);
  const f = config.inputGrad;
  const [wsm, wsc, wsh, wsw] = strides(w);
  const stride1 = g.strideH === 1 && g.strideW === 1;
  // gx[n, c, y, x] = Σ_{o, ky, kx} gy[n, o, y − (d(k−1) − p) + ky·d, …] · w[o, c, k−1−ky, k−1−kx]:
  // a forward conv of gy (channels o of the group reduced, c produced) with the rotated weight.
  const rotated = { off: w.offset + (g.kernelH - 1) * wsh! + (g.kernelW - 1) * wsw!, g: mg * wsm!, m: wsc!, c: wsm!, h: -wsh!, w: -wsw! };
  const geo = { n: g.batch, c: g.outChannels, h: g.outH, w: g.outW, m: g.inChannels, oh: g.height, ow: g.width, groups: g.groups,
    kh: g.kernelH, kw: g.kernelW, sh: 1, sw: 1, dh: g.dilationH, dw: g.dilationW,
    pt: g.dilationH * (g.kernelH - 1) - g.padTop, pl: g.dilationW * (g.kernelW - 1) - g.padLeft };
  if (f.variant === 'register' && stride1 && convFlops(g) >= config.minFlops && registerFits(g.kernelW, 1, g.dilationW, f.cols || 16)) {
    return registerForward(rt, backend, f, { xs: gs, xv: gy, w: wst, ws: rotated, bias: null, geo, act: null });
  }
  if (f.variant === 'tiled' && stride1 && convFlops(g) >= config.minFlops) return tiledForward(rt, backend, { xs: gs, xv: gy, w: wst, ws: rotated, bias: null, geo, act: null });
  const total = g.batch * g.inChannels * g.height * g.width;
  const out = fresh(rt, backend, total);
  if (total === 0) return out;
  const [gsn, gsc, gsh, gsw] = strides(gy);
  dispatch1d(rt, 'conv2d_direct_input_grad', DIRECT_INPUT_GRAD, [out.buffer, gs.buffer, wst.buffer], {
    ...commonParams(g), gOff: gy.offset, gsn, gsc, gsh, gsw, wOff: w.offset, wsm, wsc, wsh, wsw,
  }, total);
  return out;
}

/**
 * Gradient of conv2d wrt its weight: x [N, Cin, H, W], gy [N, Cout, Ho, Wo] → fresh contiguous [Cout, Cin/g, kH, kW].
 * The register path splits the (n, oh) rows into chunks summed by a second kernel.
 */
export function conv2dBackwardWeight(rt: GpuRuntime, backend: Backend, x: View, gy: View, g: Conv2dGeometry, config: ConvConfig = convConfig(rt)): GpuStorage {
  const op = 'conv2dBackwardWeight';
  const cg = g.inChannels / g.groups;
  const mg = g.outChannels / g.groups;
  const xs = storageOf(op, x, 'input', [g.batch, g.inChannels, g.height, g.width]);
  const gs = storageOf(op, gy, 'output gradient', [g.batch, g.outChannels, g.outH, g.outW]);
  if (config !== override && config !== SOFTWARE_CONFIG && config !== GPU_CONFIG && config !== DIRECT_CONFIG) checkConfig(config);
  const outSize = g.outChannels * cg * g.kernelH * g.kernelW;
  const out = fresh(rt, backend, outSize);
  if (outSize === 0) return out;
  const rows = g.batch * g.outH;
  const [xsn, xsc, xsh, xsw] = strides(x);
  const [gsn, gsc, gsh, gsw] = strides(gy);
  const base: Params = { ...commonParams(g), xOff: x.offset, xsn, xsc, xsh, xsw, gOff: gy.offset, gsn, gsc, gsh, gsw, outSize };
  const f = config.weightGrad;
  // Columns per step: as pickCols says, within the compile-time budget of tm·tk·kW·cols unrolled FMAs.
  const perColumn = Math.min(f.variant === 'register' ? f.rows : 1, mg) * Math.min(f.variant === 'register' ? f.khRows : 1, g.kernelH) * g.kernelW;
  const colChoices = [4, 8, 12, 16].filter((c) => c === 4 || c * perColumn <= 4 * FMA_BUDGET);
  const tn = f.variant === 'register'
    ? f.cols || pickCols(g.outW, 0, g.strideH === g.dilationH && f.khRows > 1 ? 1 : Math.min(f.khRows, g.kernelH),
      g.strideW, (g.kernelW - 1) * g.dilationW + 1, Math.min(f.rows, mg) / 4, colChoices)
    : 0;
  if (f.variant !== 'register' || convFlops(g) < config.minFlops || !registerFits(g.kernelW, g.strideW, g.dilationW, tn) || rows === 0) {
    // (With no output rows the direct kernel's loops run zero times and write the zero gradient.)
    dispatch1d(rt, 'conv2d_direct_weight_grad', DIRECT_WEIGHT_GRAD, [out.buffer, xs.buffer, gs.buffer], base, outSize);
    return out;
  }
  const tm = Math.min(f.rows, mg);
  const tk = Math.min(f.khRows, g.kernelH);
  const mBlocks = Math.ceil(mg / tm);
  const khBlocks = Math.ceil(g.kernelH / tk);
  const blocks = g.groups * mBlocks * cg * khBlocks;
  const max = Math.min(rt.limits.maxComputeWorkgroupsPerDimension, MAX_GROUPS);
  // Split the rows (whole images with the sliding window) so that about targetInvocations run.
  const win = g.strideH === g.dilationH && tk > 1;
  const units = win ? g.batch : rows;
  const wantSplits = Math.max(1, Math.round(f.targetInvocations / blocks));
  const rowsPer = Math.max(1, Math.ceil(units / wantSplits));
  const splits = Math.ceil(units / rowsPer);
  const x4 = xsw === 1 && aligned4(x.offset, xsn!, xsc!, xsh!, g.padLeft) && (tn * g.strideW) % 4 === 0;
  const g4 = gsw === 1 && aligned4(gy.offset, gsn!, gsc!, gsh!, g.outW) && tn % 4 === 0;
  const spec: WeightGradSpec = { tm, tk, tn, wg: f.workgroup, kw: g.kernelW, sw: g.strideW, dw: g.dilationW, x4, g4, win };
  const key = `wgrad|${tm}|${tk}|${tn}|${spec.wg}|${spec.kw}|${spec.sw}|${spec.dw}|${x4}|${g4}|${win}`;
  const src = cachedSource(key, () => weightGradSource(spec));
  const total = blocks * splits;
  const [gx, gz] = fold(total, spec.wg, max);
  const p = pack({ ...base, mBlocks, khBlocks, splits, rowsPer, rows, total, nres: tm * tk * g.kernelW });
  const k = kernel(rt, `conv2d_register_wgrad_${x4 ? 'x4' : 'xs'}_${g4 ? 'g4' : 'gs'}`, src);
  if (splits === 1) {
    rt.dispatch(k, [out.buffer, xs.buffer, gs.buffer], p, [gx, 1, gz]);
    return out;
  }
  const part = fresh(rt, backend, splits * outSize);
  try {
    rt.dispatch(k, [part.buffer, xs.buffer, gs.buffer], p, [gx, 1, gz]);
    dispatch1d(rt, 'conv2d_sum_splits', SUM_SPLITS, [out.buffer, part.buffer], { outSize, splits }, outSize);
  } finally {
    part.release();
  }
  return out;
}
/** Probe hook: the WGSL generator of the register forward kernel (forwardSource), for inspecting shaders; not public API. */
