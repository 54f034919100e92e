// Install test (e): bundles `import * from 'webgrad'` for the browser as a bundler would (the
// "browser" export condition) and fails on anything Node-only reaching the bundle.
import { builtinModules } from 'node:module';
import { build } from 'esbuild';

const nodeOnly = new Set(['webgpu', 'mnist', ...builtinModules]);
const bare = [];
const result = await build({
  stdin: { contents: "export * from 'webgrad';", resolveDir: process.cwd(), loader: 'js' },
  bundle: true,
  platform: 'browser',
  format: 'esm',
  minify: true,
  write: false,
  metafile: true,
  logLevel: 'error',
  plugins: [{
    name: 'record-bare-imports',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path === 'webgrad' && args.importer === '<stdin>') return undefined;
        bare.push(`${args.path} (from ${args.importer})`);
        return { path: args.path, external: true };
      });
    },
  }],
});
const inputs = Object.keys(result.metafile.inputs);
const bad = [
  ...bare.filter((b) => nodeOnly.has(b.split(' ')[0].replace(/^node:/, '')) || b.startsWith('node:')),
  ...inputs.filter((i) => /index\.node\.js$|node_modules\/webgpu\//.test(i)),
];
if (!inputs.some((i) => i.endsWith('node_modules/webgrad/dist/index.js'))) bad.push('the bundle did not start from dist/index.js (the "browser" export)');
const bytes = result.outputFiles[0].contents.length;
console.log(`browser-bundle.mjs: ${inputs.length} modules, ${(bytes / 1024).toFixed(0)} KiB minified, bare imports: ${bare.length ? bare.join(', ') : 'none'}`);
if (bad.length) {
  console.error(`Node-only code in the browser bundle:\n  ${bad.join('\n  ')}`);
  process.exit(1);
}
