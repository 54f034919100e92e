// Checkpoints in the safetensors format (https://github.com/huggingface/safetensors), pure and
// browser-safe: bytes in, bytes out. File I/O lives in checkpoint-node.ts.
//
// Layout: an 8-byte little-endian unsigned length N, then N bytes of UTF-8 JSON (padded with
// spaces to a multiple of 8), then the data buffer. The JSON maps each tensor name to
// { dtype, shape, data_offsets: [begin, end] } (byte offsets into the data buffer, which the
// tensors cover exactly, without holes or overlaps), plus an optional "__metadata__" map of
// strings. Data is little-endian, row-major.
//
// A flat state dict (name → tensor) is written as is, so any safetensors reader (PyTorch's
// safetensors.torch.load_file included) reads it. A nested checkpoint — { model, optimizer,
// scheduler, epoch } with step counts and options beside the tensors — keeps its tensors as
// entries named by their path and the rest of the tree as JSON in the metadata key
// "webgrad.tree", and the random generator's position in "webgrad.rng" (restored on load), so
// one file resumes training exactly, Dropout and shuffling included.

import { Tensor } from '../tensor/tensor.ts';
import { tensor } from '../tensor/creation.ts';
import { defaultGenerator, type Generator } from '../tensor/random.ts';
import type { BackendName } from '../backend/types.ts';
import type { DType } from '../dtype.ts';
import { WebgradError, fmtShape } from '../errors.ts';

/** A malformed, truncated or mismatched checkpoint. */
export class CheckpointError extends WebgradError {
  override name = 'CheckpointError';
}

/** The safetensors dtype a webgrad dtype is written as. */
const WRITE_DTYPE: Record<DType, 'F32' | 'I32' | 'BOOL'> = { float32: 'F32', int32: 'I32', bool: 'BOOL' };

/** dtypes read, with their byte width and the webgrad dtype they load as (wider ones are converted). */
const READ_DTYPE: Record<string, { bytes: number; as: DType }> = {
  F32: { bytes: 4, as: 'float32' },
  F64: { bytes: 8, as: 'float32' },
  F16: { bytes: 2, as: 'float32' },
  BF16: { bytes: 2, as: 'float32' },
  I32: { bytes: 4, as: 'int32' },
  I64: { bytes: 8, as: 'int32' },
  I16: { bytes: 2, as: 'int32' },
  I8: { bytes: 1, as: 'int32' },
  U8: { bytes: 1, as: 'int32' },
  BOOL: { bytes: 1, as: 'bool' },
};

/** The metadata key holding a nested checkpoint's non-tensor structure. */
export const TREE_KEY = 'webgrad.tree';
/** The metadata key holding the random generator's state of a nested checkpoint ({ seed, counter } as JSON). */
export const RNG_KEY = 'webgrad.rng';

/** Which random generator a checkpoint records and restores. */
export interface CheckpointRngOptions {
  /**
   * The generator whose state a nested checkpoint records when saved and gets back when loaded
   * (default: the global one that `manualSeed` seeds, which Dropout and DataLoader shuffling draw
   * from), so training resumes with the same random numbers it would have drawn. null: neither.
   */
  generator?: Generator | null;
}
/** The spec caps the header at 100 MB; beyond that a length is garbage, not a header. */
const MAX_HEADER = 100_000_000;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * An empty object without a prototype, for every map whose keys come from a file or a user:
 * there `__proto__`, `constructor` or `toString` are ordinary keys. On a `{}` an assignment to
 * `__proto__` would replace the prototype (the entry vanishing from the keys, a tensor put
 * there out of reach of disposeCheckpoint) and `'constructor' in obj` would be true.
 */
function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** Little-endian bytes of a tensor's elements. */
function encode(values: Float32Array | Float64Array | Int32Array, dtype: DType): Uint8Array {
  const n = values.length;
  if (dtype === 'bool') return Uint8Array.from(values, (v) => (v ? 1 : 0));
  if (LITTLE_ENDIAN) return new Uint8Array((dtype === 'float32' ? Float32Array.from(values) : Int32Array.from(values)).buffer);
  const out = new Uint8Array(n * 4);
  const view = new DataView(out.buffer);
  if (dtype === 'float32') for (let i = 0; i < n; i++) view.setFloat32(i * 4, values[i]!, true);
  else for (let i = 0; i < n; i++) view.setInt32(i * 4, values[i]!, true);
  return out;
}

/**
 * Serialises named tensors to safetensors bytes (entries in the given order, dtypes F32 / I32 /
 * BOOL). `metadata` (strings only) goes into "__metadata__". Reads every tensor back, hence async.
 * @example const bytes = await serializeSafetensors(model.stateDict());
 */
export async function serializeSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Promise<Uint8Array> {
  const entries = Object.entries(tensors);
  for (const [k, t] of entries) {
    if (!(t instanceof Tensor)) throw new CheckpointError(`serializeSafetensors: "${k}" is not a Tensor`);
    if (k === '__metadata__') throw new CheckpointError('serializeSafetensors: "__metadata__" is reserved and cannot name a tensor');
    t.assertAlive(`serializeSafetensors(${k})`);
  }
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new CheckpointError(`serializeSafetensors: metadata "${k}" must be a string (safetensors metadata maps strings to strings)`);
    }
  }
  // dtypes and shapes are taken before the reads: a tensor disposed while they run still serialises.
  const layouts = entries.map(([, t]) => ({ dtype: t.dtype, shape: [...t.shape] }));
  const datas = await Promise.all(entries.map(([, t]) => t.data()));
  const header = dict<unknown>();
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  entries.forEach(([k], i) => {
    const { dtype, shape } = layouts[i]!;
    const bytes = encode(datas[i]!, dtype);
    header[k] = { dtype: WRITE_DTYPE[dtype], shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  });
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** What parseSafetensors returns: the tensors in file order and the metadata (null when absent). */
export interface SafetensorsContents {
  /**
   * Every tensor in the file under its name, in file order; new tensors the caller owns (dispose
   * them when done). A prototype-less object, so any name (`__proto__`, `constructor`) is an
   * ordinary key.
   */
  tensors: Record<string, Tensor>;
  /** The header's `__metadata__` string map (webgrad keeps a nested checkpoint's structure here), or null when absent. */
  metadata: Record<string, string> | null;
}

/** The element values of one entry, decoded from little-endian bytes. */
function decode(name: string, dtype: string, bytes: Uint8Array, n: number): Float32Array | Int32Array {
  // Fast path: on little-endian hosts 4-byte types are the bytes themselves (copied to align).
  if (LITTLE_ENDIAN && dtype === 'F32') return new Float32Array(new Uint8Array(bytes).buffer);
  if (LITTLE_ENDIAN && dtype === 'I32') return new Int32Array(new Uint8Array(bytes).buffer);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32': return Float32Array.from({ length: n }, (_, i) => view.getFloat32(i * 4, true));
    case 'F64': return Float32Array.from({ length: n }, (_, i) => view.getFloat64(i * 8, true));
    case 'F16': return Float32Array.from({ length: n }, (_, i) => halfToFloat(view.getUint16(i * 2, true)));
    case 'BF16': return Float32Array.from({ length: n }, (_, i) => new Float32Array(new Uint32Array([view.getUint16(i * 2, true) << 16]).buffer)[0]!);
    case 'I32': return Int32Array.from({ length: n }, (_, i) => view.getInt32(i * 4, true));
    case 'I16': return Int32Array.from({ length: n }, (_, i) => view.getInt16(i * 2, true));
    case 'I8': return Int32Array.from({ length: n }, (_, i) => view.getInt8(i));
    case 'U8': case 'BOOL': return Int32Array.from({ length: n }, (_, i) => view.getUint8(i));
    case 'I64': {
      return Int32Array.from({ length: n }, (_, i) => {
        const v = view.getBigInt64(i * 8, true);
        if (v > 2147483647n || v < -2147483648n) throw new CheckpointError(`parseSafetensors: "${name}" (I64) holds ${v}, outside the int32 range webgrad stores`);
        return Number(v);
      });
    }
  }
  throw new CheckpointError(`parseSafetensors: "${name}" has unsupported dtype ${dtype}`);
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? Number.NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/**
 * Reads safetensors bytes into tensors on `device` (default: the default device). F32, I32 and
 * BOOL load as float32, int32 and bool; F64/F16/BF16 convert to float32, I64/I16/I8/U8 to
 * int32 (an I64 value outside int32 is an error). Throws a CheckpointError on a truncated,
 * malformed or inconsistent file, naming what is wrong.
 */
export function parseSafetensors(bytes: Uint8Array, opts: { device?: BackendName; source?: string } = {}): SafetensorsContents {
  const src = opts.source ?? 'the checkpoint';
  // A Node Buffer is a Uint8Array whose slice() is a view: normalise to a plain one.
  bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (msg: string): never => {
    throw new CheckpointError(`parseSafetensors: ${src}: ${msg}`);
  };
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, but a safetensors file starts with an 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER)) fail(`not a safetensors file: the header length field says ${n64} bytes (the format allows at most ${MAX_HEADER})`);
  const n = Number(n64);
  if (8 + n > bytes.length) fail(`truncated: the header is ${n} bytes but only ${bytes.length - 8} bytes follow the length field`);
  let header: Record<string, unknown>;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
    if (!text.startsWith('{')) throw new Error('does not start with "{"');
    header = JSON.parse(text) as Record<string, unknown>;
    if (!header || typeof header !== 'object' || Array.isArray(header)) throw new Error('is not a JSON object');
  } catch (e) {
    return fail(`not a safetensors file: the ${n}-byte header ${(e as Error).message.startsWith('does') || (e as Error).message.startsWith('is') ? (e as Error).message : 'is not valid UTF-8 JSON'}`);
  }
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  let metadata: Record<string, string> | null = null;
  const specs: { name: string; dtype: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!v || typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) fail('"__metadata__" must map strings to strings');
      metadata = Object.assign(dict<string>(), v as Record<string, string>);
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!e || typeof e !== 'object') fail(`entry "${name}" is not an object`);
    if (typeof e.dtype !== 'string' || !Object.hasOwn(READ_DTYPE, e.dtype)) fail(`entry "${name}" has unsupported dtype ${JSON.stringify(e.dtype)}`);
    if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) fail(`entry "${name}" has an invalid shape ${JSON.stringify(e.shape)}`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || off.some((x) => !Number.isSafeInteger(x) || x < 0) || off[1] < off[0]) {
      fail(`entry "${name}" has invalid data_offsets ${JSON.stringify(off)}`);
    }
    const shape = e.shape as number[];
    const [begin, end] = off as [number, number];
    const want = shape.reduce((a, b) => a * b, 1) * READ_DTYPE[e.dtype as string]!.bytes;
    if (end - begin !== want) fail(`entry "${name}" (${e.dtype}, shape ${fmtShape(shape)}) needs ${want} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`);
    if (end > dataLen) fail(`truncated: entry "${name}" ends at byte ${end} of the data, but only ${dataLen} data bytes are present`);
    specs.push({ name, dtype: e.dtype as string, shape, begin, end });
  }
  // The entries must tile the data buffer exactly: no holes, no overlaps, nothing after.
  const sorted = [...specs].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const s of sorted) {
    if (s.begin !== at) fail(s.begin > at ? `hole in the data buffer before entry "${s.name}" (bytes ${at}..${s.begin})` : `entry "${s.name}" overlaps the previous one`);
    at = s.end;
  }
  if (at !== dataLen) fail(`mismatched: the entries cover ${at} data bytes but the file holds ${dataLen} (trailing or missing bytes)`);
  const tensors = dict<Tensor>();
  try {
    for (const s of specs) {
      const values = decode(s.name, s.dtype, bytes.subarray(dataStart + s.begin, dataStart + s.end), s.shape.reduce((a, b) => a * b, 1));
      tensors[s.name] = tensor(values, { shape: s.shape, dtype: READ_DTYPE[s.dtype]!.as, device: opts.device });
    }
  } catch (e) {
    for (const t of Object.values(tensors)) t.dispose();
    throw e;
  }
  return { tensors, metadata };
}

// ---- nested checkpoints --------------------------------------------------------------------

/**
 * What a checkpoint may hold: tensors, JSON values, and arrays/plain objects of them (state
 * dicts of modules, optimizers and schedulers are such objects; anything else is rejected
 * when saving).
 */
export type CheckpointValue = Tensor | number | string | boolean | null | undefined | CheckpointValue[] | { [key: string]: CheckpointValue };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);
}

/** True when `obj` is a flat name → tensor map (written without a tree). */
function isFlat(obj: Record<string, unknown>): obj is Record<string, Tensor> {
  const vs = Object.values(obj);
  return vs.length > 0 && vs.every((v) => v instanceof Tensor);
}

/**
 * Serialises a checkpoint: a flat state dict as a plain safetensors file, or a nested object
 * (model and optimizer state dicts, scheduler state, epoch…) as tensors named by their path
 * ('model/fc1.weight', 'optimizer/state/0/expAvg') plus the structure as JSON metadata. A nested
 * checkpoint also records the random generator's state (`opts.generator`, default the global
 * one), which parseCheckpoint restores: resuming from it draws the same dropout masks and
 * shuffles as an uninterrupted run.
 */
export async function serializeCheckpoint(obj: Record<string, CheckpointValue | object>, metadata: Record<string, string> = {}, opts: CheckpointRngOptions = {}): Promise<Uint8Array> {
  if (!isPlainObject(obj)) throw new CheckpointError('save: expects a state dict or a plain object of them');
  if (isFlat(obj as Record<string, unknown>)) return serializeSafetensors(obj as Record<string, Tensor>, metadata);
  const tensors = dict<Tensor>();
  const encodeTree = (v: unknown, path: string[]): unknown => {
    if (v instanceof Tensor) {
      let key = path.join('/');
      for (let k = 1; key in tensors; k++) key = `${path.join('/')}#${k}`;
      tensors[key] = v;
      return { $tensor: key };
    }
    if (typeof v === 'number' && !Number.isFinite(v)) return { $number: String(v) };
    if (v === undefined) return { $undefined: true };
    if (v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
    if (Array.isArray(v)) return v.map((x, i) => encodeTree(x, [...path, String(i)]));
    if (isPlainObject(v)) {
      const o = dict<unknown>();
      for (const [k, x] of Object.entries(v)) o[k] = encodeTree(x, [...path, k]);
      return o;
    }
    throw new CheckpointError(`save: cannot store a ${typeof v === 'object' ? (v as object).constructor?.name : typeof v} at "${path.join('/')}" (only tensors, numbers, strings, booleans, null, arrays and plain objects)`);
  };
  const tree = encodeTree(obj, []);
  for (const k of [TREE_KEY, RNG_KEY]) if (Object.hasOwn(metadata, k)) throw new CheckpointError(`save: metadata key "${k}" is reserved`);
  const generator = opts.generator === undefined ? defaultGenerator : opts.generator;
  const meta: Record<string, string> = { ...metadata, [TREE_KEY]: JSON.stringify(tree) };
  if (generator) meta[RNG_KEY] = JSON.stringify(generator.getState());
  return serializeSafetensors(tensors, meta);
}

/**
 * Parses what serializeCheckpoint wrote: the nested object when the file carries a tree, else
 * the flat name → tensor map (any safetensors file, e.g. one written by PyTorch). Its objects
 * have no prototype, so keys from the file such as `__proto__` or `constructor` stay ordinary
 * keys (and disposeCheckpoint reaches every tensor).
 */
export function parseCheckpoint(bytes: Uint8Array, opts: { device?: BackendName; source?: string } & CheckpointRngOptions = {}): Record<string, any> {
  const { tensors, metadata } = parseSafetensors(bytes, opts);
  const treeJson = metadata?.[TREE_KEY];
  if (treeJson === undefined) return tensors;
  const src = opts.source ?? 'the checkpoint';
  let tree: unknown;
  let rng: { seed: number; counter: number } | null = null;
  try {
    tree = JSON.parse(treeJson);
    rng = rngStateOf(metadata![RNG_KEY], src);
  } catch (e) {
    for (const t of Object.values(tensors)) t.dispose();
    throw e instanceof CheckpointError ? e : new CheckpointError(`load: ${src}: metadata "${TREE_KEY}" is not valid JSON`);
  }
  const used = new Set<string>();
  const decodeTree = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(decodeTree);
    if (isPlainObject(v)) {
      if (typeof v.$tensor === 'string' && Object.keys(v).length === 1) {
        const t = tensors[v.$tensor];
        if (!t) throw new CheckpointError(`load: ${opts.source ?? 'the checkpoint'}: mismatched: the tree refers to tensor "${v.$tensor}", which the file does not hold`);
        used.add(v.$tensor);
        return t;
      }
      if (typeof v.$number === 'string' && Object.keys(v).length === 1) return Number(v.$number);
      if (v.$undefined === true && Object.keys(v).length === 1) return undefined;
      const o = dict<unknown>();
      for (const [k, x] of Object.entries(v)) o[k] = decodeTree(x);
      return o;
    }
    return v;
  };
  try {
    const out = decodeTree(tree) as Record<string, any>;
    for (const [k, t] of Object.entries(tensors)) if (!used.has(k)) t.dispose();
    // Last, once nothing can fail: a checkpoint that does not load leaves the generator alone.
    const generator = opts.generator === undefined ? defaultGenerator : opts.generator;
    if (rng && generator) generator.setState(rng);
    return out;
  } catch (e) {
    for (const t of Object.values(tensors)) t.dispose();
    throw e;
  }
}

/** The generator state recorded under RNG_KEY (null when absent), checked before anything uses it. */
function rngStateOf(json: string | undefined, src: string): { seed: number; counter: number } | null {
  if (json === undefined) return null;
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    v = null;
  }
  const ok = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0;
  if (!isPlainObject(v) || !ok(v.seed) || !ok(v.counter)) {
    throw new CheckpointError(`load: ${src}: metadata "${RNG_KEY}" must be { "seed": n, "counter": n } with non-negative integers, got ${JSON.stringify(json).slice(0, 80)}`);
  }
  return { seed: v.seed as number, counter: v.counter as number };
}

/** Disposes every tensor in a loaded checkpoint (after loadStateDict has copied them). */
export function disposeCheckpoint(obj: unknown): void {
  if (obj instanceof Tensor) obj.dispose();
  else if (Array.isArray(obj)) obj.forEach(disposeCheckpoint);
  else if (isPlainObject(obj)) Object.values(obj).forEach(disposeCheckpoint);
}
