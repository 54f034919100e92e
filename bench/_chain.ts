import { init, tensor, noGrad, scope, shutdown } from '../src/index.ts';
import { gpuRuntime } from '../src/tensor/backends.ts';
await init({ autotune: process.argv[2] === 'on' });
const rt = gpuRuntime();
const x = tensor(new Float32Array(64));
const chain = () => noGrad(() => scope(() => { let y = x; for (let i = 0; i < 100; i++) y = y.add(1); }));
for (let k = 0; k < 3; k++) { chain(); await rt.sync(); await rt.tuner.settle(); }
for (let k = 0; k < 5; k++) {
  const c0 = process.cpuUsage(); const t0 = performance.now();
  const d0 = rt.stats.dispatches, s0 = rt.stats.submits;
  for (let r = 0; r < 10; r++) chain();
  const t1 = performance.now();
  await rt.sync();
  const c = process.cpuUsage(c0);
  console.log(`wall ${((performance.now() - t0) / 1000).toFixed(1)} µs/op (enqueue ${((t1 - t0) / 1000).toFixed(1)}), cpu ${((c.user + c.system) / 1000).toFixed(1)} µs/op, dispatches ${rt.stats.dispatches - d0} submits ${rt.stats.submits - s0}`);
}
shutdown(); process.exit(0);
