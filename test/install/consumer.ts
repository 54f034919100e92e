// Install test (b): strict TypeScript against the published declarations (tsc --noEmit with
// strict, nodenext resolution: tsconfig.json), then compiled and run like consumer.mjs.
// The model is PyTorch's shape: nn.Sequential of nn.Linear/nn.ReLU, optim.SGD, zeroGrad/step.
import { init, manualSeed, memory, nn, optim, randn, scope, shutdown, tensor, type Tensor } from 'webgrad';

await init();
manualSeed(1);

const n = 128;
const x: Tensor = randn(n, 4);
const y: Tensor = scope(() => x.matmul(tensor([[1], [-2], [0.5], [3]])).relu());

const model = new nn.Sequential(new nn.Linear(4, 16), new nn.ReLU(), new nn.Linear(16, 1));
const opt = new optim.SGD(model.parameters(), { lr: 0.05 });
const lossFn = new nn.MSELoss();

const losses: number[] = [];
let live = 0;
for (let step = 0; step < 40; step++) {
  const loss = scope(() => {
    opt.zeroGrad();
    const l = lossFn.forward(model.forward(x), y);
    l.backward();
    opt.step();
    return l.detach();
  });
  losses.push(await loss.item());
  loss.dispose();
  if (step === 1) live = memory().liveTensors;
  else if (step > 1 && memory().liveTensors !== live) throw new Error(`step ${step}: ${memory().liveTensors} live tensors, ${live} after step 1 (a leak)`);
}

const first = losses[0]!;
const last = losses[losses.length - 1]!;
console.log(`consumer.ts: loss ${first.toFixed(4)} → ${last.toFixed(4)} in ${losses.length} steps; ${String(model).split('\n').length}-line model`);
if (!(last < 0.5 * first)) throw new Error(`loss did not fall: ${losses.map((v) => v.toFixed(4)).join(' ')}`);
shutdown();
process.exit(0);
