// save() writes a temporary beside the target and renames it over: whichever step fails
// (serialising, opening, writing half-way, syncing, closing, renaming, the folder vanishing),
// the error reaches the caller, the old checkpoint stays as it was, and no `.tmp` is left.
// The file system fails on request through a mock of node:fs/promises that wraps the real one.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { load, save, tensor } from '../../src/index.node.ts';
import { useGpu } from '../helpers/gpu.ts';

/** Which step of the next save fails, and how (null: none). */
const inject = vi.hoisted(() => ({
  step: null as null | 'open' | 'write' | 'sync' | 'close' | 'rename' | 'vanish',
  alsoFailRm: false,
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const fail = (code: string) => Object.assign(new Error(`${code}: injected failure`), { code });
  return {
    ...fs,
    open: async (...args: Parameters<typeof fs.open>) => {
      if (inject.step === 'open') throw fail('EMFILE');
      const fh = await fs.open(...args);
      return {
        // Half the bytes reach the disk, then the disk is full.
        writeFile: async (data: Uint8Array) => {
          if (inject.step !== 'write') return fh.writeFile(data);
          await fh.write(data.subarray(0, data.length >> 1));
          throw fail('ENOSPC');
        },
        sync: async () => {
          if (inject.step === 'sync') throw fail('EIO');
          return fh.sync();
        },
        close: async () => {
          await fh.close();
          if (inject.step === 'close') throw fail('EIO');
        },
      };
    },
    rename: async (from: string, to: string) => {
      if (inject.step === 'rename') throw fail('EXDEV');
      // The target folder is deleted (with the temporary in it) between the write and the rename.
      if (inject.step === 'vanish') await fs.rm(join(to, '..'), { recursive: true, force: true });
      return fs.rename(from, to);
    },
    rm: async (...args: Parameters<typeof fs.rm>) => {
      if (inject.alsoFailRm) throw fail('EACCES');
      return fs.rm(...args);
    },
  };
});

useGpu();

const root = mkdtempSync(join(tmpdir(), 'webgrad-ckpt-tmp-'));
let dir = '';
let n = 0;
beforeEach(() => {
  inject.step = null;
  inject.alsoFailRm = false;
  dir = join(root, `case-${n++}`);
  mkdirSync(dir);
});

const temporaries = () => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.tmp')) : []);

describe('a failed save leaves no temporary file and keeps the old checkpoint', () => {
  for (const [step, error] of [
    ['open', /EMFILE/],
    ['write', /ENOSPC/],
    ['sync', /EIO/],
    ['close', /EIO/],
    ['rename', /EXDEV/],
  ] as const) {
    it(`when ${step} fails`, async () => {
      const path = join(dir, 'ck.safetensors');
      await save({ w: tensor([1, 2]) }, path);
      const before = readFileSync(path);
      inject.step = step;
      await expect(save({ w: tensor([3, 4, 5]), epoch: 1 }, path)).rejects.toThrow(error);
      expect(temporaries()).toEqual([]);
      expect(readFileSync(path)).toEqual(before);
      inject.step = null;
      expect(await (await load(path)).w.toArray()).toEqual([1, 2]);
    });
  }

  it('when the target folder vanishes before the rename', async () => {
    inject.step = 'vanish';
    await expect(save({ w: tensor([3]) }, join(dir, 'ck.safetensors'))).rejects.toThrow(/ENOENT/);
    expect(existsSync(dir)).toBe(false);
  });

  it('when serialising fails (a value that cannot be stored, a disposed tensor): nothing is created', async () => {
    const gone = tensor([1]);
    gone.dispose();
    await expect(save({ w: tensor([1]), when: new Date() as never }, join(dir, 'a.safetensors'))).rejects.toThrow(/cannot store a Date at "when"/);
    await expect(save({ w: gone, epoch: 1 }, join(dir, 'b.safetensors'))).rejects.toThrow(/disposed/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('the original error surfaces even when removing the temporary fails too', async () => {
    inject.step = 'write';
    inject.alsoFailRm = true;
    await expect(save({ w: tensor([3]) }, join(dir, 'ck.safetensors'))).rejects.toThrow(/ENOSPC/);
  });
});
