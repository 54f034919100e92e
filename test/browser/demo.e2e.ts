// The browser test (`npm run test:browser`, scripts/browser-test.sh, called by .ci/run): drives
// Debian's Chromium through playwright-core (no browser download: the set-up script installs
// the `chromium` package) with WebGPU on SwiftShader, the CPU Vulkan that Chromium ships, and
//   1. runs the op checks of test/browser/op-checks.ts in the demo page, through the bundle,
//      and the same list in this Node process on Dawn (lavapipe), side by side;
//   2. trains the demo's MLP for a few hundred steps and checks the loss fell, the held-out
//      accuracy rose well above chance (10 %) and the live tensor count stayed flat;
//   3. draws digits on the pad with mouse events and reads the predictions;
//   4. saves runs/browser/demo.png; then resumes, pauses and resets through the buttons and
//      checks nothing leaked; and checks that a Chromium without WebGPU gets the page's
//      "what to enable" message (runs/browser/no-webgpu.png).
// Prints one line per check and exits non-zero on any failure.
//   npx tsx test/browser/demo.e2e.ts [--steps 300] [--keep-open]
// CHROMIUM=/path/to/chrome overrides the browser.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import * as webgrad from '../../src/index.ts';
import { startDemoServer } from '../../scripts/demo-server.ts';
import type { DemoState } from '../../demo/app.ts';
import { runOpChecks, type OpCheckResult } from './op-checks.ts';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const OUT = resolve(root, 'runs/browser');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
/** Quiet, reproducible Chromium: no sync, updates, first-run UI or background traffic. */
const QUIET = ['--headless=new', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];
/**
 * WebGPU on Linux is behind --enable-unsafe-webgpu; with no GPU driver Chromium falls back to
 * SwiftShader (its bundled CPU Vulkan), which --use-webgpu-adapter=swiftshader makes explicit so
 * the test runs on the same adapter everywhere. (--enable-features=Vulkan or --use-angle are
 * not needed for compute; checked with Chromium 156.)
 */
const WEBGPU = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];

const { values: args } = parseArgs({ options: { steps: { type: 'string', default: '300' }, 'keep-open': { type: 'boolean', default: false } } });
const STEPS = Number(args.steps);

let failures = 0;
const t00 = performance.now();
function check(ok: boolean, what: string, detail = ''): void {
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${what}${detail ? `  (${detail})` : ''}`);
  if (!ok) failures++;
}
const secs = (t0: number) => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

async function launch(extra: string[]): Promise<{ ctx: BrowserContext; page: Page; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'webgrad-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...QUIET, ...extra],
    viewport: { width: 1200, height: 820 },
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  return { ctx, page, dir };
}

const demoState = (page: Page) => page.evaluate(() => window.webgradDemo.state) as Promise<DemoState>;

/** Strokes `path` (points in 0..1 of the pad) with the mouse, then waits for the prediction. */
async function draw(page: Page, strokes: [number, number][][]): Promise<DemoState['prediction']> {
  await page.click('#clear');
  const box = (await page.locator('#pad').boundingBox())!;
  const at = ([u, v]: [number, number]) => [box.x + u * box.width, box.y + v * box.height] as const;
  for (const stroke of strokes) {
    await page.mouse.move(...at(stroke[0]!));
    await page.mouse.down();
    for (const p of stroke.slice(1)) await page.mouse.move(...at(p), { steps: 4 });
    await page.mouse.up();
  }
  await page.evaluate(() => window.webgradDemo.predictions());
  return (await demoState(page)).prediction;
}

/** Points on an ellipse, for a 0. */
const ellipse = (cx: number, cy: number, rx: number, ry: number, n = 24): [number, number][] =>
  Array.from({ length: n + 1 }, (_, i) => [cx + rx * Math.sin((2 * Math.PI * i) / n), cy - ry * Math.cos((2 * Math.PI * i) / n)]);

const DIGITS: { digit: number; strokes: [number, number][][] }[] = [
  { digit: 0, strokes: [ellipse(0.5, 0.5, 0.22, 0.34)] },
  { digit: 1, strokes: [[[0.52, 0.15], [0.5, 0.5], [0.48, 0.85]]] },
  { digit: 7, strokes: [[[0.25, 0.18], [0.75, 0.18], [0.6, 0.45], [0.45, 0.85]]] },
];

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  let t0 = performance.now();
  const server = await startDemoServer({ port: 0, log: (l) => console.log(`      ${l}`) });
  console.log(`      demo served at ${server.url} (build and start ${secs(t0)})`);

  // Node's half of the op checks, on Dawn: the same list the page runs.
  t0 = performance.now();
  await webgrad.init();
  const nodeAdapter = webgrad.adapterInfo();
  const nodeResults = await runOpChecks(webgrad);
  webgrad.shutdown();
  console.log(`      Node op checks on ${nodeAdapter}: ${secs(t0)}`);

  t0 = performance.now();
  const { ctx, page, dir } = await launch(WEBGPU);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console error: ${m.text()}`);
  });
  try {
    await page.goto(`${server.url}?autostart=0&steps=${STEPS}`);
    await page.evaluate(() => window.webgradDemo.ready);
    let st = await demoState(page);
    const liveAtStart = st.liveTensors[0]?.[1];
    check(st.phase === 'ready', 'the page opens WebGPU and loads the digits', `${st.adapter}; ${st.trainCount} + ${st.testCount} digits from ${st.dataSource}; ${secs(t0)}`);

    // 1. Op checks in the page through the bundle, beside Node's.
    t0 = performance.now();
    const pageResults = (await page.evaluate(async ([lib, checks]) => {
      const wg = await import(lib);
      const m = await import(checks);
      return m.runOpChecks(wg);
    }, ['/webgrad.js', '/op-checks.js'])) as OpCheckResult[];
    console.log(`      op checks: ${pageResults.length} in Chromium (${st.adapter}) in ${secs(t0)}, ${nodeResults.length} in Node (${nodeAdapter})`);
    console.log(`      ${'check'.padEnd(36)} ${'max |gpu-cpu| node'.padStart(19)} ${'chromium'.padStart(10)}`);
    for (const r of pageResults) {
      const n = nodeResults.find((x) => x.name === r.name);
      console.log(`      ${r.name.padEnd(36)} ${(n?.ok ? n.maxGpuError.toExponential(1) : 'FAIL').padStart(19)} ${(r.ok ? r.maxGpuError.toExponential(1) : 'FAIL').padStart(10)}`);
      if (!r.ok) console.log(`        chromium: ${r.message}`);
      if (n && !n.ok) console.log(`        node: ${n.message}`);
    }
    check(pageResults.length === nodeResults.length && pageResults.length > 0 && pageResults.every((r) => r.ok), 'op checks pass in Chromium (WebGPU on SwiftShader vs the float64 reference, and finite differences)',
      `${pageResults.filter((r) => r.ok).length}/${pageResults.length}`);
    check(nodeResults.every((r) => r.ok), 'the same op checks pass in Node (Dawn)', `${nodeResults.filter((r) => r.ok).length}/${nodeResults.length}`);

    // 2. Training through the page's Train button.
    t0 = performance.now();
    await page.click('#train');
    // While the first step compiles its kernels the status line says so (and counts seconds).
    const compiling = await page.waitForFunction(() => /compiling the GPU kernels/.test(document.getElementById('status')!.textContent ?? ''), undefined, { timeout: 60_000, polling: 50 }).then(() => true, () => false);
    check(compiling, 'the status line shows progress while the first step compiles its kernels');
    await page.waitForFunction(() => ['done', 'error'].includes(window.webgradDemo.state.phase), undefined, { timeout: 600_000, polling: 500 });
    st = await demoState(page);
    const trainSecs = (performance.now() - t0) / 1000;
    check(st.phase === 'done' && st.step === STEPS && st.firstStepSeconds !== null, `trains ${STEPS} steps in the page`, `${st.error ?? `${trainSecs.toFixed(1)} s (the first step, kernel compilation included, ${st.firstStepSeconds?.toFixed(1)} s), ${st.batchesPerSecond?.toFixed(1)} batches/s in the page's last intervals`}`);
    const head = st.loss.slice(0, 2).map((p) => p[1]);
    const tail = st.loss.slice(-2).map((p) => p[1]);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    check(st.loss.length > 4 && mean(tail) < 0.5 * mean(head), 'the training loss fell', `first ${head.map((v) => v.toFixed(3)).join(', ')} → last ${tail.map((v) => v.toFixed(3)).join(', ')}`);
    const acc0 = st.accuracy[0]?.[1] ?? NaN;
    const acc1 = st.accuracy.at(-1)?.[1] ?? NaN;
    check(acc1 > 0.5 && acc1 > acc0 + 0.3, 'held-out accuracy rose well above chance (10 %)', `${(100 * acc0).toFixed(1)} % → ${(100 * acc1).toFixed(1)} % on ${st.testCount} digits`);
    const live = st.liveTensors.slice(1).map((p) => p[1]);
    check(live.length > 2 && live.every((n) => n === live[0]), 'live tensor count stays flat during training', `${live[0]} … ${live.at(-1)}`);

    // 3. Drawing digits through mouse events.
    t0 = performance.now();
    let right = 0;
    for (const d of DIGITS) {
      const p = await draw(page, d.strokes);
      const sum = p ? p.probs.reduce((a, b) => a + b, 0) : NaN;
      const shown = await page.locator('#guess').textContent();
      const ok = !!p && p.probs.length === 10 && Math.abs(sum - 1) < 1e-4 && shown === String(p.digit);
      check(ok, `a drawn ${d.digit} gets a prediction with 10 probabilities`, p ? `predicted ${p.digit} (${(100 * p.probs[p.digit]!).toFixed(1)} %), p(${d.digit}) = ${(100 * p.probs[d.digit]!).toFixed(1)} %` : 'no prediction');
      if (p?.digit === d.digit) right++;
    }
    // A few hundred steps on 5 000 digits make a decent but not perfect reader of mouse digits.
    check(right >= 2, 'most drawn digits are read correctly', `${right}/${DIGITS.length} in ${secs(t0)}`);

    // 4. The screenshot: chart, stats, the last drawing and its probabilities.
    await page.screenshot({ path: resolve(OUT, 'demo.png'), fullPage: true });
    console.log(`      screenshot: ${resolve(OUT, 'demo.png')}`);

    // 5. Resume, pause and reset through the buttons: nothing leaks, the run starts over.
    t0 = performance.now();
    await page.click('#train'); // "Train more"
    await page.waitForFunction((n) => window.webgradDemo.state.step >= n, STEPS + 20, { timeout: 120_000, polling: 100 });
    await page.click('#train'); // "Pause"
    await page.waitForFunction(() => window.webgradDemo.state.phase === 'paused', undefined, { timeout: 60_000 });
    const paused = (await demoState(page)).step;
    await page.click('#reset');
    await page.waitForFunction(() => window.webgradDemo.state.phase === 'ready' && window.webgradDemo.state.accuracy.length === 1, undefined, { timeout: 60_000 });
    st = await demoState(page);
    const liveNow = await page.evaluate(async (lib) => (await import(lib)).memory().liveTensors, '/webgrad.js');
    check(st.step === 0 && st.accuracy[0]![1] < 0.3 && liveNow === liveAtStart, 'resume, pause and reset work and leak nothing',
      `paused at step ${paused}; after reset: accuracy ${(100 * st.accuracy[0]![1]).toFixed(1)} %, ${liveNow} live tensors (${liveAtStart} at start); ${secs(t0)}`);
    check(errors.length === 0, 'no page errors or console errors', errors.slice(0, 3).join(' | '));
  } finally {
    if (!args['keep-open']) {
      await ctx.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  // 6. No WebGPU: the page says what to enable instead of failing silently.
  t0 = performance.now();
  const plain = await launch([]);
  try {
    await plain.page.goto(server.url);
    await plain.page.waitForFunction(() => ['unsupported', 'error', 'ready', 'training'].includes(window.webgradDemo?.state.phase), undefined, { timeout: 60_000 });
    const st = await demoState(plain.page);
    const text = (await plain.page.locator('#unsupported').innerText()).replace(/\s+/g, ' ');
    const shown = (await plain.page.locator('#unsupported').isVisible()) && !(await plain.page.locator('#app').isVisible());
    check(st.phase === 'unsupported' && shown && text.includes('--enable-unsafe-webgpu'),
      'without WebGPU the page explains what to enable', `${st.error ?? st.phase}; ${secs(t0)}`);
    await plain.page.screenshot({ path: resolve(OUT, 'no-webgpu.png') });
  } finally {
    await plain.ctx.close();
    rmSync(plain.dir, { recursive: true, force: true });
  }
  await server.close();
}

try {
  await main();
} catch (e) {
  check(false, 'the browser test ran to the end', (e as Error).stack ?? String(e));
}
console.log(`browser test: ${failures ? `${failures} check(s) failed` : 'all checks passed'} in ${secs(t00)}`);
process.exit(failures ? 1 : 0); // Dawn keeps Node alive otherwise
