// Shared set-up for tests that need WebGPU: CI always has lavapipe, so a missing adapter
// fails the suite instead of skipping it.
import { afterAll, beforeAll } from 'vitest';
import { init, shutdown } from '../../src/index.ts';

export function useGpu(): void {
  beforeAll(async () => {
    await init();
  });
  afterAll(() => {
    shutdown();
  });
}
