// Float64 reference of `random`: maps Philox4x32-10 blocks to uniform, normal and randint
// elements. The block/word-to-element mapping is part of the contract: the WebGPU kernel
// must follow it bit for bit, so change both or neither.

import type { RandomKind, RandomState } from '../types.ts';
import type { DType } from '../../dtype.ts';
import { ValueError } from '../../errors.ts';
import { philox4x32_10 } from './philox.ts';
import { castTo } from './storage.ts';

const TWO32 = 0x1_0000_0000;
const TWO_POW_M24 = 2 ** -24;

/** Philox blocks one op consumes; the tensor layer advances the global counter by this. */
export function philoxBlocks(kind: RandomKind, numel: number): number {
  return kind === 'normal' ? Math.ceil(numel / 2) : Math.ceil(numel / 4);
}

/** Block j of an op: counter (lo32(c + j), hi32(c + j), 0, 0) under the op's key. */
function block(state: RandomState, j: number): [number, number, number, number] {
  const c = state.counter + j;
  return philox4x32_10([c % TWO32, Math.floor(c / TWO32), 0, 0], state.key);
}

/**
 * `numel` values stored as `dtype`:
 * - uniform: element i = word i%4 of block ⌊i/4⌋, u = (w >>> 8)·2⁻²⁴ ∈ [0, 1), a + u(b − a);
 * - normal: element i = words 2(i%2), 2(i%2)+1 of block ⌊i/2⌋, Box–Muller cosine branch with
 *   u1 = ((w0 >>> 8) + 1)·2⁻²⁴ ∈ (0, 1], u2 = (w1 >>> 8)·2⁻²⁴: a + b·√(−2 ln u1)·cos(2π u2);
 * - randint: u as for uniform, a + ⌊u(b − a)⌋ ∈ [a, b).
 */
export function random(kind: RandomKind, numel: number, dtype: DType, state: RandomState, a: number, b: number): Float64Array {
  const op = `cpu.random(${kind})`;
  if (!Number.isInteger(numel) || numel < 0) throw new ValueError(op, `numel must be a non-negative integer, got ${numel}`);
  if (!Number.isInteger(state.counter) || state.counter < 0 || state.counter + philoxBlocks(kind, numel) > Number.MAX_SAFE_INTEGER) {
    throw new ValueError(op, `counter must be a non-negative integer below 2^53 - blocks, got ${state.counter}`);
  }
  if (kind === 'randint' && !(Number.isInteger(a) && Number.isInteger(b) && a < b)) {
    throw new ValueError(op, `expects integers low < high, got [${a}, ${b})`);
  }
  if (kind === 'normal' && !(b >= 0)) throw new ValueError(op, `std must be >= 0, got ${b}`);

  const out = new Float64Array(numel);
  const perBlock = kind === 'normal' ? 2 : 4;
  for (let j = 0; j * perBlock < numel; j++) {
    const words = block(state, j);
    for (let e = 0; e < perBlock && j * perBlock + e < numel; e++) {
      let v: number;
      if (kind === 'normal') {
        const u1 = ((words[2 * e]! >>> 8) + 1) * TWO_POW_M24;
        const u2 = (words[2 * e + 1]! >>> 8) * TWO_POW_M24;
        v = a + b * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      } else {
        const u = (words[e]! >>> 8) * TWO_POW_M24;
        v = kind === 'uniform' ? a + u * (b - a) : a + Math.floor(u * (b - a));
      }
      out[j * perBlock + e] = castTo(dtype, v);
    }
  }
  return out;
}
