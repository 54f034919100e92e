import { create, globals } from 'webgpu';
for (const [k, v] of Object.entries(globals)) if (!(k in globalThis)) (globalThis as any)[k] = v;
const gpu = create([]);
const dev = await (await gpu.requestAdapter())!.requestDevice();
const out = dev.createBuffer({ size: 256, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
const ub = dev.createBuffer({ size: 4096, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
const st = dev.createBuffer({ size: 256, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
const bgl = dev.createBindGroupLayout({ entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } }, { binding: 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } }] });
const p = dev.createComputePipeline({ layout: dev.createPipelineLayout({ bindGroupLayouts: [bgl] }), compute: { module: dev.createShaderModule({ code: `@group(0) @binding(0) var<storage, read_write> o: array<u32>; @group(0) @binding(1) var<uniform> u: vec4<u32>;
@compute @workgroup_size(1) fn main() { o[u.x] = u.y; }` }), entryPoint: 'main' } });
const bg = dev.createBindGroup({ layout: bgl, entries: [{ binding: 0, resource: { buffer: out } }, { binding: 1, resource: { buffer: ub, offset: 0, size: 16 } }] });
const data = new Uint32Array(1024);
for (let i = 0; i < 8; i++) { data[i * 64] = i; data[i * 64 + 1] = 100 + i; }
dev.queue.writeBuffer(ub, 0, data);
const enc = dev.createCommandEncoder(); const pass = enc.beginComputePass();
pass.setPipeline(p);
for (let i = 0; i < 8; i++) { pass.setBindGroup(0, bg, [i * 256]); pass.dispatchWorkgroups(1); }
pass.end(); enc.copyBufferToBuffer(out, 0, st, 0, 32); dev.queue.submit([enc.finish()]);
await st.mapAsync(GPUMapMode.READ); console.log(Array.from(new Uint32Array(st.getMappedRange().slice(0))));
process.exit(0);
