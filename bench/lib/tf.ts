// TensorFlow.js (tfjs-core + tfjs-backend-webgpu, dev dependencies used only in bench/) on the
// same WebGPU adapter as webgrad, in the same process: one Dawn instance from the `webgpu`
// package is handed to both as navigator.gpu, so each opens its own device on the same adapter.
// Must run before webgrad's init() (which then takes navigator.gpu too).

import type * as TF from '@tensorflow/tfjs-core';

/** tfjs-core, once loaded; null when TF.js is not installed or refused to start. */
export type Tf = typeof TF;

/**
 * tfjs-core, its gradients and the webgpu backend as one CommonJS bundle built with esbuild from
 * their ES module builds: tfjs-core's Node bundle registers no gradients (the @tensorflow/tfjs
 * meta-package imports dist/register_all_gradients, whose ES modules Node cannot load as they
 * are), so training steps and tf.grads need this. Built into node_modules/.cache on each run (~1 s).
 */
async function loadTfBundle(): Promise<Tf> {
  const { build } = await import('esbuild');
  const { createRequire } = await import('node:module');
  const { fileURLToPath } = await import('node:url');
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const out = `${root}node_modules/.cache/webgrad-bench/tfjs-webgpu.cjs`;
  await build({
    stdin: {
      contents: "export * from '@tensorflow/tfjs-core'; import '@tensorflow/tfjs-core/dist/register_all_gradients'; import '@tensorflow/tfjs-backend-webgpu';",
      resolveDir: root,
      loader: 'js',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    mainFields: ['module', 'main'],
    outfile: out,
    logLevel: 'error',
  });
  return createRequire(import.meta.url)(out) as Tf;
}

/** Keeps the Dawn instance referenced for the whole run: Dawn frees it under live devices when it is garbage-collected (src/device/acquire.ts). */
const keep: unknown[] = [];

/**
 * Creates the shared GPU instance (navigator.gpu and the GPU* globals in Node) and starts
 * TF.js's webgpu backend on it. Returns tfjs-core and a description of its adapter, or the
 * reason it could not start.
 */
export async function setupTf(): Promise<{ tf: Tf; adapter: string } | { tf: null; reason: string }> {
  const g = globalThis as Record<string, unknown> & { navigator?: { gpu?: GPU } };
  if (!g.navigator?.gpu) {
    const name = 'webgpu';
    const mod = (await import(/* @vite-ignore */ name)) as { create(o: string[]): GPU; globals: Record<string, unknown> };
    for (const [k, v] of Object.entries(mod.globals)) if (!(k in g)) g[k] = v;
    const gpu = mod.create([]);
    keep.push(gpu);
    // Node 20 has no navigator; Node ≥ 21 has one without gpu.
    if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    else g.navigator = { gpu };
  }
  try {
    const tf = await loadTfBundle();
    // Keep every op on the adapter (TF.js otherwise runs small ops on tensors not yet uploaded on the CPU).
    tf.env().set('WEBGPU_CPU_FORWARD', false);
    if (!(await tf.setBackend('webgpu'))) return { tf: null, reason: "tf.setBackend('webgpu') failed" };
    await tf.ready();
    const info = (tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string; description?: string } }).adapterInfo;
    const adapter = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' / ') || 'unknown';
    return { tf, adapter };
  } catch (e) {
    return { tf: null, reason: (e as Error).message };
  }
}

interface TfWebgpuBackend {
  device: GPUDevice;
  commandEncoder: GPUCommandEncoder | null;
  endComputePassEncoder?(): void;
  submitQueue(): void;
  pipelineCache: Record<string, unknown>;
}

/** Submits TF.js's recorded work and waits for the GPU (its equivalent of webgrad's rt.sync()). */
export async function tfSync(tf: Tf): Promise<void> {
  const be = tf.backend() as unknown as TfWebgpuBackend;
  be.endComputePassEncoder?.();
  if (be.commandEncoder) be.submitQueue();
  await be.device.queue.onSubmittedWorkDone();
}

/** Pipelines TF.js has compiled so far. */
export function tfPipelines(tf: Tf): number {
  return Object.keys((tf.backend() as unknown as TfWebgpuBackend).pipelineCache).length;
}
