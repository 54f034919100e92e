// Checks, before any training starts, that every place a run will write to can be written:
// a run that trains for an hour and then fails to save its checkpoint has lost the hour. Each
// folder is created and a probe file written and removed in it (permissions alone do not tell:
// root passes every permission check and still cannot write a read-only file system).

import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CliError } from './errors.ts';

const code = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

/** What is at `p`, or undefined when nothing can be (missing, or under a file: ENOTDIR). */
function stat(p: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

/**
 * Creates `dir` if needed and writes a probe file in it; throws a CliError naming `flag`, the
 * folder and the fix when either fails.
 */
export function ensureWritableDir(dir: string, flag: string): void {
  const kind = stat(dir);
  if (kind && !kind.isDirectory()) throw new CliError(`${flag} ${dir} is a file, not a folder: pass a folder path`);
  // Level by level rather than mkdirSync's `recursive`, which spins forever under /proc.
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  const parent = dirname(missing[0] ?? dir);
  if (missing.length > 0 && !stat(parent)?.isDirectory()) {
    throw new CliError(`${flag}: cannot create the folder ${dir}: ${parent} is a file, not a folder; pass a path you can write`);
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      throw new CliError(`${flag}: cannot create the folder ${dir} (${code(e)} at ${d}): pass a path you can write`);
    }
  }
  const probe = `${dir}/.webgrad-write-test-${process.pid}`;
  try {
    writeFileSync(probe, '');
  } catch (e) {
    throw new CliError(`${flag}: cannot write in ${dir} (${code(e)}): pass a path you can write`);
  } finally {
    rmSync(probe, { force: true });
  }
}

/**
 * Makes sure `file` can be (re)written: not a folder, and its folder writable (checkpoints are
 * written atomically, as a temporary file beside it renamed over it).
 */
export function ensureWritableFile(file: string, flag: string): void {
  if (stat(file)?.isDirectory()) throw new CliError(`${flag} ${file} is a folder: pass a file path such as ${file}/checkpoint.safetensors`);
  const dir = dirname(file);
  if (stat(dir) && !stat(dir)!.isDirectory()) throw new CliError(`${flag}: cannot create the folder of ${file}: ${dir} is a file, not a folder; pass a path you can write`);
  ensureWritableDir(dir, flag);
}
