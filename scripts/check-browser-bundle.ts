// Checks that webgrad's browser entry (src/index.ts, built to dist/index.js: the "browser"
// export) never pulls in Node-only code: bundles it with esbuild for the browser platform and
// fails on any import of a Node built-in, of `webgpu` (Dawn), or of a package that is not a
// runtime dependency (devDependencies such as `mnist` are not installed for users).
// Node-only pieces (file readers, checkpoint I/O) belong in modules re-exported by
// src/index.node.ts only. Used by test/browser-bundle.test.ts and the install test.
//   npx tsx scripts/check-browser-bundle.ts [entry=src/index.ts]

import { builtinModules } from 'node:module';
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Packages that only work in Node, whatever package.json says. */
const NODE_ONLY = new Set(['webgpu']);

export interface BrowserBundleReport {
  /** Every bare import that reached the bundle, with the module that made it. */
  imports: { path: string; importer: string }[];
  /** The imports that must not be there, as messages naming the importer. */
  offenders: string[];
  /** Modules in the bundle. */
  modules: number;
  /** Size of the minified bundle. */
  bytes: number;
}

const root = resolve(fileURLToPath(import.meta.url), '../..');

/** Bundles `entry` for the browser and reports the bare imports that would reach it. */
export async function checkBrowserBundle(entry = 'src/index.ts'): Promise<BrowserBundleReport> {
  const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const allowed = new Set(Object.keys(pkg.dependencies ?? {}).filter((d) => !NODE_ONLY.has(d)));
  const builtins = new Set(builtinModules);
  const imports: { path: string; importer: string }[] = [];
  const result = await build({
    entryPoints: [resolve(root, entry)],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [{
      name: 'record-bare-imports',
      setup(b) {
        // Bare specifiers (packages, built-ins): record and keep external, so that one bad
        // import is reported with its importer instead of failing the whole bundle.
        b.onResolve({ filter: /^[^./]/ }, (args) => {
          imports.push({ path: args.path, importer: relative(root, args.importer) });
          return { path: args.path, external: true };
        });
      },
    }],
  });
  const packageOf = (p: string) => (p.startsWith('@') ? p.split('/').slice(0, 2).join('/') : p.split('/')[0]!);
  const offenders = imports
    .filter(({ path }) => {
      const name = packageOf(path);
      if (path.startsWith('node:') || builtins.has(name)) return true;
      return !allowed.has(name);
    })
    .map(({ path, importer }) => `${importer} imports '${path}'${NODE_ONLY.has(packageOf(path)) || path.startsWith('node:') || builtins.has(packageOf(path)) ? ' (Node-only)' : ' (not a runtime dependency)'}`);
  return {
    imports,
    offenders,
    modules: Object.keys(result.metafile!.inputs).length,
    bytes: result.outputFiles![0]!.contents.length,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const entry = process.argv[2] ?? 'src/index.ts';
  const r = await checkBrowserBundle(entry);
  console.log(`${entry} for the browser: ${r.modules} modules, ${(r.bytes / 1024).toFixed(0)} KiB minified, ${r.imports.length} bare imports`);
  if (r.offenders.length) {
    console.error(`Node-only imports reach the browser entry (move them behind src/index.node.ts):\n  ${r.offenders.join('\n  ')}`);
    process.exit(1);
  }
}
