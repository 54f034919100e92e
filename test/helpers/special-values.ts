// The special-value harness: runs one computation on WebGPU and on the float64 CPU reference
// with inputs holding NaN, ±Inf, ±0, subnormals and ±1e30, and compares every output element
// under one rule (`sameValue`). test/ops/special-values.test.ts holds the table of cases.
//
// The rule, defined once:
//  - the reference value is rounded to float32 first (the GPU computes in float32);
//  - NaN must meet NaN, an infinity the same infinity (sign included);
//  - finite values agree within atol + rtol·(|want| + scale), scale being what a reduction
//    summed (Σ|terms| of the finite terms; 0 for elementwise ops); the sign of a zero is free;
//  - integer and bool outputs agree exactly.
// WGSL lets an implementation flush subnormal inputs to zero, so where an input holds a
// subnormal, the reference is also computed with it flushed to ±0 and either result is accepted.

import { afterAll, expect } from 'vitest';
import { writeFileSync } from 'node:fs';
import { tensor, type Tensor, type DType } from '../../src/index.ts';

/** The special values every case is built from (float32-rounded), in a fixed order. */
export const SPECIAL: readonly number[] = [NaN, Infinity, -Infinity, 0, -0, 1e-40, -1e-40, 1e30, -1e30, 1, -1].map(Math.fround);

/** The column of the before → after table a value counts in. */
export type ValueClass = 'NaN' | '+Inf' | '-Inf' | '±0' | 'subnormal' | '±1e30' | '±1' | 'ordinary';

/** Smallest normal float32. */
const MIN_NORMAL = 2 ** -126;

export function valueClass(v: number): ValueClass {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return '±0';
  const a = Math.abs(v);
  if (a < MIN_NORMAL) return 'subnormal';
  if (a === Math.fround(1e30)) return '±1e30';
  if (a === 1) return '±1';
  return 'ordinary';
}

/** An input tensor of a case: its values (row-major), shape and dtype; `grad` asks for its gradient. */
export interface Arg {
  values: ArrayLike<number>;
  shape: readonly number[];
  dtype?: DType;
  grad?: boolean;
}

export interface Tolerance {
  atol: number;
  rtol: number;
}

/** Float32 tolerance of elementwise ops. */
export const TOL: Tolerance = { atol: 2e-6, rtol: 2e-5 };

/** One computation checked at special values. */
export interface Case {
  /** Row of the report table (the op), e.g. 'unary relu'. */
  row: string;
  /** The variant (kernel path, layout, option) inside the row, for messages. */
  variant: string;
  args: Arg[];
  /** The outputs to compare; run on each backend with the args uploaded there. */
  run: (xs: Tensor[]) => Tensor | Tensor[];
  /** Backpropagate ones from the first output and compare the gradients of the `grad` args too. */
  backward?: boolean;
  /**
   * Classes behind element `i` of compared output `k` (the outputs, then the gradients of the
   * `grad` args in order, those that got one). Default: the values at position i of every arg of that many elements.
   */
  classes?: (k: number, i: number) => ValueClass[] | undefined;
  /**
   * Elements not compared, each with its reason in the case's table: where float32 itself cannot
   * hold an intermediate that the float64 reference keeps (torch's float32 result is the GPU's there).
   */
  skip?: (k: number, i: number) => boolean;
  /** Per-element scale of the tolerance (what a reduction summed), by compared output. */
  scale?: (k: number, i: number) => number;
  tol?: Tolerance;
}

interface Evaluated {
  values: (Float32Array | Float64Array | Int32Array)[];
  dtypes: DType[];
}

function flushSubnormals(values: ArrayLike<number>): number[] {
  return Array.from(values, (v) => (v !== 0 && Math.abs(v) < MIN_NORMAL ? (v < 0 ? -0 : 0) : v));
}

async function evaluate(c: Case, device: 'cpu' | 'webgpu', flush: boolean): Promise<Evaluated> {
  const xs = c.args.map((a) =>
    tensor(Array.from(flush ? flushSubnormals(a.values) : a.values, (v) => ((a.dtype ?? 'float32') === 'float32' ? Math.fround(v) : v)), {
      shape: a.shape,
      dtype: a.dtype ?? 'float32',
      device,
      requiresGrad: !!a.grad,
    }),
  );
  const made: Tensor[] = [];
  try {
    const out = c.run(xs);
    const outs = Array.isArray(out) ? out : [out];
    made.push(...outs);
    const compared = [...outs];
    if (c.backward) {
      const y = outs[0]!;
      const ones = y.onesLike();
      made.push(ones);
      y.backward(ones);
      // An input the outputs do not depend on gets no gradient (as in torch): nothing to compare.
      for (const [k, a] of c.args.entries()) if (a.grad && xs[k]!.grad) compared.push(xs[k]!.grad!);
    }
    const values = await Promise.all(compared.map((t) => t.data()));
    return { values, dtypes: compared.map((t) => t.dtype) };
  } finally {
    for (const t of made) t.dispose();
    for (const x of xs) x.dispose();
  }
}

/** True when `got` (float32 from the GPU) stands for `want` (a float64 reference value) under the rule above. */
export function sameValue(got: number, want: number, dtype: DType, tol: Tolerance, scale = 0): boolean {
  if (dtype !== 'float32') return got === want;
  const w = Math.fround(want);
  if (Number.isNaN(w)) return Number.isNaN(got);
  if (!Number.isFinite(w)) return got === w;
  if (!Number.isFinite(got)) return false;
  return Math.abs(got - w) <= tol.atol + tol.rtol * (Math.abs(w) + scale);
}

/** One element that disagrees. */
export interface Mismatch {
  output: number;
  index: number;
  got: number;
  want: number;
  classes: ValueClass[];
}

/** Counts by value class: elements compared and elements that disagree. */
export type ClassCounts = Partial<Record<ValueClass, { total: number; bad: number }>>;

/** Every (row → class → counts) seen so far in this process; the test writes it out on request. */
export const REPORT = new Map<string, ClassCounts>();

function defaultClasses(c: Case, outNumel: number, i: number): ValueClass[] {
  const cls = c.args.filter((a) => a.values.length === outNumel && (a.dtype ?? 'float32') === 'float32').map((a) => valueClass(Math.fround(a.values[i]!)));
  return cls.length ? cls : ['ordinary'];
}

/** Runs `c` on both backends and returns the elements that disagree (and records them in REPORT). */
export async function checkCase(c: Case): Promise<Mismatch[]> {
  const gpu = await evaluate(c, 'webgpu', false);
  const ref = await evaluate(c, 'cpu', false);
  const hasSubnormal = c.args.some((a) => Array.from(a.values).some((v) => valueClass(Math.fround(v)) === 'subnormal'));
  const flushed = hasSubnormal ? await evaluate(c, 'cpu', true) : null;
  const tol = c.tol ?? TOL;
  const counts = REPORT.get(c.row) ?? {};
  REPORT.set(c.row, counts);
  const bad: Mismatch[] = [];
  gpu.values.forEach((g, k) => {
    const r = ref.values[k]!;
    if (g.length !== r.length) throw new Error(`${c.row} (${c.variant}): output ${k} has ${g.length} elements on WebGPU, ${r.length} on the CPU`);
    for (let i = 0; i < g.length; i++) {
      if (c.skip?.(k, i)) continue;
      const scale = c.scale?.(k, i) ?? 0;
      const ok = sameValue(g[i]!, r[i]!, gpu.dtypes[k]!, tol, scale) || (flushed !== null && sameValue(g[i]!, flushed.values[k]![i]!, gpu.dtypes[k]!, tol, scale));
      const classes = c.classes?.(k, i) ?? defaultClasses(c, g.length, i);
      for (const cl of new Set(classes)) {
        const e = (counts[cl] ??= { total: 0, bad: 0 });
        e.total++;
        if (!ok) e.bad++;
      }
      if (!ok) bad.push({ output: k, index: i, got: g[i]!, want: r[i]!, classes });
    }
  });
  return bad;
}

/** Runs `c` and fails the test (softly: the other cases still run and count) with the mismatches listed. */
export async function expectAgrees(c: Case): Promise<void> {
  const bad = await checkCase(c);
  expect.soft(bad.length, describe(c, bad)).toBe(0);
}

/**
 * With SPECIAL_VALUES_REPORT=file set, writes this process's counts (op → value class →
 * compared, bad) to `file.<name>.json` when the test file ends: the before → after table.
 */
export function writeReportAfterAll(name: string): void {
  afterAll(() => {
    const file = process.env.SPECIAL_VALUES_REPORT;
    if (file) writeFileSync(`${file}.${name}.json`, JSON.stringify(Object.fromEntries(REPORT), null, 1));
  });
}

/** A readable list of the first few mismatches of a case. */
export function describe(c: Case, bad: readonly Mismatch[]): string {
  const lines = bad.slice(0, 8).map((m) => `  output ${m.output}[${m.index}] (${m.classes.join(', ')}): WebGPU ${m.got}, reference ${Math.fround(m.want)}`);
  return `${c.row} (${c.variant}): ${bad.length} element(s) differ from the float64 reference\n${lines.join('\n')}${bad.length > 8 ? '\n  …' : ''}`;
}

// ---- input builders --------------------------------------------------------------------------

/** SPECIAL padded with 0.5 to a multiple of 4 (so contiguous maps take the vec4 path). */
export const S12: readonly number[] = [...SPECIAL, 0.5];

/** Every ordered pair of special values, as two aligned lists (padded with 0.5 to a multiple of 4). */
export function pairs(): { a: number[]; b: number[] } {
  const a: number[] = [];
  const b: number[] = [];
  for (const x of SPECIAL) for (const y of SPECIAL) (a.push(x), b.push(y));
  while (a.length % 4) (a.push(0.5), b.push(0.5));
  return { a, b };
}

/** n seeded ordinary values in [lo, hi) (an LCG, so every run sees the same numbers). */
export function ordinary(n: number, seed = 1, lo = -2, hi = 2): number[] {
  let s = (seed * 2654435761) >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.fround(lo + (s / 2 ** 32) * (hi - lo));
  });
}
