// Which backends exist and which one new tensors go to. WebGPU needs an async init();
// the float64 CPU reference is always there.

import { DeviceError } from '../errors.ts';
import type { Backend, BackendName } from '../backend/types.ts';
import { cpuBackend } from '../backend/cpu/index.ts';
import { acquireDevice, type AcquireOptions } from '../device/acquire.ts';
import type { LimitCaps } from '../device/limits.ts';
import { GpuRuntime } from '../device/runtime.ts';
import { createWebgpuBackend } from '../kernels/index.ts';

let webgpu: (Backend & { runtime: GpuRuntime }) | null = null;
let pending: Promise<void> | null = null;
let defaultName: BackendName = 'webgpu';

/** Options of `init()`: the default device and how the WebGPU adapter is chosen. */
export interface InitOptions extends AcquireOptions {
  /** Device new tensors go to by default ('webgpu' unless set). */
  defaultDevice?: BackendName;
  /**
   * Per-adapter kernel autotuning (src/device/autotune.ts): true (the default unless
   * WEBGRAD_AUTOTUNE=0), false for the fixed defaults, 'fresh' to measure again ignoring the
   * cache file.
   */
  autotune?: boolean | 'fresh';
  /**
   * Plan with smaller limits than the adapter's (bytes per storage binding, per buffer): ops
   * then split or refuse at these sizes. For testing the large-tensor paths with small tensors,
   * or to keep headroom; the device itself always gets the adapter's full limits.
   */
  limits?: LimitCaps;
}

/**
 * Opens the WebGPU device. Call once before creating tensors on 'webgpu'; later calls
 * are no-ops while the device works. After the device was lost (a driver reset, or
 * `device.destroy()`), `await init()` opens a new one; tensors of the lost device then raise a
 * DeviceLostError and must be recreated. Throws a DeviceError naming what to install when
 * there is no adapter.
 */
export async function init(opts: InitOptions = {}): Promise<void> {
  if (opts.defaultDevice) defaultName = opts.defaultDevice;
  // A loss is reported asynchronously: a device destroyed a moment ago may not say so yet.
  if (webgpu && !pending && (await webgpu.runtime.waitLost(0))) webgpu = null;
  if (webgpu || defaultName === 'cpu') return;
  pending ??= (async () => {
    const { device, adapterInfo } = await acquireDevice(opts);
    const mode = opts.autotune === undefined ? undefined : opts.autotune === 'fresh' ? 'fresh' : opts.autotune ? 'on' : 'off';
    const rt = new GpuRuntime(device, adapterInfo, undefined, mode, opts.limits);
    await rt.tuner.load();
    webgpu = createWebgpuBackend(rt);
  })();
  try {
    await pending;
  } finally {
    pending = null;
  }
}

/** Releases the GPU device (Node processes using Dawn only exit once it is gone or on process.exit). */
export function shutdown(): void {
  webgpu?.runtime.destroy();
  webgpu = null;
}

/** The backend called `name` (default: the default device). */
export function getBackend(name: BackendName = defaultName): Backend {
  if (name === 'cpu') return cpuBackend;
  if (!webgpu) {
    throw new DeviceError("webgrad: WebGPU is not initialised: `await init()` before creating tensors (or pass { device: 'cpu' })");
  }
  if (webgpu.runtime.lost) throw webgpu.runtime.lostError(true);
  return webgpu;
}

/** The WebGPU runtime (for benchmarks and memory checks); throws before init(). */
export function gpuRuntime(): GpuRuntime {
  getBackend('webgpu');
  return webgpu!.runtime;
}

/** The device new tensors go to when `{ device }` is not given ('webgpu' unless changed). */
export function defaultDevice(): BackendName {
  return defaultName;
}

/** Sets the device new tensors go to; `'cpu'` runs everything on the float64 reference. */
export function setDefaultDevice(name: BackendName): void {
  defaultName = name;
}

/** The adapter's description, or null before init(). */
export function adapterInfo(): string | null {
  return webgpu?.runtime.adapterInfo ?? null;
}
