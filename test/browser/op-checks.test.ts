// The browser op checks (test/browser/op-checks.ts) run in Node on Dawn (lavapipe here): the
// browser test runs the very same list in Chromium (SwiftShader) through the bundle, so the two
// results are comparable check by check.
import { describe, expect, it } from 'vitest';
import * as webgrad from '../../src/index.ts';
import { opChecks, runOpChecks } from './op-checks.ts';
import { useGpu } from '../helpers/gpu.ts';

useGpu();

describe('browser op checks, in Node', () => {
  it.each(opChecks(webgrad).map((c) => c.name))('%s', async (name) => {
    const [r] = await runOpChecks(webgrad, { only: [name] });
    expect(r, `no check named ${name}`).toBeDefined();
    expect(r!.message ?? '', `${name}: max grad error ${r!.maxError}, max GPU error ${r!.maxGpuError}`).toBe('');
    expect(r!.ok).toBe(true);
  });
});
