// Shared by the example tests: run an example's exported main() in-process on a tiny subset
// and compare the loss of the first and the last batches of its only epoch.
import { expect } from 'vitest';

/** Mean of the first and of the last `k` values. */
export function ends(losses: ArrayLike<number>, k: number): { first: number; last: number } {
  const xs = Array.from(losses);
  expect(xs.length, 'batches in the epoch').toBeGreaterThanOrEqual(2 * k);
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  return { first: mean(xs.slice(0, k)), last: mean(xs.slice(-k)) };
}

/** Asserts that every loss is finite and that the last batches' mean loss is below the first ones'. */
export function expectLossDecreases(losses: ArrayLike<number>, k = 3, margin = 0): void {
  for (const v of Array.from(losses)) expect(Number.isFinite(v), `loss ${v} is finite`).toBe(true);
  const { first, last } = ends(losses, k);
  expect(last, `mean loss of the last ${k} batches (${last}) vs the first ${k} (${first})`).toBeLessThan(first - margin);
}
