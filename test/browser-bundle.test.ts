// The browser entry must never import Node-only code: src/index.ts bundled for the browser
// platform has no Node built-in, no `webgpu`, and no package that is not a runtime dependency.
// (src/index.node.ts, the Node entry, may import them; the install test checks the packed
// package's "browser" export the same way.)
import { describe, expect, it } from 'vitest';
import { checkBrowserBundle } from '../scripts/check-browser-bundle.ts';

describe('browser entry', () => {
  it('bundles for the browser without Node built-ins or webgpu', async () => {
    const r = await checkBrowserBundle('src/index.ts');
    expect(r.offenders).toEqual([]);
    expect(r.modules).toBeGreaterThan(10);
  });

  it('the checker catches a Node-only import', async () => {
    const r = await checkBrowserBundle('test/fixtures/node-only-entry.ts');
    expect(r.offenders.join('\n')).toMatch(/imports 'node:fs' \(Node-only\)/);
    expect(r.offenders.join('\n')).toMatch(/imports 'webgpu' \(Node-only\)/);
  });
});
