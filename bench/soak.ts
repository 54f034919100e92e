// Memory soak (npm run soak): trains tutorial 002's MLP (Linear 784→500, ReLU, Linear 500→10
// without bias; F.crossEntropy; SGD) for 10 000 steps on fresh random batches uploaded each
// step, as a data loader would, reading the loss every 100 steps, and samples memory() every
// 1000 steps. Live tensors, live buffers and bytes in use must stay flat after the first
// sample, and bytes allocated (pool included) must not grow: exits 1 otherwise.
//
//   npm run soak                          10 000 steps
//   npx tsx bench/soak.ts --steps 2000 --every 500

import { parseArgs } from 'node:util';
import { F, init, manualSeed, memory, optim, scope, shutdown, tensor } from '../src/index.ts';
import { gpuRuntime } from '../src/tensor/backends.ts';
import { FullyConnected } from '../packages/webgrad-cli/src/recipes/models.ts';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '10000' }, every: { type: 'string', default: '1000' }, batch: { type: 'string', default: '128' } } });
const steps = Number(values.steps);
const every = Number(values.every);
const B = Number(values.batch);

await init();
manualSeed(0);
const rt = gpuRuntime();
const model = new FullyConnected(784, 500, 10);
const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
const x = new Float32Array(B * 784);
const y = new Int32Array(B);

interface Sample {
  step: number;
  liveTensors: number;
  liveBuffers: number;
  bytesInUse: number;
  bytesAllocated: number;
  loss: number;
  msPerStep: number;
}
const samples: Sample[] = [];
console.log(`memory soak: ${steps} steps of the tutorial 002 MLP, batch ${B}, on ${rt.adapterInfo}`);
console.log('step     live tensors  live buffers  bytes in use  bytes allocated  loss      ms/step');
let t0 = performance.now();
let lastLoss = NaN;
for (let step = 1; step <= steps; step++) {
  for (let i = 0; i < x.length; i++) x[i] = Math.random();
  for (let i = 0; i < B; i++) y[i] = (Math.random() * 10) | 0;
  const xb = tensor(x, { shape: [B, 1, 28, 28] });
  const yb = tensor(y, { dtype: 'int32' });
  const loss = scope(() => {
    opt.zeroGrad();
    const l = F.crossEntropy(model.call(xb), yb);
    l.backward();
    opt.step();
    return l.detach();
  });
  xb.dispose();
  yb.dispose();
  if (step % 100 === 0) lastLoss = await loss.item();
  loss.dispose();
  if (step % every === 0) {
    await rt.sync();
    const m = memory();
    const s: Sample = {
      step, liveTensors: m.liveTensors, liveBuffers: m.webgpu!.liveBuffers, bytesInUse: m.webgpu!.bytesInUse, bytesAllocated: m.webgpu!.bytesAllocated,
      loss: lastLoss, msPerStep: (performance.now() - t0) / every,
    };
    samples.push(s);
    console.log(`${String(step).padEnd(8)} ${String(s.liveTensors).padStart(12)}  ${String(s.liveBuffers).padStart(12)}  ${String(s.bytesInUse).padStart(12)}  ${String(s.bytesAllocated).padStart(15)}  ${s.loss.toFixed(4).padEnd(8)}  ${s.msPerStep.toFixed(1)}`);
    t0 = performance.now();
  }
}

const first = samples[0];
const problems: string[] = [];
if (!first) problems.push('no samples (fewer steps than --every)');
for (const s of samples.slice(1)) {
  for (const k of ['liveTensors', 'liveBuffers', 'bytesInUse'] as const) {
    if (s[k] !== first![k]) problems.push(`step ${s.step}: ${k} ${s[k]} != ${first![k]} at step ${first!.step}`);
  }
  if (s.bytesAllocated > first!.bytesAllocated) problems.push(`step ${s.step}: bytes allocated grew to ${s.bytesAllocated} from ${first!.bytesAllocated}`);
}
model.dispose();
opt.dispose();
shutdown();
if (problems.length) {
  console.log(`FAIL: memory is not flat\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`OK: memory flat over ${steps} steps (${first!.liveTensors} live tensors, ${first!.bytesInUse} bytes in use)`);
process.exit(0);
