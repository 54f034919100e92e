// Containers: Sequential (children run in order) and ModuleList (an indexable list of
// registered children). Children live in the fields "0", "1", …, which JavaScript
// enumerates in numeric order, so registration order is index order; `seq[0]` works.

import type { Tensor } from '../../tensor/tensor.ts';
import { ValueError } from '../../errors.ts';
import { Module } from '../module.ts';

function isModuleRecord(x: unknown): x is Record<string, Module> {
  return !!x && typeof x === 'object' && !(x instanceof Module) && Object.getPrototypeOf(x) === Object.prototype;
}

/** Shared index plumbing of Sequential and ModuleList. */
abstract class IndexedModules extends Module {
  [index: number]: Module;

  protected entries(): [string, Module][] {
    return this.namedChildrenWithDuplicates();
  }

  /** Children in order, a module added twice appearing twice. */
  protected namedChildrenWithDuplicates(): [string, Module][] {
    const self = this as unknown as Record<string, unknown>;
    return Object.keys(this)
      .filter((k) => self[k] instanceof Module)
      .map((k) => [k, self[k] as Module]);
  }

  /** Number of children (a module added twice counts twice). */
  get length(): number {
    return this.entries().length;
  }

  /** The child at `index` (negative counts from the end). */
  at(index: number): Module {
    const e = this.entries();
    const i = index < 0 ? index + e.length : index;
    if (!Number.isInteger(i) || i < 0 || i >= e.length) throw new ValueError(this.constructor.name, `index ${index} is out of range for ${e.length} modules`);
    return e[i]![1];
  }

  /** The children in index order: `for (const layer of seq) …`. */
  [Symbol.iterator](): Iterator<Module> {
    return this.entries().map(([, m]) => m)[Symbol.iterator]();
  }

  /** Adds `module` at the end; returns this. */
  append(module: Module): this {
    if (!(module instanceof Module)) throw new ValueError(`${this.constructor.name}.append`, 'expects an nn.Module');
    this.registerModule(String(this.entries().length), module);
    return this;
  }

  /** Appends every module of `modules`; returns this. */
  extend(modules: Iterable<Module>): this {
    for (const m of modules) this.append(m);
    return this;
  }

  /** Inserts `module` before position `index`, renumbering the ones after it. */
  insert(index: number, module: Module): this {
    const mods = this.entries().map(([, m]) => m);
    const i = index < 0 ? index + mods.length : index;
    if (!Number.isInteger(i) || i < 0 || i > mods.length) throw new ValueError(`${this.constructor.name}.insert`, `index ${index} is out of range for ${mods.length} modules`);
    mods.splice(i, 0, module);
    mods.forEach((m, k) => this.registerModule(String(k), m));
    return this;
  }
}

/**
 * Runs its children in order, each on the previous one's output (torch.nn.Sequential).
 * Takes modules, or one object of named modules (PyTorch's OrderedDict form).
 * @example new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10))
 */
export class Sequential extends IndexedModules {
  constructor(...modules: Module[] | [Record<string, Module>]) {
    super();
    if (modules.length === 1 && isModuleRecord(modules[0])) {
      for (const [k, m] of Object.entries(modules[0])) this.registerModule(k, m);
    } else {
      (modules as Module[]).forEach((m, i) => {
        if (!(m instanceof Module)) throw new ValueError('Sequential', `argument ${i} is not an nn.Module`);
        this.registerModule(String(i), m);
      });
    }
  }

  /**
   * Runs the children in order. Intermediate outputs are disposed as soon as the next child
   * has consumed them (autograd keeps what backward needs), so a deep stack does not hold
   * every activation until the caller's scope ends.
   */
  override forward(x: Tensor): Tensor {
    let cur = x;
    for (const [, m] of this.entries()) {
      const next: Tensor = m.call(cur);
      if (cur !== x && cur !== next) cur.dispose();
      cur = next;
    }
    return cur;
  }
}

/**
 * A list of child modules, registered so their parameters are found (torch.nn.ModuleList).
 * It has no forward: iterate it in the owner's forward.
 * @example this.layers = new nn.ModuleList([1, 2, 3].map(() => new nn.Linear(64, 64)));
 */
export class ModuleList extends IndexedModules {
  constructor(modules: Iterable<Module> = []) {
    super();
    this.extend(modules);
  }
}
