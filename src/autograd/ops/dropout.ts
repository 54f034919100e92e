// dropout and dropout2d, declared once. The keep bits come from the default generator's
// Philox stream and are drawn inside the kernel (src/kernels/dropout.ts), so `manualSeed(n)`
// replays every mask, identically on WebGPU and the CPU reference.
//
// Backward regenerates the mask instead of saving it: y = x·m·s is linear and diagonal, so
// dx = g·m·s is the SAME op applied to g with the same generator state. That costs one Philox
// block per 4 draws again (cheap next to the memory traffic) but keeps no mask tensor alive
// between forward and backward (4 bytes per element per dropout layer), and makes the rule
// its own derivative (double backward for free).

import type { RandomState } from '../../backend/types.ts';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../../errors.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { defaultGenerator } from '../../tensor/random.ts';
import { apply, type OpDef } from '../function.ts';
import { wrap } from './common.ts';

interface DropoutAttrs {
  /** Keep iff (word >>> 8) >= threshold, threshold = round(p·2²⁴). */
  threshold: number;
  /** 1/(1 − p): inverted dropout keeps the expectation. */
  scale: number;
  /** Elements per draw: 1 (dropout) or H·W (dropout2d). */
  group: number;
  state: RandomState;
}

function dropoutDef(name: string): OpDef<DropoutAttrs> {
  const def: OpDef<DropoutAttrs> = {
    name,
    forward: ([x], a) => wrap(x!.storage.backend.dropout(x!.layout, a.threshold, a.scale, a.group, a.state), x!.shape),
    // d(x·m·s)/dx = m·s: the same mask (same state) applied to g.
    backward: (g, _s, a) => [apply(def, [g], a)],
  };
  return def;
}

const dropoutOp = dropoutDef('dropout');
const dropout2dOp = dropoutDef('featureDropout');

function validate(op: string, x: Tensor, p: number): void {
  x.assertAlive(op);
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new ValueError(op, `dropout probability has to be between 0 and 1, but got ${p}`);
  if (x.dtype !== 'float32') throw new DTypeError(op, `expected a float32 input, got ${x.dtype}; cast with .float() first`);
}

/**
 * The identity result of eval mode and p = 0: a new view of the input (no copy, gradient
 * passes through), which the caller owns and may dispose without touching the input.
 * PyTorch returns the input object itself; a view keeps webgrad's ownership rule.
 */
function passThrough(x: Tensor): Tensor {
  return x.view(x.shape);
}

function run(op: OpDef<DropoutAttrs>, x: Tensor, p: number, group: number): Tensor {
  if (p === 1) return x.mul(0); // everything dropped (NaN·0 stays NaN, as torch's input * 0)
  const draws = Math.ceil(x.numel / group);
  const state = defaultGenerator.next('uniform', draws); // advances by ⌈draws/4⌉ Philox blocks
  const threshold = Math.min(2 ** 24, Math.round(p * 2 ** 24));
  return apply(op, [x], { threshold, scale: 1 / (1 - p), group, state });
}

/**
 * Zeroes each element with probability p and scales the rest by 1/(1 − p) (PyTorch's
 * F.dropout). When `training` is false, p = 0 or the tensor is empty, returns a view of x
 * (unchanged values, no random numbers drawn). Reproducible under `manualSeed`.
 * @example dropout(x /* [64, 50] *\/, 0.5, model.training)
 */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  validate('dropout', x, p);
  if (!training || p === 0 || x.numel === 0) return passThrough(x);
  return run(dropoutOp, x, p, 1);
}

/**
 * Zeroes whole channels of an [N, C, H, W] or [C, H, W] input with probability p, scaling the
 * rest by 1/(1 − p) (PyTorch's F.dropout2d / nn.Dropout2d). A 3-D input is read as [C, H, W]
 * (PyTorch 1.13 instead warns and treats it as [N, C, L]). Eval mode, p = 0 or an empty
 * tensor return a view of x.
 * @example dropout2d(x /* [64, 30, 8, 8] *\/, 0.5, model.training)
 */
export function dropout2d(x: Tensor, p = 0.5, training = true): Tensor {
  validate('dropout2d', x, p);
  if (x.ndim !== 3 && x.ndim !== 4) {
    throw new ShapeError('dropout2d', `expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got shape ${fmtShape(x.shape)}; use dropout for other ranks`, [x.shape]);
  }
  if (!training || p === 0 || x.numel === 0) return passThrough(x);
  const [h, w] = x.shape.slice(-2) as [number, number];
  return run(dropout2dOp, x, p, h * w);
}
