// What the conv2d kernel files (src/kernels/conv.ts, conv-tiled.ts) share: the uniform block,
// one layout of which each kernel reads the fields it needs, and small launch helpers. Signed
// fields are i32; strides and offsets are u32 mod 2^32, so negative strides (the flipped weight
// of the input gradient) still land on the right element.

import type { Backend, View } from '../backend/types.ts';
import type { FusedActivation } from '../backend/fused-activation.ts';
import type { GpuRuntime } from '../device/runtime.ts';
import { GpuStorage } from './storage.ts';

export const FIELDS = [
  'n', 'c', 'h', 'w', // "input" X as the kernel sees it: batch, channels, rows, columns
  'm', 'oh', 'ow', 'groups', // output channels, rows, columns; groups
  'cg', 'mg', 'kh', 'kw', // X channels per group, output channels per group, kernel size
  'sh', 'sw', 'dh', 'dw', // stride, dilation
  'pt', 'pl', 'xOff', 'xsn', // padding before (i32), X view
  'xsc', 'xsh', 'xsw', 'wOff',
  'wsm', 'wsc', 'wsh', 'wsw', // weight strides as [out channel, in channel, kh, kw] (direct kernels, packing)
  'wsg', 'bOff', 'bs', 'hasBias', // weight stride between groups; bias view
  'gOff', 'gsn', 'gsc', 'gsh', // gy view (weight gradient)
  'gsw', 'tiles', 'tilesW', 'tilesH', // register tiling
  'mBlocks', 'mp4', 'splits', 'rowsPer', // weight units per (g, c, kh, kw); split-K: output rows (or whole images) per split
  'rows', 'khBlocks', 'total', 'outSize',
  'mp', 'nres', 'unused0', 'unused1', // packed floats per (g, c, kh, kw); results per invocation (store loop bound)
] as const;
type Field = (typeof FIELDS)[number];
const SIGNED = new Set<Field>(['pt', 'pl']);
export type Params = Partial<Record<Field, number>>;

export const PARAMS_WGSL = `struct Params {\n${FIELDS.map((f) => `  ${f}: ${SIGNED.has(f) ? 'i32' : 'u32'},`).join('\n')}\n};`;

export function pack(p: Params): Uint32Array {
  return Uint32Array.from(FIELDS, (f) => (p[f] ?? 0) >>> 0);
}

export const MAX_GROUPS = 65535;

/** Workgroups for `count` items of `per` each: x up to the per-dim limit, the rest folded into z. */
export function fold(count: number, per: number, max: number): [number, number] {
  const groups = Math.ceil(count / per);
  if (groups <= max) return [groups, 1];
  const z = Math.ceil(groups / max);
  return [Math.ceil(groups / z), z];
}

/** A view's strides with size-1 dims zeroed (any stride reads index 0), which keeps vec4 paths open. */
export function strides(v: View): number[] {
  return v.strides.map((s, i) => (v.shape[i] === 1 ? 0 : s));
}

/** A fresh contiguous float32 storage of `numel` elements. */
export function fresh(rt: GpuRuntime, backend: Backend, numel: number): GpuStorage {
  return new GpuStorage(backend, rt, rt.pool.acquire(Math.max(numel, 1) * 4), 'float32', numel);
}

/** A weight read through explicit strides (per group, out channel, in channel, kernel row, column); negative ones allowed. */
export type WeightWalk = { off: number; g: number; m: number; c: number; h: number; w: number };
/** A bias view: storage, offset and stride. */
export type BiasWalk = { s: GpuStorage; off: number; stride: number };
/** What a forward-shaped conv kernel computes: X [n, c, h, w] → [n, m, oh, ow], with its kernel, stride, dilation and padding. */
export type ForwardGeometry = {
  n: number; c: number; h: number; w: number; m: number; oh: number; ow: number; groups: number;
  kh: number; kw: number; sh: number; sw: number; dh: number; dw: number; pt: number; pl: number;
};

/** The operands of a forward-shaped conv kernel (the forward, or the input gradient as a forward conv of gy). */
export type ForwardOperands = {
  /** X's storage and view [n, c, h, w]. */
  xs: GpuStorage;
  xv: View;
  /** The weight's storage, read through `ws`. */
  w: GpuStorage;
  ws: WeightWalk;
  bias: BiasWalk | null;
  geo: ForwardGeometry;
  /** Applied to each output as it is stored. */
  act: FusedActivation | null;
};

const sourceCache = new Map<string, string>();

/** The WGSL for `key`, generated once by `make` (the conv kernels' shader sources, keyed by what they compile in). */
export function cachedSource(key: string, make: () => string): string {
  let src = sourceCache.get(key);
  if (src === undefined) sourceCache.set(key, (src = make()));
  return src;
}
