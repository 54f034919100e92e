// Types shared by the index primitives of the Backend contract (indexGather, indexScatterAdd,
// oneHot): how an int32 index tensor moves a position, and how a bad index value is named.
// Declarations plus one shared helper; the op layer (src/autograd/ops/indexing.ts) builds them.

import type { View } from './types.ts';

/** One int32 index tensor of an index op, seen over the walked shape (0 strides where it does not vary). */
export interface IndexOperand {
  /** The int32 values, a view broadcast to the walked shape. */
  readonly index: View;
  /** Storage elements of the base that one unit of index value moves. */
  readonly stride: number;
  /** Valid values are [0, size), and [-size, 0) too when `wrap` (counted from the end). */
  readonly size: number;
  readonly wrap: boolean;
}

/** Turns an out-of-range index into the op's error (the op layer knows names and shapes). */
export interface IndexCheck {
  /**
   * `k`: which index operand (0 for oneHot); `position`: coordinates over the walked shape
   * (oneHot: over its input); `value`: the offending value.
   */
  error(k: number, position: readonly number[], value: number): Error;
}

/** Coordinates of row-major flat position `i` over `shape` (how both backends report a position). */
export function unravel(i: number, shape: readonly number[]): number[] {
  const c = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d]!;
    c[d] = i % n;
    i = Math.floor(i / n);
  }
  return c;
}
