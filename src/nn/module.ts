// nn.Module: the tree of parameters, buffers and child modules behind every layer and model,
// with PyTorch's traversal order, train/eval mode, state dicts and `print(model)` output.
// Knows tensors only through their public API; nothing here touches WGSL or buffers.
//
// Registration, without Proxies: a module's parameters and children are its own enumerable
// fields whose value is a `Parameter` or a `Module`, in the order the fields were first
// assigned (JavaScript keeps insertion order for non-numeric keys, and numeric keys — the
// children of Sequential and ModuleList — in ascending order). So `this.fc1 = new Linear(…)`
// registers `fc1` exactly as PyTorch's `__setattr__` does, reassigning keeps the position,
// and setting a field to null unregisters it. Buffers are ordinary tensors, so they need
// `registerBuffer(name, t)` (which also assigns the field), as in PyTorch. Plain tensors and
// arrays of modules are not registered (use Parameter and ModuleList, as in PyTorch).

import { Tensor } from '../tensor/tensor.ts';
import { untrack } from '../tensor/scope.ts';
import { noGrad } from '../autograd/grad-mode.ts';
import { ValueError, WebgradError, fmtShape } from '../errors.ts';

/**
 * A tensor that is a module parameter: a leaf that requires grad (by default) and belongs to
 * its module, so it outlives every `scope()`. It shares `data`'s storage (PyTorch's
 * `nn.Parameter(t)`); the caller still owns `data` and may dispose it.
 * @example this.scale = new nn.Parameter(ones([10]));
 */
export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    data.assertAlive('Parameter');
    data.storage.retain();
    super(data.storage, data.shape, data.strides, data.offset, { track: false });
    if (requiresGrad) this.requiresGrad_(true);
  }

  override toString(): string {
    return `Parameter(${super.toString()})`;
  }
}

/** A key of a state dict and the two shapes that disagree. */
export interface ShapeMismatch {
  /** Dotted state-dict key whose tensor has the wrong shape (`'fc1.weight'`). */
  readonly key: string;
  /** Shape in the module. */
  readonly expected: readonly number[];
  /** Shape in the state dict. */
  readonly got: readonly number[];
}

/**
 * `loadStateDict` found missing or unexpected keys (strict mode) or shapes that differ. Thrown
 * before anything is copied, so the module is unchanged. The message lists every problem in
 * PyTorch's wording (`missing key(s) in the state dict: "fc.bias"`, `size mismatch for …`).
 * @example
 * try { model.loadStateDict(sd); }
 * catch (e) { if (e instanceof nn.StateDictError) console.log(e.missingKeys, e.mismatches); }
 */
export class StateDictError extends WebgradError {
  override name = 'StateDictError';
  constructor(
    /** Class name of the module being loaded into (`'Net'`). */
    readonly moduleName: string,
    /** Keys the module has but the state dict lacks (empty when `strict: false`). */
    readonly missingKeys: readonly string[],
    /** Keys in the state dict that the module does not have (empty when `strict: false`). */
    readonly unexpectedKeys: readonly string[],
    /** Keys present on both sides whose shapes differ (reported even when `strict: false`). */
    readonly mismatches: readonly ShapeMismatch[],
  ) {
    const lines = [`loadStateDict: error(s) loading the state dict into ${moduleName}:`];
    const q = (ks: readonly string[]) => ks.map((k) => `"${k}"`).join(', ');
    if (missingKeys.length) lines.push(`  missing key(s) in the state dict: ${q(missingKeys)}`);
    if (unexpectedKeys.length) lines.push(`  unexpected key(s) in the state dict: ${q(unexpectedKeys)}`);
    for (const m of mismatches) {
      lines.push(`  size mismatch for ${m.key}: copying a tensor of shape ${fmtShape(m.got)} from the state dict, the shape in the current module is ${fmtShape(m.expected)}`);
    }
    super(lines.join('\n'));
  }
}

/** A state dict: dotted names (`fc1.weight`) to tensors, in the module's order. */
export type StateDict = Record<string, Tensor>;

/**
 * What `Module.loadStateDict` returns (PyTorch's `_IncompatibleKeys`): the keys that did not
 * match. Both are empty after a strict load, which throws instead; with `strict: false` they
 * say what was skipped.
 */
export interface LoadResult {
  /** Module keys that were absent from the state dict, so those tensors kept their values. */
  missingKeys: string[];
  /** State-dict keys that the module does not have; they were ignored. */
  unexpectedKeys: string[];
}

/** Python's `repr` of the values extraRepr prints, so toString() matches `print(model)`. */
export const py = {
  bool: (b: boolean): string => (b ? 'True' : 'False'),
  /** A float as Python's repr writes it: `0.1`, `1.0`, `1e-05`, `1e+16`. */
  float(x: number): string {
    if (Number.isNaN(x)) return 'nan';
    if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
    if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
    const [mant, expStr] = x.toExponential().split('e') as [string, string];
    const exp = Number(expStr);
    if (exp < -4 || exp >= 16) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
    const s = String(x);
    return s.includes('.') || s.includes('e') ? s : `${s}.0`;
  },
  /** A number that may be an int or a float in Python: integers print without a decimal point. */
  num: (x: number): string => (Number.isInteger(x) ? String(x) : py.float(x)),
  tuple: (xs: readonly number[]): string => (xs.length === 1 ? `(${xs[0]},)` : `(${xs.join(', ')})`),
  str: (s: string): string => `'${s}'`,
};

/** Indents every line after the first by `n` spaces (PyTorch's `_addindent`). */
function addIndent(s: string, n: number): string {
  const lines = s.split('\n');
  if (lines.length === 1) return s;
  const pad = ' '.repeat(n);
  return [lines[0], ...lines.slice(1).map((l) => pad + l)].join('\n');
}

function checkName(op: string, name: string): void {
  if (name === '' || name.includes('.')) throw new ValueError(op, `name must be a non-empty string without "." (got "${name}")`);
}

/**
 * Base class of every layer and model (PyTorch's nn.Module). Subclasses assign parameters and
 * child modules to fields in the constructor and override `forward`.
 * @example
 * class Net extends nn.Module {
 *   fc1 = new nn.Linear(784, 128); relu = new nn.ReLU(); fc2 = new nn.Linear(128, 10);
 *   override forward(x: Tensor) { return this.fc2.call(this.relu.call(this.fc1.call(x))); }
 * }
 */
export class Module {
  /** Training mode (dropout active, batch norm using batch statistics); see train()/eval(). */
  training = true;
  // Non-enumerable bookkeeping, so the field walk never sees it.
  declare private readonly _bufferNames: Set<string>;
  declare private readonly _nonPersistent: Set<string>;

  constructor() {
    Object.defineProperty(this, '_bufferNames', { value: new Set<string>(), enumerable: false });
    Object.defineProperty(this, '_nonPersistent', { value: new Set<string>(), enumerable: false });
  }

  /** The computation; subclasses override it. */
  forward(..._args: any[]): any {
    throw new WebgradError(`${this.constructor.name}: forward() is not implemented; override it in the subclass`);
  }

  /** Runs `forward` (PyTorch's `model(x)`): `model.call(x)`. */
  call<M extends Module>(this: M, ...args: Parameters<M['forward']>): ReturnType<M['forward']> {
    return this.forward(...args);
  }

  // ---- registration -------------------------------------------------------------------------

  private get fields(): Record<string, unknown> {
    return this as unknown as Record<string, unknown>;
  }

  /** Adds a parameter (or null, a registered absence such as Linear's bias=false) under `name`. */
  registerParameter(name: string, param: Parameter | null): void {
    checkName('registerParameter', name);
    if (param !== null && !(param instanceof Parameter)) {
      throw new ValueError('registerParameter', `"${name}" must be an nn.Parameter or null (wrap the tensor: new nn.Parameter(t))`);
    }
    this.fields[name] = param;
  }

  /**
   * Adds a buffer: state that is not a parameter (BatchNorm's running mean). It is saved in
   * the state dict unless `persistent: false`. The module takes ownership of the tensor.
   */
  registerBuffer(name: string, tensor: Tensor | null, opts: { persistent?: boolean } = {}): void {
    checkName('registerBuffer', name);
    const cur = this.fields[name];
    if ((cur instanceof Parameter || cur instanceof Module) && !this._bufferNames.has(name)) {
      throw new ValueError('registerBuffer', `attribute "${name}" already exists as a ${cur instanceof Module ? 'module' : 'parameter'}`);
    }
    if (tensor !== null) {
      if (!(tensor instanceof Tensor)) throw new ValueError('registerBuffer', `"${name}" must be a Tensor or null`);
      untrack(tensor);
    }
    this.fields[name] = tensor;
    this._bufferNames.add(name);
    if (opts.persistent === false) this._nonPersistent.add(name);
    else this._nonPersistent.delete(name);
  }

  /** Adds a child module under `name` (the same as assigning the field). */
  registerModule(name: string, module: Module | null): void {
    checkName('registerModule', name);
    if (module !== null && !(module instanceof Module)) throw new ValueError('registerModule', `"${name}" must be an nn.Module or null`);
    this.fields[name] = module;
  }
  /** Alias of registerModule (PyTorch's add_module). */
  addModule(name: string, module: Module | null): void {
    this.registerModule(name, module);
  }

  /** Own parameters, in registration order. */
  private ownParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const k of Object.keys(this)) {
      const v = this.fields[k];
      if (v instanceof Parameter && !this._bufferNames.has(k)) out.push([k, v]);
    }
    return out;
  }

  /** Own buffers (non-null), in registration order. */
  private ownBuffers(persistentOnly = false): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const k of Object.keys(this)) {
      if (!this._bufferNames.has(k) || (persistentOnly && this._nonPersistent.has(k))) continue;
      const v = this.fields[k];
      if (v instanceof Tensor) out.push([k, v]);
    }
    return out;
  }

  /** Direct children with their names, in registration order (each module once). */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    for (const [k, m] of this.childEntries()) {
      if (seen.has(m)) continue;
      seen.add(m);
      out.push([k, m]);
    }
    return out;
  }

  private childEntries(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const k of Object.keys(this)) {
      const v = this.fields[k];
      if (v instanceof Module) out.push([k, v]);
    }
    return out;
  }

  /** Direct child modules, in registration order, each once (`namedChildren()` without names). */
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every descendant, depth-first, each once, with dotted names ('' for this). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const walk = (m: Module, p: string) => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([p, m]);
      for (const [k, c] of m.childEntries()) walk(c, p ? `${p}.${k}` : k);
    };
    walk(this, prefix);
    return out;
  }

  /** This module and every descendant, depth-first, each once (`namedModules()` without names). */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Parameters with dotted names, each tensor once (PyTorch's order: module by module, depth-first). */
  namedParameters(opts: { prefix?: string; recurse?: boolean } = {}): [string, Parameter][] {
    const { prefix = '', recurse = true } = opts;
    const mods: [string, Module][] = recurse ? this.namedModules(prefix) : [[prefix, this]];
    const out: [string, Parameter][] = [];
    const seen = new Set<Tensor>();
    for (const [mp, m] of mods) {
      for (const [k, p] of m.ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([mp ? `${mp}.${k}` : k, p]);
      }
    }
    return out;
  }

  /** The parameters to hand to an optimizer. */
  parameters(recurse = true): Parameter[] {
    return this.namedParameters({ recurse }).map(([, p]) => p);
  }

  /**
   * Registered buffers (BatchNorm's `running_mean`, …) with dotted names, each tensor once, in
   * the same module-by-module order as `namedParameters`; non-persistent buffers included,
   * null buffers skipped. `prefix` is prepended to every name; `recurse: false` (default true)
   * lists this module's own buffers only.
   * @example for (const [name, b] of model.namedBuffers()) console.log(name, b.shape);
   */
  namedBuffers(opts: { prefix?: string; recurse?: boolean } = {}): [string, Tensor][] {
    const { prefix = '', recurse = true } = opts;
    const mods: [string, Module][] = recurse ? this.namedModules(prefix) : [[prefix, this]];
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [mp, m] of mods) {
      for (const [k, b] of m.ownBuffers()) {
        if (seen.has(b)) continue;
        seen.add(b);
        out.push([mp ? `${mp}.${k}` : k, b]);
      }
    }
    return out;
  }

  /** Registered buffers (`namedBuffers()` without names); `recurse = false` gives own buffers only. */
  buffers(recurse = true): Tensor[] {
    return this.namedBuffers({ recurse }).map(([, b]) => b);
  }

  /** The submodule at a dotted path (`'features.0'`); '' is this module. */
  getSubmodule(target: string): Module {
    if (target === '') return this;
    let m: Module = this;
    for (const part of target.split('.')) {
      const next = m.fields[part];
      if (!(next instanceof Module)) throw new ValueError('getSubmodule', `${m.constructor.name} has no submodule "${part}" (path "${target}")`);
      m = next;
    }
    return m;
  }

  /** The parameter at a dotted path (`'fc1.weight'`). */
  getParameter(target: string): Parameter {
    const i = target.lastIndexOf('.');
    const m = this.getSubmodule(i < 0 ? '' : target.slice(0, i));
    const p = m.fields[target.slice(i + 1)];
    if (!(p instanceof Parameter)) throw new ValueError('getParameter', `${m.constructor.name} has no parameter "${target.slice(i + 1)}" (path "${target}")`);
    return p;
  }

  // ---- modes and gradients --------------------------------------------------------------------

  /** Sets training mode here and in every descendant; returns this. */
  train(mode = true): this {
    this.training = mode;
    for (const c of this.children()) c.train(mode);
    return this;
  }

  /** Evaluation mode (dropout off, batch norm on running statistics): `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** Sets requiresGrad on every parameter (freeze with `requiresGrad_(false)`); returns this. */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad_(requiresGrad);
    return this;
  }

  /**
   * Clears every parameter's gradient. With `setToNone` (the default, as PyTorch ≥ 2.0) the
   * gradient tensors are disposed and `.grad` becomes null; otherwise they are zeroed in place.
   */
  zeroGrad(opts: { setToNone?: boolean } = {}): void {
    zeroGrads(this.parameters(), opts.setToNone ?? true);
  }

  /** Calls `fn` on every descendant (children first) and then on this module; returns this. */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /** Number of parameter elements (each shared tensor once); `trainableOnly` counts those requiring grad. */
  numParameters(opts: { trainableOnly?: boolean } = {}): number {
    return this.parameters()
      .filter((p) => !opts.trainableOnly || p.requiresGrad)
      .reduce((n, p) => n + p.numel, 0);
  }

  /** Frees every parameter, gradient and buffer of this module tree. The module is unusable afterwards. */
  dispose(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
      p.dispose();
    }
    for (const b of this.buffers()) b.dispose();
  }

  /** `dispose()`, so that `using model = new Net()` frees the module at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---- state dicts ------------------------------------------------------------------------------

  /**
   * Parameters and persistent buffers under dotted names, in PyTorch's order (own parameters,
   * own buffers, then each child's). The values are the module's own tensors, not copies:
   * read or save them, do not dispose them.
   */
  stateDict(opts: { prefix?: string } = {}): StateDict {
    const out: StateDict = {};
    const walk = (m: Module, p: string) => {
      for (const [k, t] of m.ownParameters()) out[p + k] = t;
      for (const [k, t] of m.ownBuffers(true)) out[p + k] = t;
      for (const [k, c] of m.childEntries()) walk(c, `${p}${k}.`);
    };
    walk(this, opts.prefix ?? '');
    return out;
  }

  /**
   * Copies `stateDict`'s tensors into this module's parameters and buffers. Everything is
   * checked before anything is copied: with `strict` (the default) a missing or unexpected
   * key is an error; a shape mismatch always is. Returns the missing and unexpected keys.
   */
  loadStateDict(stateDict: StateDict | Map<string, Tensor>, opts: { strict?: boolean } = {}): LoadResult {
    const strict = opts.strict ?? true;
    const src = stateDict instanceof Map ? stateDict : new Map(Object.entries(stateDict));
    const own = this.stateDict();
    const missingKeys: string[] = [];
    const mismatches: ShapeMismatch[] = [];
    const copies: [Tensor, Tensor, string][] = [];
    for (const [key, target] of Object.entries(own)) {
      const s = src.get(key);
      if (s === undefined || s === null) {
        missingKeys.push(key);
        continue;
      }
      if (!(s instanceof Tensor)) throw new ValueError('loadStateDict', `value for "${key}" is not a Tensor`);
      s.assertAlive(`loadStateDict(${key})`);
      if (s.shape.length !== target.shape.length || s.shape.some((d, i) => d !== target.shape[i])) {
        mismatches.push({ key, expected: target.shape, got: s.shape });
        continue;
      }
      if (s.device !== target.device) {
        throw new ValueError('loadStateDict', `"${key}" is on '${s.device}' but the module's tensor is on '${target.device}'; load the checkpoint onto that device (load(path, { device: '${target.device}' }))`);
      }
      copies.push([target, s, key]);
    }
    const unexpectedKeys = [...src.keys()].filter((k) => !(k in own));
    if (mismatches.length || (strict && (missingKeys.length || unexpectedKeys.length))) {
      throw new StateDictError(this.constructor.name, strict ? missingKeys : [], strict ? unexpectedKeys : [], mismatches);
    }
    noGrad(() => {
      for (const [target, s] of copies) if (target !== s) target.copy_(s);
    });
    return { missingKeys, unexpectedKeys };
  }

  // ---- printing -------------------------------------------------------------------------------

  /** The text inside this module's parentheses (`in_features=784, out_features=128, bias=True`). */
  extraRepr(): string {
    return '';
  }

  /** The module tree as PyTorch's `print(model)` shows it. */
  toString(): string {
    const extra = this.extraRepr();
    const extraLines = extra ? extra.split('\n') : [];
    const childLines = this.childEntries().map(([k, m]) => `(${k}): ${addIndent(m.toString(), 2)}`);
    const lines = [...extraLines, ...childLines];
    let s = `${this.constructor.name}(`;
    if (lines.length) {
      if (extraLines.length === 1 && childLines.length === 0) s += extraLines[0];
      else s += `\n  ${lines.join('\n  ')}\n`;
    }
    return `${s})`;
  }
}

/** Clears the gradients of `params` (shared by Module.zeroGrad and Optimizer.zeroGrad). */
export function zeroGrads(params: Iterable<Tensor>, setToNone: boolean): void {
  for (const p of params) {
    const g = p.grad;
    if (!g) continue;
    if (setToNone || g.gradFn) {
      g.dispose();
      p.grad = null;
      if (!setToNone) p.setGrad(p.zerosLike());
    } else noGrad(() => g.zero_());
  }
}
