// Post-build step of `npm run build`: rewrites relative `.ts` import specifiers in the emitted
// declaration files to `.js`. tsc's rewriteRelativeImportExtensions rewrites them in the .js
// output only (microsoft/TypeScript#61037: TypeScript itself reads `.ts` specifiers in .d.ts,
// but older compilers, IDEs and declaration bundlers look for files that dist/ does not have).
//   node scripts/rewrite-dts-imports.mjs [dir=dist]

import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? 'dist';
// from './x.ts' | import('./x.ts') | import './x.ts' — relative specifiers only, not '.d.ts'.
const spec = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]*?)(?<!\.d)\.(m?)ts\2/g;

let files = 0;
let edits = 0;
for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !/\.d\.m?ts$/.test(entry.name)) continue;
  const path = join(entry.parentPath ?? entry.path, entry.name);
  const before = readFileSync(path, 'utf8');
  const after = before.replace(spec, (_m, head, q, base, m) => {
    edits++;
    return `${head}${q}${base}.${m}js${q}`;
  });
  if (after !== before) {
    writeFileSync(path, after);
    files++;
  }
}
console.log(`rewrite-dts-imports: ${edits} specifiers in ${files} declaration files under ${dir}/`);
