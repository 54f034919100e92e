// File access for the data sets, in Node only. Node's modules come from
// process.getBuiltinModule (Node ≥ 20.16), never from an import statement, so a browser
// bundle that includes src/data sees no `node:fs` and the browser path never loads it;
// calling these in a browser throws a DataError that says what to do instead.

import { DataError } from './errors.ts';
import { idxSizeError, isGzip, readIdxHeader, type IdxHeader } from './idx.ts';

type NodeMods = {
  fs: typeof import('node:fs');
  buffer: typeof import('node:buffer');
  zlib: typeof import('node:zlib');
  path: typeof import('node:path');
  module: typeof import('node:module');
};
let mods: NodeMods | null = null;

/** Node's fs, zlib, path and module, or a DataError naming `what` outside Node. */
function node(what: string): NodeMods {
  if (mods) return mods;
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  if (typeof proc?.getBuiltinModule !== 'function') {
    throw new DataError(
      what,
      'reading files needs Node ≥ 20.16 (process.getBuiltinModule); in a browser, fetch the IDX bytes yourself and pass them as { files: { images, labels } } (after `await data.gunzip(bytes)`)',
    );
  }
  const get = proc.getBuiltinModule.bind(proc);
  mods = {
    fs: get('node:fs') as NodeMods['fs'],
    buffer: get('node:buffer') as NodeMods['buffer'],
    zlib: get('node:zlib') as NodeMods['zlib'],
    path: get('node:path') as NodeMods['path'],
    module: get('node:module') as NodeMods['module'],
  };
  return mods;
}

/** True when running where files can be read. */
export function canReadFiles(): boolean {
  return typeof (globalThis as { process?: { getBuiltinModule?: unknown } }).process?.getBuiltinModule === 'function';
}

/** The most bytes one inflate pass may produce while looking for the header (see gunzipIdxSync). */
const HEAD_PASS_MAX = 1 << 20;

/** Node's "output larger than maxOutputLength" error. */
const isTooLarge = (e: unknown): boolean => (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';

/**
 * Decompresses a gzipped IDX file synchronously (Node), bounded by the size its header
 * declares: the header is inflated first, from a prefix of the compressed bytes, then the
 * whole stream with zlib's maxOutputLength set to that size, so a small hostile file stops
 * at once instead of expanding to gigabytes. Not gzip: the bytes come back unchanged.
 */
export function gunzipIdxSync(bytes: Uint8Array, name: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  const { zlib, buffer } = node(name);
  const corrupt = (e: unknown) => new DataError(name, `gzip stream is corrupt or truncated (${(e as Error).message})`);
  // A prefix of the stream inflates to a prefix of the file (Z_SYNC_FLUSH: no error for the
  // cut). Grow it until the header is out; each pass is capped, and when a pass overflows the
  // cap the header lies before it, so bisect between the last short prefix and this one (each
  // input byte inflates to at most a few KB, so the bisection ends well under the cap).
  const inflatePrefix = (k: number): Uint8Array | null => {
    try {
      return zlib.gunzipSync(bytes.subarray(0, k), { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: HEAD_PASS_MAX });
    } catch (e) {
      if (isTooLarge(e)) return null;
      throw corrupt(e);
    }
  };
  let header: IdxHeader | null = null;
  let short = 0;
  for (let k = Math.min(bytes.length, 64); !header; ) {
    const head = inflatePrefix(k);
    if (head === null) {
      if (k - short <= 1) throw new DataError(name, `gzip stream is corrupt: ${k} bytes of it inflate to more than ${HEAD_PASS_MAX}`);
      k = short + Math.floor((k - short) / 2);
      continue;
    }
    header = readIdxHeader(head, name);
    if (header) break;
    if (k === bytes.length) throw new DataError(name, `is truncated: the gzip stream inflates to only ${head.length} bytes, too short for its IDX header`);
    short = k;
    k = Math.min(bytes.length, k * 2);
  }
  const size = header.headerBytes + header.payload;
  if (size > buffer.constants.MAX_LENGTH) {
    throw new DataError(name, `its IDX header declares ${header.shape.join(' × ')} ${header.dtype} (${size} bytes), more than one buffer can hold here (${buffer.constants.MAX_LENGTH})`);
  }
  let out: Uint8Array;
  try {
    out = zlib.gunzipSync(bytes, { maxOutputLength: Math.max(size, 1) });
  } catch (e) {
    if (isTooLarge(e)) throw idxSizeError(name, header, size, false);
    throw corrupt(e);
  }
  if (out.length !== size) throw idxSizeError(name, header, out.length, true);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** The bytes of an IDX file, gunzipped (bounded by its header) when it is a gzip stream, whatever its name. */
export function readIdxFile(file: string): Uint8Array {
  const { fs } = node(file);
  let raw: Uint8Array;
  try {
    raw = fs.readFileSync(file);
  } catch (e) {
    throw new DataError(file, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return gunzipIdxSync(raw, file);
}

/**
 * The first file that exists among `names` (each also tried with `.gz`) in the folders
 * `dirs` (relative to `root`); undefined when none does.
 */
export function findFile(root: string, dirs: readonly string[], names: readonly string[]): string | undefined {
  const { fs, path } = node(root);
  for (const dir of dirs) {
    for (const name of names) {
      for (const candidate of [name, `${name}.gz`]) {
        const p = path.join(root, dir, candidate);
        if (fs.existsSync(p) && fs.statSync(p).isFile()) return p;
      }
    }
  }
  return undefined;
}

/** `path.join` (Node only; used to list the places a missing file was looked for). */
export function joinPath(...parts: string[]): string {
  return node(parts[0] ?? 'path').path.join(...parts);
}

/** True when `p` is an existing folder. */
export function isDirectory(p: string): boolean {
  const { fs } = node(p);
  return fs.existsSync(p) && fs.statSync(p).isDirectory();
}

/** Reads a file shipped inside an installed npm package (resolved from this module). */
export function readPackageFile(spec: string): string {
  const { fs, module } = node(spec);
  let file: string;
  try {
    file = module.createRequire(import.meta.url).resolve(spec);
  } catch {
    throw new DataError(spec, 'not found: is the npm package installed? (`npm install`)');
  }
  return fs.readFileSync(file, 'utf8');
}
