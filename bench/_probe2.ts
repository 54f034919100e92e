import { create, globals } from 'webgpu';
for (const [k, v] of Object.entries(globals)) if (!(k in globalThis)) (globalThis as any)[k] = v;
const gpu = create([]);
const a = await gpu.requestAdapter();
console.log([...a!.features]);
const b = await gpu.requestAdapter();
console.log(a === b, (a as any).info);
process.exit(0);
