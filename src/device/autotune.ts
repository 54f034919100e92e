// Per-adapter kernel selection: when a kernel family meets a shape class for the first time, it
// hands the tuner its candidate variants and a closure that runs one of them on the real operands
// (into scratch outputs); the tuner times each in its own compute pass with GPU timestamps and
// remembers the fastest, in memory and, in Node, in ~/.cache/webgrad/autotune-<adapter hash>.json.
// Ops stay synchronous: the call that starts a tune runs the default, the timings arrive with the
// batch, and later calls use the winner (`settle()` waits for pending tunes). Knows nothing of
// what the candidates compute.
//
// WEBGRAD_AUTOTUNE=0 (or init({ autotune: false })) turns it off: every family then uses its
// fixed default, deterministically (the test suite runs so). WEBGRAD_AUTOTUNE=fresh ignores the
// file and measures again. Without the 'timestamp-query' feature nothing is tuned.

/** A variant a kernel family may run: `key` names it in the cache file, `value` is its config. */
export interface Candidate<T> {
  readonly key: string;
  readonly value: T;
}

/** What the tuner decided for one family and shape class (for benchmarks and reports). */
export interface TuneRecord {
  family: string;
  shapeClass: string;
  /** Key of the chosen candidate. */
  choice: string;
  /** Key of the fixed default. */
  fallback: string;
  /** Fastest ms per run of each candidate as measured (empty when the choice came from the file). */
  ms: Record<string, number>;
}

/** 'off': fixed defaults; 'on': tune, reusing the file cache; 'fresh': tune, ignoring the file. */
export type AutotuneMode = 'off' | 'on' | 'fresh';

/** What the tuner needs from the runtime (kept narrow so this file does not import it). */
export interface TimingHost {
  /** True when GPU timestamps are available. */
  readonly canTime: boolean;
  readonly adapterInfo: string;
  /** Runs `fn`'s dispatches in a compute pass of their own and resolves with its GPU time in ms. */
  timed(fn: () => void): Promise<number>;
  /** Submits what is recorded. */
  flush(): void;
}

/** The mode WEBGRAD_AUTOTUNE asks for ('on' when unset, and in browsers). */
export function envAutotuneMode(): AutotuneMode {
  const v = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.WEBGRAD_AUTOTUNE;
  if (v === undefined || v === '') return 'on';
  if (/^(0|off|false|no)$/i.test(v)) return 'off';
  if (/^fresh$/i.test(v)) return 'fresh';
  return 'on';
}

/** FNV-1a of a string, as 8 hex digits: names the cache file of an adapter. */
export function adapterHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** Bumped when kernels change enough that cached choices should be measured again. */
const FILE_VERSION = 2;
/** Timed runs per candidate (after one untimed warm-up that pays the first-dispatch JIT). */
const TRIALS = 3;
/** A candidate replaces the default only when this much faster (noise guard: ties keep the default). */
const MARGIN = 0.95;

/**
 * True when timings `a` beat `b` (trial t of each ran in the same interleaved round): a's fastest
 * run is MARGIN faster than b's, its median is lower too, and it won most rounds. The fastest run
 * alone let one burst of load on a shared CPU adapter, landing on b's runs, crown a slower
 * variant (a conv2d tune picked a variant 25 % slower than the default, bench/run.ts).
 */
export function beats(a: readonly number[], b: readonly number[]): boolean {
  const med = (xs: readonly number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
  const rounds = Math.min(a.length, b.length);
  let won = 0;
  for (let t = 0; t < rounds; t++) if (a[t]! < b[t]!) won++;
  return Math.min(...a) < Math.min(...b) * MARGIN && med(a) < med(b) && won * 2 > rounds;
}

interface FileShape {
  version: number;
  adapter: string;
  choices: Record<string, string>;
}

/** Node's fs/os/path, loaded without a static import so browser bundles never see them. */
async function nodeModules(): Promise<{ fs: typeof import('node:fs/promises'); os: typeof import('node:os'); path: typeof import('node:path') } | null> {
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  if (!isNode) return null;
  try {
    const [fs, os, path] = ['node:fs/promises', 'node:os', 'node:path'];
    return {
      fs: (await import(/* @vite-ignore */ fs)) as typeof import('node:fs/promises'),
      os: (await import(/* @vite-ignore */ os)) as typeof import('node:os'),
      path: (await import(/* @vite-ignore */ path)) as typeof import('node:path'),
    };
  } catch {
    return null;
  }
}

export class Autotuner {
  mode: AutotuneMode;
  /** family|class → chosen candidate key. */
  private readonly choices = new Map<string, string>();
  private readonly records = new Map<string, TuneRecord>();
  private readonly pending = new Map<string, Promise<void>>();
  private filePath: string | null = null;
  private saving: Promise<void> = Promise.resolve();
  /** Tunes started (for tests and benchmarks). */
  tunes = 0;
  /** Every tuned choice served since last cleared, "family|class" → chosen and default keys (benchmarks show it). */
  readonly used = new Map<string, { choice: string; fallback: string }>();

  constructor(
    private readonly host: TimingHost,
    mode: AutotuneMode = envAutotuneMode(),
    /** Folder of the cache file in Node (default ~/.cache/webgrad; WEBGRAD_CACHE_DIR overrides). */
    private readonly cacheDir: string | null = null,
  ) {
    this.mode = mode;
  }

  /** The cache file's path (Node, once load() ran), or null. */
  get file(): string | null {
    return this.filePath;
  }

  /** Reads the cache file of this adapter (Node only; a missing or stale file is ignored). */
  async load(): Promise<void> {
    const m = await nodeModules();
    if (!m) return;
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
    const dir = this.cacheDir ?? env.WEBGRAD_CACHE_DIR ?? m.path.join(env.XDG_CACHE_HOME ?? m.path.join(m.os.homedir(), '.cache'), 'webgrad');
    this.filePath = m.path.join(dir, `autotune-${adapterHash(this.host.adapterInfo)}.json`);
    if (this.mode !== 'on') return;
    try {
      const data = JSON.parse(await m.fs.readFile(this.filePath, 'utf8')) as FileShape;
      if (data.version !== FILE_VERSION || data.adapter !== this.host.adapterInfo) return;
      for (const [k, v] of Object.entries(data.choices)) if (typeof v === 'string' && !this.choices.has(k)) this.choices.set(k, v);
    } catch {
      // No file yet, or unreadable: tune from scratch.
    }
  }

  /**
   * The candidate to run for `family` on `shapeClass`. With tuning off (or no timestamps, or
   * one candidate) that is `fallback`; once measured, the fastest; while a tune is pending,
   * `fallback`. The first call for a class starts the tune: each candidate runs through
   * `bench` (which must dispatch it on scratch outputs) once untimed, then TRIALS times timed.
   */
  choose<T>(
    family: string, shapeClass: string, candidates: readonly Candidate<T>[], fallback: Candidate<T>, bench: (value: T) => void,
    /** Timed runs per candidate (default 3; cheap problems afford more, which steadies the pick on a busy machine). */
    trials = TRIALS,
  ): T {
    if (this.mode === 'off' || !this.host.canTime || candidates.length < 2) return fallback.value;
    const id = `${family}|${shapeClass}`;
    const chosen = this.choices.get(id);
    if (chosen !== undefined) {
      const c = candidates.find((x) => x.key === chosen);
      if (c) {
        const u = this.used.get(id);
        if (u?.choice !== c.key || u.fallback !== fallback.key) this.used.set(id, { choice: c.key, fallback: fallback.key });
        return c.value;
      }
      this.choices.delete(id); // a stale entry (the candidates changed): measure again
    }
    if (this.pending.has(id)) return fallback.value;
    this.tunes++;
    // Warm-ups first (they pay each pipeline's first-dispatch compile), then the timed runs
    // interleaved A B C A B C…, so a burst of load from elsewhere hits every candidate alike;
    // each candidate's fastest run counts (noise only ever adds time).
    for (const c of candidates) void this.host.timed(() => bench(c.value)).catch(() => 0);
    const timings: Promise<number>[][] = candidates.map(() => []);
    for (let t = 0; t < trials; t++) candidates.forEach((c, i) => timings[i]!.push(this.host.timed(() => bench(c.value))));
    const runs = timings.map((t) => Promise.all(t));
    const done = Promise.all(runs).then(
      (times) => {
        const ms: Record<string, number> = {};
        const best = times.map((t) => Math.min(...t));
        candidates.forEach((c, i) => (ms[c.key] = best[i]!));
        const fb = candidates.findIndex((c) => c.key === fallback.key);
        let win = fb >= 0 ? fb : 0;
        best.forEach((_, i) => {
          if (i !== win && beats(times[i]!, times[win]!)) win = i;
        });
        this.choices.set(id, candidates[win]!.key);
        this.records.set(id, { family, shapeClass, choice: candidates[win]!.key, fallback: fallback.key, ms });
        this.pending.delete(id);
        this.scheduleSave();
      },
      () => {
        this.pending.delete(id); // device lost or a failed batch: leave the default in place
      },
    );
    this.pending.set(id, done);
    return fallback.value;
  }

  /** Waits until every started tune has its timings (submits recorded work first). */
  async settle(): Promise<void> {
    while (this.pending.size) {
      this.host.flush();
      await Promise.all(this.pending.values());
    }
    await this.saving;
  }

  /** What was tuned in this process (and what each candidate measured). */
  report(): TuneRecord[] {
    return [...this.records.values()];
  }

  /** Every choice known, from this process or the cache file: "family|class" → candidate key. */
  snapshot(): Record<string, string> {
    return Object.fromEntries(this.choices);
  }

  /** Forgets every choice (the file is left alone until the next save). */
  clear(): void {
    this.choices.clear();
    this.records.clear();
  }

  private scheduleSave(): void {
    const path = this.filePath;
    if (!path) return;
    const body: FileShape = { version: FILE_VERSION, adapter: this.host.adapterInfo, choices: this.snapshot() };
    this.saving = this.saving.then(async () => {
      const m = await nodeModules();
      if (!m) return;
      try {
        // Merge with what another process may have written meanwhile; ours wins on conflicts.
        try {
          const old = JSON.parse(await m.fs.readFile(path, 'utf8')) as FileShape;
          if (old.version === FILE_VERSION && old.adapter === body.adapter) body.choices = { ...old.choices, ...body.choices };
        } catch {
          // none yet
        }
        await m.fs.mkdir(m.path.dirname(path), { recursive: true });
        // Unique per write (two tuners of one process may share the file), removed on any failure.
        const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`;
        try {
          await m.fs.writeFile(tmp, JSON.stringify(body, null, 1));
          await m.fs.rename(tmp, path);
        } catch (e) {
          await m.fs.rm(tmp, { force: true }).catch(() => undefined);
          throw e;
        }
      } catch {
        // A read-only home or a full disk: the choices stay in memory.
      }
    });
  }
}
