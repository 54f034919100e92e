// Shared WGSL building blocks: element types, the uniform layout of strided operands,
// the flat-index helpers, grid sizing. Every kernel file builds its shader from these,
// so indexing conventions live in one place.

import type { FusedActivation } from '../backend/fused-activation.ts';
import { castToInt32, type DType } from '../dtype.ts';

/** Highest rank a strided kernel indexes directly (after dim coalescing). */
export const MAX_RANK = 8;
/** Threads per workgroup of 1-D kernels: a multiple of every SIMD width we know (8 on llvmpipe, 32/64 on GPUs). */
export const WG = 256;

/** WGSL scalar type that stores a dtype (bool is i32 0/1). */
export function wgslType(d: DType): 'f32' | 'i32' {
  return d === 'float32' ? 'f32' : 'i32';
}

/** Number of workgroups for `n` threads, folded into 2-D when above the per-dim limit. */
export function grid1d(threads: number, wg = WG, maxPerDim = 65535): [number, number] {
  const groups = Math.ceil(threads / wg);
  if (groups <= maxPerDim) return [groups, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y];
}

/** WGSL line computing the flat invocation index from a 2-D grid of `wg`-wide workgroups. */
export function flatIndex(wg = WG): string {
  return `let i = gid.x + gid.y * nwg.x * ${wg}u;`;
}

/** Builtins every 1-D kernel's entry point takes. */
export const MAIN_ARGS = '@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>';

/**
 * Packs u32 values into a uniform block laid out as `array<vec4<u32>, n>`.
 * Fields are written by index; the caller and its WGSL agree on the positions.
 */
export class UniformWriter {
  readonly u32: Uint32Array;
  private _f32: Float32Array | null = null;
  private _i32: Int32Array | null = null;
  constructor(vec4s: number) {
    this.u32 = new Uint32Array(vec4s * 4);
  }
  // Float and signed views made on first use: typed-array views cost as much as a small dispatch's other JS work.
  get f32(): Float32Array {
    return (this._f32 ??= new Float32Array(this.u32.buffer));
  }
  get i32(): Int32Array {
    return (this._i32 ??= new Int32Array(this.u32.buffer));
  }
  /** Writes `n`-wide list at vec4 slot `slot` (spilling into following slots). */
  list(slot: number, values: readonly number[]): void {
    for (let k = 0; k < values.length; k++) this.u32[slot * 4 + k] = values[k]!;
  }
}

/** Bits of a JS number as the uniform word a kernel bitcasts to its compute type. */
const bitsF32 = new Float32Array(1);
const bitsU32 = new Uint32Array(bitsF32.buffer);
export function scalarBits(value: number, d: DType): number {
  if (d === 'float32') {
    bitsF32[0] = value;
    return bitsU32[0]!;
  }
  return castToInt32(value) >>> 0;
}

/**
 * WGSL of a fused activation (src/backend/fused-activation.ts) applied to the f32 expression `x`
 * in a matmul/conv epilogue; `x` itself without one. The same NaN-safe helpers (src/kernels/ieee.ts)
 * as the elementwise ops, so a fused epilogue and the separate op agree on every value.
 */
export function activationWgsl(act: FusedActivation | null, x: string): string {
  return act ? `${FUSED_WGSL[act]}(${x})` : x;
}

const FUSED_WGSL: Record<FusedActivation, string> = { relu: 'ieee_relu', sigmoid: 'ieee_sigmoid', tanh: 'ieee_tanh' };
