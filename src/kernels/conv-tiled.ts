// conv2d 'tiled' forward: implicit GEMM through workgroup memory, the form GPUs want (and the
// one TF.js's webgpu backend uses). For each image and group the output is the product
// W[m, k] · X̂[k, p] with k = (input channel, kernel row, kernel column) and p an output pixel,
// X̂ being the input patches (im2col) read on the fly, zero in the padding. A 16×16 workgroup
// owns 32 output channels × 64 pixels; per step of 16 k it stages both slabs in workgroup
// memory, then each thread accumulates 2 channels × 4 pixels from there. On llvmpipe barriers
// split the shader and the register kernels of conv.ts win (bench/conv2d.ts); the autotuner
// times both on every adapter. Also serves the input gradient at stride 1, like the register
// forward (a forward conv of gy with the rotated weight; see conv.ts).

import type { Backend } from '../backend/types.ts';
import type { FusedActivation } from '../backend/fused-activation.ts';
import type { GpuRuntime } from '../device/runtime.ts';
import type { GpuStorage } from './storage.ts';
import { MAX_GROUPS, PARAMS_WGSL, cachedSource, fold, fresh, pack, strides, type ForwardOperands } from './conv-common.ts';
import { activationWgsl } from './wgsl.ts';
import { kernel } from './ieee.ts';
import { ShapeError } from '../errors.ts';

/** Output channels and pixels of one workgroup's tile, and the k depth staged per step. */
const TILE_M = 32;
const TILE_P = 64;
const TILE_K = 16;

function tiledSource(act: FusedActivation | null): string {
  const store = (r: number): string => `
  { let m = m0 + lid.y * 2u + ${r}u;
    if (m < p.mg) {
      var bv = 0.0;
      if (p.hasBias != 0u) { bv = bias[p.bOff + (grp * p.mg + m) * p.bs]; }
      let ob = (n * p.m + grp * p.mg + m) * npix;
${[0, 1, 2, 3].map((j) => `      { let pix = p0 + lid.x + ${16 * j}u; if (pix < npix) { out[ob + pix] = ${activationWgsl(act, `acc${r}.${'xyzw'[j]} + bv`)}; } }`).join('\n')}
    } }`;
  return `// conv2d 'tiled' forward${act ? ` + ${act}` : ''}: workgroup (n·tiles + pixel tile, g·mBlocks + channel block) computes
// out[n, g·mg + m0 .. m0 + ${TILE_M - 1}, pixels p0 .. p0 + ${TILE_P - 1}] = W·X̂ with k = (c, kh, kw) staged ${TILE_K} deep in workgroup memory;
// thread (lx, ly) owns channels m0 + 2ly, m0 + 2ly + 1 and pixels p0 + lx + 16j.
${PARAMS_WGSL}
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;
var<workgroup> As: array<f32, ${TILE_K * TILE_M}>;
var<workgroup> Bs: array<f32, ${TILE_K * TILE_P}>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = wid.x + wid.z * nwg.x;
  if (t >= p.n * p.tiles) { return; }
  let n = t / p.tiles;
  let p0 = (t % p.tiles) * ${TILE_P}u;
  let grp = wid.y / p.mBlocks;
  let m0 = (wid.y % p.mBlocks) * ${TILE_M}u;
  let tid = lid.y * 16u + lid.x;
  let khw = p.kh * p.kw;
  let K = p.cg * khw;
  let npix = p.oh * p.ow;
  let wBase = p.wOff + grp * p.wsg;
  let xBase = p.xOff + n * p.xsn + grp * p.cg * p.xsc;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < K; k0 += ${TILE_K}u) {
    // W slab As[kk][mm] = W[m0 + mm, k0 + kk]: ${(TILE_K * TILE_M) / 256} per thread.
    for (var i = 0u; i < ${(TILE_K * TILE_M) / 256}u; i++) {
      let e = tid + i * 256u;
      let k = k0 + e / ${TILE_M}u;
      let m = m0 + e % ${TILE_M}u;
      let r = k % khw;
      let ok = k < K && m < p.mg;
      As[e] = select(0.0, wt[select(0u, wBase + m * p.wsm + (k / khw) * p.wsc + (r / p.kw) * p.wsh + (r % p.kw) * p.wsw, ok)], ok);
    }
    // Patch slab Bs[kk][pp] = X̂[k0 + kk, p0 + pp]: ${(TILE_K * TILE_P) / 256} per thread, zero in the padding.
    for (var i = 0u; i < ${(TILE_K * TILE_P) / 256}u; i++) {
      let e = tid + i * 256u;
      let k = k0 + e / ${TILE_P}u;
      let pix = p0 + e % ${TILE_P}u;
      let r = k % khw;
      let iy = i32((pix / p.ow) * p.sh + (r / p.kw) * p.dh) - p.pt;
      let ix = i32((pix % p.ow) * p.sw + (r % p.kw) * p.dw) - p.pl;
      let ok = k < K && pix < npix && iy >= 0 && iy < i32(p.h) && ix >= 0 && ix < i32(p.w);
      Bs[e] = select(0.0, x[select(0u, xBase + (k / khw) * p.xsc + u32(iy) * p.xsh + u32(ix) * p.xsw, ok)], ok);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${TILE_K}u; kk++) {
      let b = vec4<f32>(Bs[kk * ${TILE_P}u + lid.x], Bs[kk * ${TILE_P}u + lid.x + 16u], Bs[kk * ${TILE_P}u + lid.x + 32u], Bs[kk * ${TILE_P}u + lid.x + 48u]);
      acc0 = fma(vec4<f32>(As[kk * ${TILE_M}u + lid.y * 2u]), b, acc0);
      acc1 = fma(vec4<f32>(As[kk * ${TILE_M}u + lid.y * 2u + 1u]), b, acc1);
    }
    workgroupBarrier();
  }${store(0)}${store(1)}
}`;
}

/**
 * Forward conv of the X view [n, c, h, w] with the weight read through its walk (negative strides
 * allowed) into a fresh contiguous [n, m, oh, ow], adding the bias and applying the activation:
 * the same contract as conv.ts's registerForward.
 */
export function tiledForward(rt: GpuRuntime, backend: Backend, { xs, xv, w, ws, bias, geo, act }: ForwardOperands): GpuStorage {
  const { n, c, h, w: wd, m, oh, ow, groups, kh, kw, sh, sw, dh, dw, pt, pl } = geo;
  const out = fresh(rt, backend, n * m * oh * ow);
  if (n * m * oh * ow === 0) return out;
  const mg = m / groups;
  const tiles = Math.ceil((oh * ow) / TILE_P);
  const mBlocks = Math.ceil(mg / TILE_M);
  const max = Math.min(rt.limits.maxComputeWorkgroupsPerDimension, MAX_GROUPS);
  if (groups * mBlocks > max) throw new ShapeError('conv2d', `${m} output channels in ${groups} groups need ${groups * mBlocks} workgroups in y (limit ${max})`);
  const [gx, gz] = fold(n * tiles, 1, max);
  const [xsn, xsc, xsh, xsw] = strides(xv);
  const src = cachedSource(`tiled|fwd|${act}`, () => tiledSource(act));
  const params = pack({
    n, c, h, w: wd, m, oh, ow, groups, cg: c / groups, mg, kh, kw, sh, sw, dh, dw, pt, pl,
    xOff: xv.offset, xsn, xsc, xsh, xsw,
    wOff: ws.off, wsg: ws.g, wsm: ws.m, wsc: ws.c, wsh: ws.h, wsw: ws.w,
    bOff: bias?.off ?? 0, bs: bias?.stride ?? 0, hasBias: bias ? 1 : 0,
    tiles, mBlocks,
  });
  rt.dispatch(kernel(rt, `conv2d_tiled_fwd${act ? `_${act}` : ''}`, src), [out.buffer, xs.buffer, w.buffer, (bias?.s ?? w).buffer], params, [gx, groups * mBlocks, gz]);
  return out;
}
