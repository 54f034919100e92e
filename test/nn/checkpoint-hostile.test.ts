// Checkpoint files are input from outside: names and tree keys such as `__proto__`,
// `constructor` or `prototype` must stay ordinary keys (or be refused), never reach a
// prototype, and never hide a tensor from disposeCheckpoint.
import { describe, expect, it } from 'vitest';
import {
  CheckpointError, Tensor, ValueError, disposeCheckpoint, manualSeed, memory, nn, optim, parseCheckpoint, parseSafetensors,
  serializeCheckpoint, serializeSafetensors, tensor,
} from '../../src/index.ts';
import { useGpu } from '../helpers/gpu.ts';
import { collectGarbage } from '../helpers/gc.ts';

useGpu();

/** Safetensors bytes with this JSON header and `dataBytes` bytes of data (float32 1, 2, 3, … little-endian). */
function fileWith(header: unknown, dataBytes: number): Uint8Array {
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const h = new Uint8Array(padded).fill(0x20);
  h.set(json);
  json = h;
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  new Float32Array(out.buffer, 8 + json.length, dataBytes / 4).set(Float32Array.from({ length: dataBytes / 4 }, (_, i) => i + 1));
  return out;
}

/** A header entry: one float32 of data at float index `i`. */
const scalarAt = (i: number) => ({ dtype: 'F32', shape: [], data_offsets: [4 * i, 4 * i + 4] });
const ODD_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];

describe('hostile names in safetensors files', () => {
  it('a tensor named __proto__ (or constructor, toString…) is an ordinary entry, in file order', async () => {
    // JSON.parse makes "__proto__" an own key of the header, as a file would hold it.
    const header = JSON.parse(`{${ODD_NAMES.map((n, i) => `"${n}": ${JSON.stringify(scalarAt(i))}`).join(', ')}}`);
    await collectGarbage(); // no finalizer of earlier garbage may run inside the counted window
    const base = memory().liveTensors;
    const { tensors } = parseSafetensors(fileWith(header, 4 * ODD_NAMES.length));
    expect(Object.getPrototypeOf(tensors)).toBeNull();
    expect(Object.keys(tensors)).toEqual(ODD_NAMES);
    for (const [i, n] of ODD_NAMES.entries()) {
      expect(tensors[n], n).toBeInstanceOf(Tensor);
      expect(await tensors[n]!.item(), n).toBe(i + 1);
    }
    // …and it round-trips: the writer keeps the name too.
    const again = parseSafetensors(await serializeSafetensors(tensors));
    expect(Object.keys(again.tensors)).toEqual(ODD_NAMES);
    expect(await again.tensors.__proto__!.item()).toBe(1);
    disposeCheckpoint(tensors);
    disposeCheckpoint(again.tensors);
    expect(memory().liveTensors).toBe(base);
  });

  it('a dtype named after an Object.prototype member is unsupported, not looked up', () => {
    for (const dtype of ['constructor', '__proto__', 'toString']) {
      expect(() => parseSafetensors(fileWith({ w: { dtype, shape: [1], data_offsets: [0, 4] } }, 4))).toThrow(new RegExp(`entry "w" has unsupported dtype "${dtype}"`));
    }
  });
});

describe('hostile keys in a checkpoint tree', () => {
  /** A nested checkpoint whose tree metadata is `tree` (raw JSON) and tensors a, b, c. */
  const nested = (tree: string) =>
    fileWith({ __metadata__: { 'webgrad.tree': tree }, a: scalarAt(0), b: scalarAt(1), c: scalarAt(2) }, 12);

  it('__proto__ and constructor are ordinary keys; disposeCheckpoint reaches every tensor', async () => {
    await collectGarbage(); // no finalizer of earlier garbage may run inside the counted window
    const base = memory().liveTensors;
    const ck = parseCheckpoint(nested('{"model": {"__proto__": {"$tensor": "a"}, "constructor": {"$tensor": "b"}, "prototype": {"$tensor": "c"}}, "epoch": 2}'));
    expect(Object.keys(ck)).toEqual(['model', 'epoch']);
    expect(Object.keys(ck.model)).toEqual(['__proto__', 'constructor', 'prototype']);
    expect(Object.getPrototypeOf(ck.model)).toBeNull();
    expect(await (ck.model.__proto__ as Tensor).item()).toBe(1);
    expect(await (ck.model.constructor as Tensor).item()).toBe(2);
    expect(memory().liveTensors).toBe(base + 3);
    disposeCheckpoint(ck);
    expect(memory().liveTensors).toBe(base);
  });

  it('a tree that names a tensor after an Object.prototype member gets a CheckpointError, not Object', async () => {
    await collectGarbage(); // no finalizer of earlier garbage may run inside the counted window
    const base = memory().liveTensors;
    for (const name of ['constructor', '__proto__', 'toString']) {
      expect(() => parseCheckpoint(nested(`{"w": {"$tensor": "${name}"}}`))).toThrow(CheckpointError);
      expect(() => parseCheckpoint(nested(`{"w": {"$tensor": "${name}"}}`))).toThrow(new RegExp(`refers to tensor "${name}", which the file does not hold`));
    }
    expect(memory().liveTensors).toBe(base);
  });

  it('a user object with such keys round-trips (no key lost, none renamed)', async () => {
    const obj = JSON.parse('{"__proto__": {"x": 1}, "constructor": 5}') as Record<string, unknown>;
    obj.w = tensor([1, 2]);
    const ck = parseCheckpoint(await serializeCheckpoint(obj as never));
    expect(Object.keys(ck)).toEqual(['__proto__', 'constructor', 'w']);
    expect({ ...ck.__proto__ }).toEqual({ x: 1 });
    expect(ck.constructor).toBe(5);
    // Tensor paths named like prototype members are not mistaken for taken names ('constructor#1').
    const paths = parseSafetensors(await serializeCheckpoint({ nested: { constructor: tensor([3]) }, toString: tensor([4]) } as never)).tensors;
    expect(Object.keys(paths)).toEqual(['nested/constructor', 'toString']);
    disposeCheckpoint(ck);
    disposeCheckpoint(paths);
    (obj.w as Tensor).dispose();
  });

  it('a scheduler state with such a key is refused before anything changes; optimizer buffers so named cannot hide', async () => {
    manualSeed(2);
    const model = new nn.Linear(2, 1);
    const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const sched = new optim.StepLR(opt, { stepSize: 1 });
    const ck = parseCheckpoint(nested('{"scheduler": {"__proto__": {"getLr": 1}, "lastEpoch": 7}}'));
    expect(() => sched.loadStateDict(ck.scheduler)).toThrow(ValueError);
    expect(() => sched.loadStateDict(ck.scheduler)).toThrow(/StepLR\.loadStateDict: the state dict holds the key "__proto__"/);
    expect(sched).toBeInstanceOf(optim.StepLR);
    expect(sched.lastEpoch).toBe(0);
    sched.step();
    expect(opt.paramGroups[0]!.lr).toBeCloseTo(0.01, 10);
    disposeCheckpoint(ck);

    // An optimizer state entry whose buffer is named __proto__: kept as an ordinary buffer, freed with the optimizer.
    await collectGarbage(); // no finalizer of earlier garbage may run inside the counted window
    const base = memory().liveTensors;
    const sd = opt.stateDict();
    const state = JSON.parse('{"0": {"step": 1, "__proto__": null}}') as Record<string, Record<string, unknown>>;
    state['0']!.__proto__ = tensor([[0.5, 0.5]]);
    opt.loadStateDict({ ...sd, state } as never);
    (state['0']!.__proto__ as Tensor).dispose();
    expect(memory().liveTensors).toBe(base + 1);
    opt.dispose();
    expect(memory().liveTensors).toBe(base);
  });
});
