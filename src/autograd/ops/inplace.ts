// In-place ops (add_, sub_, mul_, div_, fill_, copy_). They are not recorded: on a tensor
// that requires grad they are allowed only inside noGrad (optimizer updates), as in PyTorch.
// Writes of distinct values into an expanded (self-overlapping) view are refused, as in PyTorch.
// Each validates everything first, then writes, then bumps the storage version so a saved
// tensor modified later is caught by backward.

import { promote, scalarResult } from '../../dtype.ts';
import type { BinaryOp } from '../../backend/types.ts';
import { DTypeError, ShapeError, fmtShape } from '../../errors.ts';
import { broadcastShapes, broadcastStrides, contiguousStrides, sameShape } from '../../shape.ts';
import { checkInPlace, checkNoInternalOverlap, type Tensor, type TensorOrScalar } from '../../tensor/tensor.ts';
import { backendOf } from './common.ts';

const OPS: Record<'add_' | 'sub_' | 'mul_' | 'div_', BinaryOp> = { add_: 'add', sub_: 'sub', mul_: 'mul', div_: 'div' };

/** The operand broadcast to `t`'s shape, checking it does not grow `t`. */
function operandFor(op: string, t: Tensor, x: TensorOrScalar) {
  if (typeof x === 'number') return x;
  const shape = broadcastShapes(op, t.shape, x.shape);
  if (!sameShape(shape, t.shape)) {
    throw new ShapeError(op, `output with shape ${fmtShape(t.shape)} doesn't match the broadcast shape ${fmtShape(shape)}`, [t.shape, x.shape]);
  }
  return { storage: x.storage, shape: t.shape, strides: broadcastStrides(x.shape, x.strides, t.shape), offset: x.offset };
}

export function binaryInPlace(op: 'add_' | 'sub_' | 'mul_' | 'div_', t: Tensor, other: TensorOrScalar, alpha: number): void {
  checkInPlace(op, t);
  checkNoInternalOverlap(op, t);
  const be = backendOf(op, t, other);
  const bop = OPS[op];
  let result = typeof other === 'number' ? scalarResult(t.dtype, other * alpha) : promote(t.dtype, other.dtype);
  if (bop === 'div') result = 'float32';
  if (result !== t.dtype && !(t.dtype === 'float32')) {
    throw new DTypeError(op, `result type ${result} can't be cast to the desired output type ${t.dtype}`);
  }
  let operand = operandFor(op, t, other);
  let scaled: Tensor | null = null;
  if (alpha !== 1) {
    if (typeof operand === 'number') operand *= alpha;
    else {
      scaled = (other as Tensor).mul(alpha);
      operand = operandFor(op, t, scaled);
    }
  }
  const compute = t.dtype === 'bool' ? 'int32' : t.dtype;
  const tmp = be.binary(bop, t.layout, operand, t.shape, compute, t.dtype);
  try {
    be.copy(t.layout, { storage: tmp, shape: t.shape, strides: contiguousStrides(t.shape), offset: 0 });
  } finally {
    tmp.release();
    scaled?.dispose();
  }
  t.storage.version++;
}

/** Every element set to `value`; allowed on an expanded view, as in PyTorch (each write stores the same value). */
export function fill_(t: Tensor, value: number): void {
  checkInPlace('fill_', t);
  t.storage.backend.copy(t.layout, value);
  t.storage.version++;
}

/** Copies `src` (broadcast, cast) into `t`; an aliasing source is read through a temporary. */
export function copy_(t: Tensor, src: TensorOrScalar): void {
  checkInPlace('copy_', t);
  const be = backendOf('copy_', t, src);
  if (typeof src === 'number') {
    be.copy(t.layout, src);
  } else {
    // A number fills (well defined on an expanded view); a tensor writes distinct values.
    checkNoInternalOverlap('copy_', t);
    const operand = operandFor('copy_', t, src);
    if (src.storage === t.storage) {
      const tmp = src.clone();
      be.copy(t.layout, operandFor('copy_', t, tmp));
      tmp.dispose();
    } else be.copy(t.layout, operand);
  }
  t.storage.version++;
}
