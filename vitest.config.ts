import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Each test file runs in its own forked process with its own Dawn device; forks (not
// threads) because Dawn keeps native state per process.
export default defineConfig({
  resolve: {
    // The CLI workspace imports the library as 'webgrad': here that is the sources, the same
    // module instances the tests import by path (tsconfig.json's `paths` says the same to tsc).
    alias: [{ find: /^webgrad$/, replacement: fileURLToPath(new URL('./src/index.node.ts', import.meta.url)) }],
  },
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 60_000,
    teardownTimeout: 10_000,
    maxWorkers: 2,
    // Fixed kernel variants: autotuning picks by timing, which would make runs differ (issue #7).
    env: { WEBGRAD_AUTOTUNE: '0' },
  },
});
