// The resolved geometry of one 2-D convolution, shared by the three conv primitives of both
// backends (forward, gradient wrt input, gradient wrt weight). The autograd layer validates the
// user's options and builds it once; backends only read it. Knows nothing of tensors.

/**
 * Every size a conv2d primitive needs, already checked. Input [batch, inChannels, height, width],
 * weight [outChannels, inChannels / groups, kernelH, kernelW], output [batch, outChannels, outH, outW].
 * Output pixel (oh, ow) reads input rows oh·strideH − padTop + kh·dilationH and columns
 * ow·strideW − padLeft + kw·dilationW; positions outside the input read zero. Padding after the
 * last row/column is implied by outH/outW (PyTorch's 'same' puts an odd remainder there).
 */
export interface Conv2dGeometry {
  readonly batch: number;
  readonly inChannels: number;
  readonly height: number;
  readonly width: number;
  readonly outChannels: number;
  readonly kernelH: number;
  readonly kernelW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padTop: number;
  readonly padLeft: number;
  readonly dilationH: number;
  readonly dilationW: number;
  readonly groups: number;
  readonly outH: number;
  readonly outW: number;
}

/** Output size along one dim: ⌊(in + padBefore + padAfter − dilation·(k − 1) − 1) / stride⌋ + 1. */
export function convOutSize(size: number, k: number, stride: number, padBefore: number, padAfter: number, dilation: number): number {
  return Math.floor((size + padBefore + padAfter - dilation * (k - 1) - 1) / stride) + 1;
}

/** FLOPs of one pass (forward, or either gradient): 2·N·Cout·Ho·Wo·(Cin/groups)·kH·kW. */
export function convFlops(g: Conv2dGeometry): number {
  return 2 * g.batch * g.outChannels * g.outH * g.outW * (g.inChannels / g.groups) * g.kernelH * g.kernelW;
}
