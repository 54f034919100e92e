// The one place that knows what the device allows: which limits are requested when it opens,
// and their values, read once (every read of device.limits or device.features crosses into
// Dawn, microseconds each). Kernels plan their launches and splits from this object, never
// from the device. Knows nothing of tensors or kernels.

/** The limits webgrad plans around, as granted to the device (see readLimits). */
export interface DeviceLimits {
  /** Largest buffer the device allocates (bytes). */
  readonly maxBufferSize: number;
  /** Largest storage-buffer range one binding may cover (bytes): what a kernel sees of a buffer at once. */
  readonly maxStorageBufferBindingSize: number;
  /** A binding's offset into a buffer must be a multiple of this (bytes). */
  readonly minStorageBufferOffsetAlignment: number;
  /** Storage buffers one compute shader may bind. */
  readonly maxStorageBuffersPerShaderStage: number;
  readonly maxUniformBufferBindingSize: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupSizeX: number;
  readonly maxComputeWorkgroupSizeY: number;
  readonly maxComputeWorkgroupSizeZ: number;
  readonly maxComputeWorkgroupStorageSize: number;
  /** The 'subgroups' feature is on; subgroupMinSize is then the adapter's smallest subgroup (0 if unknown). */
  readonly subgroups: boolean;
  readonly subgroupMinSize: number;
  /** The 'timestamp-query' feature is on (kernels can be timed). */
  readonly timestamps: boolean;
}

/** Caps below the adapter's limits, for testing the large-tensor paths with small tensors or keeping headroom. */
export interface LimitCaps {
  /** At most this many bytes per storage binding (a multiple of 16, at least 4096). */
  maxStorageBufferBindingSize?: number;
  /** At most this many bytes per buffer. */
  maxBufferSize?: number;
}

/** Adapter limits requested at their full value when the device opens (WebGPU grants only defaults otherwise). */
const REQUESTED = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxUniformBufferBindingSize',
  'maxComputeWorkgroupsPerDimension',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupStorageSize',
] as const;

/** requiredLimits for requestDevice: every limit above at the adapter's own value. */
export function requiredLimits(adapter: GPUSupportedLimits): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of REQUESTED) {
    const v = adapter[k];
    if (typeof v === 'number') out[k] = v;
  }
  return out;
}

/** The device's limits and features in one plain object, with `caps` applied (read once, at runtime creation). */
export function readLimits(device: GPUDevice, caps: LimitCaps = {}): DeviceLimits {
  const l = device.limits;
  const info = (device as GPUDevice & { adapterInfo?: { subgroupMinSize?: number } }).adapterInfo;
  const subgroups = device.features.has('subgroups');
  const cap = (v: number, c: number | undefined, name: string): number => {
    if (c === undefined) return v;
    if (!Number.isInteger(c) || c < 4096 || c % 16 !== 0) throw new RangeError(`webgrad: limit cap ${name} must be a multiple of 16, at least 4096, got ${c}`);
    return Math.min(v, c);
  };
  return Object.freeze({
    maxBufferSize: cap(l.maxBufferSize, caps.maxBufferSize, 'maxBufferSize'),
    maxStorageBufferBindingSize: cap(l.maxStorageBufferBindingSize, caps.maxStorageBufferBindingSize, 'maxStorageBufferBindingSize'),
    minStorageBufferOffsetAlignment: l.minStorageBufferOffsetAlignment,
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    maxUniformBufferBindingSize: l.maxUniformBufferBindingSize,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
    maxComputeWorkgroupSizeZ: l.maxComputeWorkgroupSizeZ,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    subgroups,
    subgroupMinSize: subgroups ? info?.subgroupMinSize ?? 0 : 0,
    timestamps: device.features.has('timestamp-query'),
  });
}

/** Bytes as people read them: `167772160 bytes (160 MiB)`. */
export function fmtBytes(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u < 0 ? `${bytes} bytes` : `${bytes} bytes (${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]})`;
}
