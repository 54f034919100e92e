import { init, randn, shutdown } from '../src/index.ts';
import { gpuRuntime } from '../src/tensor/backends.ts';
await init({ autotune: 'fresh' });
const rt = gpuRuntime();
for (const n of [256, 512]) {
  const a = randn(n, n), b = randn(n, n);
  const t0 = performance.now();
  a.matmul(b).dispose();
  await rt.tuner.settle();
  console.log('tune', n, (performance.now() - t0).toFixed(0), 'ms');
}
console.log(JSON.stringify(rt.tuner.report(), null, 1), rt.tuner.file);
shutdown(); process.exit(0);
