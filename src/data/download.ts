// Downloading data set files the way torchvision does (`MNIST(root, download=True)`): each file
// is fetched from a list of mirrors in turn, checked against its published MD5, and kept only
// when it matches. In Node the bytes stream into `<file>.part` beside the destination, so an
// interrupted download resumes with an HTTP Range request (in a later run too), and a finished
// file appears under its name only once verified; in browsers they stream into memory. Both use
// the web-standard fetch, so this module is browser-safe: file access goes through node-io.ts.

import { DataError } from './errors.ts';
import { Md5 } from './md5.ts';
import { builtin, canReadFiles } from './node-io.ts';

/** One file a data set is made of, as the mirrors publish it. */
export interface RemoteFile {
  /** File name on every mirror (appended to the mirror's URL), e.g. `train-images-idx3-ubyte.gz`. */
  name: string;
  /** Its MD5, 32 lowercase hex digits: a download that does not match is discarded. */
  md5: string;
}

/** Where one file's download stands; passed to `onProgress` as bytes arrive. */
export interface DownloadProgress {
  /** The data set (`'MNIST'`, `'FashionMNIST'`). */
  dataset: string;
  /** The file's name. */
  file: string;
  /** The URL being read. */
  url: string;
  /** Bytes of the file received so far, a resumed part included. */
  received: number;
  /** The file's size when the server said it, else null. */
  total: number | null;
  /** True once, when the file is complete and its MD5 matched. */
  done: boolean;
}

/** How to download: mirrors, progress reporting, cancellation. */
export interface DownloadOptions {
  /** Base URLs tried in order, each followed by the file name (default: the data set's own list). */
  mirrors?: readonly string[];
  /** Called as bytes arrive (at most about ten times a second per file) and once per finished file. */
  onProgress?: (p: DownloadProgress) => void;
  /**
   * Node only: report on stderr, with a progress bar on a terminal and one line per file
   * elsewhere (default true; ignored when `onProgress` is given).
   */
  progress?: boolean;
  /** Cancels the download; the partial file stays for a later resume. */
  signal?: AbortSignal;
  /** Milliseconds without a byte after which a mirror counts as stalled (default 30 000). */
  stallTimeoutMs?: number;
}

/** Where the downloaded bytes go: a `.part` file in Node, memory in browsers. */
interface Sink {
  /** Bytes held now: where a resumed request starts. */
  size(): number;
  append(chunk: Uint8Array): void;
  /** Drops what is held, to start the file again. */
  reset(): void;
  md5(): string;
  /** Makes the verified bytes the result (renames `.part` to the file's name). */
  commit(): void;
  /** Deletes what is held (a file that failed its MD5 check is not left behind). */
  discard(): void;
}

class MemorySink implements Sink {
  private chunks: Uint8Array[] = [];
  private bytes = 0;
  size(): number {
    return this.bytes;
  }
  append(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }
  reset(): void {
    this.chunks = [];
    this.bytes = 0;
  }
  md5(): string {
    const h = new Md5();
    for (const c of this.chunks) h.update(c);
    return h.hex();
  }
  commit(): void {}
  discard(): void {
    this.reset();
  }
  /** Everything held, as one array. */
  result(): Uint8Array {
    const out = new Uint8Array(this.bytes);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

type Fs = typeof import('node:fs');

class FileSink implements Sink {
  readonly part: string;
  private fd: number;
  private bytes: number;
  constructor(
    private readonly fs: Fs,
    readonly dest: string,
  ) {
    this.part = `${dest}.part`;
    this.fd = fs.openSync(this.part, 'a+');
    this.bytes = fs.fstatSync(this.fd).size;
  }
  size(): number {
    return this.bytes;
  }
  append(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) at += this.fs.writeSync(this.fd, chunk, at);
    this.bytes += chunk.length;
  }
  reset(): void {
    this.fs.ftruncateSync(this.fd, 0);
    this.bytes = 0;
  }
  md5(): string {
    const h = new Md5();
    const buf = new Uint8Array(1 << 20);
    for (let pos = 0; pos < this.bytes; ) {
      const n = this.fs.readSync(this.fd, buf, 0, buf.length, pos);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
    return h.hex();
  }
  commit(): void {
    this.fs.closeSync(this.fd);
    this.fs.renameSync(this.part, this.dest);
  }
  discard(): void {
    this.fs.closeSync(this.fd);
    this.fs.rmSync(this.part, { force: true });
  }
  /** Closes the part file, keeping it for a later resume. */
  close(): void {
    this.fs.closeSync(this.fd);
  }
}

const reason = (e: unknown): string => {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.cause?.code) return err.cause.code;
  if (err?.cause?.message) return err.cause.message;
  return err?.message ?? String(e);
};

const urlOf = (mirror: string, name: string): string => (mirror.endsWith('/') ? mirror : `${mirror}/`) + name;

/** A fetch that aborts when no byte arrives for `stallMs`, or when `outer` aborts. */
class Watchdog {
  readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  stalled = false;
  private readonly onOuter = () => this.controller.abort();
  constructor(
    private readonly stallMs: number,
    private readonly outer?: AbortSignal,
  ) {
    outer?.addEventListener('abort', this.onOuter);
    this.kick();
  }
  kick(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.stalled = true;
      this.controller.abort();
    }, this.stallMs);
  }
  stop(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onOuter);
  }
}

/**
 * Fetches `file` into `sink` from the first mirror that delivers it intact; resumes from
 * `sink.size()` bytes with a Range request, retries a dropped connection on the same mirror
 * while it makes progress, and moves to the next mirror on an HTTP error, a refused
 * connection, a stall or an MD5 mismatch. Throws a DataError listing what each mirror did.
 */
async function fetchInto(dataset: string, file: RemoteFile, mirrors: readonly string[], sink: Sink, opts: DownloadOptions, report: (p: DownloadProgress) => void): Promise<void> {
  const failures: string[] = [];
  for (const mirror of mirrors) {
    const url = urlOf(mirror, file.name);
    let failure: string | null;
    try {
      failure = await fromMirror(dataset, file, url, sink, opts, report);
    } catch (e) {
      // Cancelled: keep what arrived, for a later resume.
      if (sink instanceof FileSink) sink.close();
      throw e;
    }
    if (failure === null) {
      sink.commit();
      report({ dataset, file: file.name, url, received: sink.size(), total: sink.size(), done: true });
      return;
    }
    failures.push(`${url}: ${failure}`);
  }
  // A part that failed its MD5 check was emptied: nothing of it stays. A part cut off by the
  // network stays, so that the next attempt resumes it.
  if (sink.size() === 0) sink.discard();
  else if (sink instanceof FileSink) sink.close();
  throw new DataError(dataset, `could not download ${file.name}: ${failures.join('; ')}`);
}

/** One mirror's attempt at `file`: null when `sink` now holds it verified, else why not. */
async function fromMirror(dataset: string, file: RemoteFile, url: string, sink: Sink, opts: DownloadOptions, report: (p: DownloadProgress) => void): Promise<string | null> {
  const stallMs = opts.stallTimeoutMs ?? 30_000;
  for (let drops = 0; ; ) {
    opts.signal?.throwIfAborted();
    const offset = sink.size();
    const dog = new Watchdog(stallMs, opts.signal);
    try {
      const res = await fetch(url, { headers: offset > 0 ? { Range: `bytes=${offset}-` } : {}, signal: dog.controller.signal });
      if (res.status === 416 && offset > 0) {
        // The part on disk may already be whole: check it, else start the file over.
        await res.body?.cancel();
        if (sink.md5() === file.md5) return null;
        sink.reset();
        if (drops++ < 3) continue;
        return 'refuses the Range request for a partial file';
      }
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        return `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
      }
      const start = res.status === 206 ? Number(/^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1] ?? NaN) : 0;
      if (start !== offset) {
        if (res.status === 206) {
          // Not the range asked for: drop it and ask for the whole file.
          await res.body.cancel();
          sink.reset();
          if (drops++ < 3) continue;
          return 'answers Range requests with the wrong bytes';
        }
        sink.reset(); // 200: the server ignored Range and sends the whole file
      }
      const length = Number(res.headers.get('content-length') ?? NaN);
      const total = Number.isFinite(length) ? sink.size() + length : null;
      const reader = res.body.getReader();
      let last = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        dog.kick();
        sink.append(value);
        if (Date.now() - last > 100) {
          last = Date.now();
          report({ dataset, file: file.name, url, received: sink.size(), total, done: false });
        }
      }
      if (total !== null && sink.size() < total) throw new Error(`connection closed after ${sink.size()} of ${total} bytes`);
      const digest = sink.md5();
      if (digest === file.md5) return null;
      sink.reset();
      // A resumed file may have been spoiled by its earlier part: fetch it whole once more.
      if (offset > 0 && drops++ < 3) continue;
      return `MD5 ${digest} differs from the published ${file.md5} (a corrupt or different file; discarded)`;
    } catch (e) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? e;
      // A connection that dropped mid-file resumes on the same mirror while it makes progress;
      // one closed under the request (a kept-alive socket the server had just timed out) is
      // tried again. A refused connection or an unknown host moves on to the next mirror.
      const why = reason(e);
      if ((sink.size() > offset || /^(UND_ERR_SOCKET|ECONNRESET|EPIPE)$/.test(why)) && drops++ < 3) continue;
      return dog.stalled ? `no data for ${Math.round(stallMs / 1000)} s` : why;
    } finally {
      dog.stop();
    }
  }
}

/** The progress reporter used when the caller gives none: stderr in Node, nothing in browsers. */
function defaultReporter(opts: DownloadOptions): (p: DownloadProgress) => void {
  if (opts.onProgress) return opts.onProgress;
  if (opts.progress === false || !canReadFiles()) return () => {};
  const stderr = (globalThis as { process?: { stderr?: { isTTY?: boolean; write(s: string): void } } }).process?.stderr;
  if (!stderr) return () => {};
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  let started = '';
  return (p) => {
    if (stderr.isTTY) {
      const frac = p.total ? p.received / p.total : 0;
      const bar = p.total ? `${'█'.repeat(Math.round(24 * frac)).padEnd(24, '░')} ${(100 * frac).toFixed(0).padStart(3)}% ` : '';
      stderr.write(`\r\x1b[K${p.dataset} ${p.file} ${bar}${mb(p.received)}${p.total ? ` / ${mb(p.total)}` : ''}${p.done ? ' ✓\n' : ''}`);
    } else if (p.done) {
      stderr.write(`${p.dataset}: downloaded ${p.file} (${mb(p.received)}, MD5 checked) from ${p.url}\n`);
    } else if (started !== p.url) {
      started = p.url;
      stderr.write(`${p.dataset}: downloading ${p.url}\n`);
    }
  };
}

/**
 * Downloads the `files` of `dataset` that are missing from folder `dir` (Node), each from the
 * first of `mirrors` that delivers it with the right MD5. A partial file (`<name>.part`) left by
 * an interrupted run is resumed. Two processes downloading into the same folder take turns
 * through a lock file. Returns the paths of all the files.
 * @throws DataError naming each mirror's failure when a file cannot be had from any of them.
 */
export async function downloadToFolder(dataset: string, dir: string, files: readonly RemoteFile[], mirrors: readonly string[], opts: DownloadOptions = {}): Promise<string[]> {
  const fs = builtin<Fs>('node:fs', dataset);
  const path = builtin<typeof import('node:path')>('node:path', dataset);
  if (mirrors.length === 0) throw new DataError(dataset, 'no mirrors to download from (mirrors: [])');
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new DataError(dataset, `cannot create the download folder ${dir} (${(e as NodeJS.ErrnoException).code ?? reason(e)}): pass { root } with a folder you can write`);
  }
  const report = defaultReporter(opts);
  const out: string[] = [];
  for (const file of files) {
    const dest = path.join(dir, file.name);
    out.push(dest);
    if (fs.existsSync(dest)) continue;
    const unlock = await lock(fs, `${dest}.lock`, () => fs.existsSync(dest), opts.signal);
    try {
      if (fs.existsSync(dest)) continue; // another process finished it while we waited
      await fetchInto(dataset, file, mirrors, new FileSink(fs, dest), opts, report);
    } finally {
      unlock();
    }
  }
  return out;
}

/**
 * Downloads `files` into memory (browsers, or Node without a folder), each from the first of
 * `mirrors` that delivers it with the right MD5; returns their bytes in the order of `files`.
 */
export async function downloadToMemory(dataset: string, files: readonly RemoteFile[], mirrors: readonly string[], opts: DownloadOptions = {}): Promise<Uint8Array[]> {
  if (mirrors.length === 0) throw new DataError(dataset, 'no mirrors to download from (mirrors: [])');
  const report = defaultReporter(opts);
  const out: Uint8Array[] = [];
  for (const file of files) {
    const sink = new MemorySink();
    await fetchInto(dataset, file, mirrors, sink, opts, report);
    out.push(sink.result());
  }
  return out;
}

/**
 * Takes the lock file `file` (holding this process's id), waiting while another live process
 * holds it, until `done()` says that process finished the work; a lock whose process is gone is
 * taken over. Returns the function that releases it.
 */
async function lock(fs: Fs, file: string, done: () => boolean, signal?: AbortSignal): Promise<() => void> {
  const pid = (globalThis as { process: { pid: number } }).process.pid;
  for (;;) {
    try {
      fs.writeFileSync(file, String(pid), { flag: 'wx' });
      return () => fs.rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = Number(fs.readFileSync(file, 'utf8'));
    if (!alive(holder) || holder === pid) fs.rmSync(file, { force: true });
    else if (done()) return () => {};
    else {
      signal?.throwIfAborted();
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    (globalThis as { process: { kill(pid: number, sig: number): void } }).process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The folder data sets are downloaded into when no `root` is given (Node): `$WEBGRAD_DATA_DIR`
 * if set, else `datasets` in webgrad's cache folder (`$WEBGRAD_CACHE_DIR`, else
 * `$XDG_CACHE_HOME/webgrad`, else `~/.cache/webgrad`).
 */
export function defaultDataRoot(): string {
  const path = builtin<typeof import('node:path')>('node:path', 'defaultDataRoot');
  const os = builtin<typeof import('node:os')>('node:os', 'defaultDataRoot');
  const env = (globalThis as { process: { env: Record<string, string | undefined> } }).process.env;
  if (env.WEBGRAD_DATA_DIR) return env.WEBGRAD_DATA_DIR;
  const cache = env.WEBGRAD_CACHE_DIR ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'webgrad');
  return path.join(cache, 'datasets');
}
