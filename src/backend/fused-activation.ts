// Activations that matmul and conv2d can apply in their epilogue, so `relu(x·Wᵀ + b)` is one
// dispatch and one pass over the output instead of two (TF.js's fused.matMul / fused.conv2d do
// the same). The float64 reference lives here; the WGSL form is in src/kernels/wgsl.ts.

import { ValueError } from '../errors.ts';

/** An activation written into a matmul/conv output as it is stored. */
export type FusedActivation = 'relu' | 'sigmoid' | 'tanh';

/** Every fused activation, for validation and tests. */
export const FUSED_ACTIVATIONS: readonly FusedActivation[] = ['relu', 'sigmoid', 'tanh'];

/** Throws a ValueError naming `op` unless `act` is a fused activation (undefined/null: none). */
export function checkActivation(op: string, act: unknown): void {
  if (act === undefined || act === null || FUSED_ACTIVATIONS.includes(act as FusedActivation)) return;
  throw new ValueError(op, `activation must be one of ${FUSED_ACTIVATIONS.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(act)}`);
}

/** The activation of `v` in float64 (`null`: none). */
export function activate(act: FusedActivation | null, v: number): number {
  switch (act) {
    case 'relu':
      return v > 0 || Number.isNaN(v) ? v : 0;
    case 'sigmoid':
      return 1 / (1 + Math.exp(-v));
    case 'tanh':
      return Math.tanh(v);
    default:
      return v;
  }
}
