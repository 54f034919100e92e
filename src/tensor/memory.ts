// memory(): what is alive right now, for leak checks and dashboards.

import { cpuBackend } from '../backend/cpu/index.ts';
import type { MemoryStats } from '../backend/types.ts';
import { liveTensorCount } from './tensor.ts';
import { getBackend } from './backends.ts';

/** What `memory()` returns. */
export interface MemoryReport {
  /** Tensor objects not yet disposed (views count once each). */
  liveTensors: number;
  /** WebGPU buffers backing live storages, their bytes, and all bytes allocated (pool included); null before init(). */
  webgpu: MemoryStats | null;
  /** The CPU reference backend's live storages. */
  cpu: MemoryStats;
}

/**
 * Live tensors and the bytes behind them, per device: compare before and after a training
 * step to find leaks (a steady loop keeps every count flat).
 * @example const before = memory().liveTensors; step(); console.assert(memory().liveTensors === before);
 */
export function memory(): MemoryReport {
  let webgpu: MemoryStats | null = null;
  try {
    webgpu = getBackend('webgpu').memory();
  } catch {
    webgpu = null;
  }
  return { liveTensors: liveTensorCount(), webgpu, cpu: cpuBackend.memory() };
}
