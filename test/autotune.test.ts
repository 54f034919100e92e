// The per-adapter autotuner (src/device/autotune.ts): its choice rule and cache file with a fake
// timing host (deterministic), then the real kernels with tuning switched on: results stay
// exact whichever variant wins, one tune per shape class, memory flat, choices persisted.
// No assertion depends on which variant is faster (the suite runs with WEBGRAD_AUTOTUNE=0).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Autotuner, adapterHash, beats, envAutotuneMode, type TimingHost } from '../src/device/autotune.ts';
import { F, memory, noGrad, scope } from '../src/index.ts';
import { gpuRuntime } from '../src/tensor/backends.ts';
import { matmulCandidates } from '../src/kernels/matmul.ts';
import { useGpu } from './helpers/gpu.ts';
import { collectGarbage } from './helpers/gc.ts';
import { input } from './helpers/data.ts';

const cacheDir = mkdtempSync(join(tmpdir(), 'webgrad-autotune-'));
process.env.WEBGRAD_CACHE_DIR = cacheDir;
useGpu();

/** A host whose "GPU time" for a candidate is whatever `ms` says for the value bench received. */
function fakeHost(ms: Record<string, number>): TimingHost & { ran: string[] } {
  let current = '';
  const ran: string[] = [];
  return {
    canTime: true,
    adapterInfo: 'fake adapter',
    ran,
    timed(fn) {
      fn();
      return Promise.resolve(ms[current] ?? 1);
    },
    flush() {},
    // bench() below records which candidate it was asked to run.
    set last(v: string) {
      current = v;
      ran.push(v);
    },
  } as TimingHost & { ran: string[]; last: string };
}

const cands = ['a', 'b', 'c'].map((k) => ({ key: k, value: k }));

describe('Autotuner (fake timings)', () => {
  it('serves the default while measuring, then the fastest; ties keep the default', async () => {
    const host = fakeHost({ a: 10, b: 5, c: 9.8 }) as ReturnType<typeof fakeHost> & { last: string };
    const t = new Autotuner(host, 'on', null);
    expect(t.choose('fam', 'k1', cands, cands[0]!, (v) => (host.last = v))).toBe('a');
    expect(t.choose('fam', 'k1', cands, cands[0]!, (v) => (host.last = v))).toBe('a'); // still pending: no second tune
    expect(t.tunes).toBe(1);
    await t.settle();
    expect(t.choose('fam', 'k1', cands, cands[0]!, (v) => (host.last = v))).toBe('b');
    expect(host.ran.filter((x) => x === 'b').length).toBe(4); // one warm-up + 3 timed runs (the default count)
    const host2 = fakeHost({ a: 10, b: 9.8 }) as ReturnType<typeof fakeHost> & { last: string };
    const t2 = new Autotuner(host2, 'on', null);
    t2.choose('fam', 'k', cands.slice(0, 2), cands[0]!, (v) => (host2.last = v));
    await t2.settle();
    expect(t2.choose('fam', 'k', cands.slice(0, 2), cands[0]!, () => {})).toBe('a'); // within 5 %: default kept
    expect(t2.report()[0]).toMatchObject({ family: 'fam', shapeClass: 'k', choice: 'a', fallback: 'a', ms: { a: 10, b: 9.8 } });
  });

  it('a variant replaces another only when faster in its best run, its median and most rounds', () => {
    expect(beats([1, 1.1, 1.05], [2, 2.1, 2.2])).toBe(true);
    // Tie within the margin: keep the other.
    expect(beats([0.97, 1, 1], [1, 1, 1])).toBe(false);
    // One burst slowed two of b's three rounds, but a lost on its median: not a win.
    expect(beats([1.0, 1.6, 1.6], [1.3, 1.3, 1.3])).toBe(false);
    // Fastest run and median lower, yet b won two of three rounds.
    expect(beats([0.5, 0.9, 3], [1, 0.8, 2.5])).toBe(false);
  });

  it("'off' always serves the default; no timestamps, no tuning", () => {
    const host = fakeHost({ a: 10, b: 1 }) as ReturnType<typeof fakeHost> & { last: string };
    const t = new Autotuner(host, 'off', null);
    expect(t.choose('fam', 'k', cands, cands[0]!, (v) => (host.last = v))).toBe('a');
    expect(host.ran).toEqual([]);
    const noTime = new Autotuner({ ...host, canTime: false }, 'on', null);
    expect(noTime.choose('fam', 'k', cands, cands[0]!, () => {})).toBe('a');
    expect(noTime.tunes).toBe(0);
  });

  it('persists choices per adapter and reloads them; stale keys are measured again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webgrad-autotune-file-'));
    const host = fakeHost({ a: 10, b: 5, c: 1 }) as ReturnType<typeof fakeHost> & { last: string };
    const t = new Autotuner(host, 'on', dir);
    await t.load();
    expect(t.file).toBe(join(dir, `autotune-${adapterHash('fake adapter')}.json`));
    t.choose('fam', 'k', cands, cands[0]!, (v) => (host.last = v));
    await t.settle();
    const saved = JSON.parse(readFileSync(t.file!, 'utf8'));
    expect(saved).toMatchObject({ version: 2, adapter: 'fake adapter', choices: { 'fam|k': 'c' } });
    const again = new Autotuner(fakeHost({}), 'on', dir);
    await again.load();
    expect(again.choose('fam', 'k', cands, cands[0]!, () => {})).toBe('c');
    expect(again.tunes).toBe(0);
    // A candidate list without 'c' (kernels changed): tuned afresh.
    expect(again.choose('fam', 'k', cands.slice(0, 2), cands[0]!, () => {})).toBe('a');
    expect(again.tunes).toBe(1);
    const fresh = new Autotuner(fakeHost({}), 'fresh', dir);
    await fresh.load();
    fresh.choose('fam', 'k', cands, cands[0]!, () => {});
    expect(fresh.tunes).toBe(1);
    await fresh.settle();
  });

  it('a cache write that fails leaves no temporary file behind, and the choices stay in memory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webgrad-autotune-fail-'));
    const host = fakeHost({ a: 10, b: 5, c: 1 }) as ReturnType<typeof fakeHost> & { last: string };
    const t = new Autotuner(host, 'on', dir);
    await t.load();
    // A non-empty folder where the cache file goes: the temporary is written, the rename fails.
    mkdirSync(join(t.file!, 'x'), { recursive: true });
    t.choose('fam', 'k', cands, cands[0]!, (v) => (host.last = v));
    await t.settle();
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(t.choose('fam', 'k', cands, cands[0]!, () => {})).toBe('c');
  });

  it('reads WEBGRAD_AUTOTUNE', () => {
    const old = process.env.WEBGRAD_AUTOTUNE;
    try {
      for (const [v, m] of [['0', 'off'], ['off', 'off'], ['1', 'on'], ['fresh', 'fresh'], ['', 'on']] as const) {
        process.env.WEBGRAD_AUTOTUNE = v;
        expect(envAutotuneMode()).toBe(m);
      }
    } finally {
      process.env.WEBGRAD_AUTOTUNE = old;
    }
  });
});

describe('autotuned kernels (real timings; results checked, not speeds)', () => {
  it('the suite runs with autotuning off', () => {
    expect(gpuRuntime().tuner.mode).toBe('off');
  });

  it('matmul, elementwise and conv2d give the reference results whichever variant wins, with memory flat', async () => {
    const rt = gpuRuntime();
    rt.tuner.mode = 'fresh';
    try {
      const a = input([70, 33], { requiresGrad: false });
      const b = input([33, 50], { seed: 2, requiresGrad: false });
      const x = input([4, 3, 12, 12], { requiresGrad: false });
      const w = input([5, 3, 3, 3], { seed: 3, requiresGrad: false });
      const bias = input([5], { seed: 4, requiresGrad: false });
      const [ac, bc, xc, wc, biasc] = await Promise.all([a, b, x, w, bias].map((t) => t.toDevice('cpu')));
      const ops = [
        () => a.matmul(b),
        () => x.add(x),
        () => F.conv2d(x, w, bias),
      ];
      const refs = [ac!.matmul(bc!), xc!.add(xc!), F.conv2d(xc!, wc!, biasc!)];
      const tunes0 = rt.tuner.tunes;
      await collectGarbage(); // earlier tests' garbage must not be finalized inside the measured window
      const before = memory().webgpu!.bytesInUse;
      noGrad(() => scope(() => void ops.forEach((f) => f())));
      await rt.tuner.settle();
      expect(rt.tuner.tunes - tunes0).toBeGreaterThanOrEqual(3);
      expect(memory().webgpu!.bytesInUse).toBe(before);
      // Now with the winners.
      for (let i = 0; i < ops.length; i++) {
        const out = noGrad(ops[i]!);
        const got = (await out.data()) as Float32Array;
        const want = (await refs[i]!.data()) as Float64Array;
        for (let j = 0; j < want.length; j++) expect(Math.abs(got[j]! - want[j]!)).toBeLessThan(1e-3 + 1e-4 * Math.abs(want[j]!));
        out.dispose();
      }
      const rec = rt.tuner.report().find((r) => r.family === 'matmul')!;
      expect(Object.keys(rec.ms).sort()).toEqual(
        matmulCandidates(rt, 70, 50, 33)
          .map((c) => (c.variant === 'tiled' ? `tiled-k${c.tileK}` : `register-${c.rows}x${c.cols}-wg${c.workgroup}${c.subgroups ? '-sg' : ''}`))
          .sort(),
      );
      expect(rt.tuner.report().map((r) => r.family)).toEqual(expect.arrayContaining(['matmul', 'elementwise', 'conv2d.forward']));
      // A size of the same class reuses the choice: no new tune.
      const t1 = rt.tuner.tunes;
      noGrad(() => scope(() => void input([100, 33], { requiresGrad: false }).matmul(input([33, 50], { requiresGrad: false }))));
      expect(rt.tuner.tunes).toBe(t1);
      expect(existsSync(rt.tuner.file!)).toBe(true);
      expect(JSON.parse(readFileSync(rt.tuner.file!, 'utf8')).choices).toHaveProperty([`matmul|${rec.shapeClass}`]);
      for (const t of [a, b, x, w, bias, ac, bc, xc, wc, biasc, ...refs]) t!.dispose();
    } finally {
      rt.tuner.mode = 'off';
    }
  });
});
