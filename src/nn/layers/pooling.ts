// MaxPool2d and AvgPool2d layers, wrapping F.maxPool2d and F.avgPool2d.

import type { Tensor } from '../../tensor/tensor.ts';
import * as F from '../functional.ts';
import { Module, py } from '../module.ts';

/** A 2-D size argument: one number for both dims, or [h, w] (PyTorch's int-or-tuple `_size_2_t`). */
export type Size2 = number | readonly [number, number];
const size = (v: Size2): string => (typeof v === 'number' ? String(v) : py.tuple(v));

/**
 * 2-D max pooling over [N, C, H, W] input (torch.nn.MaxPool2d); stride defaults to the kernel size.
 * @example new nn.MaxPool2d(2).call(x /* [64, 20, 24, 24] *\/) // [64, 20, 12, 12]
 */
export class MaxPool2d extends Module {
  /** Window size, a number or [h, w]. */
  readonly kernelSize: Size2;
  /** Step between windows (default: `kernelSize`). */
  readonly stride: Size2;
  /** Implicit −∞ padding on each side (default 0; at most half the kernel). */
  readonly padding: Size2;
  /** Spacing between window taps (default 1). */
  readonly dilation: Size2;
  /** Round the output size up instead of down, so a last partial window counts (default false). */
  readonly ceilMode: boolean;

  constructor(kernelSize: Size2, opts: { stride?: Size2 | null; padding?: Size2; dilation?: Size2; ceilMode?: boolean } = {}) {
    super();
    this.kernelSize = kernelSize;
    this.stride = opts.stride ?? kernelSize;
    this.padding = opts.padding ?? 0;
    this.dilation = opts.dilation ?? 1;
    this.ceilMode = opts.ceilMode ?? false;
  }

  override forward(x: Tensor): Tensor {
    return F.maxPool2d(x, { kernelSize: this.kernelSize, stride: this.stride, padding: this.padding, dilation: this.dilation, ceilMode: this.ceilMode });
  }

  override extraRepr(): string {
    return `kernel_size=${size(this.kernelSize)}, stride=${size(this.stride)}, padding=${size(this.padding)}, dilation=${size(this.dilation)}, ceil_mode=${py.bool(this.ceilMode)}`;
  }
}

/**
 * 2-D average pooling over [N, C, H, W] input (torch.nn.AvgPool2d); stride defaults to the kernel size.
 * @example new nn.AvgPool2d(2).call(x /* [64, 20, 24, 24] *\/) // [64, 20, 12, 12]
 */
export class AvgPool2d extends Module {
  /** Window size, a number or [h, w]. */
  readonly kernelSize: Size2;
  /** Step between windows (default: `kernelSize`). */
  readonly stride: Size2;
  /** Implicit zero padding on each side (default 0; at most half the kernel). */
  readonly padding: Size2;
  /** Round the output size up instead of down, so a last partial window counts (default false). */
  readonly ceilMode: boolean;
  /** Whether padded zeros count in each window's divisor (default true, as PyTorch). */
  readonly countIncludePad: boolean;
  /** Divide every window's sum by this instead of its size (default null: no override). */
  readonly divisorOverride: number | null;

  constructor(
    kernelSize: Size2,
    opts: { stride?: Size2 | null; padding?: Size2; ceilMode?: boolean; countIncludePad?: boolean; divisorOverride?: number | null } = {},
  ) {
    super();
    this.kernelSize = kernelSize;
    this.stride = opts.stride ?? kernelSize;
    this.padding = opts.padding ?? 0;
    this.ceilMode = opts.ceilMode ?? false;
    this.countIncludePad = opts.countIncludePad ?? true;
    this.divisorOverride = opts.divisorOverride ?? null;
  }

  override forward(x: Tensor): Tensor {
    return F.avgPool2d(x, {
      kernelSize: this.kernelSize,
      stride: this.stride,
      padding: this.padding,
      ceilMode: this.ceilMode,
      countIncludePad: this.countIncludePad,
      divisorOverride: this.divisorOverride,
    });
  }

  override extraRepr(): string {
    return `kernel_size=${size(this.kernelSize)}, stride=${size(this.stride)}, padding=${size(this.padding)}`;
  }
}
