import { init, tensor, shutdown } from '../src/index.ts';
await init({ autotune: false });
for (const [r, c] of [[4097, 4095], [3, 5592405], [1000, 7], [7, 999]] as const) {
  const n = r * c;
  const data = new Float32Array(n); for (let i = 0; i < n; i++) data[i] = i % 1000003;
  const t = tensor(data, { shape: [r, c] });
  const tt = t.T.contiguous();
  const out = (await tt.data()) as Float32Array;
  let bad = 0;
  for (let j = 0; j < c; j += Math.max(1, (c / 200) | 0)) for (let i = 0; i < r; i += Math.max(1, (r / 200) | 0)) if (out[j * r + i] !== data[i * c + j]) bad++;
  // also check the last rows/cols fully
  for (let i = 0; i < r; i++) if (out[(c - 1) * r + i] !== data[i * c + c - 1]) bad++;
  for (let j = 0; j < c; j++) if (out[j * r + r - 1] !== data[(r - 1) * c + j]) bad++;
  console.log(r, c, 'mismatches', bad);
  t.dispose(); tt.dispose();
}
shutdown(); process.exit(0);
