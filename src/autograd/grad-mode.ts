// Whether ops record the graph. `noGrad(fn)` / `enableGrad(fn)` restore the previous
// mode in `finally`, so an exception inside never leaves recording switched off.

let enabled = true;

/** Whether ops are being recorded for backward now (false inside `noGrad`). */
export function isGradEnabled(): boolean {
  return enabled;
}

function withMode<T>(mode: boolean, fn: () => T): T {
  const prev = enabled;
  enabled = mode;
  try {
    const out = fn();
    if (out instanceof Promise) {
      throw new TypeError('noGrad/enableGrad: the callback must be synchronous (ops are recorded synchronously; await readbacks outside it)');
    }
    return out;
  } finally {
    enabled = prev;
  }
}

/** Runs `fn` without recording the autograd graph (PyTorch's `with torch.no_grad():`). */
export function noGrad<T>(fn: () => T): T {
  return withMode(false, fn);
}

/** Runs `fn` with recording switched on, even inside `noGrad` (PyTorch's `torch.enable_grad()`). */
export function enableGrad<T>(fn: () => T): T {
  return withMode(true, fn);
}

/** Sets the mode globally (PyTorch's `torch.set_grad_enabled`). */
export function setGradEnabled(mode: boolean): void {
  enabled = mode;
}
