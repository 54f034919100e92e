// Forced garbage collection for tests of the FinalizationRegistry safety net, without starting
// the worker with --expose-gc: V8 exposes `gc` to contexts created after the flag is set (the
// same trick as Jest's leak detector).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gcFn = runInNewContext('gc') as () => void;

/** Lets pending tasks run: FinalizationRegistry callbacks are queued after the GC that found their targets. */
const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Runs `rounds` full collections, each followed by a macrotask turn so finalizer callbacks run.
 * Tests that compare memory() across an await call it before taking their baseline: graph
 * tensors are collectable, so a collection inside the window would finalize earlier tests'
 * garbage there and lower the counts.
 * One round collects everything unreachable that nothing else (such as a finalizer's held value)
 * keeps alive; later rounds catch chains that one finalizer releases for the next.
 */
export async function collectGarbage(rounds = 1): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    // WeakRefs made or dereferenced in the current job keep their targets until it ends.
    await tick();
    gcFn();
    // V8 posts the finalizer callbacks as a separate task: give it a few turns to run.
    for (let t = 0; t < 3; t++) await tick();
  }
}
