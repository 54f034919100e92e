// Batched float32 matmul kernels: a [B, M, K] @ b [B, K, N] for strided views (transposes and
// 0-stride broadcast batches read in place) into a fresh contiguous [B, M, N]. Sizes, strides and
// offsets travel in uniforms: one pipeline per variant and load mode serves every size. Knows
// nothing of autograd or of broadcasting rules (the tensor layer resolves those).
//
// Two variants, picked by a MatmulConfig (a later autotuner enumerates them):
//  - 'tiled': the classic GPU kernel. A 16×16 workgroup stages a 64×tileK slab of A and a
//    tileK×64 slab of B in workgroup memory; each thread keeps a 4×4 block of the 64×64 output
//    tile in registers. What real GPUs need.
//  - 'register': no workgroup memory, no barriers. A workgroup owns `rows` output rows; each
//    invocation owns `cols` columns of them and keeps rows×cols accumulators. Operands are read
//    as vec4 along whichever dim is unit-strided (scalar loads otherwise) and, when the device
//    has subgroups, lane i of each subgroup loads row i of A and subgroupBroadcast hands it to
//    the others. Built for llvmpipe (lavapipe): there every storage load is emulated lane by lane
//    with a bounds check and a branch (Mesa's lp_bld_nir_soa.c emit_load_mem takes its scalar
//    path only for constant or push-constant offsets), while a broadcast is one extract, so
//    sharing A and blocking 16 rows per invocation cut the loads per FMA about 4×. On llvmpipe it
//    runs ~8× faster than 'tiled', whose barriers also split the shader into coroutines.
//    Numbers: bench/matmul.ts.

import type { Backend, View } from '../backend/types.ts';
import type { FusedActivation } from '../backend/fused-activation.ts';
import { DTypeError, DisposedError, ShapeError, ValueError, fmtShape } from '../errors.ts';
import type { GpuRuntime } from '../device/runtime.ts';
import type { Candidate } from '../device/autotune.ts';
import { GpuStorage } from './storage.ts';
import { exceedsBinding } from './split.ts';
import { splitMatmul } from './matmul-split.ts';
import { activationWgsl } from './wgsl.ts';
import { kernel } from './ieee.ts';

/** How A and B are read; chosen per call from the views' strides and offsets. */
type AMode = 'k4' | 'm4' | 's'; // vec4 along K, vec4 along M, scalar at any strides
type BMode = 'n4' | 'k4' | 's'; // vec4 along N, vec4 along K, scalar at any strides

/** The 'tiled' GPU kernel: 16×16 workgroups, a 64×64 output tile each, K staged in workgroup memory. */
export interface TiledConfig {
  /** Selects this kernel family. */
  variant: 'tiled';
  /** K depth of the slabs staged in workgroup memory per barrier pair (multiple of 4). */
  tileK: 8 | 16 | 32;
}

/** The 'register' kernel (no workgroup memory, no barriers), built for llvmpipe: `rows` output rows per workgroup, `cols` columns per invocation. */
export interface RegisterConfig {
  /** Selects this kernel family. */
  variant: 'register';
  /** Output rows per workgroup, shared by all its invocations (multiple of 4). */
  rows: number;
  /** Output columns per invocation (multiple of 4). */
  cols: number;
  /** Invocations per workgroup (1-D). */
  workgroup: number;
  /** Share A rows through subgroupBroadcast when the device has the 'subgroups' feature. */
  subgroups: boolean;
}

/** Which kernel variant runs a matmul and its compile-time shape. */
export type MatmulConfig = TiledConfig | RegisterConfig;

/** The GPU kernel: a 64×64 output tile per 16×16 workgroup, K staged 16 deep. */
export const TILED_DEFAULT: TiledConfig = { variant: 'tiled', tileK: 16 };

/**
 * Best measured on llvmpipe (2-core Xeon, bench/matmul.ts): 16 rows × 4 columns per invocation,
 * 16 invocations per workgroup, A shared through subgroups (~21-24 GFLOP/s at 1024², 30+ on
 * [128,784]@[784,500]; 32×4 is within noise and compiles slower).
 */
export const REGISTER_DEFAULT: RegisterConfig = { variant: 'register', rows: 16, cols: 4, workgroup: 16, subgroups: true };

/** Best measured on llvmpipe when the device has no 'subgroups' (~11-14 GFLOP/s): every lane loads its own A. */
export const REGISTER_NO_SUBGROUPS: RegisterConfig = { variant: 'register', rows: 8, cols: 8, workgroup: 16, subgroups: false };

let override: MatmulConfig | null = null;

/**
 * Sets the config every matmul uses from now on (`null` restores the per-adapter default).
 * A hook for benchmarks and the autotuner.
 */
export function setMatmulConfig(config: MatmulConfig | null): void {
  if (config) checkConfig(config);
  override = config;
}

/** True for CPU rasterisers (llvmpipe/lavapipe, SwiftShader, WARP), where 'register' wins. */
export function isSoftwareAdapter(adapterInfo: string): boolean {
  return /llvmpipe|lavapipe|swiftshader|software|warp|microsoft basic/i.test(adapterInfo);
}

/**
 * The config a matmul on `rt` uses: the override if set, else 'register' on CPU adapters
 * (with or without subgroups, whichever the device has) and 'tiled' on GPUs.
 */
export function matmulConfig(rt: GpuRuntime): MatmulConfig {
  if (override) return override;
  if (!isSoftwareAdapter(rt.adapterInfo)) return TILED_DEFAULT;
  return subgroupLanes(rt, REGISTER_DEFAULT.workgroup) > 0 ? REGISTER_DEFAULT : REGISTER_NO_SUBGROUPS;
}

function checkConfig(c: MatmulConfig): void {
  const bad = (why: string): never => {
    throw new ValueError('matmul', `invalid config ${JSON.stringify(c)}: ${why}`);
  };
  if (c.variant === 'tiled') {
    if (![8, 16, 32].includes(c.tileK)) bad('tileK must be 8, 16 or 32');
    return;
  }
  if (!(c.rows >= 4 && c.rows <= 64 && c.rows % 4 === 0)) bad('rows must be a multiple of 4 in 4..64');
  if (!(c.cols >= 4 && c.cols <= 32 && c.cols % 4 === 0)) bad('cols must be a multiple of 4 in 4..32');
  if (!(Number.isInteger(c.workgroup) && c.workgroup >= 1 && c.workgroup <= 256)) bad('workgroup must be an integer in 1..256');
}

// ---------------------------------------------------------------------------------------
// Uniforms (20 × u32). Strides and offsets are stored mod 2^32: u32 arithmetic wraps, so a
// negative stride still lands on the right element.

const PARAMS_WGSL = `struct Params {
  m: u32, n: u32, k: u32, tiles: u32,
  rowTiles: u32, colTiles: u32, aOff: u32, sab: u32,
  sam: u32, sak: u32, bOff: u32, sbb: u32,
  sbk: u32, sbn: u32, osm: u32, osn: u32,
  osb: u32, biasOff: u32, biasStride: u32, _pad2: u32,
};`;

interface Problem {
  batch: number;
  m: number;
  n: number;
  k: number;
  aOff: number;
  sab: number;
  sam: number;
  sak: number;
  bOff: number;
  sbb: number;
  sbk: number;
  sbn: number;
  /** Output strides (row, column, batch). */
  osm: number;
  osn: number;
  osb: number;
  /** Offset and stride of the bias fused into the epilogue (0 without one). */
  biasOff?: number;
  biasStride?: number;
}

/** Output tiles: `rowTiles` × `colTiles` per batch, numbered with rows fastest. */
interface Tiling {
  rowTiles: number;
  colTiles: number;
}

function params(p: Problem, t: Tiling): Uint32Array {
  const tiles = t.rowTiles * t.colTiles * p.batch;
  return Uint32Array.from(
    [p.m, p.n, p.k, tiles, t.rowTiles, t.colTiles, p.aOff, p.sab, p.sam, p.sak, p.bOff, p.sbb, p.sbk, p.sbn, p.osm, p.osn, p.osb, p.biasOff ?? 0, p.biasStride ?? 0, 0],
    (v) => v >>> 0,
  );
}

/**
 * WGSL that numbers this workgroup's tile t over the folded grid and decodes it into batch bi,
 * row tile and column tile. Rows run fastest, so consecutive workgroups share one B panel.
 */
const TILE_WGSL = `  let t = wid.x + nwg.x * (wid.y + nwg.y * wid.z);
  if (t >= p.tiles) { return; }
  let rowTile = t % p.rowTiles;
  let rest = t / p.rowTiles;
  let colTile = rest % p.colTiles;
  let bi = rest / p.colTiles;`;

/** The grid for `tiles` workgroups, folded into x, y and z of at most `max` each. */
function grid(tiles: number, max: number): [number, number, number] {
  const x = Math.min(tiles, max);
  const y = Math.min(Math.ceil(tiles / x), max);
  const z = Math.ceil(tiles / (x * y));
  if (z > max) throw new ShapeError('matmul', `${tiles} output tiles exceed the ${max}³ workgroup grid`);
  return [x, y, z];
}

const aligned = (...xs: number[]): boolean => xs.every((x) => x >= 0 && x % 4 === 0);

/** vec4 loads need the vector dim unit-strided, and every other stride, the offset and that dim's size 4-aligned. */
function aMode(p: Problem): AMode {
  if (p.sak === 1 && aligned(p.k, p.sam, p.sab, p.aOff)) return 'k4';
  if (p.sam === 1 && aligned(p.m, p.sak, p.sab, p.aOff)) return 'm4';
  return 's';
}

function bMode(p: Problem): BMode {
  if (p.sbn === 1 && aligned(p.n, p.sbk, p.sbb, p.bOff)) return 'n4';
  if (p.sbk === 1 && aligned(p.k, p.sbn, p.sbb, p.bOff)) return 'k4';
  return 's';
}

/** The same product with the operands swapped: out[b]ᵀ = b[b]ᵀ · a[b]ᵀ, written through transposed output strides. */
function transposed(p: Problem): Problem {
  return {
    batch: p.batch, m: p.n, n: p.m, k: p.k,
    aOff: p.bOff, sab: p.sbb, sam: p.sbn, sak: p.sbk,
    bOff: p.aOff, sbb: p.sab, sbk: p.sak, sbn: p.sam,
    osm: p.osn, osn: p.osm, osb: p.osb, biasOff: p.biasOff, biasStride: p.biasStride,
  };
}

/** Fraction of the register kernel's output tiles that lands inside an m×n output. */
function useful(c: RegisterConfig, m: number, n: number): number {
  const w = c.cols * c.workgroup;
  return (m / (Math.ceil(m / c.rows) * c.rows)) * (n / (Math.ceil(n / w) * w));
}

const XYZW = 'xyzw';

// ---------------------------------------------------------------------------------------
// 'register' variant.

interface RegisterSpec {
  rows: number;
  cols: number;
  wg: number;
  /** Lanes that share A through subgroupBroadcast; 0 reads A in every lane. */
  lanes: number;
  am: AMode;
  bm: BMode;
  /** Bias fused into the epilogue: none, one per output column (n) or per row (m, the transposed product). */
  bias: 'none' | 'n' | 'm';
  /** Activation applied as each output is stored (after the bias), or null. */
  act: FusedActivation | null;
}

/**
 * WGSL of the register kernel. Invocation `l` of the workgroup with tile t computes the
 * rows×cols block of out[bi] at rows row0 = rowTile·rows.. and columns col0 = (colTile·wg + l)·cols..
 * (TILE_WGSL decodes t).
 * Loads clamp rows/columns to the matrix, so out-of-range lanes compute garbage they never store.
 */
function registerSource(s: RegisterSpec): string {
  const { rows: TM, cols: TN, wg, lanes: L, am, bm, bias, act } = s;
  const vecK = am === 'k4' || bm === 'k4'; // K % 4 == 0 is then guaranteed: no K tail
  const out: string[] = [];
  const line = (x: string): void => void out.push(x);

  /** A values needed for one K block of depth kb, as "units" (vec4 or scalar loads). */
  const aUnits = (kb: number): number => (am === 'k4' ? TM : am === 'm4' ? (TM / 4) * kb : TM * kb);
  /** Expression of A[row0 + r, k + kk] given the loaded units `au{u}`. */
  const aVal = (r: number, kk: number, kb: number): string => {
    if (am === 'k4') return `au${r}.${XYZW[kk]}`;
    if (am === 'm4') return `au${kk * (TM / 4) + (r >> 2)}.${XYZW[r & 3]}`;
    return `au${r * kb + kk}`;
  };
  /** Element offset (vec4 units for vec4 modes) of A unit `u` at k = 0, as WGSL over runtime `u`. */
  const aUnitBase = (u: string, kb: number): string => {
    if (am === 'k4') return `(aBase + min(row0 + ${u}, p.m - 1u) * p.sam) / 4u`;
    if (am === 'm4') return `(aBase + (${u} / ${TM / 4}u) * p.sak) / 4u + min(row0 / 4u + ${u} % ${TM / 4}u, p.m / 4u - 1u)`;
    return `aBase + min(row0 + ${u} / ${kb}u, p.m - 1u) * p.sam + (${u} % ${kb}u) * p.sak`;
  };
  /** How far a unit's offset moves per unit of k. */
  const aKStep = am === 'k4' ? 'k / 4u' : am === 'm4' ? 'k * (p.sak / 4u)' : 'k * p.sak';

  const bVec = (kk: number, v: number): string => {
    if (bm === 'n4') return `bu${kk}_${v}`;
    const c = (j: number): string => (bm === 'k4' ? `bu${4 * v + j}.${XYZW[kk]}` : `bu${kk}_${4 * v + j}`);
    return `vec4<f32>(${c(0)}, ${c(1)}, ${c(2)}, ${c(3)})`;
  };

  /** One K block of depth kb starting at k: load A (shared or per lane), load B, accumulate. */
  const block = (kb: number, pad: string): void => {
    const units = aUnits(kb);
    if (L > 0) {
      for (let g = 0; g < Math.ceil(units / L); g++) line(`${pad}let ag${g} = a[aLane${kb}_${g} + ${aKStep}];`);
      for (let u = 0; u < units; u++) line(`${pad}let au${u} = subgroupBroadcast(ag${Math.floor(u / L)}, ${u % L}u);`);
    } else {
      for (let u = 0; u < units; u++) line(`${pad}let au${u} = a[ao${kb}_${u} + ${aKStep}];`);
    }
    if (bm === 'n4') {
      for (let kk = 0; kk < kb; kk++) for (let v = 0; v < TN / 4; v++) line(`${pad}let bu${kk}_${v} = b[bRow + (k + ${kk}u) * (p.sbk / 4u) + bc${v}];`);
    } else if (bm === 'k4') {
      for (let c = 0; c < TN; c++) line(`${pad}let bu${c} = b[bc${c} + k / 4u];`);
    } else {
      for (let kk = 0; kk < kb; kk++) for (let c = 0; c < TN; c++) line(`${pad}let bu${kk}_${c} = b[bc${c} + (k + ${kk}u) * p.sbk];`);
    }
    for (let kk = 0; kk < kb; kk++) {
      for (let r = 0; r < TM; r++) {
        for (let v = 0; v < TN / 4; v++) line(`${pad}acc${r}_${v} = fma(vec4<f32>(${aVal(r, kk, kb)}), ${bVec(kk, v)}, acc${r}_${v});`);
      }
    }
  };

  const aType = am === 's' ? 'f32' : 'vec4<f32>';
  const bType = bm === 's' ? 'f32' : 'vec4<f32>';
  line(`// matmul 'register' (${TM} rows × ${TN} cols per invocation, ${wg} invocations, A ${am}${L ? ` shared over ${L} lanes` : ''}, B ${bm}).`);
  line(`// Invocation l of the workgroup with tile t computes out[bi, row0 .. row0+${TM - 1}, col0 .. col0+${TN - 1}]`);
  line(`// where t = (bi * colTiles + colTile) * rowTiles + rowTile, row0 = rowTile * ${TM}, col0 = (colTile * ${wg} + l) * ${TN}.`);
  if (L > 0) line('enable subgroups;');
  line(PARAMS_WGSL);
  line(`@group(0) @binding(0) var<storage, read_write> out: array<f32>;`);
  line(`@group(0) @binding(1) var<storage, read> a: array<${aType}>;`);
  line(`@group(0) @binding(2) var<storage, read> b: array<${bType}>;`);
  if (bias !== 'none') line(`@group(0) @binding(3) var<storage, read> bias: array<f32>;`);
  line(`@group(0) @binding(${bias !== 'none' ? 4 : 3}) var<uniform> p: Params;`);
  line(`@compute @workgroup_size(${wg})`);
  line(
    `fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32${
      L > 0 ? ', @builtin(subgroup_invocation_id) sgi: u32' : ''
    }) {`,
  );
  line(TILE_WGSL);
  line(`  let row0 = rowTile * ${TM}u;`);
  line(`  let col0 = (colTile * ${wg}u + lid) * ${TN}u;`);
  line(`  let aBase = p.aOff + bi * p.sab;`);
  line(`  let bBase = p.bOff + bi * p.sbb;`);
  // Per-lane load offsets at k = 0, for the main (kb = 4) and tail (kb = 1) blocks.
  const kbs = vecK ? [4] : [4, 1];
  if (L > 0) {
    line(`  let lane = sgi % ${L}u;`);
    for (const kb of kbs) {
      const units = aUnits(kb);
      for (let g = 0; g < Math.ceil(units / L); g++) line(`  let aLane${kb}_${g} = ${aUnitBase(`min(lane + ${g * L}u, ${units - 1}u)`, kb)};`);
    }
  } else {
    for (const kb of kbs) for (let u = 0; u < aUnits(kb); u++) line(`  let ao${kb}_${u} = ${aUnitBase(`${u}u`, kb)};`);
  }
  if (bm === 'n4') {
    line(`  let bRow = bBase / 4u;`);
    for (let v = 0; v < TN / 4; v++) line(`  let bc${v} = min(col0 / 4u + ${v}u, p.n / 4u - 1u);`);
  } else if (bm === 'k4') {
    for (let c = 0; c < TN; c++) line(`  let bc${c} = (bBase + min(col0 + ${c}u, p.n - 1u) * p.sbn) / 4u;`);
  } else {
    for (let c = 0; c < TN; c++) line(`  let bc${c} = bBase + min(col0 + ${c}u, p.n - 1u) * p.sbn;`);
  }
  for (let r = 0; r < TM; r++) for (let v = 0; v < TN / 4; v++) line(`  var acc${r}_${v} = vec4<f32>(0.0);`);
  line(`  let k4 = p.k & ~3u;`);
  line(`  for (var k = 0u; k < k4; k += 4u) {`);
  block(4, '    ');
  line(`  }`);
  if (!vecK) {
    line(`  for (var k = k4; k < p.k; k++) {`);
    block(1, '    ');
    line(`  }`);
  }
  // Element by element at the output's strides (llvmpipe splits a vec4 store into four anyway),
  // plus the fused bias: one value per column, or per row for the transposed product.
  line(`  let oBase = bi * p.osb;`);
  if (bias === 'n') for (let c = 0; c < TN; c++) line(`  let bv${c} = bias[p.biasOff + min(col0 + ${c}u, p.n - 1u) * p.biasStride];`);
  for (let r = 0; r < TM; r++) {
    line(`  if (row0 + ${r}u < p.m) {`);
    line(`    let o = oBase + (row0 + ${r}u) * p.osm;`);
    if (bias === 'm') line(`    let br = bias[p.biasOff + (row0 + ${r}u) * p.biasStride];`);
    for (let v = 0; v < TN / 4; v++) {
      for (let j = 0; j < 4; j++) {
        const c = `col0 + ${4 * v + j}u`;
        const add = bias === 'n' ? ` + bv${4 * v + j}` : bias === 'm' ? ' + br' : '';
        line(`    if (${c} < p.n) { out[o + (${c}) * p.osn] = ${activationWgsl(act, `acc${r}_${v}.${XYZW[j]}${add}`)}; }`);
      }
    }
    line(`  }`);
  }
  line(`}`);
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------
// 'tiled' variant.

/**
 * WGSL of the tiled kernel. Workgroup (w.x, t) computes the 64×64 tile of out[bi] at
 * rows row0.., columns col0 = w.x·64..; thread (tx, ty) owns rows row0 + ty + 16i and columns
 * col0 + tx + 16j (i, j < 4), so reads of Bs and the output stores are consecutive across tx.
 * Each K step, the 256 threads stage As[kk][m] = A[row0 + m, k0 + kk] and Bs[kk][n] =
 * B[k0 + kk, col0 + n] (zero outside the matrix), walking whichever dim is unit-strided so
 * neighbouring threads read neighbouring addresses.
 */
function tiledSource(tileK: number, aKFast: boolean, bNFast: boolean, bias = false, act: FusedActivation | null = null): string {
  const KT = tileK;
  const out: string[] = [];
  const line = (x: string): void => void out.push(x);
  line(`// matmul 'tiled' (64×64 tile per 16×16 workgroup, 4×4 per thread, K staged ${KT} deep).`);
  line(`// Thread (tx, ty) of the workgroup with tile t computes out[bi, row0 + ty + 16i, col0 + tx + 16j] for i, j < 4,`);
  line(`// where t = (bi * colTiles + colTile) * rowTiles + rowTile, row0 = rowTile * 64, col0 = colTile * 64.`);
  line(PARAMS_WGSL);
  line(`@group(0) @binding(0) var<storage, read_write> out: array<f32>;`);
  line(`@group(0) @binding(1) var<storage, read> a: array<f32>;`);
  line(`@group(0) @binding(2) var<storage, read> b: array<f32>;`);
  if (bias) line(`@group(0) @binding(3) var<storage, read> bias: array<f32>;`);
  line(`@group(0) @binding(${bias ? 4 : 3}) var<uniform> p: Params;`);
  line(`var<workgroup> As: array<f32, ${KT * 64}>;`);
  line(`var<workgroup> Bs: array<f32, ${KT * 64}>;`);
  line(`@compute @workgroup_size(16, 16)`);
  line(`fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {`);
  line(TILE_WGSL);
  line(`  let row0 = rowTile * 64u;`);
  line(`  let col0 = colTile * 64u;`);
  line(`  let aBase = p.aOff + bi * p.sab;`);
  line(`  let bBase = p.bOff + bi * p.sbb;`);
  line(`  let tx = lid.x;`);
  line(`  let ty = lid.y;`);
  line(`  let tid = ty * 16u + tx;`);
  for (let i = 0; i < 4; i++) line(`  var acc${i} = vec4<f32>(0.0);`);
  line(`  for (var k0 = 0u; k0 < p.k; k0 += ${KT}u) {`);
  for (let i = 0; i < KT / 4; i++) {
    const e = `tid + ${256 * i}u`;
    // A slab: 64 rows × KT; the fast index walks K when A is K-contiguous, else M.
    const [m, kk] = aKFast ? [`(${e}) / ${KT}u`, `(${e}) % ${KT}u`] : [`(${e}) % 64u`, `(${e}) / 64u`];
    line(`    { let m = ${m}; let kk = ${kk}; let r = row0 + m; let kg = k0 + kk;`);
    line(`      As[kk * 64u + m] = select(0.0, a[aBase + min(r, p.m - 1u) * p.sam + min(kg, p.k - 1u) * p.sak], r < p.m && kg < p.k); }`);
    const [kb, n] = bNFast ? [`(${e}) / 64u`, `(${e}) % 64u`] : [`(${e}) % ${KT}u`, `(${e}) / ${KT}u`];
    line(`    { let kk = ${kb}; let n = ${n}; let c = col0 + n; let kg = k0 + kk;`);
    line(`      Bs[kk * 64u + n] = select(0.0, b[bBase + min(kg, p.k - 1u) * p.sbk + min(c, p.n - 1u) * p.sbn], c < p.n && kg < p.k); }`);
  }
  line(`    workgroupBarrier();`);
  line(`    for (var kk = 0u; kk < ${KT}u; kk++) {`);
  line(`      let bv = vec4<f32>(Bs[kk * 64u + tx], Bs[kk * 64u + tx + 16u], Bs[kk * 64u + tx + 32u], Bs[kk * 64u + tx + 48u]);`);
  for (let i = 0; i < 4; i++) line(`      acc${i} = fma(vec4<f32>(As[kk * 64u + ty + ${16 * i}u]), bv, acc${i});`);
  line(`    }`);
  line(`    workgroupBarrier();`);
  line(`  }`);
  line(`  let oBase = bi * p.osb;`);
  if (bias) for (let j = 0; j < 4; j++) line(`  let bv${j} = bias[p.biasOff + min(col0 + tx + ${16 * j}u, p.n - 1u) * p.biasStride];`);
  for (let i = 0; i < 4; i++) {
    line(`  { let r = row0 + ty + ${16 * i}u;`);
    line(`    if (r < p.m) {`);
    for (let j = 0; j < 4; j++) {
      line(`      { let c = col0 + tx + ${16 * j}u; if (c < p.n) { out[oBase + r * p.osm + c * p.osn] = ${activationWgsl(act, `acc${i}.${XYZW[j]}${bias ? ` + bv${j}` : ''}`)}; } }`);
    }
    line(`    } }`);
  }
  line(`}`);
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------
// Launcher.

const sourceCache = new Map<string, string>();

function cachedSource(key: string, make: () => string): string {
  let src = sourceCache.get(key);
  if (src === undefined) sourceCache.set(key, (src = make()));
  return src;
}

/** Lanes that can share A on this device: the smallest subgroup size (capped by the workgroup), or 0. */
function subgroupLanes(rt: GpuRuntime, wg: number): number {
  if (!rt.limits.subgroups) return 0;
  const min = rt.limits.subgroupMinSize;
  // Lanes [0, L) hold the loaded rows; every subgroup must have at least L active lanes.
  const lanes = Math.min(min, wg, 64);
  return lanes >= 4 && (lanes & (lanes - 1)) === 0 && wg % lanes === 0 ? lanes : 0;
}

function viewStorage(op: string, v: View, which: string): GpuStorage {
  const s = v.storage;
  if (!(s instanceof GpuStorage)) throw new DTypeError(op, `${which} lives on the '${s.backend.name}' backend, not 'webgpu'`);
  if (s.dtype !== 'float32') throw new DTypeError(op, `${which} has dtype ${s.dtype}; matmul takes float32 (cast with .float() first)`);
  if (s.disposed) throw new DisposedError(`${op} (${which})`, v.shape);
  return s;
}

// ---------------------------------------------------------------------------------------
// Autotuning (src/device/autotune.ts): the variants worth timing on this adapter, per shape class.

const cfgKey = (c: MatmulConfig): string =>
  c.variant === 'tiled' ? `tiled-k${c.tileK}` : `register-${c.rows}x${c.cols}-wg${c.workgroup}${c.subgroups ? '-sg' : ''}`;
const cand = (c: MatmulConfig): Candidate<MatmulConfig> => ({ key: cfgKey(c), value: c });

/**
 * Candidates on `rt` for an m×k @ k×n product: on CPU adapters the register kernels in a few
 * block shapes (with and without subgroups) plus, while cheap enough to time, the workgroup-memory
 * kernel; on GPUs the tiled kernel at three slab depths plus small register blocks.
 */
export function matmulCandidates(rt: GpuRuntime, m: number, n: number, k: number): MatmulConfig[] {
  const sg = subgroupLanes(rt, 16) > 0;
  if (isSoftwareAdapter(rt.adapterInfo)) {
    const list: MatmulConfig[] = [sg ? REGISTER_DEFAULT : REGISTER_NO_SUBGROUPS];
    if (sg) list.push(REGISTER_NO_SUBGROUPS, { variant: 'register', rows: 8, cols: 4, workgroup: 16, subgroups: true });
    else list.push({ variant: 'register', rows: 8, cols: 4, workgroup: 16, subgroups: false });
    if (m * n * k <= 1 << 24) list.push(TILED_DEFAULT);
    return list;
  }
  return [TILED_DEFAULT, { variant: 'tiled', tileK: 8 }, { variant: 'tiled', tileK: 32 }, { variant: 'register', rows: 4, cols: 4, workgroup: 64, subgroups: false }];
}

/** Size bucket of a dim: ⌈log2⌉, so 100 and 128 share one and 784 and 1000 another. */
const bucket = (x: number): number => Math.ceil(Math.log2(Math.max(1, x)));

/**
 * The config for this product: the fixed default when autotuning is off, else the tuner's
 * choice for its shape class (load modes, batch or not, and the size buckets of M, N, K).
 */
function tunedConfig(rt: GpuRuntime, a: View, b: View, sa: GpuStorage, sb: GpuStorage, bias: BiasArg, act: FusedActivation | null): MatmulConfig {
  const fallback = matmulConfig(rt);
  if (rt.tuner.mode === 'off') return fallback;
  const p = problemOf(a, b);
  const modes = p.k === 0 ? 'ss' : `${aMode(p)}${bMode(p)}`;
  const shapeClass = `${modes}|${p.batch > 1 ? 'b' : '1'}|m${bucket(p.m)}|n${bucket(p.n)}|k${bucket(p.k)}`;
  const candidates = matmulCandidates(rt, p.m, p.n, p.k).map(cand);
  return rt.tuner.choose('matmul', shapeClass, candidates, cand(fallback), (cfg) => {
    const scratch = new GpuStorage(sa.backend, rt, rt.pool.acquire(Math.max(p.batch * p.m * p.n, 1) * 4), 'float32', p.batch * p.m * p.n);
    try {
      launch(rt, cfg, a, b, sa, sb, scratch, bias, act);
    } finally {
      scratch.release();
    }
  }, p.batch * p.m * p.n * p.k < 1 << 27 ? 7 : 3);
}

/**
 * Batched matmul: a [B, M, K] @ b [B, K, N] → a new contiguous float32 [B, M, N].
 * Both operands are float32 views of rank 3 with any strides (0 on a broadcast batch dim)
 * and offsets; they are read in place. `config` defaults to an override set with
 * {@link setMatmulConfig}, else the autotuned choice, else {@link matmulConfig}.
 *
 * @example
 * const out = matmul(rt, backend, { storage: x, shape: [1, 2, 3], strides: [6, 3, 1], offset: 0 },
 *                                 { storage: w, shape: [1, 3, 4], strides: [0, 1, 3], offset: 0 }); // x @ wᵀ
 */
export function matmul(
  rt: GpuRuntime, backend: Backend, a: View, b: View, config?: MatmulConfig, bias: View | null = null, act: FusedActivation | null = null,
): GpuStorage {
  const op = 'matmul';
  if (a.shape.length !== 3 || b.shape.length !== 3) {
    throw new ShapeError(op, `expected rank-3 operands [B, M, K] and [B, K, N], got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`, [a.shape, b.shape]);
  }
  const [batch, m, k] = a.shape as [number, number, number];
  const [batchB, kB, n] = b.shape as [number, number, number];
  if (batch !== batchB || k !== kB) {
    throw new ShapeError(op, `shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} do not align (batch ${batch} vs ${batchB}, inner ${k} vs ${kB})`, [a.shape, b.shape]);
  }
  const sa = viewStorage(op, a, 'a');
  const sb = viewStorage(op, b, 'b');
  let biasArg: BiasArg = null;
  if (bias) {
    if (bias.shape.length !== 1 || bias.shape[0] !== n) throw new ShapeError(op, `bias of shape ${fmtShape(bias.shape)} does not match ${n} output columns`, [bias.shape]);
    biasArg = { view: bias, storage: viewStorage(op, bias, 'bias') };
  }
  if (exceedsBinding(rt, [a, b, bias], [batch * m * n])) return splitMatmul(rt, backend, a, b, config, bias, act);
  config ??= override ?? tunedConfig(rt, a, b, sa, sb, biasArg, act);
  if (config !== REGISTER_DEFAULT && config !== REGISTER_NO_SUBGROUPS && config !== TILED_DEFAULT) checkConfig(config);

  const numel = batch * m * n;
  const result = new GpuStorage(backend, rt, rt.pool.acquire(Math.max(numel, 1) * 4), 'float32', numel);
  if (numel === 0) return result;
  try {
    launch(rt, config, a, b, sa, sb, result, biasArg, act);
  } catch (e) {
    result.release();
    throw e;
  }
  return result;
}

/** A bias [N] fused into the epilogue: its view and storage. */
type BiasArg = { view: View; storage: GpuStorage } | null;

/** Picks the kernel and its load modes for these views and records the dispatch. */
/** The product's sizes and strides, size-1 dims' strides zeroed. */
function problemOf(a: View, b: View): Problem {
  const [batch, m, k] = a.shape as [number, number, number];
  const n = b.shape[2]!;
  const [sab, sam, sak] = a.strides as [number, number, number];
  const [sbb, sbk, sbn] = b.strides as [number, number, number];
  // A size-1 dim may carry any stride and is only ever read at index 0: zero it, which keeps vec4 paths open.
  const z = (size: number, stride: number): number => (size === 1 ? 0 : stride);
  const p: Problem = {
    batch, m, n, k,
    aOff: a.offset, sab: z(batch, sab), sam: z(m, sam), sak: z(k, sak),
    bOff: b.offset, sbb: z(batch, sbb), sbk: z(k, sbk), sbn: z(n, sbn),
    osm: n, osn: 1, osb: m * n,
  };
  return p;
}

function launch(
  rt: GpuRuntime, config: MatmulConfig, a: View, b: View, sa: GpuStorage, sb: GpuStorage, result: GpuStorage, bias: BiasArg = null, act: FusedActivation | null = null,
): void {
  const [batch, m, k] = a.shape as [number, number, number];
  const n = b.shape[2]!;
  const p = problemOf(a, b);
  if (bias) {
    p.biasOff = bias.view.offset;
    p.biasStride = n === 1 ? 0 : bias.view.strides[0]!;
  }
  const biasBuf = bias ? [bias.storage.buffer] : [];
  const maxDim = rt.limits.maxComputeWorkgroupsPerDimension;

  if (config.variant === 'tiled') {
    const tiling = { rowTiles: Math.ceil(m / 64), colTiles: Math.ceil(n / 64) };
    const aKFast = Math.abs(p.sak) <= Math.abs(p.sam);
    const bNFast = Math.abs(p.sbn) <= Math.abs(p.sbk);
    const key = `tiled|${config.tileK}|${aKFast}|${bNFast}|${!!bias}|${act}`;
    const src = cachedSource(key, () => tiledSource(config.tileK, aKFast, bNFast, !!bias, act));
    const g = grid(tiling.rowTiles * tiling.colTiles * batch, maxDim);
    rt.dispatch(kernel(rt, `matmul_tiled_k${config.tileK}${bias ? '_bias' : ''}${act ? `_${act}` : ''}`, src), [result.buffer, sa.buffer, sb.buffer, ...biasBuf], params(p, tiling), g);
    return;
  }

  // A narrow output wastes most of a workgroup's columns: compute outᵀ = bᵀ·aᵀ instead when
  // that fills the tiles better (e.g. [128, 784] @ [784, 10] runs as [10, 784] @ [784, 128]).
  const q = useful(config, n, m) > 1.25 * useful(config, m, n) ? transposed(p) : p;
  const inputs = q === p ? [sa.buffer, sb.buffer] : [sb.buffer, sa.buffer];
  const spec: RegisterSpec = {
    rows: config.rows,
    cols: config.cols,
    wg: config.workgroup,
    lanes: config.subgroups ? subgroupLanes(rt, config.workgroup) : 0,
    // With K = 0 nothing is loaded: take the generic modes, whose pipelines most likely exist.
    am: k === 0 ? 's' : aMode(q),
    bm: k === 0 ? 's' : bMode(q),
    bias: !bias ? 'none' : q === p ? 'n' : 'm',
    act,
  };
  const tiling = { rowTiles: Math.ceil(q.m / spec.rows), colTiles: Math.ceil(q.n / (spec.wg * spec.cols)) };
  const key = `register|${spec.rows}|${spec.cols}|${spec.wg}|${spec.lanes}|${spec.am}|${spec.bm}|${spec.bias}|${spec.act}`;
  const src = cachedSource(key, () => registerSource(spec));
  const g = grid(tiling.rowTiles * tiling.colTiles * batch, maxDim);
  rt.dispatch(kernel(rt, `matmul_register_${spec.am}_${spec.bm}${bias ? '_bias' : ''}${act ? `_${act}` : ''}`, src), [result.buffer, ...inputs, ...biasBuf], params(q, tiling), g);
}
