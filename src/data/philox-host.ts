// Uniform floats for shuffling, drawn on the host from a Generator's Philox4x32-10 stream
// bit for bit like `Generator.nextFloats` (src/backend/cpu/random.ts's 'uniform' mapping),
// but without the reference's per-round allocations: a 60 000-element permutation needs
// 30 000 blocks every epoch, and the reference (written to be obviously correct) is ~10×
// slower. Tested against nextFloats in test/data/loader.test.ts.

import type { RandomState } from '../backend/types.ts';
import type { Generator } from '../tensor/random.ts';

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const TWO32 = 0x1_0000_0000;
const TWO_POW_M24 = 2 ** -24;

/** High word of the 64-bit product of two u32s, from 16-bit halves (every term exact in a double). */
function mulhi(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const mid = ah * bl + al * bh; // < 2^33
  return (ah * bh + Math.floor((mid * 0x10000 + al * bl) / TWO32)) >>> 0;
}

/** `n` uniforms in [0, 1) from the blocks `state` reserved: element i is word i % 4 of block ⌊i / 4⌋, (w >>> 8)·2⁻²⁴. */
export function philoxUniforms(state: RandomState, n: number): Float64Array {
  const out = new Float64Array(n);
  const [key0, key1] = state.key;
  for (let j = 0; 4 * j < n; j++) {
    const c = state.counter + j;
    let c0 = c % TWO32 >>> 0;
    let c1 = Math.floor(c / TWO32) >>> 0;
    let c2 = 0;
    let c3 = 0;
    let k0 = key0 >>> 0;
    let k1 = key1 >>> 0;
    for (let round = 0; round < 10; round++) {
      if (round > 0) {
        k0 = (k0 + W0) >>> 0;
        k1 = (k1 + W1) >>> 0;
      }
      const hi0 = mulhi(M0, c0);
      const lo0 = Math.imul(M0, c0) >>> 0;
      const hi1 = mulhi(M1, c2);
      const lo1 = Math.imul(M1, c2) >>> 0;
      const n0 = (hi1 ^ c1 ^ k0) >>> 0;
      const n2 = (hi0 ^ c3 ^ k1) >>> 0;
      c0 = n0;
      c1 = lo1;
      c2 = n2;
      c3 = lo0;
    }
    const base = 4 * j;
    out[base] = (c0 >>> 8) * TWO_POW_M24;
    if (base + 1 < n) out[base + 1] = (c1 >>> 8) * TWO_POW_M24;
    if (base + 2 < n) out[base + 2] = (c2 >>> 8) * TWO_POW_M24;
    if (base + 3 < n) out[base + 3] = (c3 >>> 8) * TWO_POW_M24;
  }
  return out;
}

/** `generator.nextFloats(n)`, the same numbers and the same advance of the stream, faster. */
export function hostUniforms(generator: Generator, n: number): Float64Array {
  return philoxUniforms(generator.next('uniform', n), n);
}
