// MD5 (RFC 1321), incremental, in plain TypeScript: the checksums data set mirrors publish are
// MD5, and browsers' Web Crypto has no MD5, so downloads check files with this in Node and in
// browsers alike. Not for security: only to tell an intact file from a damaged one.

/** Per-round shift amounts (RFC 1321, section 3.4). */
const S = [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
  4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21];
/** K[i] = floor(2^32 · |sin(i + 1)|). */
const K = Int32Array.from({ length: 64 }, (_, i) => Math.floor(2 ** 32 * Math.abs(Math.sin(i + 1))) | 0);

/** An MD5 hash being computed: `update` with bytes as they arrive, then `hex()` once. */
export class Md5 {
  private readonly state = Int32Array.of(0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476);
  private readonly block = new Uint8Array(64);
  private readonly words = new Int32Array(16);
  private used = 0;
  private length = 0;
  private finished = false;

  /** Adds `bytes` to the message. */
  update(bytes: Uint8Array): this {
    if (this.finished) throw new Error('Md5.update after hex()');
    this.length += bytes.length;
    let i = 0;
    if (this.used > 0) {
      const take = Math.min(64 - this.used, bytes.length);
      this.block.set(bytes.subarray(0, take), this.used);
      this.used += take;
      i = take;
      if (this.used < 64) return this;
      this.compress(this.block, 0);
      this.used = 0;
    }
    for (; i + 64 <= bytes.length; i += 64) this.compress(bytes, i);
    this.block.set(bytes.subarray(i), 0);
    this.used = bytes.length - i;
    return this;
  }

  /** The digest as 32 lowercase hex digits; the hash takes no more input afterwards. */
  hex(): string {
    if (!this.finished) {
      const bits = this.length * 8;
      const pad = new Uint8Array((this.used < 56 ? 56 : 120) - this.used + 8);
      pad[0] = 0x80;
      const v = new DataView(pad.buffer);
      v.setUint32(pad.length - 8, bits >>> 0, true);
      v.setUint32(pad.length - 4, Math.floor(bits / 2 ** 32), true);
      const length = this.length;
      this.update(pad);
      this.length = length;
      this.finished = true;
    }
    let out = '';
    for (const w of this.state) for (let b = 0; b < 4; b++) out += ((w >>> (8 * b)) & 0xff).toString(16).padStart(2, '0');
    return out;
  }

  private compress(bytes: Uint8Array, at: number): void {
    const m = this.words;
    for (let j = 0; j < 16; j++) {
      const o = at + 4 * j;
      m[j] = bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | (bytes[o + 3]! << 24);
    }
    let [a, b, c, d] = this.state as unknown as [number, number, number, number];
    for (let i = 0; i < 64; i++) {
      let f: number;
      let g: number;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) & 15;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) & 15;
      }
      const t = (a + f + K[i]! + m[g]!) | 0;
      a = d;
      d = c;
      c = b;
      b = (b + ((t << S[i]!) | (t >>> (32 - S[i]!)))) | 0;
    }
    const s = this.state;
    s[0] = (s[0]! + a) | 0;
    s[1] = (s[1]! + b) | 0;
    s[2] = (s[2]! + c) | 0;
    s[3] = (s[3]! + d) | 0;
  }
}

/** The MD5 of `bytes` as 32 lowercase hex digits. */
export function md5Hex(bytes: Uint8Array): string {
  return new Md5().update(bytes).hex();
}
