// Losing the WebGPU device and getting a working one back: `await init()` after a loss (forced
// here with device.destroy()) opens a new device with no shutdown() needed; tensors of the lost
// device raise a DeviceLostError that says so (on ops, on readback, mixed with new tensors);
// and each error's advice, followed, works. Also the safety net for a batch Dawn rejects: the
// readback names its kernels, nothing escapes as an unhandled rejection, later batches run.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeviceError, DeviceLostError, init, shutdown, tensor, zeros, type Tensor } from '../src/index.ts';
import { gpuRuntime } from '../src/tensor/backends.ts';
import type { GpuStorage } from '../src/kernels/storage.ts';

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown): void => {
  unhandled.push(e);
};
beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  await init();
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  shutdown();
});
beforeEach(async () => {
  await init();
});
afterEach(() => {
  expect(unhandled).toEqual([]);
});

/** Loses the current device the way a driver reset would (it reports asynchronously). */
function loseDevice(): void {
  gpuRuntime().device.destroy();
}

async function caught(f: () => unknown): Promise<Error> {
  try {
    await f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('after the device is lost', () => {
  it('await init() opens a working device, without shutdown()', async () => {
    const before = gpuRuntime();
    loseDevice();
    await init();
    expect(gpuRuntime()).not.toBe(before);
    expect(Array.from(await tensor([1, 2, 3]).mul(2).data())).toEqual([2, 4, 6]);
  });

  it("the old device's tensors raise DeviceLostError on ops, readback and mixing; recreated after init() they work", async () => {
    const source = [1, 2, 3];
    let old: Tensor = tensor(source);
    loseDevice();
    await init();
    const fresh = tensor([10, 20, 30]);
    const errors = [
      await caught(() => old.add(1)),
      await caught(() => old.data()),
      await caught(() => old.add(fresh)),
      await caught(() => fresh.add(old)),
    ];
    for (const e of errors) {
      expect(e).toBeInstanceOf(DeviceLostError);
      expect(e.message).toMatch(/this tensor belongs to a WebGPU device that was lost \(destroyed.*\); its data is gone\. Call `await init\(\)` to open a new device, then recreate the tensor/);
      expect(e.message).not.toMatch(/readback failed|got webgpu and webgpu/);
    }
    // The advice: recreate the tensor (from its source data) on the new device.
    old = tensor(source);
    expect(Array.from(await old.add(fresh).data())).toEqual([11, 22, 33]);
  });

  it('creating tensors before init() says to call init(); after it they work', async () => {
    loseDevice();
    await new Promise((r) => setTimeout(r, 20)); // let the loss be reported
    const e = await caught(() => zeros([2]));
    expect(e).toBeInstanceOf(DeviceLostError);
    expect(e.message).toMatch(/the WebGPU device was lost .*Call `await init\(\)` to open a new device before creating tensors/);
    await init();
    expect(Array.from(await zeros([2]).add(1).data())).toEqual([1, 1]);
  });

  it('a readback in flight when the device goes rejects with DeviceLostError, never an empty reason', async () => {
    const t = tensor(new Float32Array(1 << 16).fill(1)).exp();
    const pending = t.data();
    loseDevice();
    const e = await caught(() => pending);
    // Either the read completed before the loss (then nothing to check) or it names the loss.
    if (!(e instanceof Error && e.message === 'expected an error')) {
      expect(e).toBeInstanceOf(DeviceLostError);
      expect(e.message).not.toMatch(/readback failed: $/);
    }
    await init();
    expect(await tensor([2]).item()).toBe(2);
  });

  it('before init() (after shutdown()), creating a tensor says to call init(); after it, it works', async () => {
    shutdown();
    const e = await caught(() => zeros([3]));
    expect(e).toBeInstanceOf(DeviceError);
    expect(e.message).toMatch(/WebGPU is not initialised: `await init\(\)` before creating tensors/);
    await init();
    expect(Array.from(await zeros([3]).add(2).data())).toEqual([2, 2, 2]);
  });

  it('after shutdown(), old tensors say the device was shut down; init() and recreating them works', async () => {
    const old = tensor([1, 2]);
    shutdown();
    const e = await caught(() => old.data());
    expect(e).toBeInstanceOf(DeviceLostError);
    expect(e.message).toMatch(/was shut down .*Call `await init\(\)`/);
    await init();
    expect(Array.from(await tensor([1, 2]).add(1).data())).toEqual([2, 3]);
  });
});

describe('a batch the GPU rejects', () => {
  it('fails the readback with the kernels it held, escapes nowhere else, and the next batch runs', async () => {
    const ok = tensor([1, 2]);
    const t = tensor([1, 2, 3]);
    // A buffer destroyed behind webgrad's back: Dawn rejects the whole batch at submit.
    (t.storage as GpuStorage).buffer.buffer.destroy();
    const y = t.mul(2);
    const e = await caught(() => y.data());
    expect(e).toBeInstanceOf(DeviceError);
    expect(e.message).toMatch(/a batch of kernels \(.*binary_mul.*\) failed and was dropped by the GPU: .*later batches run normally/s);
    // The advice holds: the next batch runs.
    expect(Array.from(await ok.add(1).data())).toEqual([2, 3]);
    await new Promise((r) => setTimeout(r, 20));
  });
});
