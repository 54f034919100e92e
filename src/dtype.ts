// dtypes and their promotion rules (PyTorch's: bool < int32 < float32).

/** Element types a tensor can hold. `bool` is stored as 32-bit integers 0/1. */
export type DType = 'float32' | 'int32' | 'bool';

export const DTYPES: readonly DType[] = ['float32', 'int32', 'bool'];

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2 };

/** The dtype of a result computed from operands of dtypes `a` and `b`. */
export function promote(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** The dtype a JS number literal takes when it is an operand next to a tensor of dtype `t`. */
export function scalarResult(t: DType, value: number): DType {
  if (t === 'float32') return 'float32';
  if (typeof value === 'boolean') return t;
  return Number.isInteger(value) ? (t === 'bool' ? 'int32' : t) : 'float32';
}

/**
 * The float → int32 cast, one rule on every backend (`Tensor.to('int32')`, `.int()`, `copy_`
 * into an int32 tensor, int32 tensors made from JS numbers): truncate toward zero, saturate to
 * [−2^31, 2^31 − 1], NaN → 0 (the rule of Rust's `as i32` and Java's `(int)`). PyTorch leaves NaN
 * and out-of-range casts undefined (INT_MIN on x86) and WGSL's i32() saturates at 2^31 − 128,
 * so webgrad fixes this one; the WGSL twin is `ieee_f2i` in src/kernels/ieee.ts.
 * @example castToInt32(-2.7) // -2;  castToInt32(1e10) // 2147483647;  castToInt32(NaN) // 0
 */
export function castToInt32(x: number): number {
  if (Number.isNaN(x)) return 0;
  if (x >= 2147483647) return 2147483647;
  if (x <= -2147483648) return -2147483648;
  return Math.trunc(x) | 0; // | 0 turns −0 into 0
}

/** True for the floating-point dtype. */
export function isFloat(d: DType): boolean {
  return d === 'float32';
}

/** Every dtype is 4 bytes wide on the device (bool included, as u32/i32). */
export const BYTES_PER_ELEMENT = 4;

/** The typed array readback gives for a dtype. */
export type TypedArrayFor<D extends DType> = D extends 'float32' ? Float32Array : Int32Array;

export function assertDType(op: string, d: string): asserts d is DType {
  if (!(DTYPES as readonly string[]).includes(d)) {
    throw new TypeError(`${op}: unknown dtype '${d}' (expected one of ${DTYPES.join(', ')})`);
  }
}
