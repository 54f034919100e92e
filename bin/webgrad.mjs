#!/usr/bin/env node
// The `webgrad` command (package.json "bin"). In a checkout, where src/ and the dev dependency
// tsx are present, it runs the TypeScript sources through tsx's loader, so no build is needed;
// in an installed package it runs the compiled dist/cli/main.js.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const src = new URL('../src/cli/main.ts', import.meta.url);
const dist = new URL('../dist/cli/main.js', import.meta.url);

async function tsxRegister() {
  try {
    return (await import('tsx/esm/api')).register;
  } catch {
    return null; // tsx is a dev dependency: absent from an installed package
  }
}

const register = existsSync(fileURLToPath(src)) ? await tsxRegister() : null;
if (register) {
  register();
  await import(src.href);
} else if (existsSync(fileURLToPath(dist))) {
  await import(dist.href);
} else {
  console.error('webgrad: neither src/cli/main.ts (with tsx) nor dist/cli/main.js was found; run `npm run build` first');
  process.exit(1);
}
