// Random kernels: uniform, normal and randint from Philox4x32-10 (Salmon et al., "Parallel
// random numbers: as easy as 1, 2, 3", SC'11; the Random123 constants). Counter-based, so
// thread j computes block j independently and the same state gives the same bits on every
// backend. Owns the WGSL of Philox (exported for dropout) and the element mapping, which must
// match src/backend/cpu/random.ts bit for bit; knows nothing of how the tensor layer
// advances the counter.

import type { DType } from '../dtype.ts';
import type { RandomKind, RandomState } from '../backend/types.ts';
import { ValueError } from '../errors.ts';
import type { GpuRuntime } from '../device/runtime.ts';
import { GpuStorage } from './storage.ts';
import { runSplit, type Cut } from './split.ts';
import { MAIN_ARGS, UniformWriter, WG, flatIndex, grid1d, wgslType } from './wgsl.ts';
import { kernel } from './ieee.ts';

/**
 * WGSL of Philox4x32-10: `philox4x32_10(counter, key) -> vec4<u32>` and its helper
 * `mulhilo32(a, b) -> vec2<u32>` (hi, lo). WGSL has no 32×32→64 multiply, so the high word
 * is assembled from 16-bit partial products (each fits in u32); the low word is the
 * wrapping u32 product.
 */
export const philoxWgsl = `
fn mulhilo32(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu; let a1 = a >> 16u;
  let b0 = b & 0xffffu; let b1 = b >> 16u;
  let p00 = a0 * b0; let p01 = a0 * b1; let p10 = a1 * b0; let p11 = a1 * b1;
  // Carry out of the middle 32 bits: at most 3 × (2^16 - 1), so no overflow.
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  let hi = p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u);
  return vec2<u32>(hi, a * b);
}
fn philox4x32_10(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var r = 0u; r < 10u; r++) {
    if (r > 0u) { k += vec2<u32>(0x9E3779B9u, 0xBB67AE85u); } // Weyl key schedule
    let p0 = mulhilo32(0xD2511F53u, c.x);
    let p1 = mulhilo32(0xCD9E8D57u, c.z);
    c = vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
  }
  return c;
}
`;

/** Philox blocks a `random` call of `kind` consumes (the counter advance the caller owes). */
export function philoxBlocks(kind: RandomKind, numel: number): number {
  return kind === 'normal' ? Math.ceil(numel / 2) : Math.ceil(numel / 4);
}

const sourceCache = new Map<string, string>();

function shaderSource(kind: RandomKind, dtype: DType): string {
  const key = `${kind}|${dtype}`;
  const hit = sourceCache.get(key);
  if (hit) return hit;
  const out = wgslType(dtype);
  // randint into float32 stores the integer; uniform/normal into int32 by the cast rule
  // (ieee_f2i); bool stores nonzero as 1 — all like the CPU's castTo.
  const store = dtype === 'bool' ? 'select(0, 1, v != 0)' : out === 'i32' ? (kind === 'randint' ? 'v' : 'ieee_f2i(v)') : `${out}(v)`;
  // Each kind computes `v` (f32 for uniform/normal, i32 for randint) for element `e` of the block.
  const perBlock = kind === 'normal' ? 2 : 4;
  let body: string;
  if (kind === 'uniform') {
    body = `let u = f32(w[e] >> 8u) * 0x1p-24f;
    let v = a + u * (b - a);`;
  } else if (kind === 'normal') {
    // Box–Muller, cosine branch; u1 ∈ (0, 1] so log(u1) is finite.
    body = `let u1 = f32((w[2u * e] >> 8u) + 1u) * 0x1p-24f;
    let u2 = f32(w[2u * e + 1u] >> 8u) * 0x1p-24f;
    let v = a + b * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);`;
  } else {
    // ⌊(w >> 8) · range / 2^24⌋ exactly, from the 64-bit product of the 24-bit word and
    // the u32 range (= ⌊u · range⌋ with u = (w >> 8) · 2^-24, as the CPU twin computes).
    body = `let prod = mulhilo32(w[e] >> 8u, p.range);
    let v = bitcast<i32>(p.lowBits + ((prod.x << 8u) | (prod.y >> 24u)));`;
  }
  const src = `// random_${kind}: thread j computes Philox block j (counter = state.counter + j, 64-bit
// with carry) and writes elements ${perBlock}j .. ${perBlock}j + ${perBlock - 1} (bounds-checked).
struct Params { numel: u32, ctrLo: u32, ctrHi: u32, range: u32, key: vec2<u32>, aBits: u32, bBits: u32, lowBits: u32 };
@group(0) @binding(0) var<storage, read_write> out: array<${out}>;
@group(0) @binding(1) var<uniform> p: Params;
${philoxWgsl}
@compute @workgroup_size(${WG})
fn main(${MAIN_ARGS}) {
  ${flatIndex()}
  let j = i;
  let first = j * ${perBlock}u;
  if (first >= p.numel) { return; }
  let lo = p.ctrLo + j;
  let hi = p.ctrHi + select(0u, 1u, lo < j);
  let w = philox4x32_10(vec4<u32>(lo, hi, 0u, 0u), p.key);
  let a = bitcast<f32>(p.aBits);
  let b = bitcast<f32>(p.bBits);
  for (var e = 0u; e < ${perBlock}u; e++) {
    if (first + e >= p.numel) { break; }
    ${body}
    out[first + e] = ${store};
  }
}`;
  sourceCache.set(key, src);
  return src;
}

/**
 * `numel` random values of `dtype` from Philox4x32-10 under `state` (bit-identical to the
 * CPU backend for uniform words and randint; normal matches to f32 rounding):
 * - uniform: element i = word i%4 of block ⌊i/4⌋; u = (w >> 8)·2⁻²⁴; a + u(b − a) in f32.
 * - normal: element i = words 2(i%2), 2(i%2)+1 of block ⌊i/2⌋; u1 = ((w0 >> 8) + 1)·2⁻²⁴,
 *   u2 = (w1 >> 8)·2⁻²⁴; a + b·√(−2 ln u1)·cos(2π u2) in f32 (mean a, std b).
 * - randint: integers in [a, b): a + ⌊(w >> 8)·(b − a) / 2²⁴⌋, exact in integer arithmetic
 *   for any range below 2³² (equal to the CPU's a + ⌊u(b − a)⌋ in float64 while b − a ≤ 2²⁹).
 * Block j uses counter (lo32(state.counter + j), hi32(state.counter + j), 0, 0), key state.key.
 *
 * @example random(rt, be, 'uniform', 1000, 'float32', { key: [1, 2], counter: 0 }, 0, 1)
 */
export function random(
  rt: GpuRuntime,
  backend: GpuStorage['backend'],
  kind: RandomKind,
  numel: number,
  dtype: DType,
  state: RandomState,
  a: number,
  b: number,
): GpuStorage {
  const op = `random(${kind})`;
  if (!Number.isInteger(numel) || numel < 0 || numel >= 2 ** 32) throw new ValueError(op, `numel must be an integer in [0, 2^32), got ${numel}`);
  const blocks = philoxBlocks(kind, numel);
  if (!Number.isInteger(state.counter) || state.counter < 0 || state.counter + blocks > Number.MAX_SAFE_INTEGER) {
    throw new ValueError(op, `counter must be a non-negative integer below 2^53 - blocks, got ${state.counter}`);
  }
  if (kind === 'randint' && !(Number.isInteger(a) && Number.isInteger(b) && a < b && a >= -(2 ** 31) && b <= 2 ** 31 && b - a < 2 ** 32)) {
    throw new ValueError(op, `expects integers low < high within int32 (high - low < 2^32), got [${a}, ${b})`);
  }
  if (kind === 'normal' && !(b >= 0)) throw new ValueError(op, `std must be >= 0, got ${b}`);

  if (numel * 4 > rt.limits.maxStorageBufferBindingSize) {
    // Parts of whole blocks (4 elements: whole blocks of every kind), each starting its counter
    // where its first element's block is, so the bits equal one launch's.
    const cut: Cut = { axis: 'elements', extent: numel, dims: [0], unit: 4, join: 'slab' };
    return runSplit(rt, {
      name: op, backend, inputs: [], roles: [], outputs: [{ shape: [numel], dtype }], cuts: [cut],
      leaf: (_, [shape], under) => {
        const lo = under.get(cut)![0];
        return [random(rt, backend, kind, shape![0]!, dtype, { key: state.key, counter: state.counter + philoxBlocks(kind, lo) }, a, b)];
      },
    })[0]!;
  }
  const out = new GpuStorage(backend, rt, rt.pool.acquire(Math.max(numel, 1) * 4), dtype, numel);
  if (numel === 0) return out;
  const u = new UniformWriter(3);
  u.u32[0] = numel;
  u.u32[1] = state.counter % 2 ** 32;
  u.u32[2] = Math.floor(state.counter / 2 ** 32);
  u.u32[3] = kind === 'randint' ? (b - a) >>> 0 : 0;
  u.u32[4] = state.key[0] >>> 0;
  u.u32[5] = state.key[1] >>> 0;
  u.f32[6] = a;
  u.f32[7] = b;
  u.u32[8] = kind === 'randint' ? (a | 0) >>> 0 : 0;
  const src = shaderSource(kind, dtype);
  rt.dispatch(kernel(rt, `random_${kind}`, src), [out.buffer], u.u32, grid1d(blocks));
  return out;
}
