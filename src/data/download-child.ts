// Node only, never imported: the child process through which a dataset's constructor downloads
// synchronously (`new MNIST({ download: true })`, as torchvision's constructor does). A
// constructor cannot await, so download-sync.ts runs this script with spawnSync; the progress
// goes to the inherited stderr, the outcome comes back as one JSON line on stdout.
//   node download-child.js '{"dataset":"MNIST","dir":"…","files":[…],"mirrors":[…],"progress":true}'

import { downloadToFolder, type RemoteFile } from './download.ts';
import { DataError } from './errors.ts';

const job = JSON.parse(process.argv[2] ?? '{}') as { dataset: string; dir: string; files: RemoteFile[]; mirrors: string[]; progress: boolean };
let outcome: { ok: true } | { file: string; message: string };
try {
  await downloadToFolder(job.dataset, job.dir, job.files, job.mirrors, { progress: job.progress });
  outcome = { ok: true };
} catch (e) {
  const file = e instanceof DataError ? e.file : job.dataset;
  const message = e instanceof DataError ? e.message.slice(file.length + 2) : (e as Error).message;
  outcome = { file, message };
}
process.stdout.write(`${JSON.stringify(outcome)}\n`);
process.exit(0);
