// The benchmark cases every bench script shares: the tutorials' shapes for matmul, conv2d,
// pooling and softmax. bench/run.ts (npm run bench) runs them against TensorFlow.js; the
// standalone scripts (bench/matmul.ts, bench/conv2d.ts, …) sweep kernel variants over them.

/** A matmul A [M, K] @ B [K, N]; `aT`/`bT`: the operand is stored transposed and read through a view. */
export interface MatmulCase {
  name: string;
  m: number;
  k: number;
  n: number;
  aT?: boolean;
  bT?: boolean;
}

/** Square sizes (`quick` keeps 256 … 1024). */
export function matmulSquares(quick: boolean): MatmulCase[] {
  return (quick ? [256, 512, 1024] : [256, 512, 1024, 2048]).map((s) => ({ name: `${s}²`, m: s, k: s, n: s }));
}

/**
 * The tutorials' products: tutorial 002's from-scratch MLP (x·W1 with W1 [784, 500] and its two
 * backward products) and nn.Linear's forward x·Wᵀ (W [out, in] read transposed) for the 000,
 * 002 and 004 MLPs.
 */
export const MATMUL_TUTORIAL: MatmulCase[] = [
  { name: 'X·W1 [128,784]@[784,500]', m: 128, k: 784, n: 500 },
  { name: 'dY·W1ᵀ [128,500]@[500,784]ᵀ', m: 128, k: 500, n: 784, bT: true },
  { name: 'Xᵀ·dY [784,128]ᵀ@[128,500]', m: 784, k: 128, n: 500, aT: true },
  { name: 'Linear 784→500 x·Wᵀ, batch 128', m: 128, k: 784, n: 500, bT: true },
  { name: 'Linear 784→128 x·Wᵀ, batch 100', m: 100, k: 784, n: 128, bT: true },
  { name: 'Linear 128→10 x·Wᵀ, batch 64', m: 64, k: 128, n: 10, bT: true },
];

/** A conv2d of `n` images [cin, hw, hw] by `cout` filters k×k (stride 1, no padding). */
export interface ConvCase {
  name: string;
  n: number;
  cin: number;
  hw: number;
  cout: number;
  k: number;
}

/** Tutorial 001's convolutions at batch 64. */
export const CONV_TUTORIAL: ConvCase[] = [
  { name: 'tiny CNN conv (1→1, 3×3 on 28×28)', n: 64, cin: 1, hw: 28, cout: 1, k: 3 },
  { name: 'conv1 (1→20, 5×5 on 28×28)', n: 64, cin: 1, hw: 28, cout: 20, k: 5 },
  { name: 'conv2 (20→30, 5×5 on 12×12)', n: 64, cin: 20, hw: 12, cout: 30, k: 5 },
];

/** Tutorial 001's max pooling inputs [n, c, hw, hw] (2×2, stride 2). */
export const POOL_TUTORIAL: [number, number, number][] = [
  [64, 20, 24],
  [64, 30, 8],
];

/** Softmax / cross-entropy rows × classes: the tutorials' logits and a large case. */
export const SOFTMAX_SHAPES: [number, number][] = [
  [128, 10],
  [64, 10],
  [4096, 1000],
];
