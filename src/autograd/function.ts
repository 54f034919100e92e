// How an op is declared once and applied: the op's forward (shape/dtype rule, then its
// kernel), what backward keeps, and its backward rule written with Tensor ops, so the same
// rule runs on the WebGPU and CPU backends. `apply` records a Node when grad mode is on and
// an input requires grad.

import type { Tensor } from '../tensor/tensor.ts';
import { isGradEnabled } from './grad-mode.ts';
import { Node, type BackwardFn } from './graph.ts';

export interface OpDef<A = undefined> {
  /** Op name as in errors; `grad_fn` shows it PascalCased with `Backward0`. */
  readonly name: string;
  /** Validates inputs (throwing before anything is enqueued) and computes the output. */
  forward(inputs: readonly Tensor[], attrs: A): Tensor;
  /** The tensors backward needs (inputs or the output); default none. */
  save?(inputs: readonly Tensor[], out: Tensor, attrs: A): Tensor[];
  /**
   * Gradients with respect to each input, given the output's gradient `g`.
   * `needs[i]` says whether input i wants one (return null where not).
   * Absent for ops that are not differentiable (comparisons, argmax, casts to int).
   */
  backward?(g: Tensor, saved: readonly Tensor[], attrs: A, needs: readonly boolean[], meta: OpMeta): (Tensor | null)[];
}

/** What backward knows about the inputs without keeping them alive. */
export interface OpMeta {
  readonly shapes: readonly (readonly number[])[];
  readonly dtypes: readonly string[];
}

export function gradFnName(op: string): string {
  return `${op[0]!.toUpperCase()}${op.slice(1)}Backward0`;
}

/** Runs `def` on `inputs`, recording the graph when needed. */
export function apply<A>(def: OpDef<A>, inputs: readonly Tensor[], attrs: A): Tensor {
  for (const t of inputs) t.assertAlive(def.name);
  const out = def.forward(inputs, attrs);
  const needs = inputs.map((t) => t.requiresGrad);
  if (!def.backward || !isGradEnabled() || !needs.some(Boolean)) return out;
  // Saved inputs keep their graph so backward rules stay differentiable (createGraph). The
  // output is saved cut from the graph, as PyTorch does, or it would keep its own node alive;
  // the node reconnects it when a differentiable backward needs it.
  const toSave = def.save ? def.save(inputs, out, attrs) : [];
  const saved = toSave.map((t) => (t === out ? t.alias() : t.alias(true)));
  const savedIsOutput = toSave.map((t) => t === out);
  const meta: OpMeta = { shapes: inputs.map((t) => t.shape), dtypes: inputs.map((t) => t.dtype) };
  const node = new Node(
    gradFnName(def.name),
    inputs.map((t) => (t.requiresGrad ? t.gradEdge() : null)),
    saved,
    ruleOf(def.backward, attrs, needs, meta),
    meta.shapes,
    savedIsOutput,
  );
  out.setGradFn(node);
  return out;
}

/**
 * The node's backward rule, made outside apply() on purpose: a closure keeps its whole
 * enclosing scope alive, and apply's holds `out` and `inputs`. The output's finalizer keeps its
 * node alive, so a rule that reached the output would keep it from ever being collected.
 */
function ruleOf<A>(backward: NonNullable<OpDef<A>['backward']>, attrs: A, needs: readonly boolean[], meta: OpMeta): BackwardFn {
  return (g, s) => backward(g, s, attrs, needs, meta);
}
