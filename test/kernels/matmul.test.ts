// The WGSL matmul kernels (every variant, every load mode) against a float64 triple loop:
// odd sizes, K = 0, transposed and offset views, broadcast batches, batches beyond one grid dim.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireDevice } from '../../src/device/acquire.ts';
import { GpuRuntime } from '../../src/device/runtime.ts';
import { createWebgpuBackend } from '../../src/kernels/index.ts';
import { REGISTER_DEFAULT, REGISTER_NO_SUBGROUPS, TILED_DEFAULT, isSoftwareAdapter, matmul, matmulConfig, setMatmulConfig, type MatmulConfig } from '../../src/kernels/matmul.ts';
import type { Backend, View } from '../../src/backend/types.ts';
import { DTypeError, ShapeError } from '../../src/errors.ts';

let rt: GpuRuntime;
let be: Backend;

beforeAll(async () => {
  const { device, adapterInfo } = await acquireDevice();
  rt = new GpuRuntime(device, adapterInfo);
  be = createWebgpuBackend(rt);
  // The subgroup path needs the device's 'subgroups' feature; without it REGISTER_DEFAULT would
  // only repeat the no-subgroup path (the NO_SUBGROUPS cases below cover it).
  if (device.features.has('subgroups')) VARIANTS.splice(1, 0, ['register (default: A shared through subgroups)', REGISTER_DEFAULT]);
  else console.warn('matmul.test: this device has no subgroups; the subgroup-broadcast path is not exercised');
});
afterAll(() => rt?.destroy());

const VARIANTS: [string, MatmulConfig][] = [
  ['tiled', TILED_DEFAULT],
  // Every lane loads A itself, two vec4 columns per invocation. (4 rows rather than
  // REGISTER_NO_SUBGROUPS's 8 keeps LLVM's compile time per load mode down.)
  ['register 4×8 without subgroups', { variant: 'register', rows: 4, cols: 8, workgroup: 8, subgroups: false }],
];
/** The default config without subgroups, checked on the common shapes only (same generator as above). */
const NO_SUBGROUPS: [string, MatmulConfig] = ['register without subgroups (default 8×8)', REGISTER_NO_SUBGROUPS];

interface Case {
  name: string;
  batch: number;
  m: number;
  k: number;
  n: number;
  /** A stored as [K, M] per batch (a transposed view), B as [N, K]. */
  aT?: boolean;
  bT?: boolean;
  aOff?: number;
  bOff?: number;
  /** One stored batch read with batch stride 0. */
  aBcast?: boolean;
  bBcast?: boolean;
  /** Also run REGISTER_NO_SUBGROUPS. */
  all?: boolean;
  /** A's rows read last to first (a negative row stride). */
  aFlip?: boolean;
}

const CASES: Case[] = [
  { name: '(1,1,1)', batch: 1, m: 1, k: 1, n: 1 },
  { name: '(3,17,129)', batch: 1, m: 3, k: 17, n: 129 },
  { name: '(17,1,3)', batch: 1, m: 17, k: 1, n: 3 },
  { name: '(129,129,129)', batch: 1, m: 129, k: 129, n: 129, all: true },
  { name: '(1000,17,300)', batch: 1, m: 1000, k: 17, n: 300 },
  { name: 'M=128 K=784 N=500 (vec4 everywhere)', batch: 1, m: 128, k: 784, n: 500, all: true },
  { name: 'K = 0 gives zeros', batch: 2, m: 5, k: 0, n: 7 },
  { name: 'N = 1 and M = 1', batch: 1, m: 7, k: 33, n: 1 },
  { name: 'M = 1 row vector', batch: 1, m: 1, k: 33, n: 20 },
  { name: 'transposed A (scalar)', batch: 1, m: 33, k: 20, n: 12, aT: true },
  { name: 'transposed A (vec4 along M)', batch: 1, m: 32, k: 21, n: 12, aT: true },
  { name: 'transposed B (vec4 along K)', batch: 1, m: 17, k: 20, n: 24, bT: true },
  { name: 'transposed B (scalar)', batch: 1, m: 17, k: 19, n: 24, bT: true },
  { name: 'both transposed', batch: 2, m: 24, k: 16, n: 20, aT: true, bT: true },
  { name: 'both transposed, odd', batch: 2, m: 19, k: 13, n: 21, aT: true, bT: true },
  { name: 'offsets (misaligned)', batch: 1, m: 20, k: 24, n: 28, aOff: 3, bOff: 5 },
  { name: 'offsets (4-aligned)', batch: 2, m: 20, k: 24, n: 28, aOff: 4, bOff: 8 },
  { name: 'batch 3, A broadcast', batch: 3, m: 9, k: 12, n: 16, aBcast: true },
  { name: 'batch 3, B broadcast, transposed', batch: 3, m: 12, k: 7, n: 5, bBcast: true, bT: true },
  { name: 'narrow output (register runs it transposed)', batch: 1, m: 200, k: 40, n: 10 },
  { name: 'narrow output, batch 2, odd', batch: 2, m: 130, k: 9, n: 3, bBcast: true },
  { name: 'negative row stride (A flipped)', batch: 2, m: 9, k: 8, n: 12, aFlip: true },
  { name: 'batch 70000 (grid folded into z)', batch: 70000, m: 2, k: 3, n: 2 },
];

/** Deterministic values in [-1, 1). */
function fill(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

interface Operand {
  data: Float32Array;
  strides: [number, number, number];
  offset: number;
  /** Logical element (b, i, j) of the [B, R, C] view. */
  at: (b: number, i: number, j: number) => number;
}

/**
 * A [batch, rows, cols] operand stored row-major, or transposed per batch, after `offset` junk
 * elements; `flip` reads its rows last to first (negative row stride).
 */
function operand(batch: number, rows: number, cols: number, transposed: boolean, offset: number, bcast: boolean, seed: number, flip = false): Operand {
  const stored = bcast ? 1 : batch;
  const data = fill(offset + stored * rows * cols, seed);
  const bs = bcast ? 0 : rows * cols;
  const strides: [number, number, number] = transposed ? [bs, 1, rows] : [bs, cols, 1];
  if (flip) {
    offset += (rows - 1) * strides[1];
    strides[1] = -strides[1];
  }
  return { data, strides, offset, at: (b, i, j) => data[offset + b * strides[0] + i * strides[1] + j * strides[2]]! };
}

function reference(c: Case, A: Operand, B: Operand): { ref: Float64Array; bound: Float64Array } {
  const ref = new Float64Array(c.batch * c.m * c.n);
  const bound = new Float64Array(ref.length);
  for (let b = 0; b < c.batch; b++) {
    for (let i = 0; i < c.m; i++) {
      for (let j = 0; j < c.n; j++) {
        let acc = 0;
        let mag = 0;
        for (let p = 0; p < c.k; p++) {
          const x = A.at(b, i, p) * B.at(b, p, j);
          acc += x;
          mag += Math.abs(x);
        }
        const o = (b * c.m + i) * c.n + j;
        ref[o] = acc;
        // float32 accumulation error grows with the sum of |a·b| terms.
        bound[o] = 1e-4 * mag + 1e-30;
      }
    }
  }
  return { ref, bound };
}

describe('matmul kernels vs float64 reference', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const A = operand(c.batch, c.m, c.k, !!c.aT, c.aOff ?? 0, !!c.aBcast, 11 + c.m, c.aFlip);
      const B = operand(c.batch, c.k, c.n, !!c.bT, c.bOff ?? 0, !!c.bBcast, 97 + c.n);
      const { ref, bound } = reference(c, A, B);
      const sa = be.upload(A.data, 'float32');
      const sb = be.upload(B.data, 'float32');
      const va: View = { storage: sa, shape: [c.batch, c.m, c.k], strides: A.strides, offset: A.offset };
      const vb: View = { storage: sb, shape: [c.batch, c.k, c.n], strides: B.strides, offset: B.offset };
      try {
        for (const [name, cfg] of c.all ? [...VARIANTS, NO_SUBGROUPS] : VARIANTS) {
          const out = matmul(rt, be, va, vb, cfg);
          const got = await be.read({ storage: out, shape: [c.batch, c.m, c.n], strides: [c.m * c.n, c.n, 1], offset: 0 });
          out.release();
          let worst = -1;
          let worstErr = 0;
          for (let i = 0; i < ref.length; i++) {
            const err = Math.abs(got[i]! - ref[i]!);
            if (!(err <= bound[i]!) && (worst < 0 || err / bound[i]! > worstErr)) {
              worst = i;
              worstErr = err / bound[i]!;
            }
          }
          if (worst >= 0) {
            const b = Math.floor(worst / (c.m * c.n));
            const i = Math.floor((worst % (c.m * c.n)) / c.n);
            const j = worst % c.n;
            expect.fail(`matmul forward, variant '${name}', case ${c.name}: worst element [${b}, ${i}, ${j}] = ${got[worst]} vs ${ref[worst]} (error ${worstErr.toFixed(1)}× the bound)`);
          }
        }
      } finally {
        sa.release();
        sb.release();
      }
    });
  }
});

describe('matmul config', () => {
  it("defaults to 'register' on CPU adapters and 'tiled' on GPUs; setMatmulConfig overrides", () => {
    expect(matmulConfig(rt).variant).toBe(isSoftwareAdapter(rt.adapterInfo) ? 'register' : 'tiled');
    expect(isSoftwareAdapter('mesa / software / llvmpipe-llvm-15 / llvmpipe: Mesa 25.0.7')).toBe(true);
    expect(isSoftwareAdapter('nvidia / hopper / NVIDIA H100 80GB HBM3')).toBe(false);
    setMatmulConfig(TILED_DEFAULT);
    expect(matmulConfig(rt)).toBe(TILED_DEFAULT);
    setMatmulConfig(null);
    expect(() => setMatmulConfig({ variant: 'tiled', tileK: 12 as 16 })).toThrow(/tileK/);
  });
});

describe('matmul validation', () => {
  it('rejects misaligned shapes and non-float32 operands before enqueuing', () => {
    const s = be.upload(new Float32Array(12), 'float32');
    const i = be.upload(new Int32Array(12), 'int32');
    const v = (storage: typeof s, shape: number[]): View => ({ storage, shape, strides: [shape[1]! * shape[2]!, shape[2]!, 1], offset: 0 });
    const before = rt.stats.dispatches;
    expect(() => matmul(rt, be, v(s, [1, 3, 4]), v(s, [1, 3, 4]))).toThrow(ShapeError);
    expect(() => matmul(rt, be, v(s, [1, 3, 4]), v(s, [2, 4, 1]))).toThrow(/do not align/);
    expect(() => matmul(rt, be, { storage: s, shape: [3, 4], strides: [4, 1], offset: 0 }, v(s, [1, 4, 3]))).toThrow(/rank-3/);
    expect(() => matmul(rt, be, v(i, [1, 3, 4]), v(s, [1, 4, 3]))).toThrow(DTypeError);
    expect(() => matmul(rt, be, v(s, [1, 3, 4]), v(s, [1, 4, 3]), { variant: 'register', rows: 6, cols: 4, workgroup: 16, subgroups: true })).toThrow(/rows/);
    expect(rt.stats.dispatches).toBe(before);
    s.release();
    i.release();
  });
});
