// The WGSL reduce kernels against float64 loops written here: every op over blocks of 1, 3,
// 17, 129, 1000 and 4M elements, several reduced dims, permuted, broadcast (0-stride) and
// offset views, int32 and bool input, ties, NaN, empty blocks. The battery runs under three
// launch tunings so every variant (one thread per output, lanes + tree, split into partials)
// is checked whatever the adapter would pick by default.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { acquireDevice } from '../../src/device/acquire.ts';
import { GpuRuntime } from '../../src/device/runtime.ts';
import { createWebgpuBackend } from '../../src/kernels/index.ts';
import { reduceTuning } from '../../src/kernels/reduce.ts';
import type { Backend, ReduceOp, Storage, View } from '../../src/backend/types.ts';
import type { DType } from '../../src/dtype.ts';
import { contiguousStrides } from '../../src/shape.ts';

let rt: GpuRuntime;
let be: Backend;

beforeAll(async () => {
  const { device, adapterInfo } = await acquireDevice();
  rt = new GpuRuntime(device, adapterInfo);
  be = createWebgpuBackend(rt);
});
afterAll(() => rt?.destroy());

const DEFAULT_TUNING = structuredClone(reduceTuning);
afterEach(() => Object.assign(reduceTuning, structuredClone(DEFAULT_TUNING)));

const TUNINGS: [string, () => void][] = [
  ['default launch', () => {}],
  // Every block of 2+ elements through lanes + tree, one lane per element up to 256.
  ['tree forced', () => Object.assign(reduceTuning, { seqMax: 1, perLane: { software: 1, hardware: 1 } })],
  // Every block over 2 × 32 elements split into chunks of 32 and reduced twice.
  ['split forced', () => Object.assign(reduceTuning, { splitChunk: 32, splitMaxOutputs: Infinity })],
];

const OPS: ReduceOp[] = ['sum', 'mean', 'max', 'min', 'prod', 'argmax', 'argmin'];

/** Deterministic values in [-1, 1) (rounded to float32, so the reference sees what the GPU sees). */
function fill(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

interface Input {
  data: ArrayLike<number>;
  dtype: DType;
  shape: number[];
  strides?: number[];
  offset?: number;
}

/** The logical elements of each reduced block, in row-major order (float64). */
function blocks(inp: Input, reduceRank: number): number[][] {
  const { shape, data } = inp;
  const strides = inp.strides ?? contiguousStrides(shape);
  const rank = shape.length;
  const outer = shape.slice(0, rank - reduceRank).reduce((a, b) => a * b, 1);
  const n = shape.slice(rank - reduceRank).reduce((a, b) => a * b, 1);
  const res: number[][] = [];
  for (let o = 0; o < outer; o++) {
    const block: number[] = [];
    for (let j = 0; j < n; j++) {
      let flat = o * n + j;
      let off = inp.offset ?? 0;
      for (let d = rank - 1; d >= 0; d--) {
        off += (flat % shape[d]!) * strides[d]!;
        flat = Math.floor(flat / shape[d]!);
      }
      block.push(Number(data[off]));
    }
    res.push(block);
  }
  return res;
}

/** torch semantics in float64: NaN propagates through max/min and wins arg reductions (first one). */
function refReduce(op: ReduceOp, b: number[], isInt: boolean): number {
  switch (op) {
    case 'sum':
      return isInt ? b.reduce((a, v) => (a + v) | 0, 0) : b.reduce((a, v) => a + v, 0);
    case 'mean':
      return b.reduce((a, v) => a + v, 0) / b.length;
    case 'prod':
      return isInt ? b.reduce((a, v) => Math.imul(a, v), 1) : b.reduce((a, v) => a * v, 1);
    case 'max':
    case 'min': {
      if (b.some(Number.isNaN)) return NaN;
      return b.reduce((a, v) => (op === 'max' ? Math.max(a, v) : Math.min(a, v)));
    }
    case 'argmax':
    case 'argmin': {
      let best = 0;
      for (let j = 0; j < b.length; j++) {
        if (Number.isNaN(b[j]!)) return j;
        if (op === 'argmax' ? b[j]! > b[best]! : b[j]! < b[best]!) best = j;
      }
      return best;
    }
  }
}

/** Allowed |gpu − ref| for one output: float32 accumulation error grows with Σ|x| (sum) or n (prod). */
function tolerance(op: ReduceOp, b: number[], ref: number, isInt: boolean): number {
  const mag = b.reduce((a, v) => a + Math.abs(v), 0);
  // mean is float even for int input (sum × f32(1/n)).
  if (op === 'mean') return (1e-5 * mag) / b.length + 1e-6;
  if (isInt || op === 'max' || op === 'min' || op === 'argmax' || op === 'argmin') return 0;
  if (op === 'sum') return 1e-5 * mag + 1e-6;
  return 1e-6 * b.length * Math.abs(ref) + 1e-30; // prod
}

function outDtypeOf(op: ReduceOp, dtype: DType): DType {
  if (op === 'argmax' || op === 'argmin') return 'int32';
  if (op === 'mean') return 'float32';
  if (op === 'max' || op === 'min') return dtype;
  return dtype === 'float32' ? 'float32' : 'int32';
}

async function run(op: ReduceOp, inp: Input, reduceRank: number, storage?: Storage): Promise<{ got: ArrayLike<number> }> {
  const st = storage ?? be.upload(inp.data, inp.dtype);
  const x: View = { storage: st, shape: inp.shape, strides: inp.strides ?? contiguousStrides(inp.shape), offset: inp.offset ?? 0 };
  const out = be.reduce(op, x, reduceRank, outDtypeOf(op, inp.dtype));
  try {
    const got = await be.read({ storage: out, shape: [out.numel], strides: [1], offset: 0 });
    return { got };
  } finally {
    out.release();
    if (!storage) st.release();
  }
}

/** Runs `op` on the GPU and compares every output with the float64 reference; names the worst element. */
async function check(op: ReduceOp, inp: Input, reduceRank: number, storage?: Storage): Promise<void> {
  const isInt = inp.dtype !== 'float32';
  const bs = blocks(inp, reduceRank);
  const { got } = await run(op, inp, reduceRank, storage);
  expect(got.length, `${op} over shape [${inp.shape}] reducing ${reduceRank}: output length`).toBe(bs.length);
  let worst = -1;
  let worstErr = 0;
  for (let o = 0; o < bs.length; o++) {
    const ref = refReduce(op, bs[o]!, isInt);
    const g = got[o]!;
    if (Number.isNaN(ref) || Number.isNaN(g)) {
      if (Number.isNaN(ref) !== Number.isNaN(g)) {
        worst = o;
        worstErr = Infinity;
        break;
      }
      continue;
    }
    const err = Math.abs(g - ref) - tolerance(op, bs[o]!, ref, isInt);
    if (err > worstErr) {
      worstErr = err;
      worst = o;
    }
  }
  if (worst >= 0) {
    const ref = refReduce(op, bs[worst]!, isInt);
    expect.fail(
      `${op} (${inp.dtype}) over shape [${inp.shape}] strides [${inp.strides ?? 'contiguous'}] reducing last ${reduceRank}: ` +
        `output ${worst} is ${got[worst]} but the float64 reference is ${ref} (tolerance ${tolerance(op, bs[worst]!, ref, isInt)})`,
    );
  }
}

const LENGTHS = [1, 3, 17, 129, 1000];

for (const [tuningName, tune] of TUNINGS) {
  describe(`reduce (${tuningName})`, () => {
    for (const op of OPS) {
      it(`${op}: contiguous rows of ${LENGTHS.join(', ')}`, async () => {
        tune();
        for (const n of LENGTHS) {
          const rows = n === 1 ? 5 : 7;
          // prod stays finite with values near 1.
          const data = op === 'prod' ? fill(rows * n, n).map((v) => 1 + v / 64) : fill(rows * n, n);
          await check(op, { data, dtype: 'float32', shape: [rows, n] }, 1);
        }
      });

      it(`${op}: several reduced dims, permuted, broadcast, offset, all dims`, async () => {
        tune();
        const base = fill(6 * 5 * 7, 7);
        const data = op === 'prod' ? base.map((v) => 1 + v / 64) : base;
        // [6, 5, 7] contiguous, reduce the last two and all three.
        await check(op, { data, dtype: 'float32', shape: [6, 5, 7] }, 2);
        await check(op, { data, dtype: 'float32', shape: [6, 5, 7] }, 3);
        // Permuted to [7, 6, 5] (strides [1, 35, 7]): the reduced dims do not merge.
        await check(op, { data, dtype: 'float32', shape: [7, 6, 5], strides: [1, 35, 7] }, 2);
        // A column reduction: [7, 30] view of a [30, 7] matrix.
        await check(op, { data, dtype: 'float32', shape: [7, 30], strides: [1, 7] }, 1);
        // Broadcast rows (0-stride kept dim) and a broadcast reduced dim.
        await check(op, { data, dtype: 'float32', shape: [4, 35], strides: [0, 1] }, 1);
        await check(op, { data, dtype: 'float32', shape: [35, 40], strides: [1, 0] }, 1);
        // An offset, strided window: rows 1.. of every other column.
        await check(op, { data, dtype: 'float32', shape: [3, 4, 5], strides: [2, 42, 7], offset: 8 }, 2);
        // Reducing nothing: every output is its element (or its position, 0).
        await check(op, { data, dtype: 'float32', shape: [6, 35] }, 0);
      });
    }

    it('int32 and bool input: wrapping int sum/prod, exact max/min/arg, mean in float', async () => {
      tune();
      const ints = Array.from(fill(9 * 40, 3), (v) => Math.round(v * 1000));
      for (const op of OPS) await check(op, { data: ints, dtype: 'int32', shape: [9, 40] }, 1);
      // Big values: the int32 sum wraps like the reference's `| 0`.
      const big = Array.from({ length: 40 }, (_, i) => 2 ** 30 + i);
      await check('sum', { data: big, dtype: 'int32', shape: [2, 20] }, 1);
      await check('prod', { data: big, dtype: 'int32', shape: [4, 10] }, 1);
      const bools = Array.from(fill(8 * 33, 4), (v) => (v > 0.3 ? 1 : 0));
      for (const op of OPS) await check(op, { data: bools, dtype: 'bool', shape: [8, 33] }, 1);
    });

    it('ties: arg reductions return the first occurrence', async () => {
      tune();
      for (const n of [4, 17, 129, 1000]) {
        // Row 0 all equal → 0 for both; row 1 has its max at n/4 and n-1, its min at n/2 and n/2+1.
        const data = new Float32Array(2 * n).fill(0.5);
        const n4 = Math.floor(n / 4);
        const n2 = Math.floor(n / 2);
        data.fill(0.5, n).fill(2, n + n4, n + n4 + 1).fill(2, 2 * n - 1).fill(-2, n + n2, n + n2 + 2);
        const shape = [2, n];
        expect(Array.from((await run('argmax', { data, dtype: 'float32', shape }, 1)).got), `argmax n=${n}`).toEqual([0, n4]);
        expect(Array.from((await run('argmin', { data, dtype: 'float32', shape }, 1)).got), `argmin n=${n}`).toEqual([0, n2]);
        // Integers tie exactly too.
        const ints = Array.from(data, (v) => Math.round(v * 2));
        expect(Array.from((await run('argmax', { data: ints, dtype: 'int32', shape }, 1)).got), `int argmax n=${n}`).toEqual([0, n4]);
      }
    });

    it('NaN propagates through max/min/sum and its first position wins arg reductions', async () => {
      tune();
      for (const n of [3, 17, 1000]) {
        const data = fill(3 * n, n);
        data[Math.floor(n / 2)] = NaN; // row 0: one NaN
        data[n + n - 1] = NaN; // row 1: NaN last
        data[n + 1] = NaN; // … and earlier
        for (const op of OPS) await check(op, { data, dtype: 'float32', shape: [3, n] }, 1);
      }
      // ±Infinity are ordinary values.
      const inf = new Float32Array([1, Infinity, -Infinity, 2, -Infinity, 0]);
      for (const op of OPS) await check(op, { data: inf, dtype: 'float32', shape: [2, 3] }, 1);
    });
  });
}

describe('reduce: long blocks', () => {
  it('sums 4M floats (4096·1024) to one scalar, and their mean', async () => {
    const data = fill(4096 * 1024, 11).map((v) => v + 0.25);
    const s = be.upload(data, 'float32');
    try {
      for (const op of ['sum', 'mean'] as const) await check(op, { data, dtype: 'float32', shape: [4096, 1024] }, 2, s);
      // Four rows of 1M: the split path with several outputs.
      await check('sum', { data, dtype: 'float32', shape: [4, 1024 * 1024] }, 1, s);
      // Max and argmax of 4M: partial (value, position) pairs.
      await check('max', { data, dtype: 'float32', shape: [4096 * 1024] }, 1, s);
      await check('argmax', { data, dtype: 'float32', shape: [4096 * 1024] }, 1, s);
    } finally {
      s.release();
    }
  });

  it('argmin of a long block with its minimum repeated picks the first, and NaN wins', async () => {
    const n = 100_003;
    const data = fill(n, 5);
    data[70_000] = -5;
    data[90_000] = -5;
    data[95_000] = -5;
    expect(Array.from((await run('argmin', { data, dtype: 'float32', shape: [n] }, 1)).got)).toEqual([70_000]);
    data[99_999] = NaN;
    expect(Array.from((await run('argmin', { data, dtype: 'float32', shape: [n] }, 1)).got)).toEqual([99_999]);
    expect(Array.from((await run('min', { data, dtype: 'float32', shape: [n] }, 1)).got)).toEqual([NaN]);
  });

  it('folds the grid past 65535 workgroups (70000 outputs of 129, one per workgroup)', async () => {
    Object.assign(reduceTuning, { seqMax: 1, perLane: { software: 1, hardware: 1 } });
    const row = fill(129, 9);
    // 0-stride rows: 70000 × 129 logical elements over 129 stored ones.
    const inp: Input = { data: row, dtype: 'float32', shape: [70_000, 129], strides: [0, 1] };
    const { got } = await run('argmax', inp, 1);
    const want = refReduce('argmax', Array.from(row), false);
    expect(got.length).toBe(70_000);
    expect(Array.from(got).every((v) => v === want)).toBe(true);
  });
});

describe('reduce: empty blocks and outputs', () => {
  it('sum → 0, prod → 1, mean → NaN over an empty dimension', async () => {
    const inp: Input = { data: [], dtype: 'float32', shape: [3, 0] };
    expect(Array.from((await run('sum', inp, 1)).got)).toEqual([0, 0, 0]);
    expect(Array.from((await run('prod', inp, 1)).got)).toEqual([1, 1, 1]);
    expect(Array.from((await run('mean', inp, 1)).got)).toEqual([NaN, NaN, NaN]);
    expect(Array.from((await run('sum', { data: [], dtype: 'int32', shape: [0] }, 1)).got)).toEqual([0]);
  });

  it('max/min/argmax/argmin over an empty dimension throw naming the op', async () => {
    const s = be.upload([], 'float32');
    for (const op of ['max', 'min', 'argmax', 'argmin'] as const) {
      expect(() => be.reduce(op, { storage: s, shape: [2, 0], strides: [0, 1], offset: 0 }, 1, 'float32')).toThrow(
        new RegExp(`^${op}: cannot reduce over an empty dimension`),
      );
    }
    s.release();
  });

  it('no outputs: an empty result without a dispatch', async () => {
    const s = be.upload([], 'float32');
    const out = be.reduce('max', { storage: s, shape: [0, 4], strides: [4, 1], offset: 0 }, 1, 'float32');
    expect(out.numel).toBe(0);
    out.release();
    s.release();
  });

  it('rejects a reduceRank beyond the rank', () => {
    const s = be.upload([1, 2], 'float32');
    expect(() => be.reduce('sum', { storage: s, shape: [2], strides: [1], offset: 0 }, 2, 'float32')).toThrow(/sum: cannot reduce the last 2 dims/);
    s.release();
  });
});
