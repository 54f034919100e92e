// nn.init: in-place parameter initialisers with PyTorch's formulas (torch.nn.init), drawing
// from the default generator (so `manualSeed` makes them reproducible) or a given one. Each
// fills the tensor without recording autograd and returns it.

import type { Tensor } from '../tensor/tensor.ts';
import { rand, randn } from '../tensor/creation.ts';
import type { Generator } from '../tensor/random.ts';
import { noGrad } from '../autograd/grad-mode.ts';
import { scope } from '../tensor/scope.ts';
import { ValueError, fmtShape } from '../errors.ts';

/**
 * The activations {@link calculateGain} knows, by PyTorch's names (`'leakyRelu'` is accepted
 * as a camelCase alias of `'leaky_relu'`). Names of linear layers give gain 1.
 */
export type Nonlinearity =
  | 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'conv_transpose1d' | 'conv_transpose2d' | 'conv_transpose3d'
  | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'leakyRelu' | 'selu';

/**
 * Which fan the Kaiming initialisers scale by: 'fan_in' (inputs per output unit; keeps the
 * forward pass's variance) or 'fan_out' (keeps the backward pass's); camelCase aliases accepted.
 */
export type FanMode = 'fan_in' | 'fan_out' | 'fanIn' | 'fanOut';

/** Options every random initialiser takes. */
export interface InitOptions {
  /** Source of the random numbers (default: the global generator that `manualSeed` seeds). */
  generator?: Generator;
}

/**
 * The recommended gain for a nonlinearity (torch.nn.init.calculate_gain): 1 for linear,
 * convolutions and sigmoid, 5/3 for tanh, √2 for relu, √(2 / (1 + slope²)) for leaky_relu
 * (slope `param`, default 0.01), 3/4 for selu.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear': case 'conv1d': case 'conv2d': case 'conv3d':
    case 'conv_transpose1d': case 'conv_transpose2d': case 'conv_transpose3d': case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': case 'leakyRelu': {
      const slope = param ?? 0.01;
      if (typeof slope !== 'number' || !Number.isFinite(slope)) throw new ValueError('calculateGain', `negative slope ${slope} is not a valid number`);
      return Math.sqrt(2 / (1 + slope ** 2));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new ValueError('calculateGain', `unsupported nonlinearity '${nonlinearity as string}'`);
  }
}

/**
 * fan_in and fan_out of a weight: dim 1 and dim 0 times the receptive field (the product of
 * the dims after the second), as torch.nn.init._calculate_fan_in_and_fan_out.
 */
export function calculateFanInAndFanOut(t: Tensor): {
  /** shape[1] · receptive field: the inputs feeding one output unit. */
  fanIn: number;
  /** shape[0] · receptive field: the outputs one input unit feeds. */
  fanOut: number
} {
  if (t.ndim < 2) {
    throw new ValueError('init', `fan in and fan out can not be computed for a tensor with fewer than 2 dimensions (shape ${fmtShape(t.shape)})`);
  }
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: t.shape[1]! * receptive, fanOut: t.shape[0]! * receptive };
}

function fanFor(t: Tensor, mode: FanMode): number {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  if (mode === 'fan_in' || mode === 'fanIn') return fanIn;
  if (mode === 'fan_out' || mode === 'fanOut') return fanOut;
  throw new ValueError('init', `mode '${mode as string}' not supported, use 'fan_in' or 'fan_out'`);
}

/** Fills `t` from `draw` (a fresh tensor of t's shape on t's device) without recording autograd. */
function fill(t: Tensor, draw: () => Tensor): Tensor {
  t.assertAlive('init');
  scope(() => noGrad(() => t.copy_(draw())));
  return t;
}

/**
 * Fills `t` in place with samples uniform in [a, b) (default [0, 1)); returns `t`. Not recorded by autograd.
 * @example nn.init.uniform_(layer.bias!, -0.1, 0.1)
 */
export function uniform_(t: Tensor, a = 0, b = 1, opts: InitOptions = {}): Tensor {
  return fill(t, () => rand([...t.shape], { device: t.device, generator: opts.generator }).mul(b - a).add(a));
}

/**
 * Fills `t` in place with samples from N(mean, std²) (default N(0, 1)); returns `t`.
 * @example nn.init.normal_(layer.weight, 0, 0.02)
 */
export function normal_(t: Tensor, mean = 0, std = 1, opts: InitOptions = {}): Tensor {
  return fill(t, () => randn([...t.shape], { device: t.device, generator: opts.generator }).mul(std).add(mean));
}

/** Fills `t` in place with `value`; returns `t`. Not recorded by autograd. */
export function constant_(t: Tensor, value: number): Tensor {
  t.assertAlive('constant_');
  noGrad(() => t.fill_(value));
  return t;
}
/**
 * Fills `t` in place with 0; returns `t` (torch.nn.init.zeros_).
 * @example nn.init.zeros_(layer.bias!)
 */
export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}
/** Fills `t` in place with 1; returns `t` (torch.nn.init.ones_). */
export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/** Options of kaimingUniform_ and kaimingNormal_ (torch.nn.init's keywords, camelCased). */
export interface KaimingOptions extends InitOptions {
  /** Negative slope of the rectifier after this layer (leaky_relu only); default 0. */
  a?: number;
  /** 'fan_in' (default) preserves the forward pass's variance, 'fan_out' the backward's. */
  mode?: FanMode;
  /** The activation after this layer, which sets the gain (default 'leaky_relu', as PyTorch; with a = 0 that is relu's √2). */
  nonlinearity?: Nonlinearity;
}

/**
 * He et al. (2015), uniform: fills `t` in place with U(−bound, bound), bound = gain·√(3 / fan);
 * returns `t`. Needs at least 2 dims (a ValueError otherwise); an empty tensor is left alone.
 * @example nn.init.kaimingUniform_(layer.weight, { nonlinearity: 'relu' })
 */
export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const { a = 0, mode = 'fan_in', nonlinearity = 'leaky_relu' } = opts;
  if (t.numel === 0) return t;
  const std = calculateGain(nonlinearity, a) / Math.sqrt(fanFor(t, mode));
  const bound = Math.sqrt(3) * std;
  return uniform_(t, -bound, bound, opts);
}

/**
 * He et al. (2015), normal: fills `t` in place with N(0, std²), std = gain / √fan; returns `t`.
 * @example nn.init.kaimingNormal_(conv.weight, { mode: 'fan_out', nonlinearity: 'relu' })
 */
export function kaimingNormal_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const { a = 0, mode = 'fan_in', nonlinearity = 'leaky_relu' } = opts;
  if (t.numel === 0) return t;
  const std = calculateGain(nonlinearity, a) / Math.sqrt(fanFor(t, mode));
  return normal_(t, 0, std, opts);
}

/**
 * Glorot & Bengio (2010), uniform: fills `t` in place with U(−a, a), a = gain·√(6 / (fan_in + fan_out)); returns `t`.
 * @example nn.init.xavierUniform_(layer.weight, nn.init.calculateGain('tanh'))
 */
export function xavierUniform_(t: Tensor, gain = 1, opts: InitOptions = {}): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -a, a, opts);
}

/** Glorot & Bengio (2010), normal: N(0, std²) with std = gain·√(2 / (fan_in + fan_out)). */
export function xavierNormal_(t: Tensor, gain = 1, opts: InitOptions = {}): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), opts);
}
