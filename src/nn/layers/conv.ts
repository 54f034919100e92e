// Conv2d: a 2-D convolution layer over [N, C, H, W] input, wrapping F.conv2d.

import type { Tensor } from '../../tensor/tensor.ts';
import { ValueError } from '../../errors.ts';
import * as F from '../functional.ts';
import * as init from '../init.ts';
import { Module, py, type Parameter } from '../module.ts';
import { newParameter, pair, type FactoryOptions } from './common.ts';

/** Options of `nn.Conv2d` beyond its channel counts and kernel size (PyTorch's keyword arguments). */
export interface Conv2dLayerOptions extends FactoryOptions {
  /** Default 1. */
  stride?: number | readonly [number, number];
  /** Zeros added on each side (default 0), or 'valid' / 'same'. */
  padding?: number | readonly [number, number] | 'valid' | 'same';
  /** Default 1. */
  dilation?: number | readonly [number, number];
  /** Default 1. */
  groups?: number;
  /** Default true. */
  bias?: boolean;
  /** Only 'zeros' (PyTorch's default) is supported. */
  paddingMode?: 'zeros';
}

/**
 * 2-D convolution (torch.nn.Conv2d): weight [outChannels, inChannels / groups, kH, kW],
 * bias [outChannels], initialised like Linear (Kaiming-uniform a = √5; bias U(±1/√fan_in)
 * with fan_in = inChannels / groups · kH · kW).
 * @example new nn.Conv2d(1, 20, 5).call(x /* [64, 1, 28, 28] *\/) // [64, 20, 24, 24]
 */
export class Conv2d extends Module {
  /** Channels C of the input [N, C, H, W]. */
  readonly inChannels: number;
  /** Channels of the output, one per filter. */
  readonly outChannels: number;
  /** Kernel [kH, kW] (a single number given to the constructor is used for both). */
  readonly kernelSize: [number, number];
  /** Step between kernel positions, [sH, sW] (default [1, 1]). */
  readonly stride: [number, number];
  /** Implicit zeros on each side, [pH, pW] (default [0, 0]), or 'valid' (none) / 'same' (output size = input size). */
  readonly padding: [number, number] | 'valid' | 'same';
  /** Spacing between kernel taps, [dH, dW] (default [1, 1]). */
  readonly dilation: [number, number];
  /** Number of blocked connections from input to output channels (default 1; `groups = inChannels` is depthwise). */
  readonly groups: number;
  /** Learnable filters, shape [outChannels, inChannels / groups, kH, kW]. */
  weight: Parameter;
  /** Learnable bias, shape [outChannels]; null when constructed with `bias: false`. */
  bias: Parameter | null;

  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly [number, number], opts: Conv2dLayerOptions = {}) {
    super();
    const groups = opts.groups ?? 1;
    if (!Number.isInteger(groups) || groups < 1) throw new ValueError('Conv2d', `groups must be a positive integer, got ${groups}`);
    for (const [k, v] of [['inChannels', inChannels], ['outChannels', outChannels]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ValueError('Conv2d', `${k} must be a positive integer, got ${v}`);
      if (v % groups !== 0) throw new ValueError('Conv2d', `${k} (${v}) must be divisible by groups (${groups})`);
    }
    if ((opts.paddingMode ?? 'zeros') !== 'zeros') throw new ValueError('Conv2d', `paddingMode '${opts.paddingMode}' is not supported (only 'zeros')`);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = pair('Conv2d', 'kernelSize', kernelSize);
    this.stride = pair('Conv2d', 'stride', opts.stride ?? 1);
    const padding = opts.padding ?? 0;
    this.padding = typeof padding === 'string' ? padding : pair('Conv2d', 'padding', padding, 0);
    if (padding === 'same' && (this.stride[0] !== 1 || this.stride[1] !== 1)) throw new ValueError('Conv2d', "padding='same' is not supported for strided convolutions");
    this.dilation = pair('Conv2d', 'dilation', opts.dilation ?? 1);
    this.groups = groups;
    const [kH, kW] = this.kernelSize;
    this.weight = newParameter([outChannels, inChannels / groups, kH, kW], 0, opts.device);
    this.bias = opts.bias === false ? null : newParameter([outChannels], 0, opts.device);
    this.resetParameters();
  }

  /** PyTorch's default initialisation. */
  resetParameters(): void {
    init.kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const { fanIn } = init.calculateFanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      init.uniform_(this.bias, -bound, bound);
    }
  }

  override forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${py.tuple(this.kernelSize)}, stride=${py.tuple(this.stride)}`;
    const p = this.padding;
    if (typeof p === 'string') s += `, padding=${p}`;
    else if (p[0] !== 0 || p[1] !== 0) s += `, padding=${py.tuple(p)}`;
    if (this.dilation[0] !== 1 || this.dilation[1] !== 1) s += `, dilation=${py.tuple(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (this.bias === null) s += ', bias=False';
    return s;
  }
}
