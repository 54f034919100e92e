// Activations with scalar parameters, declared once: leakyRelu, elu, gelu (erf or tanh form),
// softplus, logSigmoid, clamp, hardtanh, silu. Forward and the fused gradient g·f'(x) are
// backend primitives (src/kernels/activation.ts, float64 twins in src/backend/cpu/activation.ts);
// the gradient is an op too, linear in g, so a gradient flowing into g is handled.
// Gradients at kinks follow PyTorch: leakyRelu and elu take the negative side at 0, clamp is
// 1 on [min, max] inclusive, hardtanh 0 at its bounds.

import type { ActivationOp } from '../../backend/pool-activation-types.ts';
import { AutogradError, DTypeError, ValueError } from '../../errors.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { apply, type OpDef } from '../function.ts';
import { wrap } from './common.ts';

interface ActAttrs {
  op: ActivationOp;
  params: readonly number[];
}

const forwardDefs = new Map<ActivationOp, OpDef<ActAttrs>>();
const gradDefs = new Map<ActivationOp, OpDef<ActAttrs>>();

function forwardDef(op: ActivationOp): OpDef<ActAttrs> {
  let def = forwardDefs.get(op);
  if (!def) {
    def = {
      name: op,
      forward: ([x], a) => wrap(x!.storage.backend.activation(a.op, x!.layout, a.params), x!.shape),
      save: ([x]) => [x!],
      // dx = g·f'(x), fused in one kernel (the derivative of each op is beside its WGSL).
      backward: (g, [x], a) => [apply(gradDef(a.op), [x!, g], a)],
    };
    forwardDefs.set(op, def);
  }
  return def;
}

/** out = g·f'(x); inputs [x, g]. */
function gradDef(op: ActivationOp): OpDef<ActAttrs> {
  let def = gradDefs.get(op);
  if (!def) {
    def = {
      name: `${op}Backward`,
      forward: ([x, g], a) => wrap(x!.storage.backend.activationBackward(a.op, x!.layout, g!.layout, a.params), x!.shape),
      save: ([x]) => [x!],
      // d(g·f'(x))/dg = f'(x): the same kernel on gg. d/dx = g·f''(x) is not written yet: the
      // tape saves x as a detached alias, so nothing can ask for it today.
      backward: (gg, [x], a, needs) => {
        if (needs[0]) throw new AutogradError(`${a.op}: second derivatives with respect to the input are not implemented yet; TODO(#4)`);
        return [null, needs[1] ? apply(gradDef(a.op), [x!, gg], a) : null];
      },
    };
    gradDefs.set(op, def);
  }
  return def;
}

function activate(op: ActivationOp, name: string, x: Tensor, params: number[], allowInt = false): Tensor {
  x.assertAlive(name);
  if (x.dtype !== 'float32' && !(allowInt && x.dtype === 'int32')) {
    throw new DTypeError(name, `expected a float32${allowInt ? ' or int32' : ''} input, got ${x.dtype}; cast with .float() first`);
  }
  for (const v of params) if (typeof v !== 'number' || Number.isNaN(v)) throw new ValueError(name, `parameters must be numbers, got ${JSON.stringify(params)}`);
  return apply(forwardDef(op), [x], { op, params });
}

/**
 * x for x > 0, negativeSlope·x otherwise (PyTorch's F.leaky_relu); gradient at 0 is the slope.
 * @example leakyRelu(x, 0.2)
 */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  return activate('leakyRelu', 'leakyRelu', x, [negativeSlope]);
}

/** x for x > 0, α(eˣ − 1) otherwise (PyTorch's F.elu); gradient at 0 is α. @example elu(x, 1) */
export function elu(x: Tensor, alpha = 1): Tensor {
  return activate('elu', 'elu', x, [alpha]);
}

/** Options of {@link gelu}. */
export interface GeluOptions {
  /** 'none' (default): x·Φ(x) with the exact erf; 'tanh': ½x(1 + tanh(√(2/π)(x + 0.044715x³))). */
  approximate?: 'none' | 'tanh';
}

/** x·Φ(x), Φ the standard normal CDF (PyTorch's F.gelu). @example gelu(x); gelu(x, { approximate: 'tanh' }) */
export function gelu(x: Tensor, opts: GeluOptions = {}): Tensor {
  const a = opts.approximate ?? 'none';
  if (a !== 'none' && a !== 'tanh') throw new ValueError('gelu', `approximate must be 'none' or 'tanh', got ${JSON.stringify(a)}`);
  return activate(a === 'tanh' ? 'geluTanh' : 'gelu', 'gelu', x, []);
}

/** Options of {@link softplus}. */
export interface SoftplusOptions {
  /** Sharpness β (default 1). */
  beta?: number;
  /** Above βx > threshold the result is x itself (default 20). */
  threshold?: number;
}

/** log(1 + e^(βx))/β, and x where βx > threshold (PyTorch's F.softplus). @example softplus(x, { beta: 2 }) */
export function softplus(x: Tensor, opts: SoftplusOptions = {}): Tensor {
  const beta = opts.beta ?? 1;
  if (beta === 0) throw new ValueError('softplus', 'beta must be nonzero');
  return activate('softplus', 'softplus', x, [beta, opts.threshold ?? 20]);
}

/** log σ(x) = −softplus(−x), computed without overflow (PyTorch's F.logsigmoid). */
export function logSigmoid(x: Tensor): Tensor {
  return activate('logSigmoid', 'logSigmoid', x, []);
}

/**
 * Elementwise min(max(x, min), max) (torch.clamp); a missing bound is open. Gradient 1 on
 * [min, max] inclusive, 0 outside; min > max gives max everywhere. int32 tensors stay int32.
 * @example x.clamp(0, 6); clamp(x, undefined, 1)
 */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  const lo = min ?? null;
  const hi = max ?? null;
  if (lo === null && hi === null) throw new ValueError('clamp', 'at least one of min or max must be given');
  const isInt = x.dtype === 'int32';
  if (isInt && [lo, hi].some((v) => v !== null && !Number.isInteger(v))) {
    throw new DTypeError('clamp', `bounds of an int32 tensor must be integers, got min=${lo} max=${hi}; cast with .float() first`);
  }
  const clip = (v: number) => Math.min(Math.max(v, -(2 ** 31)), 2 ** 31 - 1);
  const params = isInt ? [lo === null ? -(2 ** 31) : clip(lo), hi === null ? 2 ** 31 - 1 : clip(hi)] : [lo ?? -Infinity, hi ?? Infinity];
  return activate('clamp', 'clamp', x, params, true);
}

/**
 * clamp(x, minVal, maxVal) with PyTorch's hardtanh gradient: 1 strictly inside, 0 at and
 * beyond the bounds. @example hardtanh(x) // [-1, 1]
 */
export function hardtanh(x: Tensor, minVal = -1, maxVal = 1): Tensor {
  if (!(minVal <= maxVal)) throw new ValueError('hardtanh', `minVal (${minVal}) must not be greater than maxVal (${maxVal})`);
  return activate('hardtanh', 'hardtanh', x, [minVal, maxVal]);
}

/** x·σ(x), also called swish (PyTorch's F.silu). */
export function silu(x: Tensor): Tensor {
  return activate('silu', 'silu', x, []);
}
