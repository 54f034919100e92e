// Times a full training step — forward, loss, backward, optimizer update, zeroGrad — of the
// tutorials' models, in ms per step, plus the optimizer update alone (fused: one dispatch per
// parameter) against the same Adam written as a chain of tensor ops.
//
//   npx tsx bench/train-step.ts            all rows
//   npx tsx bench/train-step.ts --quick    fewer repeats
//   --only <text>                          only the rows whose name contains <text>
//   --json <path>                          also write the rows as JSON
//
// Timing: 3 warm-up steps (compiles every pipeline), then steps until ≥ 10 of them (5 with
// --quick) or ≥ 2 s. "latency" brackets each step by rt.sync() and reports the median;
// "throughput" runs the steps back to back (as a training loop does, reading the loss once
// at the end) and reports total / steps.

import { writeFileSync } from 'node:fs';
import { F, init, manualSeed, nn, noGrad, optim, rand, randint, scope, shutdown, adapterInfo, memory, type Tensor } from '../src/index.ts';
import { gpuRuntime } from '../src/tensor/backends.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? args[onlyIdx + 1]! : null;
const jsonIdx = args.indexOf('--json');
const jsonPath = jsonIdx >= 0 ? args[jsonIdx + 1]! : null;

await init();
const rt = gpuRuntime();
manualSeed(0);

/** Seed 002, part 3: Linear(784, 500) → relu → Linear(500, 10, bias=False). */
class FullyConnected extends nn.Module {
  linear_1 = new nn.Linear(784, 500);
  linear_2 = new nn.Linear(500, 10, { bias: false });
  override forward(x: Tensor): Tensor {
    return this.linear_2.call(F.relu(this.linear_1.call(x.reshape(-1, 784))));
  }
}

/** Seed 001 (b): the CNN with pooling and dropout. */
class PoolingCNN extends nn.Module {
  conv1 = new nn.Conv2d(1, 20, 5);
  conv2 = new nn.Conv2d(20, 30, 5);
  conv2_dropout = new nn.Dropout2d();
  fc1 = new nn.Linear(480, 60);
  fc2 = new nn.Linear(60, 10);
  override forward(x: Tensor): Tensor {
    x = F.relu(F.maxPool2d(this.conv1.call(x), 2));
    x = F.relu(F.maxPool2d(this.conv2_dropout.call(this.conv2.call(x)), 2));
    x = x.view(-1, 480);
    x = F.relu(this.fc1.call(x));
    x = F.dropout(x, 0.5, this.training);
    return F.logSoftmax(this.fc2.call(x), 1);
  }
}

/** Seed 004: Linear(784,128) → ReLU → Linear(128,128) → ReLU → Linear(128,10). */
class NeuralNet extends nn.Module {
  input_layer = new nn.Linear(784, 128);
  hidden_layer = new nn.Linear(128, 128);
  output_layer = new nn.Linear(128, 10);
  relu = new nn.ReLU();
  override forward(x: Tensor): Tensor {
    return this.output_layer.call(this.relu.call(this.hidden_layer.call(this.relu.call(this.input_layer.call(x)))));
  }
}

interface Row {
  name: string;
  latencyMs: number;
  throughputMs: number;
  dispatchesPerStep: number;
}

/** Times `step` (which returns the step's loss, or nothing for an update alone). */
async function measure(name: string, step: () => Tensor | void): Promise<Row | null> {
  if (only !== null && !name.includes(only)) return null;
  for (let i = 0; i < 3; i++) step()?.dispose();
  await rt.sync();
  const minRuns = quick ? 5 : 10;
  const times: number[] = [];
  let total = 0;
  const d0 = rt.stats.dispatches;
  while (times.length < minRuns || total < 2000) {
    const t0 = performance.now();
    step()?.dispose();
    await rt.sync();
    const ms = performance.now() - t0;
    times.push(ms);
    total += ms;
    if (times.length >= 200) break;
  }
  const dispatchesPerStep = (rt.stats.dispatches - d0) / times.length;
  times.sort((a, b) => a - b);
  const n = times.length;
  const losses: Tensor[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const l = step();
    if (l) losses.push(l);
  }
  if (losses.length) await losses[losses.length - 1]!.item();
  else await rt.sync();
  const throughputMs = (performance.now() - t0) / n;
  for (const l of losses) l.dispose();
  const row = { name, latencyMs: times[Math.floor(n / 2)]!, throughputMs, dispatchesPerStep };
  console.log(`${name.padEnd(58)} ${row.latencyMs.toFixed(2).padStart(9)} ${throughputMs.toFixed(2).padStart(11)} ${dispatchesPerStep.toFixed(0).padStart(11)}`);
  return row;
}

/** One training step of `model` on (x, y): the tutorials' loop body. */
function trainStep(model: nn.Module, opt: optim.Optimizer<any>, loss: (out: Tensor, y: Tensor) => Tensor, x: Tensor, y: Tensor): () => Tensor {
  return () =>
    scope(() => {
      opt.zeroGrad();
      const l = loss(model.call(x), y);
      l.backward();
      opt.step();
      return l.detach();
    });
}

console.log(`webgrad training step on ${adapterInfo()}`);
console.log(`${'step'.padEnd(58)} ${'latency ms'.padStart(9)} ${'throughput ms'.padStart(11)} ${'dispatches'.padStart(11)}`);
const rows: (Row | null)[] = [];

{
  const model = new FullyConnected();
  const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
  const x = rand([128, 1, 28, 28]);
  const y = randint(0, 10, [128]);
  rows.push(await measure('seed 002 MLP 784-500-10, batch 128, SGD', trainStep(model, opt, (o, t) => F.crossEntropy(o, t), x, y)));
  // The update alone: fused (one dispatch per parameter) vs Adam as a chain of tensor ops.
  for (const p of model.parameters()) p.grad = p.onesLike();
  const adam = new optim.Adam(model.parameters(), { lr: 1e-3 });
  rows.push(await measure('  update only: Adam, fused (1 dispatch / parameter)', () => void adam.step()));
  const m = model.parameters().map((p) => p.zerosLike());
  const v = model.parameters().map((p) => p.zerosLike());
  let t = 0;
  const chained = () => {
    t++;
    noGrad(() =>
      scope(() => {
        model.parameters().forEach((p, i) => {
          const g = p.grad!;
          m[i]!.copy_(m[i]!.mul(0.9).add(g.mul(0.1)));
          v[i]!.copy_(v[i]!.mul(0.999).add(g.square().mul(0.001)));
          const denom = v[i]!.sqrt().div(Math.sqrt(1 - 0.999 ** t)).add(1e-8);
          p.sub_(m[i]!.div(denom).mul(1e-3 / (1 - 0.9 ** t)));
        });
      }),
    );
  };
  rows.push(await measure('  update only: Adam as tensor ops (reference point)', chained));
  model.dispose();
  opt.dispose();
  adam.dispose();
}

{
  const model = new NeuralNet();
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const lossFn = new nn.CrossEntropyLoss();
  const x = rand([64, 784]);
  const y = randint(0, 10, [64]);
  rows.push(await measure('seed 004 MLP 784-128-128-10, batch 64, Adam', trainStep(model, opt, (o, t) => lossFn.call(o, t), x, y)));
  model.dispose();
  opt.dispose();
}

{
  const model = new PoolingCNN();
  const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.5 });
  const x = rand([64, 1, 28, 28]);
  const y = randint(0, 10, [64]);
  rows.push(await measure('seed 001 pooling CNN, batch 64, SGD momentum 0.5', trainStep(model, opt, (o, t) => F.nllLoss(o, t), x, y)));
  model.dispose();
  opt.dispose();
}

console.log(`live tensors at the end: ${memory().liveTensors}`);
if (jsonPath) writeFileSync(jsonPath, JSON.stringify({ adapter: adapterInfo(), rows: rows.filter(Boolean) }, null, 2));
shutdown();
process.exit(0);
