// Helpers every op declaration uses: picking the backend of the operands, wrapping a
// storage in a Tensor, and reducing a broadcast gradient back to an input's shape.

import type { Backend } from '../../backend/types.ts';
import { ValueError } from '../../errors.ts';
import type { Shape } from '../../shape.ts';
import { Tensor, type TensorOrScalar } from '../../tensor/tensor.ts';
import type { Storage } from '../../backend/types.ts';

/** The backend of the tensor operands; all must live on the same device. */
export function backendOf(op: string, ...xs: TensorOrScalar[]): Backend {
  let be: Backend | null = null;
  for (const x of xs) {
    if (typeof x === 'number') continue;
    x.assertAlive(op);
    const b = x.storage.backend;
    if (be && be !== b) {
      // Same name, different backends: one of them is a WebGPU device lost since (or shut down).
      throw b.lostError?.() ?? be.lostError?.() ?? new ValueError(op, `expected all tensors on the same device, got ${be.name} and ${b.name}`);
    }
    be = b;
  }
  if (!be) throw new ValueError(op, 'needs at least one tensor operand');
  return be;
}

/** A fresh contiguous tensor owning `storage`. */
export function wrap(storage: Storage, shape: Shape): Tensor {
  return new Tensor(storage, shape);
}

/**
 * Sums `g` over the dims that broadcasting added or stretched, so it has `shape`
 * (the gradient of an expand). Returns `g` itself when nothing needs summing.
 */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  const lead = g.ndim - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) dims.push(i);
  }
  if (dims.length === 0) return g;
  const s = g.sum(dims, true);
  return lead > 0 || s.ndim !== shape.length ? s.reshape(shape) : s;
}
