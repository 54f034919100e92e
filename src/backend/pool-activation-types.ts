// Parameter types of the pooling and activation primitives (issue #4), part of the Backend
// contract in types.ts. Geometry arrives resolved: the op layer has validated it and computed
// the output size, so a backend only loops.

/**
 * The geometry of a 2-D pooling window over [B, C, inH, inW] → [B, C, outH, outW].
 * Output (oh, ow) reads input rows oh·sH − pH + kh·dH (kh < kH), columns likewise.
 */
export interface Pool2dGeometry {
  readonly inH: number;
  readonly inW: number;
  readonly outH: number;
  readonly outW: number;
  readonly kH: number;
  readonly kW: number;
  readonly sH: number;
  readonly sW: number;
  readonly pH: number;
  readonly pW: number;
  /** Dilation (1 for average pooling). */
  readonly dH: number;
  readonly dW: number;
}

/** How average pooling divides each window's sum. */
export interface AvgPoolDivisor {
  /** PyTorch's count_include_pad: padded zeros count in the divisor. */
  readonly countIncludePad: boolean;
  /** PyTorch's divisor_override: a fixed divisor (0 = none). */
  readonly divisorOverride: number;
}

/**
 * Elementwise activations with scalar parameters (passed as uniforms):
 * leakyRelu [slope], elu [alpha], gelu [], geluTanh [], softplus [beta, threshold],
 * logSigmoid [], clamp [min, max] (±Infinity for a missing bound), hardtanh [min, max], silu [].
 */
export type ActivationOp = (typeof ACTIVATION_OPS)[number];

/** Every activation primitive (Backend.activation), for tables and tests that must cover them all. */
export const ACTIVATION_OPS = ['leakyRelu', 'elu', 'gelu', 'geluTanh', 'softplus', 'logSigmoid', 'clamp', 'hardtanh', 'silu'] as const;
