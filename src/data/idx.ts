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

/**
 * Parses an IDX file already decompressed. uint8 and int8 data are views of `bytes` (no
 * copy); wider types are decoded from big-endian. Throws a DataError naming `name` on a
 * gzip stream, a bad header, or a size that disagrees with the header (truncated or padded).
 */
export function parseIdx(bytes: Uint8Array, name = 'IDX data'): IdxArray {
  if (isGzip(bytes)) {
    throw new DataError(name, 'is gzip-compressed: decompress it first (in Node the MNIST loaders do it; in a browser use `await data.gunzip(bytes)`)');
  }
  if (bytes.length < 4) throw new DataError(name, `is ${bytes.length} bytes long, too short for an IDX header (truncated or empty file?)`);
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
  if (bytes.length < headerBytes) {
    throw new DataError(name, `is truncated: its ${ndim}-dim IDX header needs ${headerBytes} bytes, the file has ${bytes.length}`);
  }
  const shape: number[] = [];
  for (let d = 0; d < ndim; d++) shape.push(view.getUint32(4 + 4 * d, false));
  const numel = shape.reduce((a, b) => a * b, 1);
  const payload = numel * type.size;
  const have = bytes.length - headerBytes;
  const what = `${shape.join(' × ')} ${type.dtype} = ${payload} bytes of data`;
  if (have < payload) throw new DataError(name, `is truncated: its header promises ${what}, but only ${have} bytes follow the header`);
  if (have > payload) throw new DataError(name, `has ${have - payload} bytes more than its header promises (${what}): wrong or corrupt file`);
  const body = bytes.subarray(headerBytes);
  return { magic, dtype: type.dtype, shape, data: decode(type.dtype, body, numel) };
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

/**
 * Decompresses a gzip stream with the web-standard DecompressionStream (browsers and
 * Node ≥ 18); bytes that are not gzip come back unchanged.
 */
export async function gunzip(bytes: Uint8Array, name = 'data'): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new DataError(name, `gzip stream is corrupt or truncated (${(e as Error).message})`);
  }
}
