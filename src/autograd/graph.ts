// The autograd graph: one Node per recorded op, holding edges to the nodes of its inputs,
// the tensors its backward rule needs, and the rule itself. `backward()` sorts the graph
// topologically once and walks it in reverse (micrograd's shape), summing gradients that
// reach a node along several paths.
//
// Memory: a node is referenced by the tensors it produced and by the nodes downstream.
// When the last reference goes (tensor disposed, or backward done without retainGraph)
// its saved tensors are released, so a forward pass that is never differentiated frees too.

import { AutogradError, fmtShape } from '../errors.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { isGradEnabled } from './grad-mode.ts';

/** A tensor kept for backward, with the storage version it had when saved. */
export interface SavedTensor {
  readonly tensor: Tensor;
  readonly version: number;
}

export type BackwardFn = (gradOut: Tensor, saved: readonly Tensor[]) => readonly (Tensor | null)[];

/**
 * One recorded op in the autograd graph (PyTorch's `grad_fn`): its inputs' nodes, the tensors
 * it saved for backward, and its backward rule. Reference-counted by the tensors it produced and
 * by downstream nodes; what it saved is freed once backward has used it.
 */
export class Node {
  /** References from output tensors and downstream nodes. */
  private refs = 0;
  private saved: SavedTensor[] | null;
  private freed = false;

  constructor(
    /** PyTorch-style name shown as grad_fn, e.g. `SinBackward0`. */
    readonly name: string,
    /** One entry per input: the node its gradient flows to, or null when it needs none. */
    readonly next: readonly (Node | null)[],
    saved: readonly Tensor[],
    private readonly rule: BackwardFn | null,
    /** Shape and dtype of each input, to check what the rule returns. */
    readonly inputShapes: readonly (readonly number[])[],
    /** Which saved tensors are this node's own output (saved cut from the graph). */
    private readonly savedIsOutput: readonly boolean[] = [],
  ) {
    this.saved = saved.map((t) => ({ tensor: t, version: t.version }));
    for (const n of next) n?.ref();
  }

  /** Adds one reference (from an output tensor or a downstream node). */
  ref(): void {
    this.refs++;
  }

  /** Drops one reference; at zero frees what this node saved and lets go of its inputs' nodes. */
  unref(): void {
    if (--this.refs > 0) return;
    this.release();
    if (this.freed) return;
    this.freed = true;
    for (const n of this.next) n?.unref();
  }

  /** Frees the saved tensors (after backward without retainGraph). */
  release(): void {
    if (!this.saved) return;
    for (const s of this.saved) s.tensor.dispose();
    this.saved = null;
  }

  /** Runs the backward rule on `gradOut`; one gradient (or null) per input. */
  apply(gradOut: Tensor): readonly (Tensor | null)[] {
    if (!this.rule) return [];
    if (!this.saved) {
      throw new AutogradError(
        `${this.name}: trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). ` +
          'Specify retainGraph: true in the first backward() call if you need to backward twice.',
      );
    }
    for (const s of this.saved) {
      if (s.tensor.version !== s.version) {
        throw new AutogradError(
          `${this.name}: one of the tensors needed for gradient computation has been modified by an in-place operation: ` +
            `tensor of shape ${fmtShape(s.tensor.shape)} is at version ${s.tensor.version}; expected version ${s.version}. ` +
            'Use the out-of-place op (e.g. add instead of add_) on tensors the graph still needs.',
        );
      }
    }
    // Under createGraph the rule's own ops are recorded: reconnect the saved output to this
    // node for the duration (the caller's scope frees the temporary alias).
    const differentiable = isGradEnabled();
    const tensors = this.saved.map((s, i) => {
      if (!differentiable || !this.savedIsOutput[i]) return s.tensor;
      const t = s.tensor.alias();
      t.setGradFn(this);
      return t;
    });
    return this.rule(gradOut, tensors);
  }
}

/**
 * The graph's sink for a leaf: adds the incoming gradient into `tensor.grad`. It holds the leaf
 * weakly: a gradient built with createGraph reaches back to this node, so a strong reference
 * would make leaf → grad → graph → leaf a cycle that the finalizer (whose held value keeps the
 * grad's node alive) never lets go. A leaf that nobody references any more has a `.grad` that
 * nobody can read, so dropping that gradient loses nothing.
 */
export class AccumulateGrad extends Node {
  private readonly leaf: WeakRef<Tensor>;
  constructor(tensor: Tensor) {
    super('AccumulateGrad', [], [], null, [tensor.shape]);
    this.leaf = new WeakRef(tensor);
  }

  /** The leaf, or null once it was garbage-collected. */
  get tensor(): Tensor | null {
    return this.leaf.deref() ?? null;
  }
}
