import { create, globals } from 'webgpu';
for (const [k, v] of Object.entries(globals)) if (!(k in globalThis)) (globalThis as any)[k] = v;
const gpu = create([]);
(globalThis as any).navigator = { gpu };
(globalThis as any).__keep = gpu;
const tf = await import('@tensorflow/tfjs-core');
await import('@tensorflow/tfjs-backend-webgpu');
console.log(await tf.setBackend('webgpu'));
await tf.ready();
const be: any = tf.backend();
console.log(be.adapterInfo, tf.getBackend());
const { init, adapterInfo, randn, shutdown } = await import('../src/index.ts');
await init();
console.log('webgrad', adapterInfo());
for (const n of [256, 512, 1024]) {
  const a = tf.randomNormal([n, n]); const b = tf.randomNormal([n, n]);
  for (let w = 0; w < 2; w++) { const c = tf.matMul(a, b); await c.data(); c.dispose(); }
  const t0 = performance.now(); const R = 5;
  for (let r = 0; r < R; r++) { const c = tf.matMul(a, b); await c.data(); c.dispose(); }
  const ms = (performance.now() - t0) / R;
  console.log('tf', n, ms.toFixed(1), (2 * n ** 3 / ms / 1e6).toFixed(2), 'GFLOP/s');
  const x = randn(n, n), y = randn(n, n);
  for (let w = 0; w < 2; w++) { const c = x.matmul(y); await c.data(); c.dispose(); }
  const t1 = performance.now();
  for (let r = 0; r < R; r++) { const c = x.matmul(y); await c.data(); c.dispose(); }
  const ms2 = (performance.now() - t1) / R;
  console.log('wg', n, ms2.toFixed(1), (2 * n ** 3 / ms2 / 1e6).toFixed(2), 'GFLOP/s');
}
shutdown();
process.exit(0);
