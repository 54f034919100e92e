// Philox4x32-10, the counter-based generator of Salmon et al., "Parallel random numbers:
// as easy as 1, 2, 3" (SC'11, Random123). Pure 32-bit word arithmetic in exact doubles,
// so the WebGPU kernel (u32 in WGSL) can reproduce these bits.

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const TWO32 = 0x1_0000_0000;

/**
 * The exact 64-bit product of two u32 words as [hi, lo]. `b` is split into 16-bit halves
 * so every partial product stays below 2^53 (Math.imul would give only the low word).
 */
export function mulhilo32(a: number, b: number): [number, number] {
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const pLo = a * bLo; // < 2^48
  const pHi = a * bHi; // < 2^48, weighs 2^16
  const pHiLow16 = pHi % 0x10000;
  const pHiHigh = Math.floor(pHi / 0x10000); // weighs 2^32
  const t = pHiLow16 * 0x10000 + pLo; // < 2^49, exact
  const lo = t % TWO32;
  const hi = pHiHigh + Math.floor(t / TWO32);
  return [hi >>> 0, lo >>> 0];
}

/** One Philox4x32 block: 10 rounds of the S-box on `counter` under `key`; all words u32. */
export function philox4x32_10(
  counter: readonly [number, number, number, number],
  key: readonly [number, number],
): [number, number, number, number] {
  let [c0, c1, c2, c3] = counter.map((w) => w >>> 0) as [number, number, number, number];
  let k0 = key[0] >>> 0;
  let k1 = key[1] >>> 0;
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      // Weyl key schedule between rounds.
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const [hi0, lo0] = mulhilo32(M0, c0);
    const [hi1, lo1] = mulhilo32(M1, c2);
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
  }
  return [c0, c1, c2, c3];
}
