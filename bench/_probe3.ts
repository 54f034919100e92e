import { create, globals } from 'webgpu';
for (const [k, v] of Object.entries(globals)) if (!(k in globalThis)) (globalThis as any)[k] = v;
const gpu = create([]);
const ad = (await gpu.requestAdapter())!;
const dev = await ad.requestDevice({ requiredFeatures: ['timestamp-query', 'subgroups'] as any });
const qs = dev.createQuerySet({ type: 'timestamp', count: 8 });
const src = `@group(0) @binding(0) var<storage, read_write> o: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) { var x = f32(g.x); for (var i = 0u; i < ITERu; i++) { x = sin(x); } o[g.x] = x; }`;
const buf = dev.createBuffer({ size: 4 * 65536, usage: GPUBufferUsage.STORAGE });
const res = dev.createBuffer({ size: 64, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
const st = dev.createBuffer({ size: 64, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
for (const iter of [10, 100, 1000]) {
  const p = dev.createComputePipeline({ layout: 'auto', compute: { module: dev.createShaderModule({ code: src.replace('ITER', String(iter)) }), entryPoint: 'main' } });
  const bg = dev.createBindGroup({ layout: p.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] });
  const enc = dev.createCommandEncoder();
  for (let r = 0; r < 2; r++) {
    const pass = enc.beginComputePass({ timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 2 * r, endOfPassWriteIndex: 2 * r + 1 } });
    pass.setPipeline(p); pass.setBindGroup(0, bg); pass.dispatchWorkgroups(1024); pass.end();
  }
  enc.resolveQuerySet(qs, 0, 4, res, 0);
  enc.copyBufferToBuffer(res, 0, st, 0, 32);
  const t0 = performance.now();
  dev.queue.submit([enc.finish()]);
  await st.mapAsync(GPUMapMode.READ);
  const wall = performance.now() - t0;
  const t = new BigUint64Array(st.getMappedRange().slice(0));
  st.unmap();
  console.log(iter, 'wall', wall.toFixed(2), 'ts ms', Number(t[1]! - t[0]!) / 1e6, Number(t[3]! - t[2]!) / 1e6);
}
console.log('subgroups', dev.features.has('subgroups'), (dev as any).adapterInfo?.subgroupMinSize);
process.exit(0);
