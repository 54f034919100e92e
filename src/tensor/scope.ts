// scope(fn): frees every tensor created inside fn except those it returns (tfjs's tidy()).
// Scopes are synchronous, like the ops they wrap; readbacks are awaited outside them.

import type { Tensor } from './tensor.ts';

const stack: Set<Tensor>[] = [];

/** Called by every Tensor constructor that makes a tensor the caller owns. */
export function track(t: Tensor): void {
  stack[stack.length - 1]?.add(t);
}

/** Takes `t` out of every open scope: it outlives them (a leaf's .grad, optimizer state). */
export function untrack(t: Tensor): void {
  for (const s of stack) s.delete(t);
}

/** Keeps `t` alive past the innermost scope that created it; returns it for chaining. */
export function keep<T extends Tensor>(t: T): T {
  untrack(t);
  return t;
}

/** Every Tensor found in a returned value (a tensor, an array or a plain object of tensors). */
function collect(value: unknown, out: Set<Tensor>, isTensor: (v: unknown) => v is Tensor): void {
  if (isTensor(value)) out.add(value);
  else if (Array.isArray(value)) for (const v of value) collect(v, out, isTensor);
  else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, out, isTensor);
  }
}

let isTensorFn: ((v: unknown) => v is Tensor) | null = null;
/** Set once by tensor.ts (avoids an import cycle at module load). */
export function registerTensorCheck(fn: (v: unknown) => v is Tensor): void {
  isTensorFn = fn;
}

/**
 * Runs `fn` and disposes every tensor created during it, except the tensors in its result
 * (which move to the enclosing scope). Tensors created before `fn` are never touched.
 * @example const loss = scope(() => F.crossEntropy(model.call(x), y));
 */
export function scope<T>(fn: () => T): T {
  const mine = new Set<Tensor>();
  stack.push(mine);
  let result: T;
  try {
    result = fn();
    if (result instanceof Promise) throw new TypeError('scope: the callback must be synchronous; await readbacks outside scope()');
  } catch (e) {
    stack.pop();
    for (const t of mine) t.dispose();
    throw e;
  }
  stack.pop();
  const kept = new Set<Tensor>();
  collect(result, kept, isTensorFn!);
  for (const t of mine) {
    if (kept.has(t)) track(t);
    else t.dispose();
  }
  return result;
}
