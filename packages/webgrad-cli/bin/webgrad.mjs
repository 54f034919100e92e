#!/usr/bin/env node
// The `webgrad` command (package.json "bin"). It runs the CLI in a child Node process and
// passes that process's stderr through a filter, because Dawn (the WebGPU implementation of the
// `webgpu` package) writes informational lines such as
//   Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.
// from native code (fprintf to stderr while it normalizes an adapter's limits) whenever a
// process opens an adapter whose driver reports huge limits (Mesa's lavapipe does). No option of
// `create()` and no Dawn toggle turns them off, and JavaScript cannot intercept a native write
// to file descriptor 2, so the filter sits outside that process. Only those known lines are
// dropped; everything else on stderr (errors included) passes through unchanged.
//
// In a checkout of the repository (src/ beside bin/, tsx installed) the child runs the
// TypeScript sources through tsx, so no build is needed; an installed package runs dist/main.js.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dawnStderrFilter } from './dawn-stderr.mjs';

const here = (rel) => fileURLToPath(new URL(rel, import.meta.url));
const src = here('../src/main.ts');
const dist = here('../dist/main.js');

/** The child's Node arguments and environment: the sources through tsx, else the build. */
function entry() {
  if (existsSync(src)) {
    try {
      const tsx = createRequire(import.meta.url).resolve('tsx/esm');
      // The repository's tsconfig.json maps the import 'webgrad' to the library's sources.
      const tsconfig = here('../../../tsconfig.json');
      return { args: ['--import', pathToFileURL(tsx).href, src], env: existsSync(tsconfig) ? { TSX_TSCONFIG_PATH: tsconfig } : {} };
    } catch {
      // tsx is a development dependency: fall through to the build
    }
  }
  if (existsSync(dist)) return { args: [dist], env: {} };
  console.error('webgrad: this copy of webgrad-cli has neither its build (dist/main.js) nor tsx to run its sources: run `npm install` (in a checkout) or reinstall webgrad-cli');
  process.exit(1);
}

const { args, env } = entry();
const child = spawn(process.execPath, [...args, ...process.argv.slice(2)], {
  stdio: ['inherit', 'inherit', 'pipe'],
  env: { ...process.env, ...env },
});
child.stderr.pipe(dawnStderrFilter()).pipe(process.stderr);

// Ctrl-C reaches the child too (same process group); wait for it to finish and report.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
child.on('error', (e) => {
  console.error(`webgrad: could not start Node for the CLI: ${e.message}`);
  process.exit(1);
});
child.on('close', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  }
  process.exit(code ?? 1);
});
