// Finds a WebGPU implementation and opens a device: navigator.gpu in browsers, the
// `webgpu` package (Dawn) in Node. Knows nothing of tensors or kernels.

import { DeviceError } from '../errors.ts';
import { requiredLimits } from './limits.ts';

export interface AcquireOptions {
  /** 'high-performance' by default. */
  powerPreference?: GPUPowerPreference;
  /** Dawn toggles/options for Node's `create()` (e.g. `['backend=vulkan']`). */
  dawnOptions?: string[];
}

export interface Acquired {
  device: GPUDevice;
  adapterInfo: string;
}

/**
 * Ties the GPU instance and adapter to the device's lifetime. In Node, when the `create()`
 * instance is garbage-collected Dawn frees it while the device still processes events through
 * it, and the process aborts in ProcessEvents ("The futex facility returned an unexpected error
 * code", seen with webgpu 0.3–0.6 on lavapipe a few hundred readbacks in, at the first GC).
 */
const owners = new WeakMap<GPUDevice, readonly unknown[]>();

const HOW_TO_INSTALL =
  'On Debian/Ubuntu run `bash scripts/setup.sh` (it installs Mesa\'s lavapipe Vulkan driver from bookworm-backports); ' +
  'elsewhere install a Vulkan driver for your GPU. In a browser use Chrome/Edge 113+ or start Chromium with --enable-unsafe-webgpu.';

async function nodeGpu(dawnOptions: string[]): Promise<GPU> {
  let mod: { create(opts: string[]): GPU; globals: Record<string, unknown> };
  try {
    // Hidden from bundlers: the browser build never reaches this branch.
    const name = 'webgpu';
    mod = (await import(/* @vite-ignore */ name)) as typeof mod;
  } catch (e) {
    throw new DeviceError(`webgrad: the 'webgpu' npm package (Dawn for Node) could not be loaded: ${(e as Error).message}. Run \`npm install webgpu\`.`);
  }
  // Dawn's GPU* constants (GPUBufferUsage, GPUMapMode, …) are what kernels use.
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  return mod.create(dawnOptions);
}

function inBrowser(): boolean {
  return typeof navigator !== 'undefined' && typeof (navigator as Navigator).gpu !== 'undefined';
}

/** Opens a WebGPU device with the largest buffer and workgroup limits the adapter offers. */
export async function acquireDevice(opts: AcquireOptions = {}): Promise<Acquired> {
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  let gpu: GPU;
  if (inBrowser()) gpu = navigator.gpu;
  else if (isNode) gpu = await nodeGpu(opts.dawnOptions ?? []);
  else throw new DeviceError(`webgrad: this browser has no WebGPU (navigator.gpu is undefined). ${HOW_TO_INSTALL}`);

  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) throw new DeviceError(`webgrad: no WebGPU adapter found. ${HOW_TO_INSTALL}`);

  // The adapter's real limits, not WebGPU's defaults (src/device/limits.ts lists them).
  const limits = requiredLimits(adapter.limits);
  // 'subgroups' lets the matmul/conv register kernels share loads across lanes; 'timestamp-query' times autotune candidates.
  const requiredFeatures = (['shader-f16', 'timestamp-query', 'subgroups'] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits: limits, requiredFeatures });
  } catch (e) {
    throw new DeviceError(`webgrad: the adapter refused to open a device: ${(e as Error).message}`);
  }
  const info = adapter.info;
  const adapterInfo = [info?.vendor, info?.architecture, info?.device, info?.description].filter((s) => s).join(' / ') || 'unknown adapter';
  owners.set(device, [gpu, adapter]);
  return { device, adapterInfo };
}
