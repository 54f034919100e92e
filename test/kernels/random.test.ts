// The WGSL Philox4x32-10 generator and its uniform/normal/randint mappings: the Random123
// known answers (all 128 bits, through a test kernel built on the exported `philoxWgsl`),
// the element mapping against a float64 twin written here (counter carry into the high word
// included), moments of 1M normals, randint coverage and exactness, reproducibility.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireDevice } from '../../src/device/acquire.ts';
import { GpuRuntime } from '../../src/device/runtime.ts';
import { createWebgpuBackend } from '../../src/kernels/index.ts';
import { philoxBlocks, philoxWgsl } from '../../src/kernels/random.ts';
import type { Backend, RandomKind, RandomState, Storage } from '../../src/backend/types.ts';
import type { DType } from '../../src/dtype.ts';

let rt: GpuRuntime;
let be: Backend;

beforeAll(async () => {
  const { device, adapterInfo } = await acquireDevice();
  rt = new GpuRuntime(device, adapterInfo);
  be = createWebgpuBackend(rt);
});
afterAll(() => rt?.destroy());

type Words = [number, number, number, number];

/** Random123's known answers for philox4x32_10 (kat_vectors): counter, key → output. */
const KAT: { ctr: Words; key: [number, number]; out: Words }[] = [
  { ctr: [0, 0, 0, 0], key: [0, 0], out: [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8] },
  {
    ctr: [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    key: [0xffffffff, 0xffffffff],
    out: [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
  },
  {
    ctr: [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    key: [0xa4093822, 0x299f31d0],
    out: [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
  },
];

/** Philox4x32-10 in exact JS integers (BigInt for the 64-bit products): the test's own twin. */
function philox(ctr: Words, key: readonly [number, number]): Words {
  let [c0, c1, c2, c3] = ctr.map((w) => BigInt(w >>> 0));
  let k0 = BigInt(key[0] >>> 0);
  let k1 = BigInt(key[1] >>> 0);
  const M32 = 0xffffffffn;
  for (let r = 0; r < 10; r++) {
    if (r > 0) {
      k0 = (k0 + 0x9e3779b9n) & M32;
      k1 = (k1 + 0xbb67ae85n) & M32;
    }
    const p0 = 0xd2511f53n * c0!;
    const p1 = 0xcd9e8d57n * c2!;
    [c0, c1, c2, c3] = [(p1 >> 32n) ^ c1! ^ k0, p1 & M32, (p0 >> 32n) ^ c3! ^ k1, p0 & M32];
  }
  return [c0, c1, c2, c3].map(Number) as Words;
}

/** The documented element mapping, in float64 (randint exactly, via BigInt). */
function reference(kind: RandomKind, numel: number, state: RandomState, a: number, b: number): number[] {
  const out: number[] = [];
  const per = kind === 'normal' ? 2 : 4;
  for (let j = 0; out.length < numel; j++) {
    const c = state.counter + j;
    const w = philox([c % 2 ** 32, Math.floor(c / 2 ** 32), 0, 0], state.key);
    for (let e = 0; e < per && out.length < numel; e++) {
      if (kind === 'normal') {
        const u1 = ((w[2 * e]! >>> 8) + 1) * 2 ** -24;
        const u2 = (w[2 * e + 1]! >>> 8) * 2 ** -24;
        out.push(a + b * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
      } else if (kind === 'uniform') {
        out.push(a + (w[e]! >>> 8) * 2 ** -24 * (b - a));
      } else {
        out.push(a + Number((BigInt(w[e]! >>> 8) * BigInt(b - a)) >> 24n));
      }
    }
  }
  return out;
}

async function gen(kind: RandomKind, numel: number, dtype: DType, state: RandomState, a: number, b: number): Promise<number[]> {
  const s: Storage = be.random(kind, numel, dtype, state, a, b);
  try {
    expect(s.numel).toBe(numel);
    expect(s.dtype).toBe(dtype);
    return Array.from(await be.read({ storage: s, shape: [numel], strides: [1], offset: 0 }));
  } finally {
    s.release();
  }
}

const hex = (w: number) => (w >>> 0).toString(16).padStart(8, '0');

describe('philox4x32-10', () => {
  it('the test twin reproduces the Random123 known answers', () => {
    for (const k of KAT) expect(philox(k.ctr, k.key).map(hex)).toEqual(k.out.map(hex));
  });

  it('philoxWgsl reproduces the Random123 known answers bit for bit', async () => {
    // Test kernel: thread i runs block i from the counters/keys in `inp` (6 words per case).
    const src = `@group(0) @binding(0) var<storage, read_write> out: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> inp: array<u32>;
${philoxWgsl}
@compute @workgroup_size(1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x * 6u;
  out[gid.x] = philox4x32_10(vec4<u32>(inp[i], inp[i + 1u], inp[i + 2u], inp[i + 3u]), vec2<u32>(inp[i + 4u], inp[i + 5u]));
}`;
    const inp = new Uint32Array(KAT.flatMap((k) => [...k.ctr, ...k.key]));
    const inBuf = rt.pool.acquire(inp.byteLength);
    const outBuf = rt.pool.acquire(KAT.length * 16);
    try {
      rt.write(inBuf, inp);
      rt.dispatch(rt.kernel('philox_kat', src), [outBuf, inBuf], null, [KAT.length]);
      const got = new Uint32Array(await rt.read(outBuf, 0, KAT.length * 16));
      for (let c = 0; c < KAT.length; c++) expect(Array.from(got.slice(4 * c, 4 * c + 4)).map(hex), `KAT ${c}`).toEqual(KAT[c]!.out.map(hex));
    } finally {
      rt.pool.release(inBuf);
      rt.pool.release(outBuf);
    }
  });

  it('uniform on [0, 1) exposes the top 24 bits of each word: counter 0, key 0 gives the first known answer', async () => {
    const u = await gen('uniform', 4, 'float32', { key: [0, 0], counter: 0 }, 0, 1);
    expect(u.map((v) => v * 2 ** 24)).toEqual(KAT[0]!.out.map((w) => w >>> 8));
  });
});

describe('random: element mapping', () => {
  const key: [number, number] = [0x12345678, 0x9abcdef0];

  it('uniform: word i%4 of block ⌊i/4⌋, with the counter carrying into its high word', async () => {
    // Blocks cross 2^32 (lo wraps, hi increments), then a counter far beyond 2^32.
    for (const counter of [0, 2 ** 32 - 3, 2 ** 45 + 7]) {
      const state = { key, counter };
      const got = await gen('uniform', 4 * 9 + 3, 'float32', state, 0, 1);
      expect(got).toEqual(reference('uniform', 39, state, 0, 1));
    }
    // A general [a, b) in float32: the same up to float32 rounding of a + u (b − a).
    const state = { key, counter: 11 };
    const got = await gen('uniform', 1001, 'float32', state, -3, 5);
    const want = reference('uniform', 1001, state, -3, 5);
    got.forEach((v, i) => {
      expect(Math.abs(v - want[i]!), `element ${i}`).toBeLessThanOrEqual(5 * 2 ** -23);
      expect(v).toBeGreaterThanOrEqual(-3);
      expect(v).toBeLessThan(5);
    });
  });

  it('normal: Box–Muller on words 2(i%2), 2(i%2)+1 of block ⌊i/2⌋ (float32 accuracy)', async () => {
    for (const [counter, a, b] of [
      [77, 0, 1],
      [2 ** 32 - 1, 3, 2],
    ] as const) {
      const state = { key, counter };
      const got = await gen('normal', 1001, 'float32', state, a, b);
      const want = reference('normal', 1001, state, a, b);
      got.forEach((v, i) => expect(Math.abs(v - want[i]!), `element ${i}: ${v} vs ${want[i]}`).toBeLessThanOrEqual(2e-5 * (Math.abs(want[i]!) + 1)));
    }
  });

  it('randint: a + ⌊(w >> 8)(b − a) / 2^24⌋ exactly, small and full int32 ranges', async () => {
    for (const [a, b] of [
      [-3, 7],
      [0, 2 ** 24],
      [-(2 ** 31), 2 ** 31 - 1],
      [1000, 1001],
    ] as const) {
      const state = { key, counter: 2 ** 32 - 2 };
      expect(await gen('randint', 403, 'int32', state, a, b), `[${a}, ${b})`).toEqual(reference('randint', 403, state, a, b));
    }
    // Into a float32 tensor: the same integers.
    const state = { key, counter: 5 };
    expect(await gen('randint', 50, 'float32', state, -3, 7)).toEqual(reference('randint', 50, state, -3, 7));
  });

  it('sizes that are not multiples of a block write exactly numel elements; numel 0 is empty', async () => {
    for (const n of [1, 2, 3, 5, 129]) {
      for (const kind of ['uniform', 'normal', 'randint'] as const) {
        const state = { key, counter: 3 };
        const [a, b] = kind === 'randint' ? [0, 100] : [0, 1];
        const got = await gen(kind, n, kind === 'randint' ? 'int32' : 'float32', state, a, b);
        expect(got.length).toBe(n);
        if (kind !== 'normal') expect(got).toEqual(reference(kind, n, state, a, b));
      }
    }
    expect(await gen('uniform', 0, 'float32', { key, counter: 0 }, 0, 1)).toEqual([]);
    expect(philoxBlocks('normal', 5)).toBe(3);
    expect(philoxBlocks('uniform', 5)).toBe(2);
  });
});

describe('random: statistics and reproducibility', () => {
  it('1M standard normals have mean ≈ 0 and std ≈ 1; shifted/scaled ones follow a and b', async () => {
    const n = 1 << 20;
    const z = await gen('normal', n, 'float32', { key: [7, 9], counter: 0 }, 0, 1);
    let m = 0;
    let m2 = 0;
    for (const v of z) {
      m += v;
      m2 += v * v;
    }
    m /= n;
    const std = Math.sqrt(m2 / n - m * m);
    // Standard errors: 1/√n ≈ 0.001 for the mean, ≈ 0.0007 for the std.
    expect(Math.abs(m)).toBeLessThan(0.005);
    expect(Math.abs(std - 1)).toBeLessThan(0.005);
    expect(z.every(Number.isFinite)).toBe(true);
    const y = await gen('normal', 1 << 16, 'float32', { key: [7, 9], counter: 0 }, 3, 2);
    const worst = Math.max(...y.map((v, i) => Math.abs(v - (3 + 2 * z[i]!)) / (Math.abs(v) + 1)));
    expect(worst).toBeLessThan(1e-5);
  });

  it('uniform [0, 1) fills its range evenly', async () => {
    const u = await gen('uniform', 1 << 18, 'float32', { key: [1, 2], counter: 0 }, 0, 1);
    const bins = new Array<number>(16).fill(0);
    let outside = 0;
    for (const v of u) {
      if (!(v >= 0 && v < 1)) outside++;
      else bins[Math.floor(v * 16)]!++;
    }
    expect(outside).toBe(0);
    const expected = u.length / 16;
    // ±5 standard deviations of a binomial bin count.
    for (const c of bins) expect(Math.abs(c - expected)).toBeLessThan(5 * Math.sqrt(expected));
  });

  it('randint covers every value of [a, b) and nothing outside', async () => {
    const r = await gen('randint', 100_000, 'int32', { key: [3, 4], counter: 0 }, -5, 12);
    const seen = new Set(r);
    expect([...seen].sort((x, y) => x - y)).toEqual(Array.from({ length: 17 }, (_, i) => i - 5));
  });

  it('the same state gives the same bits; another counter or key gives others', async () => {
    const s = { key: [11, 22] as [number, number], counter: 1000 };
    const a = await gen('uniform', 4096, 'float32', s, 0, 1);
    expect(await gen('uniform', 4096, 'float32', s, 0, 1)).toEqual(a);
    const b = await gen('uniform', 4096, 'float32', { ...s, counter: 1001 }, 0, 1);
    const c = await gen('uniform', 4096, 'float32', { ...s, key: [11, 23] }, 0, 1);
    // Counter + 1 shifts the stream by one block: the same words, 4 elements later.
    expect(b.slice(0, 4092)).toEqual(a.slice(4));
    expect(b.slice(4092)).not.toEqual(a.slice(0, 4));
    const same = c.filter((v, i) => v === a[i]).length;
    expect(same).toBeLessThan(5);
  });

  it('rejects bad arguments before enqueuing anything', () => {
    const st = { key: [0, 0] as [number, number], counter: 0 };
    expect(() => be.random('randint', 4, 'int32', st, 5, 5)).toThrow(/random\(randint\): expects integers low < high/);
    expect(() => be.random('randint', 4, 'int32', st, 0.5, 5)).toThrow(/random\(randint\)/);
    expect(() => be.random('normal', 4, 'float32', st, 0, -1)).toThrow(/std must be >= 0/);
    expect(() => be.random('uniform', 4, 'float32', { key: [0, 0], counter: -1 }, 0, 1)).toThrow(/counter/);
    expect(() => be.random('uniform', 1.5, 'float32', st, 0, 1)).toThrow(/numel/);
  });
});
