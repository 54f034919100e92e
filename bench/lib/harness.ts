// Timing and reporting shared by bench/run.ts and bench/soak.ts: webgrad and TensorFlow.js
// timed alternately in one process (so load on a shared machine hits both alike), medians,
// and the results table. Knows nothing of the cases.

/** One side of a comparison: enqueue one op (freeing what it made), and wait for the GPU. */
export interface Side {
  run: () => void;
  sync: () => Promise<void>;
}

export interface TimingOptions {
  quick: boolean;
  /** A sample lasts about this long (runs are repeated back to back, then synced once). */
  sampleMs?: number;
}

/** A side's medians: wall ms per run, and CPU ms of this whole process per run. */
export interface Timing {
  wall: number;
  /**
   * On a CPU adapter (lavapipe) the "GPU" is this process's own threads, so CPU time counts the
   * work of the run itself and barely moves when other jobs share the cores, unlike wall time.
   */
  cpu: number;
}

/** Median ms per run of each side, sampled alternately (A B A B …) after two warm-up runs each. */
export async function timeSides(sides: (Side | null)[], opts: TimingOptions): Promise<(Timing | null)[]> {
  const sampleMs = opts.sampleMs ?? (opts.quick ? 40 : 80);
  const reps: number[] = [];
  for (const s of sides) {
    if (!s) {
      reps.push(0);
      continue;
    }
    // Warm-up: compiles every pipeline (and starts autotuning) before anything is timed.
    s.run();
    await s.sync();
    const t0 = performance.now();
    s.run();
    await s.sync();
    const one = Math.max(performance.now() - t0, 0.005);
    reps.push(Math.max(1, Math.min(500, Math.round(sampleMs / one))));
  }
  const samples: number[][] = sides.map(() => []);
  const cpu: number[][] = sides.map(() => []);
  const want = opts.quick ? 3 : 5;
  const start = performance.now();
  for (let round = 0; round < want || (round < 15 && performance.now() - start < (opts.quick ? 300 : 800)); round++) {
    for (let i = 0; i < sides.length; i++) {
      const s = sides[i];
      if (!s) continue;
      await s.sync();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let r = 0; r < reps[i]!; r++) s.run();
      await s.sync();
      samples[i]!.push((performance.now() - t0) / reps[i]!);
      const c = process.cpuUsage(c0);
      cpu[i]!.push((c.user + c.system) / 1000 / reps[i]!);
    }
    // Very slow cases (a second per run): three rounds are enough.
    if (round >= 2 && performance.now() - start > 20_000) break;
  }
  return samples.map((xs, i) => (xs.length ? { wall: median(xs), cpu: median(cpu[i]!) } : null));
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** A row of the results table. */
export interface Row {
  family: string;
  case: string;
  /** What `work` counts: FLOPs (GFLOP/s), bytes (GB/s) or nothing (ms only). */
  unit: 'GFLOP/s' | 'GB/s' | 'ms' | 'µs/op';
  /** FLOPs or bytes of one run. */
  work: number;
  /** webgrad ms per run (autotuned where the family tunes). */
  webgrad: number | null;
  /** webgrad ms per run with autotuning off (the fixed default), where it differs. */
  webgradDefault?: number | null;
  /** What the tuner chose, for families it tunes. */
  choice?: string;
  /** TensorFlow.js webgpu ms per run; null when not compared. */
  tf: number | null;
  /** CPU ms of the process per run, webgrad and TF.js (see Timing.cpu). */
  webgradCpu?: number | null;
  tfCpu?: number | null;
  note?: string;
}

export function rate(row: Row, ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  if (row.unit === 'GFLOP/s') return `${(row.work / ms / 1e6).toFixed(2)} GFLOP/s`;
  if (row.unit === 'GB/s') return `${(row.work / ms / 1e6).toFixed(2)} GB/s`;
  if (row.unit === 'µs/op') return `${(ms * 1000).toFixed(1)} µs/op`;
  return '';
}

export function ratio(row: Row): string {
  return row.webgrad && row.tf ? `${(row.tf / row.webgrad).toFixed(2)}×` : '-';
}

/** The same ratio in CPU time of the process (steadier on a loaded machine with a CPU adapter). */
export function cpuRatio(row: Row): string {
  return row.webgradCpu && row.tfCpu ? `${(row.tfCpu / row.webgradCpu).toFixed(2)}×` : '-';
}

const fmtMs = (ms: number | null | undefined): string => (ms === null || ms === undefined ? '-' : ms < 0.1 ? ms.toFixed(4) : ms < 10 ? ms.toFixed(3) : ms.toFixed(1));

/** The table as aligned text (console) or Markdown (README). */
export function table(rows: Row[], markdown: boolean): string {
  const head = ['family', 'case', 'webgrad ms', 'webgrad rate', 'default ms', 'TF.js ms', 'TF.js rate', '× TF.js (wall)', '× TF.js (CPU time)', 'autotuned choice'];
  const body = rows.map((r) => [
    r.family, r.case, fmtMs(r.webgrad), rate(r, r.webgrad), r.webgradDefault === undefined ? '' : fmtMs(r.webgradDefault), fmtMs(r.tf), rate(r, r.tf), ratio(r), cpuRatio(r),
    [r.choice, r.note].filter(Boolean).join('; '),
  ]);
  if (markdown) {
    const esc = (s: string): string => s.replace(/\|/g, '\\|');
    return [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i >= 2 && i <= 8 ? ' ---: ' : ' --- ')).join('|')}|`, ...body.map((l) => `| ${l.map(esc).join(' | ')} |`)].join('\n');
  }
  const all = [head, ...body];
  const w = head.map((_, c) => Math.max(...all.map((l) => l[c]!.length)));
  return all.map((l) => l.map((x, c) => (c >= 2 && c <= 8 ? x.padStart(w[c]!) : x.padEnd(w[c]!))).join('  ').trimEnd()).join('\n');
}
