// Typed errors shared by every layer. Each names the op (or subsystem) at fault
// and the shapes or values involved, so a message alone tells the user what to fix.

/** Base class of every error webgrad throws on purpose. */
export class WebgradError extends Error {
  /** `'WebgradError'`, so `e.name` tells the kind of error. */
  override name = 'WebgradError';
}

/** Shapes that do not fit an op: `matmul: shapes [64,784] and [500,10] do not align (784 != 500)`. */
export class ShapeError extends WebgradError {
  /** `'ShapeError'`, so `e.name` tells the kind of error. */
  override name = 'ShapeError';
  constructor(
    /** The op at fault, e.g. `'matmul'`. */
    readonly op: string,
    message: string,
    /** The shapes involved, in argument order. */
    readonly shapes: readonly (readonly number[])[] = [],
  ) {
    super(`${op}: ${message}`);
  }
}

/** A dtype an op does not accept. */
export class DTypeError extends WebgradError {
  /** `'DTypeError'`, so `e.name` tells the kind of error. */
  override name = 'DTypeError';
  /** @param op The op at fault, e.g. `'matmul'`. */
  constructor(readonly op: string, message: string) {
    super(`${op}: ${message}`);
  }
}

/** A value out of range (an index, a probability, a dim). */
export class ValueError extends WebgradError {
  /** `'ValueError'`, so `e.name` tells the kind of error. */
  override name = 'ValueError';
  /** @param op The op at fault, e.g. `'matmul'`. */
  constructor(readonly op: string, message: string) {
    super(`${op}: ${message}`);
  }
}

/** Use of a tensor after `dispose()`. */
export class DisposedError extends WebgradError {
  /** `'DisposedError'`, so `e.name` tells the kind of error. */
  override name = 'DisposedError';
  /** @param op The op at fault, e.g. `'matmul'`. */
  constructor(readonly op: string, shape: readonly number[]) {
    super(`${op}: tensor of shape [${shape.join(', ')}] was disposed; keep it out of scope()/dispose() while it is still used`);
  }
}

/** Misuse of autograd: backward on a non-scalar, an in-place edit of a saved tensor, … */
export class AutogradError extends WebgradError {
  /** `'AutogradError'`, so `e.name` tells the kind of error. */
  override name = 'AutogradError';
}

/** No WebGPU adapter, a device lost, a shader that failed to compile. */
export class DeviceError extends WebgradError {
  /** `'DeviceError'`, so `e.name` tells the kind of error. */
  override name = 'DeviceError';
}

/**
 * An op whose operands or output exceed a device limit and that cannot be split to fit, raised
 * where the op is called and before anything is recorded or allocated (queued work and
 * memory() are untouched): `matmul: an operand of 167772160 bytes (160 MiB) exceeds this
 * device's maxStorageBufferBindingSize of 134217728 bytes (128 MiB); …`.
 */
export class DeviceLimitError extends DeviceError {
  /** `'DeviceLimitError'`, so `e.name` tells the kind of error. */
  override name = 'DeviceLimitError';
  constructor(
    /** The op at fault, e.g. `'matmul'`. */
    readonly op: string,
    /** The WebGPU limit exceeded, e.g. `'maxStorageBufferBindingSize'`. */
    readonly limit: string,
    /** The size asked for (bytes). */
    readonly bytes: number,
    /** The device's value of that limit (bytes). */
    readonly max: number,
    message: string,
  ) {
    super(`${op}: ${message}`);
  }
}

/**
 * Use of a WebGPU device that was lost (driver reset, `device.destroy()`) or shut down: the
 * tensors that lived on it are gone. `await init()` opens a new device; recreate the tensors
 * on it (from their source data or a checkpoint).
 */
export class DeviceLostError extends DeviceError {
  /** `'DeviceLostError'`, so `e.name` tells the kind of error. */
  override name = 'DeviceLostError';
}

/** Formats a shape the way every message in webgrad does: `[2, 3]`. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
