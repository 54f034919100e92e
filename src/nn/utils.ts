// nn.utils: gradient clipping over a set of parameters (torch.nn.utils.clip_grad_norm_),
// computed on the device without a readback, so a training step never stalls on it.

import type { Tensor } from '../tensor/tensor.ts';
import { noGrad } from '../autograd/grad-mode.ts';
import { scope } from '../tensor/scope.ts';
import { full } from '../tensor/creation.ts';
import { ValueError } from '../errors.ts';

/**
 * Rescales the gradients of `params` in place so their joint norm (the norm of the vector of
 * every gradient element) is at most `maxNorm`: each is multiplied by
 * min(1, maxNorm / (norm + 1e-6)). `normType` is p (default 2) or Infinity. Parameters
 * without a gradient are ignored. Returns the total norm before clipping as a 0-d tensor
 * (the caller owns it).
 * @example loss.backward(); nn.utils.clipGradNorm_(model.parameters(), 1.0); opt.step();
 */
export function clipGradNorm_(params: Iterable<Tensor> | Tensor, maxNorm: number, normType = 2): Tensor {
  const list = (Symbol.iterator in Object(params) ? [...(params as Iterable<Tensor>)] : [params as Tensor]);
  const grads = list.map((p) => p.grad).filter((g): g is Tensor => g !== null);
  if (!(maxNorm >= 0)) throw new ValueError('clipGradNorm_', `maxNorm must be a non-negative number, got ${maxNorm}`);
  if (!(normType > 0)) throw new ValueError('clipGradNorm_', `normType must be positive or Infinity, got ${normType}`);
  if (grads.length === 0) return full([], 0, { device: list[0]?.device });
  const devices = new Set(grads.map((g) => g.device));
  if (devices.size > 1) throw new ValueError('clipGradNorm_', `gradients live on several devices (${[...devices].join(', ')})`);
  return noGrad(() => {
    const total = scope(() => {
      let acc: Tensor | null = null;
      for (const g of grads) {
        // ‖g‖∞ = max|g|; ‖g‖_p^p = Σ|g|^p (summed over tensors, rooted once at the end).
        const part = normType === Infinity ? g.abs().max() : normType === 2 ? g.square().sum() : g.abs().pow(normType).sum();
        acc = acc === null ? part : normType === Infinity ? acc.maximum(part) : acc.add(part);
      }
      const t = normType === Infinity ? acc! : normType === 2 ? acc!.sqrt() : acc!.pow(1 / normType);
      return t;
    });
    scope(() => {
      const coef = total.add(1e-6).rdiv(maxNorm).minimum(1); // min(1, maxNorm / (norm + 1e-6))
      for (const g of grads) g.mul_(coef);
    });
    return total;
  });
}
