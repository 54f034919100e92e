// save/load of checkpoints to files (Node only; exported from src/index.node.ts, never from
// the browser entry). The bytes come from checkpoint.ts; this file owns the atomic write:
// a temporary file in the same directory, fsync'd, then renamed over the target, so an
// interrupted save leaves either the old checkpoint or the new one, never half of one.

import { open, readFile, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import type { BackendName } from '../backend/types.ts';
import { CheckpointError, parseCheckpoint, serializeCheckpoint, type CheckpointRngOptions, type CheckpointValue } from './checkpoint.ts';

/**
 * Writes a state dict (or a nested checkpoint such as { model, optimizer, epoch }) to `path`
 * in the safetensors format, atomically. A flat state dict is a plain safetensors file that
 * PyTorch's `safetensors.torch.load_file` reads. A nested checkpoint also records the random
 * generator's state (the global one unless `opts.generator` says otherwise; null: none), which
 * `load` restores, so training resumed from it is exact, Dropout and shuffling included.
 * @example await save({ model: model.stateDict(), optimizer: opt.stateDict(), scheduler: sched.stateDict(), epoch }, 'ckpt.safetensors');
 */
export async function save(obj: Record<string, CheckpointValue | object>, path: string, opts: { metadata?: Record<string, string> } & CheckpointRngOptions = {}): Promise<void> {
  const bytes = await serializeCheckpoint(obj, opts.metadata, { generator: opts.generator });
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    // Whatever failed (write, sync, close, rename), the temporary goes; a failure to remove it
    // must not hide the error that matters.
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

/**
 * Reads a checkpoint written by `save` (the same nested object back), or any safetensors file
 * (a flat name → tensor map), onto `device` (default: the default device). A nested checkpoint
 * puts the random generator back where it was when saved (the global one unless
 * `opts.generator` says otherwise; null leaves it alone). The caller owns the tensors: dispose
 * them (disposeCheckpoint) once loadStateDict has copied them.
 * @example const ck = await load('ckpt.safetensors'); model.loadStateDict(ck.model); opt.loadStateDict(ck.optimizer);
 */
export async function load(path: string, opts: { device?: BackendName } & CheckpointRngOptions = {}): Promise<Record<string, any>> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new CheckpointError(`load: cannot read ${path}: ${(e as Error).message}`);
  }
  return parseCheckpoint(bytes, { device: opts.device, source: path, generator: opts.generator });
}
