// backward(): topological order once, then each node's rule in reverse order; gradients
// that reach a node along several paths are summed before its rule runs.

import { AutogradError, ShapeError, fmtShape } from '../errors.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { sameShape } from '../shape.ts';
import { AccumulateGrad, type Node } from './graph.ts';
import { enableGrad, isGradEnabled, noGrad } from './grad-mode.ts';
import { scope } from '../tensor/scope.ts';

/** Options of `Tensor.backward()`. */
export interface BackwardOptions {
  /** Keep saved tensors so backward can run through this graph again (default: createGraph, as PyTorch). */
  retainGraph?: boolean;
  /** Record the backward pass itself (for higher-order gradients). */
  createGraph?: boolean;
}

/** Nodes reachable from `root`, each after every node that feeds it a gradient. */
function topoOrder(root: Node): Node[] {
  const order: Node[] = [];
  const seen = new Set<Node>([root]);
  const stack: [Node, number][] = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [node, i] = top;
    if (i < node.next.length) {
      top[1]++;
      const n = node.next[i];
      if (n && !seen.has(n)) {
        seen.add(n);
        stack.push([n, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order.reverse();
}

/** Adds `g` (owned) into `leaf.grad`, taking `g` over when nothing else holds its storage. */
function accumulate(leaf: Tensor | null, g: Tensor): void {
  if (!leaf || leaf.disposed) {
    g.dispose();
    return;
  }
  if (leaf.grad === null) {
    leaf.setGrad(g.isSoleOwner() ? g : g.clone());
    if (leaf.grad !== g) g.dispose();
  } else if (isGradEnabled() && (g.requiresGrad || leaf.grad.requiresGrad)) {
    // createGraph: accumulate out of place so the sum stays differentiable (as PyTorch does).
    const old = leaf.grad;
    leaf.setGrad(old.add(g));
    old.dispose();
    g.dispose();
  } else {
    noGrad(() => leaf.grad!.add_(g));
    g.dispose();
  }
}

export function runBackward(root: Tensor, gradient: Tensor | undefined, opts: BackwardOptions = {}): void {
  root.assertAlive('backward');
  if (!root.requiresGrad) {
    throw new AutogradError(
      `backward: tensor of shape ${fmtShape(root.shape)} does not require grad and has no grad_fn; ` +
        'create the inputs with { requiresGrad: true } (and compute it outside noGrad)',
    );
  }
  let g: Tensor;
  if (gradient === undefined) {
    if (root.numel !== 1) {
      throw new AutogradError(
        `backward: a gradient can be created implicitly only for scalar outputs, but the tensor has shape ${fmtShape(root.shape)}; ` +
          'reduce it first (e.g. y.sum().backward()) or pass one: y.backward(onesLike(y))',
      );
    }
    g = root.onesLike();
  } else {
    gradient.assertAlive('backward');
    if (!sameShape(gradient.shape, root.shape)) {
      throw new ShapeError('backward', `gradient has shape ${fmtShape(gradient.shape)} but the tensor has shape ${fmtShape(root.shape)}`, [gradient.shape, root.shape]);
    }
    g = gradient.alias(true);
  }
  const run = () => {
    if (root.gradFn === null) {
      accumulate(root, g);
      return;
    }
    const grads = new Map<Node, Tensor>([[root.gradFn, g]]);
    try {
      for (const node of topoOrder(root.gradFn)) {
        const gOut = grads.get(node);
        if (!gOut) continue;
        grads.delete(node);
        if (node instanceof AccumulateGrad) {
          accumulate(node.tensor, gOut);
          continue;
        }
        let gIn: readonly (Tensor | null)[];
        try {
          // Temporaries of the rule are freed here; only the gradients it returns survive.
          gIn = scope(() => node.apply(gOut));
        } finally {
          if (!(opts.retainGraph ?? opts.createGraph)) node.release();
        }
        // A rule may pass gOut through or return one tensor for two inputs: alias those so
        // every gradient below is owned exactly once.
        const owned = new Set<Tensor>();
        const gs = gIn.map((t) => {
          if (!t) return null;
          if (t === gOut || owned.has(t)) return t.alias(true);
          owned.add(t);
          return t;
        });
        gOut.dispose();
        gs.forEach((gi, k) => {
          const next = node.next[k];
          if (!gi) return;
          if (!next) {
            gi.dispose();
            return;
          }
          if (!sameShape(gi.shape, node.inputShapes[k]!)) {
            throw new AutogradError(`${node.name}: backward rule returned a gradient of shape ${fmtShape(gi.shape)} for input ${k} of shape ${fmtShape(node.inputShapes[k]!)} (a bug in webgrad; please report it)`);
          }
          const prev = grads.get(next);
          if (prev) {
            grads.set(next, prev.add(gi));
            prev.dispose();
            gi.dispose();
          } else grads.set(next, gi);
        });
      }
    } finally {
      for (const t of grads.values()) t.dispose();
    }
  };
  if (opts.createGraph) enableGrad(run);
  else noGrad(run);
}
