// Autotuned conv2d (src/device/autotune.ts): for each primitive — forward, input gradient,
// weight gradient — and each geometry class, the tuner times a few variants (register tiles
// of other shapes, the GPU tiling, the direct kernel) on the real operands and keeps the
// fastest per adapter. The kernels themselves live in conv.ts; this file only picks configs.
// With autotuning off, or an override set through setConvConfig, conv.ts's default applies.

import type { Backend, View } from '../backend/types.ts';
import type { Conv2dGeometry } from '../backend/conv-geometry.ts';
import type { FusedActivation } from '../backend/fused-activation.ts';
import type { Candidate } from '../device/autotune.ts';
import type { GpuRuntime } from '../device/runtime.ts';
import { isSoftwareAdapter } from './matmul.ts';
import * as conv from './conv.ts';
import type { GpuStorage } from './storage.ts';

type Part = 'forward' | 'inputGrad' | 'weightGrad';
type PartConfig = conv.ConvConfig[Part];

const keyOf = (c: PartConfig): string =>
  c.variant === 'direct' || c.variant === 'tiled'
    ? c.variant
    : 'khRows' in c
      ? `register-${c.rows}ch-${c.khRows}kh-${c.targetInvocations}inv`
      : `register-${c.rows}ch-${c.outRows}x${c.cols || 'auto'}-wg${c.workgroup}${c.batchFast ? '-nfast' : ''}${c.subgroups ? '-sg' : ''}`;

/** Variants worth timing for one primitive: the adapter's default first, then alternatives. */
export function convCandidates(rt: GpuRuntime, part: Part): PartConfig[] {
  const sw = isSoftwareAdapter(rt.adapterInfo);
  const def = (sw ? conv.SOFTWARE_CONFIG : conv.GPU_CONFIG)[part];
  const other = (sw ? conv.GPU_CONFIG : conv.SOFTWARE_CONFIG)[part];
  const list: PartConfig[] = [def, other];
  if (def.variant === 'register' && 'khRows' in def) {
    list.push({ ...def, rows: def.rows * 2 }, { ...def, targetInvocations: def.targetInvocations * 4 });
  } else if (def.variant === 'register') {
    list.push({ ...def, rows: Math.max(4, def.rows / 2) }, { ...def, outRows: def.outRows === 1 ? 2 : 1 });
  }
  // Workgroup memory, the form GPUs want (forward and input gradient). Not timed on CPU adapters:
  // on llvmpipe it measured 50–800 ms where 'register' takes 0.4–3 ms (bench/conv2d.ts), so one
  // tune would cost seconds to confirm what is known.
  if (part !== 'weightGrad' && !sw) list.push({ variant: 'tiled' });
  list.push({ variant: 'direct' });
  const seen = new Set<string>();
  return list.filter((c) => !seen.has(keyOf(c)) && seen.add(keyOf(c)));
}

const bucket = (x: number): number => Math.ceil(Math.log2(Math.max(1, x)));

/** Geometry class: channels, kernel, stride, dilation, groups and size buckets (padding and exact sizes travel in uniforms). */
function geometryClass(g: Conv2dGeometry): string {
  return `c${g.inChannels}|m${g.outChannels}|k${g.kernelH}x${g.kernelW}|s${g.strideH}x${g.strideW}|d${g.dilationH}x${g.dilationW}|g${g.groups}|hw${bucket(g.height * g.width)}|n${bucket(g.batch)}`;
}

/** The config for one conv primitive on `rt`: an override or the default when not tuning, else the tuner's pick. */
function pick(rt: GpuRuntime, part: Part, g: Conv2dGeometry, run: (cfg: conv.ConvConfig) => GpuStorage): conv.ConvConfig {
  const base = conv.convConfig(rt);
  const def = isSoftwareAdapter(rt.adapterInfo) ? conv.SOFTWARE_CONFIG : conv.GPU_CONFIG;
  if (rt.tuner.mode === 'off' || base !== def) return base;
  const cands: Candidate<PartConfig>[] = convCandidates(rt, part).map((c) => ({ key: keyOf(c), value: c }));
  const flops = g.batch * g.outChannels * g.outH * g.outW * (g.inChannels / g.groups) * g.kernelH * g.kernelW;
  const chosen = rt.tuner.choose(`conv2d.${part}`, geometryClass(g), cands, cands[0]!, (c) => run({ ...base, [part]: c }).release(), flops < 1 << 26 ? 7 : 3);
  return chosen === base[part] ? base : { ...base, [part]: chosen };
}

/** conv.conv2d with the autotuned forward config. */
export function conv2d(rt: GpuRuntime, backend: Backend, x: View, w: View, bias: View | null, g: Conv2dGeometry, act: FusedActivation | null = null): GpuStorage {
  return conv.conv2d(rt, backend, x, w, bias, g, pick(rt, 'forward', g, (c) => conv.conv2d(rt, backend, x, w, bias, g, c, act)), act);
}

/** conv.conv2dBackwardInput with the autotuned input-gradient config. */
export function conv2dBackwardInput(rt: GpuRuntime, backend: Backend, gy: View, w: View, g: Conv2dGeometry): GpuStorage {
  return conv.conv2dBackwardInput(rt, backend, gy, w, g, pick(rt, 'inputGrad', g, (c) => conv.conv2dBackwardInput(rt, backend, gy, w, g, c)));
}

/** conv.conv2dBackwardWeight with the autotuned weight-gradient config. */
export function conv2dBackwardWeight(rt: GpuRuntime, backend: Backend, x: View, gy: View, g: Conv2dGeometry): GpuStorage {
  return conv.conv2dBackwardWeight(rt, backend, x, gy, g, pick(rt, 'weightGrad', g, (c) => conv.conv2dBackwardWeight(rt, backend, x, gy, g, c)));
}
