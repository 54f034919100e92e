// The synchronous download behind `new MNIST({ download: true })` in Node: the async downloader
// (download.ts) runs in a child Node process (download-child.ts) that this process waits for
// with spawnSync. Browser-safe to import: Node's modules are looked up only when it runs.

import { DataError } from './errors.ts';
import type { RemoteFile } from './download.ts';
import { builtin } from './node-io.ts';

/** In webgrad's TypeScript sources (a checkout, tests) the child needs tsx to run download-child.ts. */
function childCommand(dataset: string): string[] {
  const url = builtin<typeof import('node:url')>('node:url', dataset);
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return [url.fileURLToPath(new URL('./download-child.js', self))];
  const module = builtin<typeof import('node:module')>('node:module', dataset);
  let tsx: string;
  try {
    tsx = url.pathToFileURL(module.createRequire(self).resolve('tsx/esm')).href;
  } catch {
    throw new DataError(dataset, 'the synchronous download runs webgrad\'s TypeScript sources in a child process, which needs tsx (`npm install tsx`); or use `await MNIST.load({ download: true })`');
  }
  return ['--import', tsx, url.fileURLToPath(new URL('./download-child.ts', self))];
}

/**
 * Downloads the missing `files` into folder `dir` as downloadToFolder does, but blocks until
 * done; progress is printed on stderr when `progress` is true.
 * @throws DataError with the downloader's message when a file cannot be had.
 */
export function downloadToFolderSync(dataset: string, dir: string, files: readonly RemoteFile[], mirrors: readonly string[], progress: boolean): void {
  const cp = builtin<typeof import('node:child_process')>('node:child_process', dataset);
  const proc = (globalThis as { process: { execPath: string; env: Record<string, string | undefined> } }).process;
  const job = JSON.stringify({ dataset, dir, files, mirrors, progress });
  const r = cp.spawnSync(proc.execPath, [...childCommand(dataset), job], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', env: proc.env });
  const line = (r.stdout ?? '').trim().split('\n').at(-1) ?? '';
  let outcome: { ok?: true; file?: string; message?: string } = {};
  try {
    outcome = JSON.parse(line) as typeof outcome;
  } catch {
    // no outcome: the child did not get far
  }
  if (outcome.ok) return;
  if (outcome.message) throw new DataError(outcome.file ?? dataset, outcome.message);
  throw new DataError(dataset, `the download process failed (${r.error?.message ?? (r.signal ? `signal ${r.signal}` : `exit code ${r.status}`)}); try \`await ${dataset}.load({ download: true })\``);
}
