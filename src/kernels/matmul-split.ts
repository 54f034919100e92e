// matmul (matmul.ts) with an operand or the output larger than one storage binding, in parts
// (src/kernels/split.ts): batches, then rows of a and the output, then columns of b and the
// output, and last slabs of the inner dim whose partial products are added, the bias and the
// activation applied once to the sum.

import type { Backend, View } from '../backend/types.ts';
import type { FusedActivation } from '../backend/fused-activation.ts';
import type { GpuRuntime } from '../device/runtime.ts';
import { contiguousStrides } from '../shape.ts';
import type { GpuStorage } from './storage.ts';
import { runSplit, type Cut } from './split.ts';
import { matmul, type MatmulConfig } from './matmul.ts';
import * as ew from './elementwise.ts';

/**
 * A product with an operand or the output over one binding, in parts (src/kernels/split.ts):
 * batches, then rows of a and the output, then columns of b and the output, and last slabs of
 * the inner dim whose partial products are added (the bias and activation wait for the sum).
 */
export function splitMatmul(rt: GpuRuntime, backend: Backend, a: View, b: View, config: MatmulConfig | undefined, bias: View | null, act: FusedActivation | null): GpuStorage {
  const [batch, m, k] = a.shape as [number, number, number];
  const n = b.shape[2]!;
  const inner: Cut = {
    axis: 'the inner dim (K)', extent: k, dims: [2, 1, null, null], join: 'sum',
    after: ([sum], [, , bv], [shape]) => {
      let y = sum!;
      const st = contiguousStrides(shape!);
      const view = (s: GpuStorage): View => ({ storage: s, shape: shape!, strides: st, offset: 0 });
      if (bv) {
        const biased = ew.binary(rt, backend, 'add', view(y), { ...bv, shape: shape!, strides: [0, 0, bv.strides[0]!] }, shape!, 'float32', 'float32');
        y.release();
        y = biased;
      }
      if (act) {
        const activated = ew.unary(rt, backend, act, view(y), 'float32');
        y.release();
        y = activated;
      }
      return [y];
    },
  };
  return runSplit(rt, {
    name: 'matmul',
    backend,
    inputs: [a, b, bias],
    roles: ['left operand', 'right operand', 'bias'],
    outputs: [{ shape: [batch, m, n], dtype: 'float32' }],
    cuts: [
      { axis: 'the batch', extent: batch, dims: [0, 0, null, 0], join: 'slab' },
      { axis: 'rows (M)', extent: m, dims: [1, null, null, 1], join: 'slab' },
      { axis: 'columns (N)', extent: n, dims: [null, 2, 0, 2], join: 'slab' },
      inner,
    ],
    leaf: ([pa, pb, pbias], _, under) => [under.has(inner) ? matmul(rt, backend, pa!, pb!, config) : matmul(rt, backend, pa!, pb!, config, pbias, act)],
  })[0]!;
}
