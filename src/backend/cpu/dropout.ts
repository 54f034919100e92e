// Float64 reference of the dropout primitive. The element → bits mapping is part of the
// contract with src/kernels/dropout.ts (change both or neither): element e (row-major logical
// order) uses draw r = ⌊e/group⌋, the word r % 4 of Philox block ⌊r/4⌋ at counter
// state.counter + ⌊r/4⌋ (the word `random('uniform')` turns into its r-th value), and is kept
// iff (word >>> 8) >= threshold.

import type { RandomState, View } from '../types.ts';
import { philox4x32_10 } from './philox.ts';
import { gather } from './storage.ts';

const TWO32 = 0x1_0000_0000;

/** keep[r] for draws 0 .. draws−1. */
export function dropoutKeep(draws: number, threshold: number, state: RandomState): Uint8Array {
  const keep = new Uint8Array(draws);
  for (let j = 0; j * 4 < draws; j++) {
    const c = state.counter + j;
    const words = philox4x32_10([c % TWO32, Math.floor(c / TWO32), 0, 0], state.key);
    for (let e = 0; e < 4 && j * 4 + e < draws; e++) keep[j * 4 + e] = words[e]! >>> 8 >= threshold ? 1 : 0;
  }
  return keep;
}

/** out[e] = x[e] · (keep[⌊e/group⌋] ? scale : 0). */
export function dropout(x: View, threshold: number, scale: number, group: number, state: RandomState): Float64Array {
  const xs = gather('cpu.dropout', x, 'float32');
  const keep = dropoutKeep(Math.ceil(xs.length / group), threshold, state);
  const out = new Float64Array(xs.length);
  for (let e = 0; e < xs.length; e++) out[e] = xs[e]! * (keep[Math.floor(e / group)] ? scale : 0);
  return out;
}
