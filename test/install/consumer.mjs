// Install test (a): plain JavaScript, as a Node user writes it after `npm install webgrad webgpu`.
// Trains a two-layer MLP written with raw tensors and F.linear on generated regression data for
// a few hand-written SGD steps, checks the loss fell, and round-trips the weights through the
// Node entry's checkpoint files (save/load).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as webgrad from 'webgrad';

const { init, shutdown, manualSeed, randn, tensor, zeros, noGrad, scope, memory, F } = webgrad;

// The package must come from this project's node_modules, as a built ES module (never src/).
const entry = fileURLToPath(import.meta.resolve('webgrad'));
const here = fileURLToPath(new URL('.', import.meta.url));
if (!entry.startsWith(here + 'node_modules/webgrad/dist/')) throw new Error(`webgrad resolved to ${entry}, not this project's node_modules/webgrad/dist`);
if (!entry.endsWith('index.node.js')) throw new Error(`Node should get the "node" export, got ${entry}`);

await init();
manualSeed(0);

// y = sin(x · w*) + noise, x: [256, 8]
const n = 256, d = 8, hidden = 32;
const x = randn(n, d);
const y = scope(() => x.matmul(randn(d, 1)).sin().add(randn(n, 1).mul(0.01)));

const w1 = scope(() => randn(hidden, d).mul(1 / Math.sqrt(d))).requiresGrad_();
const b1 = zeros(hidden, { requiresGrad: true });
const w2 = scope(() => randn(1, hidden).mul(1 / Math.sqrt(hidden))).requiresGrad_();
const b2 = zeros(1, { requiresGrad: true });
const params = [w1, b1, w2, b2];
const lr = tensor(0.1);

const losses = [];
for (let step = 0; step < 30; step++) {
  const loss = scope(() => {
    const h = F.relu(F.linear(x, w1, b1));
    const l = F.linear(h, w2, b2).sub(y).square().mean();
    l.backward();
    noGrad(() => {
      for (const p of params) {
        p.sub_(p.grad.mul(lr));
        p.grad.zero_();
      }
    });
    return l.detach();
  });
  losses.push(loss);
}
const values = await Promise.all(losses.map((l) => l.item()));
for (const l of losses) l.dispose();
const [first, last] = [values[0], values.at(-1)];
console.log(`consumer.mjs: loss ${first.toFixed(4)} → ${last.toFixed(4)} in ${values.length} steps; live tensors ${memory().liveTensors}`);
if (!(last < 0.5 * first)) throw new Error(`loss did not fall: ${values.map((v) => v.toFixed(4)).join(' ')}`);
if (!Number.isFinite(last)) throw new Error('loss is not finite');

// Typed errors are part of the public API.
try {
  x.matmul(randn(3, 3));
  throw new Error('matmul of [256, 8] by [3, 3] should have thrown');
} catch (e) {
  if (!(e instanceof webgrad.ShapeError)) throw e;
}

// The Node entry's checkpoint files (torch.save / torch.load): a round trip through a temp file.
const dir = mkdtempSync(join(tmpdir(), 'webgrad-ckpt-'));
try {
  const file = join(dir, 'mlp.safetensors');
  await webgrad.save({ w1, b1, w2, b2 }, file);
  const back = await webgrad.load(file);
  const same = await back.w1.sub(w1).abs().max().item();
  if (same !== 0 || String(back.b2.shape) !== '1') throw new Error(`checkpoint round trip changed the weights (max diff ${same})`);
  webgrad.disposeCheckpoint(back);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

shutdown();
process.exit(0); // Dawn keeps the event loop alive
