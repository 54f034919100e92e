/**
 * webgrad in Node: `import … from 'webgrad'` resolves here there (package.json `exports` →
 * "node"). Everything of the browser entry, plus `save` and `load` for checkpoint files.
 * @module webgrad/node
 */

// webgrad's Node entry (package.json `exports` → "node"): everything in the browser-safe
// `index.ts`, plus what can only run in Node and so must never reach a browser bundle: modules
// that import `node:*` at their top are re-exported here, never from index.ts. Re-exports only.
// (src/data reaches fs/zlib through process.getBuiltinModule at call time, so it is browser-safe
// and lives in index.ts; WebGPU comes from the `webgpu` package, which `init()` loads lazily.)
// scripts/check-browser-bundle.ts (a test, and `npm run check:browser`) keeps index.ts clean.

export * from './index.ts';
// torch.save / torch.load: checkpoint files (safetensors). The bytes alone: serializeCheckpoint.
export { save, load } from './nn/checkpoint-node.ts';
