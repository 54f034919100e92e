// Float64 reference of batched `matmul`: a naive triple loop over strided [B, M, K] and
// [B, K, N] views (0 strides on broadcast batch dims), accumulating in double.

import type { View } from '../types.ts';
import { ShapeError, fmtShape } from '../../errors.ts';
import { cpuStorageOf, viewPositions } from './storage.ts';
import { activate, type FusedActivation } from '../fused-activation.ts';

/** out[b, i, j] = act(bias[j] + Σ_k a[b, i, k] · b[b, k, j]), contiguous [B, M, N]. */
export function matmul(a: View, b: View, bias: View | null = null, act: FusedActivation | null = null): Float64Array {
  const op = 'cpu.matmul';
  if (a.shape.length !== 3 || b.shape.length !== 3) {
    throw new ShapeError(op, `expected rank-3 operands [B, M, K] and [B, K, N], got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`, [a.shape, b.shape]);
  }
  const [batch, m, k] = a.shape as [number, number, number];
  const [batchB, kB, n] = b.shape as [number, number, number];
  if (batch !== batchB || k !== kB) {
    throw new ShapeError(op, `shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} do not align (batch ${batch} vs ${batchB}, inner ${k} vs ${kB})`, [a.shape, b.shape]);
  }
  const ad = cpuStorageOf(op, a).data;
  const bd = cpuStorageOf(op, b).data;
  // Bounds-check both views once; the loops below index with the strides directly.
  viewPositions(op, a);
  viewPositions(op, b);
  const [sab, sam, sak] = a.strides as [number, number, number];
  const [sbb, sbk, sbn] = b.strides as [number, number, number];
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== n)) throw new ShapeError(op, `bias of shape ${fmtShape(bias.shape)} does not match ${n} output columns`, [bias.shape]);
  const bd2 = bias ? cpuStorageOf(op, bias).data : null;
  if (bias) viewPositions(op, bias);
  const out = new Float64Array(batch * m * n);
  for (let bi = 0; bi < batch; bi++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = bias ? bd2![bias.offset + j * bias.strides[0]!]! : 0;
        for (let p = 0; p < k; p++) {
          acc += ad[a.offset + bi * sab + i * sam + p * sak]! * bd[b.offset + bi * sbb + p * sbk + j * sbn]!;
        }
        out[(bi * m + i) * n + j] = activate(act, acc);
      }
    }
  }
  return out;
}
