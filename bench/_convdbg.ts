import { init, tensor, conv2d, shutdown } from '../src/index.ts';
import { setConvConfig } from '../src/kernels/conv.ts';
await init({ autotune: false });
setConvConfig({
  forward: { variant: 'register', rows: 4, cols: 3, outRows: 3, workgroup: 8, batchFast: false, subgroups: false },
  inputGrad: { variant: 'register', rows: 12, cols: 5, outRows: 1, workgroup: 32, batchFast: true, subgroups: true },
  weightGrad: { variant: 'register', rows: 3, khRows: 2, cols: 8, workgroup: 8, targetInvocations: 7 },
  minFlops: 0,
} as any);
const r = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.3 + s));
for (let rep = 0; rep < 3; rep++) {
  const res: Float64Array[] = [];
  for (const device of ['cpu', 'webgpu'] as const) {
    const x = tensor(r(120, 1), { shape: [1, 4, 5, 6], device, requiresGrad: true });
    const w = tensor(r(108, 2), { shape: [6, 2, 3, 3], device, requiresGrad: true });
    const y = conv2d(x, w, null, { groups: 2, padding: [1, 2] });
    y.backward(tensor(r(y.numel, 3), { shape: y.shape, device }));
    res.push(Float64Array.from(await w.grad!.data()));
  }
  console.log(rep, Array.from(res[0]!.slice(0, 12), (v) => v.toFixed(3)).join(' '));
  console.log(rep, Array.from(res[1]!.slice(0, 12), (v) => v.toFixed(3)).join(' '));
}
shutdown(); process.exit(0);
