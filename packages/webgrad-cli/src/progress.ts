// The per-epoch progress bar of `webgrad train` (cli-progress): batches done, batches per
// second, the last loss read back and the ETA. On a terminal, log lines are printed above the
// bar; elsewhere (pipes, CI, log files) there is no bar and lines go straight to stdout.

import cliProgress from 'cli-progress';
import type { data } from 'webgrad';

export class EpochProgress {
  private readonly multi: cliProgress.MultiBar | null;
  private bar: cliProgress.SingleBar | null = null;
  private t0 = 0;
  private loss = '…';

  constructor(enabled: boolean) {
    this.multi = enabled && process.stdout.isTTY
      ? new cliProgress.MultiBar(
          {
            format: ' epoch {epoch} |{bar}| {value}/{total} batches | {rate} batch/s | loss {loss} | ETA {eta_formatted}',
            barCompleteChar: '\u2588',
            barIncompleteChar: '\u2591',
            hideCursor: true,
            clearOnComplete: true,
            etaBuffer: 50,
            fps: 5,
            // stdout: the launcher filters stderr through a pipe, so only stdout can be the terminal.
            stream: process.stdout,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
  }

  /** Whether a bar is drawn (a terminal and not --no-progress). */
  get enabled(): boolean {
    return this.multi !== null;
  }

  /** Starts the bar of one epoch of `total` batches. */
  start(epoch: number, epochs: number, total: number): void {
    this.t0 = performance.now();
    this.loss = '…';
    this.bar = this.multi?.create(total, 0, { epoch: `${epoch}/${epochs}`, rate: '0.0', loss: this.loss }) ?? null;
  }

  /** `done` batches finished; `loss` when one was read back. */
  update(done: number, loss?: number): void {
    if (!this.bar) return;
    if (loss !== undefined) this.loss = loss.toFixed(4);
    const secs = (performance.now() - this.t0) / 1000;
    this.bar.update(done, { rate: secs > 0 ? (done / secs).toFixed(1) : '0.0', loss: this.loss });
  }

  /** A line above the bar (or on stdout without one). */
  log(line: string): void {
    if (this.multi) this.multi.log(`${line}\n`);
    else console.log(line);
  }

  /** Ends the current epoch's bar. */
  end(): void {
    if (this.bar && this.multi) {
      this.multi.remove(this.bar);
      this.bar = null;
    }
  }

  stop(): void {
    this.multi?.stop();
  }
}

/**
 * Reports a data set download (the library's `onProgress`): a bar per file on a terminal, one
 * line per file elsewhere. `stop()` ends the bars.
 */
export class DownloadProgress {
  private readonly multi: cliProgress.MultiBar | null;
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  private readonly announced = new Set<string>();

  constructor(enabled: boolean) {
    this.multi = enabled && process.stdout.isTTY
      ? new cliProgress.MultiBar(
          { format: ' {file} |{bar}| {percentage}% | {received} / {size} MB', barCompleteChar: '\u2588', barIncompleteChar: '\u2591', hideCursor: true, fps: 5, stream: process.stdout },
          cliProgress.Presets.shades_classic,
        )
      : null;
  }

  /** The callback to pass as `onProgress`. */
  readonly update = (p: data.DownloadProgress): void => {
    const mb = (n: number) => (n / 1e6).toFixed(1);
    if (!this.multi) {
      if (!this.announced.has(p.url)) {
        this.announced.add(p.url);
        console.log(`downloading ${p.url}`);
      }
      if (p.done) console.log(`downloaded ${p.file} (${mb(p.received)} MB, MD5 checked)`);
      return;
    }
    let bar = this.bars.get(p.file);
    if (!bar) {
      bar = this.multi.create(p.total ?? p.received, 0, { file: p.file.padEnd(27), received: '0.0', size: '?' });
      this.bars.set(p.file, bar);
    }
    if (p.total !== null) bar.setTotal(p.total);
    bar.update(p.received, { received: mb(p.received), size: p.total === null ? '?' : mb(p.total) });
  };

  stop(): void {
    this.multi?.stop();
  }
}
