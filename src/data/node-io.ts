// File access for the data sets, in Node only. Node's modules come from
// process.getBuiltinModule (Node ≥ 20.16), never from an import statement, so a browser
// bundle that includes src/data sees no `node:fs` and the browser path never loads it;
// calling these in a browser throws a DataError that says what to do instead.

import { DataError } from './errors.ts';
import { isGzip } from './idx.ts';

type NodeMods = {
  fs: typeof import('node:fs');
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

/** Decompresses gzip bytes synchronously (Node), wrapping zlib's error with the file name. */
export function gunzipSync(bytes: Uint8Array, name: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  const { zlib } = node(name);
  try {
    return new Uint8Array(zlib.gunzipSync(bytes));
  } catch (e) {
    throw new DataError(name, `gzip stream is corrupt or truncated (${(e as Error).message})`);
  }
}

/** The bytes of a file, gunzipped when it is a gzip stream (whatever its name). */
export function readDataFile(file: string): Uint8Array {
  const { fs } = node(file);
  let raw: Uint8Array;
  try {
    raw = fs.readFileSync(file);
  } catch (e) {
    throw new DataError(file, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return gunzipSync(raw, file);
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
  // From webgrad's own folder first, then from the working directory's project: an optional
  // package may sit beside the application rather than beside webgrad.
  for (const from of [import.meta.url, `${process.cwd()}/package.json`]) {
    try {
      return fs.readFileSync(module.createRequire(from).resolve(spec), 'utf8');
    } catch {
      // not found from there
    }
  }
  throw new DataError(spec, `not found: the npm package "${spec.split('/')[0]}" is not installed (\`npm install ${spec.split('/')[0]}\`)`);
}

/**
 * A Node built-in module (`node:os`, `node:child_process`, …) by id, read at call time like the
 * ones above; outside Node a DataError naming `what` says that this needs Node.
 */
export function builtin<T>(id: string, what: string): T {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  if (typeof proc?.getBuiltinModule !== 'function') throw new DataError(what, `needs Node ≥ 20.16 (${id})`);
  return proc.getBuiltinModule(id) as T;
}
