// The IDX file format (LeCun's MNIST format) as a pure parser over bytes: browser-safe, no
// file or zlib access here (Node reading lives in node-io.ts).
//
// Layout: bytes 0-1 are zero; byte 2 is the element type (0x08 uint8, 0x09 int8, 0x0B int16,
// 0x0C int32, 0x0D float32, 0x0E float64); byte 3 the number of dims; then one big-endian
// uint32 per dim; then the elements, big-endian, row-major. MNIST images are magic 0x00000803
// (2051: uint8, 3 dims), labels 0x00000801 (2049: uint8, 1 dim).

import { DataError } from './errors.ts';

/** The element types IDX defines, by the type byte of the magic number: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64. */
export type IdxDType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
/** The typed array holding an IDX file's elements, one kind per {@link IdxDType} (uint8 → Uint8Array, …). */
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A parsed IDX file: its magic number, element type, dims and elements. */
export interface IdxArray {
  /** The first four bytes as a big-endian integer: 0x00000803 (2051) for MNIST images, 0x00000801 (2049) for labels. */
  magic: number;
  /** Element type, from the magic number's third byte. */
  dtype: IdxDType;
  /** Dims from the header, outermost first (MNIST training images: [60000, 28, 28]). */
  shape: number[];
  /** The elements, row-major, in native byte order; uint8/int8 data are views of the input bytes (no copy). */
  data: IdxData;
}

const TYPES: Record<number, { dtype: IdxDType; size: number }> = {
  0x08: { dtype: 'uint8', size: 1 },
  0x09: { dtype: 'int8', size: 1 },
  0x0b: { dtype: 'int16', size: 2 },
  0x0c: { dtype: 'int32', size: 4 },
  0x0d: { dtype: 'float32', size: 4 },
  0x0e: { dtype: 'float64', size: 8 },
};

/** True when `bytes` start like a gzip stream (1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** What an IDX header says: the element type, the dims, and so the exact size of the file. */
export interface IdxHeader {
  /** The first four bytes as a big-endian integer. */
  magic: number;
  dtype: IdxDType;
  /** Bytes per element. */
  size: number;
  shape: number[];
  /** Bytes of the header: 4 + 4 per dim. */
  headerBytes: number;
  /** Bytes of element data the header promises (numel × size). */
  payload: number;
}

/**
 * The IDX header at the start of `bytes`, or null while `bytes` is too short to hold all of it
 * (so a streaming reader can call it on what it has so far). Throws a DataError naming `name`
 * as soon as the bytes seen cannot start an IDX file.
 */
export function readIdxHeader(bytes: Uint8Array, name: string): IdxHeader | null {
  if (bytes.length < 4) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataError(name, `is not an IDX file: magic number 0x${hex(magic)} should start with two zero bytes`);
  }
  const type = TYPES[bytes[2]!];
  if (!type) throw new DataError(name, `is not an IDX file: unknown element type 0x${bytes[2]!.toString(16).padStart(2, '0')} in magic number 0x${hex(magic)}`);
  const ndim = bytes[3]!;
  if (ndim === 0) throw new DataError(name, `has an IDX header with 0 dims (magic 0x${hex(magic)})`);
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) return null;
  const shape: number[] = [];
  for (let d = 0; d < ndim; d++) shape.push(view.getUint32(4 + 4 * d, false));
  const payload = shape.reduce((a, b) => a * b, 1) * type.size;
  return { magic, dtype: type.dtype, size: type.size, shape, headerBytes, payload };
}

/**
 * Parses an IDX file already decompressed. uint8 and int8 data are views of `bytes` (no
 * copy); wider types are decoded from big-endian. Throws a DataError naming `name` on a
 * gzip stream, a bad header, or a size that disagrees with the header (truncated or padded).
 */
export function parseIdx(bytes: Uint8Array, name = 'IDX data'): IdxArray {
  if (isGzip(bytes)) {
    throw new DataError(name, 'is gzip-compressed: decompress it first (in Node the MNIST loaders do it; in a browser use `await data.gunzipIdx(bytes)`)');
  }
  const h = readIdxHeader(bytes, name);
  if (!h) {
    if (bytes.length < 4) throw new DataError(name, `is ${bytes.length} bytes long, too short for an IDX header (truncated or empty file?)`);
    const ndim = bytes[3]!;
    throw new DataError(name, `is truncated: its ${ndim}-dim IDX header needs ${4 + 4 * ndim} bytes, the file has ${bytes.length}`);
  }
  const have = bytes.length - h.headerBytes;
  const what = `${h.shape.join(' × ')} ${h.dtype} = ${h.payload} bytes of data`;
  if (have < h.payload) throw new DataError(name, `is truncated: its header promises ${what}, but only ${have} bytes follow the header`);
  if (have > h.payload) throw new DataError(name, `has ${have - h.payload} bytes more than its header promises (${what}): wrong or corrupt file`);
  const body = bytes.subarray(h.headerBytes);
  return { magic: h.magic, dtype: h.dtype, shape: h.shape, data: decode(h.dtype, body, h.payload / h.size) };
}

/**
 * The error of a bounded gunzip whose IDX stream inflates to more than its header declares,
 * or, when the stream `ended`, to fewer (`inflated` bytes).
 */
export function idxSizeError(name: string, h: IdxHeader, inflated: number, ended: boolean): DataError {
  const what = `${h.shape.join(' × ')} ${h.dtype}: ${h.headerBytes + h.payload} bytes with the header`;
  return ended
    ? new DataError(name, `is truncated: its header declares ${what}, but the gzip stream inflates to only ${inflated}`)
    : new DataError(name, `inflates to more than its header declares (${what}); stopped there: wrong or corrupt file`);
}

function decode(dtype: IdxDType, body: Uint8Array, n: number): IdxData {
  if (dtype === 'uint8') return body;
  if (dtype === 'int8') return new Int8Array(body.buffer, body.byteOffset, n);
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  switch (dtype) {
    case 'int16':
      return Int16Array.from({ length: n }, (_, i) => v.getInt16(2 * i, false));
    case 'int32':
      return Int32Array.from({ length: n }, (_, i) => v.getInt32(4 * i, false));
    case 'float32':
      return Float32Array.from({ length: n }, (_, i) => v.getFloat32(4 * i, false));
    default:
      return Float64Array.from({ length: n }, (_, i) => v.getFloat64(8 * i, false));
  }
}

const hex = (m: number): string => m.toString(16).padStart(8, '0');

/**
 * Encodes an array as IDX bytes (the inverse of parseIdx): for writing test fixtures or
 * saving a derived data set in the MNIST format.
 */
export function encodeIdx(data: IdxData, shape: readonly number[]): Uint8Array {
  const entry = Object.entries(TYPES).find(([, t]) => t.dtype === idxDTypeOf(data))!;
  const code = Number(entry[0]);
  const size = entry[1].size;
  const numel = shape.reduce((a, b) => a * b, 1);
  if (numel !== data.length) throw new DataError('encodeIdx', `shape [${shape.join(', ')}] does not hold ${data.length} elements`);
  const out = new Uint8Array(4 + 4 * shape.length + numel * size);
  const v = new DataView(out.buffer);
  out[2] = code;
  out[3] = shape.length;
  shape.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  const at = 4 + 4 * shape.length;
  for (let i = 0; i < numel; i++) {
    const x = data[i]!;
    if (size === 1) out[at + i] = x & 0xff;
    else if (code === 0x0b) v.setInt16(at + 2 * i, x, false);
    else if (code === 0x0c) v.setInt32(at + 4 * i, x, false);
    else if (code === 0x0d) v.setFloat32(at + 4 * i, x, false);
    else v.setFloat64(at + 8 * i, x, false);
  }
  return out;
}

function idxDTypeOf(data: IdxData): IdxDType {
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Float32Array) return 'float32';
  return 'float64';
}

/** How far a gzip stream may inflate (see inflateBounded). */
interface InflateBound {
  /**
   * The most bytes the output may have, from its first inflated bytes (`head`, up to HEAD_BYTES;
   * called again as more arrive while it answers null). May throw, e.g. on a header that is wrong.
   */
  limit(head: Uint8Array): number | null;
  /** True when the output must have exactly `limit` bytes (a shorter one is truncated). */
  exact: boolean;
  /** The error for an output of `inflated` bytes: beyond the limit, or (`ended`) short of it. */
  error(inflated: number, ended: boolean): Error;
}

/** Enough inflated bytes to hold any IDX header (4 bytes of magic and up to 255 dims). */
const HEAD_BYTES = 4 + 4 * 255;

/**
 * Inflates a gzip stream with the web-standard DecompressionStream (browsers and Node ≥ 18)
 * chunk by chunk, and cancels it as soon as the output passes `bound`'s limit: a small hostile
 * file costs no more than the limit, however far it would expand.
 */
async function inflateBounded(bytes: Uint8Array, name: string, bound: InflateBound): Promise<Uint8Array> {
  const reader = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip')).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let limit: number | null = null;
  const headOf = (): Uint8Array => {
    const head = new Uint8Array(Math.min(total, HEAD_BYTES));
    let at = 0;
    for (const c of chunks) {
      if (at >= head.length) break;
      head.set(c.subarray(0, head.length - at), at);
      at += Math.min(c.length, head.length - at);
    }
    return head;
  };
  try {
    for (;;) {
      let step: ReadableStreamReadResult<Uint8Array>;
      try {
        step = await reader.read();
      } catch (e) {
        throw new DataError(name, `gzip stream is corrupt or truncated (${(e as Error).message})`);
      }
      if (step.done) break;
      chunks.push(step.value);
      total += step.value.length;
      limit ??= bound.limit(headOf());
      if (limit !== null && total > limit) throw bound.error(total, false);
    }
  } catch (e) {
    await reader.cancel().catch(() => undefined);
    throw e;
  }
  limit ??= bound.limit(headOf());
  if (limit === null || (bound.exact && total !== limit)) throw bound.error(total, true);
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Decompresses a gzip stream with the web-standard DecompressionStream (browsers and
 * Node ≥ 18); bytes that are not gzip come back unchanged. With `maxBytes`, a stream that
 * inflates to more throws a DataError as soon as it passes the limit. For IDX files use
 * `gunzipIdx`, which bounds the output by what the file's header declares.
 */
export async function gunzip(bytes: Uint8Array, name = 'data', opts: { maxBytes?: number } = {}): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  const max = opts.maxBytes ?? Infinity;
  return inflateBounded(bytes, name, {
    limit: () => max,
    exact: false,
    error: (inflated) => new DataError(name, `gzip stream inflates to more than the ${max} bytes allowed (maxBytes); stopped after ${inflated}`),
  });
}

/**
 * Decompresses a gzipped IDX file (browsers and Node ≥ 18): reads its header first and stops
 * as soon as the stream inflates to more than the header declares, so a small hostile file
 * cannot expand to gigabytes; a stream that falls short is reported as truncated. Bytes that
 * are not gzip come back unchanged (parseIdx checks them).
 * @example new data.MNIST({ files: { images: await data.gunzipIdx(imageBytes, 'train-images'), labels: await data.gunzipIdx(labelBytes, 'train-labels') } })
 */
export async function gunzipIdx(bytes: Uint8Array, name = 'IDX data'): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  let header: IdxHeader | null = null;
  return inflateBounded(bytes, name, {
    limit: (head) => {
      header = readIdxHeader(head, name);
      return header && header.headerBytes + header.payload;
    },
    exact: true,
    error: (inflated, ended) =>
      header ? idxSizeError(name, header, inflated, ended) : new DataError(name, `is truncated: the gzip stream inflates to only ${inflated} bytes, too short for its IDX header`),
  });
}
