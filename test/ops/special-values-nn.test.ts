// Special values through the network kernels: matmul (every kernel variant, batched), F.linear
// and conv2d with each fused bias/activation epilogue, the losses, pooling, dropout, and one
// step of every optimizer, forward and backward, WebGPU against the float64 reference under the
// rule of test/helpers/special-values.ts (elementwise ops are in special-values.test.ts). Each
// special value sits in its own row (batch item, channel) among ordinary values, so an output
// is classed by the special value that reached it.
import { describe, expect, it } from 'vitest';
import {
  F, adaptiveAvgPool2d, avgPool2d, binaryCrossEntropy, binaryCrossEntropyWithLogits, cat, conv2d, crossEntropy, dropout, manualSeed, maxPool2dWithIndices,
  mseLoss, nllLoss, optim, stack, tensor, type Tensor,
} from '../../src/index.ts';
import { FUSED_ACTIVATIONS, type FusedActivation } from '../../src/backend/fused-activation.ts';
import { POINTWISE_LOSS_OPS, type LossReduction, type PointwiseLossOp } from '../../src/backend/loss-options.ts';
import { REGISTER_DEFAULT, REGISTER_NO_SUBGROUPS, TILED_DEFAULT, setMatmulConfig, type MatmulConfig } from '../../src/kernels/matmul.ts';
import { DIRECT_CONFIG, GPU_CONFIG, SOFTWARE_CONFIG, setConvConfig, type ConvConfig } from '../../src/kernels/conv.ts';
import { softmaxTuning } from '../../src/kernels/softmax.ts';
import { useGpu } from '../helpers/gpu.ts';
import { SPECIAL, expectAgrees, ordinary, pairs, valueClass, writeReportAfterAll, type ValueClass } from '../helpers/special-values.ts';

useGpu();
writeReportAfterAll('nn');

const N = SPECIAL.length;
const cls = (v: number): ValueClass[] => [valueClass(v)];

/** [rows, cols] ordinary values with SPECIAL[r] at column `at` of row r. */
function specialRows(cols: number, at: number, seed: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < N; r++) {
    const row = ordinary(cols, seed + r);
    row[at] = SPECIAL[r]!;
    out.push(...row);
  }
  return out;
}

/** Σ|a_ik·b_kj| over the finite terms: the scale of a dot product's rounding. */
function dotScale(a: readonly number[], b: readonly number[], m: number, k: number, n: number): (i: number) => number {
  return (i) => {
    const r = Math.floor(i / n) % m;
    const c = i % n;
    let s = 0;
    for (let t = 0; t < k; t++) {
      const v = Math.abs(a[r * k + t]! * b[t * n + c]!);
      if (Number.isFinite(v)) s += v;
    }
    return s;
  };
}

// ---- matmul, linear, conv2d ------------------------------------------------------------------

const MATMUL_CONFIGS: [string, MatmulConfig][] = [['register', REGISTER_DEFAULT], ['register, no subgroups', REGISTER_NO_SUBGROUPS], ['tiled', TILED_DEFAULT]];

describe('special values: matmul, linear, conv2d and their fused epilogues', () => {
  for (const [name, config] of MATMUL_CONFIGS) {
    it(`matmul (${name}): a special value in each row of A, then in each column of B; batched; backward`, async () => {
      setMatmulConfig(config);
      try {
        const k = 7;
        const n = 9;
        const a = specialRows(k, 3, 1);
        const b = ordinary(k * n, 50);
        await expectAgrees({
          row: 'matmul', variant: `${name}, special A`, args: [{ values: a, shape: [N, k], grad: true }, { values: b, shape: [k, n], grad: true }],
          run: ([x, y]) => x!.matmul(y!), backward: true,
          classes: (o, i) => (o === 0 ? cls(SPECIAL[Math.floor(i / n)]!) : o === 1 ? cls(a[i]!) : ['ordinary']),
          scale: (o, i) => (o === 0 ? dotScale(a, b, N, k, n)(i) : 0), tol: { atol: 1e-5, rtol: 1e-5 },
        });
        // B [k, N]: SPECIAL[c] in column c; A has a leading batch dim of 2.
        const bt = specialRows(k, 2, 9);
        const bcols: number[] = [];
        for (let t = 0; t < k; t++) for (let c = 0; c < N; c++) bcols.push(bt[c * k + t]!);
        const a2 = ordinary(2 * 5 * k, 77);
        await expectAgrees({
          row: 'matmul', variant: `${name}, special B, batched`, args: [{ values: a2, shape: [2, 5, k], grad: true }, { values: bcols, shape: [k, N], grad: true }],
          run: ([x, y]) => x!.matmul(y!), backward: true,
          classes: (o, i) => (o === 0 ? cls(SPECIAL[i % N]!) : o === 2 ? cls(bcols[i]!) : ['ordinary']),
          scale: (o, i) => (o === 0 ? dotScale(a2, bcols, 10, k, N)(i) : 0), tol: { atol: 1e-5, rtol: 1e-5 },
        });
      } finally {
        setMatmulConfig(null);
      }
    });

    it(`F.linear (${name}): special inputs and biases through every fused activation`, async () => {
      setMatmulConfig(config);
      try {
        const inF = 6;
        const outF = 5;
        const x = specialRows(inF, 2, 3);
        const w = ordinary(outF * inF, 31);
        for (const act of [undefined, ...FUSED_ACTIVATIONS] as (FusedActivation | undefined)[]) {
          await expectAgrees({
            row: `linear ${act ?? 'none'}`, variant: `${name}, special input`,
            args: [{ values: x, shape: [N, inF], grad: true }, { values: w, shape: [outF, inF], grad: true }, { values: ordinary(outF, 8), shape: [outF], grad: true }],
            run: ([a, b, c]) => F.linear(a!, b!, c!, { activation: act }), backward: true,
            classes: (o, i) => (o === 0 ? cls(SPECIAL[Math.floor(i / outF)]!) : o === 1 ? cls(x[i]!) : ['ordinary']),
            tol: { atol: 1e-5, rtol: 1e-5 },
          });
          // Bias [N]: one special value per output column.
          await expectAgrees({
            row: `linear ${act ?? 'none'}`, variant: `${name}, special bias`,
            args: [{ values: ordinary(4 * inF, 4), shape: [4, inF], grad: true }, { values: ordinary(N * inF, 41), shape: [N, inF], grad: true }, { values: SPECIAL, shape: [N], grad: true }],
            run: ([a, b, c]) => F.linear(a!, b!, c!, { activation: act }), backward: true,
            classes: (o, i) => (o === 0 ? cls(SPECIAL[i % N]!) : o === 3 ? cls(SPECIAL[i]!) : ['ordinary']),
            tol: { atol: 1e-5, rtol: 1e-5 },
          });
        }
      } finally {
        setMatmulConfig(null);
      }
    });
  }

  const CONV_CONFIGS: [string, ConvConfig][] = [
    ['direct', DIRECT_CONFIG],
    ['register (software)', { ...SOFTWARE_CONFIG, minFlops: 0 }],
    ['register (gpu)', { ...GPU_CONFIG, minFlops: 0 }],
    ['tiled', { ...GPU_CONFIG, forward: { variant: 'tiled' }, inputGrad: { variant: 'tiled' }, minFlops: 0 }],
  ];
  for (const [name, config] of CONV_CONFIGS) {
    it(`conv2d (${name}): a special pixel per batch item, a special weight per output channel, every fused activation`, async () => {
      setConvConfig(config);
      try {
        const [C, H, W, Cout] = [2, 6, 6, 3];
        const x: number[] = [];
        for (let b = 0; b < N; b++) {
          const img = ordinary(C * H * W, 100 + b);
          img[2 * W + 3] = SPECIAL[b]!; // channel 0, row 2, column 3
          x.push(...img);
        }
        const w = ordinary(Cout * C * 9, 5, -0.5, 0.5);
        const per = Cout * H * W;
        for (const act of [undefined, ...FUSED_ACTIVATIONS] as (FusedActivation | undefined)[]) {
          await expectAgrees({
            row: `conv2d ${act ?? 'none'}`, variant: `${name}, special input`,
            args: [{ values: x, shape: [N, C, H, W], grad: true }, { values: w, shape: [Cout, C, 3, 3], grad: true }, { values: ordinary(Cout, 2), shape: [Cout], grad: true }],
            run: ([a, b, c]) => conv2d(a!, b!, c!, { padding: 1, activation: act }), backward: true,
            classes: (o, i) => (o === 0 ? cls(SPECIAL[Math.floor(i / per)]!) : o === 1 ? cls(x[i]!) : ['ordinary']),
            tol: { atol: 1e-5, rtol: 1e-5 },
          });
        }
        // Weights [N, C, 3, 3]: SPECIAL[co] at the centre tap of channel 0; stride 2 takes the other kernels.
        const ws: number[] = [];
        for (let co = 0; co < N; co++) {
          const k = ordinary(C * 9, 200 + co, -0.5, 0.5);
          k[4] = SPECIAL[co]!;
          ws.push(...k);
        }
        for (const stride of [1, 2]) {
          const ho = stride === 1 ? H : 3;
          await expectAgrees({
            row: 'conv2d none', variant: `${name}, special weight, stride ${stride}`,
            args: [{ values: ordinary(2 * C * H * W, 9), shape: [2, C, H, W], grad: true }, { values: ws, shape: [N, C, 3, 3], grad: true }],
            run: ([a, b]) => conv2d(a!, b!, null, { padding: 1, stride }), backward: true,
            classes: (o, i) => (o === 0 ? cls(SPECIAL[Math.floor(i / (ho * ho)) % N]!) : o === 2 ? cls(ws[i]!) : ['ordinary']),
            tol: { atol: 1e-5, rtol: 1e-5 },
          });
        }
      } finally {
        setConvConfig(null);
      }
    });
  }
});

// ---- losses ----------------------------------------------------------------------------------

const POINTWISE_CALL: Record<PointwiseLossOp, { f: (a: Tensor, b: Tensor, reduction: LossReduction) => Tensor; inputs: () => { a: number[]; b: number[] } }> = {
  mse: { f: (a, b, reduction) => mseLoss(a, b, { reduction }), inputs: pairs },
  bceWithLogits: { f: (a, b, reduction) => binaryCrossEntropyWithLogits(a, b, { reduction }), inputs: pairs },
  // Probabilities: the values of SPECIAL inside [0, 1] (others raise, see losses.test.ts), against every special target.
  bce: {
    f: (a, b, reduction) => binaryCrossEntropy(a, b, { reduction }),
    inputs: () => {
      const probs = SPECIAL.filter((v) => v >= 0 && v <= 1).concat([0.5, 1e-30, 1 - 2 ** -24]);
      const a: number[] = [];
      const b: number[] = [];
      for (const p of probs) for (const t of SPECIAL) (a.push(p), b.push(t));
      return { a, b };
    },
  },
};

describe('special values: losses', () => {
  it('covers every registered pointwise loss', () => {
    expect(Object.keys(POINTWISE_CALL).sort()).toEqual([...POINTWISE_LOSS_OPS].sort());
  });

  for (const op of POINTWISE_LOSS_OPS) {
    it(`${op}: every pair of (input, target), each reduction, backward to both`, async () => {
      const { f, inputs } = POINTWISE_CALL[op];
      const { a, b } = inputs();
      for (const reduction of ['none', 'mean', 'sum'] as const) {
        // A reduced loss mixes every pair: one pair per call keeps each result classed by its values.
        const chunks = reduction === 'none' ? [[0, a.length]] : a.map((_, i) => [i, i + 1]);
        for (const [s, e] of chunks) {
          await expectAgrees({
            row: `loss ${op}`, variant: reduction, args: [{ values: a.slice(s, e), shape: [e! - s!], grad: true }, { values: b.slice(s, e), shape: [e! - s!], grad: true }],
            run: ([x, y]) => f(x!, y!, reduction), backward: true,
            classes: (o) => (o === 0 && reduction !== 'none' ? [valueClass(a[s!]!), valueClass(b[s!]!)] : undefined),
          });
        }
      }
    });
  }

  for (const kind of ['crossEntropy', 'nllLoss'] as const) for (const lanes of [0, 2]) {
    it(`${kind} (${lanes ? `${lanes} lanes per row` : 'default lanes'}): rows holding every pair of special values, each reduction and target position, label smoothing, backward`, async () => {
      softmaxTuning.forceLanes = lanes;
      try {
      const { a, b } = pairs();
      const rows = a.length;
      const C = 4;
      const x: number[] = [];
      a.forEach((v, r) => x.push(v, ...ordinary(1, r), b[r]!, ...ordinary(1, r + 500)));
      for (const target of [0, 1, 2]) {
        for (const reduction of ['none', 'mean'] as const) {
          for (const labelSmoothing of kind === 'crossEntropy' ? [0, 0.1] : [0]) {
            const count = reduction === 'none' ? rows : 1;
            const starts = reduction === 'none' ? [0] : Array.from({ length: rows }, (_, r) => r);
            for (const r0 of starts) {
              const n = reduction === 'none' ? rows : count;
              const xs = x.slice(r0 * C, (r0 + n) * C);
              await expectAgrees({
                row: kind, variant: `target ${target}, ${reduction}, smoothing ${labelSmoothing}`,
                args: [{ values: xs, shape: [n, C], grad: true }, { values: new Array(n).fill(target), shape: [n], dtype: 'int32' }],
                run: ([l, t]) => (kind === 'crossEntropy' ? crossEntropy(l!, t!, { reduction, labelSmoothing }) : nllLoss(l!, t!, { reduction })), backward: true,
                classes: (o, i) => {
                  const r = o === 0 ? r0 + (reduction === 'none' ? i : 0) : r0 + Math.floor(i / C);
                  return [valueClass(a[r]!), valueClass(b[r]!)];
                },
              });
            }
          }
        }
      }
      } finally {
        softmaxTuning.forceLanes = 0;
      }
    });
  }
});

// ---- pooling, dropout ------------------------------------------------------------------------

describe('special values: pooling and dropout', () => {
  /** [N, 1, 4, 4] images, ordinary but for SPECIAL[b] at (1, 1) and, in `second`, SPECIAL[(b + 3) % N] at (1, 2) (one window). */
  function images(second: boolean): number[] {
    const x: number[] = [];
    for (let b = 0; b < N; b++) {
      const img = ordinary(16, 60 + b);
      img[5] = SPECIAL[b]!;
      if (second) img[6] = SPECIAL[(b + 3) % N]!;
      x.push(...img);
    }
    return x;
  }
  /** Name, outputs per image, and the op (max pooling also returns its indices). */
  const POOLS: [string, number, (x: Tensor) => Tensor[]][] = [
    ['maxPool2d 2×2', 4, (x) => maxPool2dWithIndices(x, 2)],
    ['maxPool2d 3×3 stride 1 pad 1', 16, (x) => maxPool2dWithIndices(x, 3, { stride: 1, padding: 1 })],
    ['avgPool2d 2×2', 4, (x) => [avgPool2d(x, 2)]],
    ['avgPool2d 3×3 stride 1 pad 1', 16, (x) => [avgPool2d(x, 3, { stride: 1, padding: 1 })]],
    ['adaptiveAvgPool2d 3×3', 9, (x) => [adaptiveAvgPool2d(x, [3, 3])]],
  ];
  for (const [name, per, f] of POOLS) {
    it(`${name}: one or two special values per image, values, indices and gradient`, async () => {
      for (const second of [false, true]) {
        const x = images(second);
        await expectAgrees({
          row: name.split(' ')[0]!, variant: `${name}${second ? ', two specials in a window' : ''}`, args: [{ values: x, shape: [N, 1, 4, 4], grad: true }],
          run: ([t]) => f(t!), backward: true,
          classes: (o, i) => {
            if (o === 2 || (o === 1 && !name.startsWith('max'))) return [valueClass(x[i]!)];
            const b = Math.floor(i / per);
            return second ? [valueClass(SPECIAL[b]!), valueClass(SPECIAL[(b + 3) % N]!)] : [valueClass(SPECIAL[b]!)];
          },
        });
      }
    });
  }

  it('dropout: special values are zeroed or scaled as the same mask says', async () => {
    const { a } = pairs();
    await expectAgrees({
      row: 'dropout', variant: 'p = 0.5', args: [{ values: a, shape: [a.length], grad: true }], run: ([x]) => {
        manualSeed(7);
        return dropout(x!, 0.5);
      }, backward: true,
    });
  });
});

// ---- indexing and joining --------------------------------------------------------------------

describe('special values: indexing and joining carry every value through', () => {
  it('gather, indexSelect, index, scatterAdd, maskedFill, cat and stack', async () => {
    const { a, b } = pairs();
    const n = a.length;
    const idx = Array.from({ length: n }, (_, i) => (i * 37) % n);
    const perm = (k: number, i: number) => (k === 0 ? [valueClass(a[idx[i]!]!)] : undefined);
    const cases: [string, (x: Tensor, y: Tensor, ix: Tensor) => Tensor, ((k: number, i: number) => ValueClass[] | undefined) | undefined][] = [
      ['gather', (x, _y, ix) => x.gather(0, ix), perm],
      ['indexSelect', (x, _y, ix) => x.indexSelect(0, ix), perm],
      ['index', (x, _y, ix) => x.index(ix), perm],
      ['scatterAdd', (x, y, ix) => x.scatterAdd(0, ix, y), undefined],
      ['maskedFill with NaN', (x, y) => x.maskedFill(y.gt(0), NaN), undefined],
      ['cat', (x, y) => cat([x, y]), (k, i) => (k === 0 ? [valueClass(i < n ? a[i]! : b[i - n]!)] : undefined)],
      ['stack', (x, y) => stack([x, y], 1), (k, i) => (k === 0 ? [valueClass(i % 2 ? b[i >> 1]! : a[i >> 1]!)] : undefined)],
    ];
    for (const [variant, f, classes] of cases) {
      await expectAgrees({
        row: 'indexing and joining', variant,
        args: [{ values: a, shape: [n], grad: true }, { values: b, shape: [n], grad: true }, { values: idx, shape: [n], dtype: 'int32' }],
        run: ([x, y, ix]) => f(x!, y!, ix!), backward: true, classes,
      });
    }
  });
});

// ---- optimizers ------------------------------------------------------------------------------

/** Every optimizer class the optim namespace exports, with the option sets its update is checked under. */
const OPTIMIZERS: Record<string, { make: (p: Tensor[]) => optim.Optimizer; variant: string; steps?: number }[]> = {
  SGD: [
    { variant: 'plain', make: (p) => new optim.SGD(p, { lr: 0.1 }) },
    { variant: 'momentum, weight decay', make: (p) => new optim.SGD(p, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 }) },
    { variant: 'nesterov, maximize', make: (p) => new optim.SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true, maximize: true }) },
  ],
  Adam: [
    { variant: 'default', make: (p) => new optim.Adam(p, { lr: 0.1 }) },
    { variant: 'amsgrad, weight decay', make: (p) => new optim.Adam(p, { lr: 0.1, amsgrad: true, weightDecay: 0.01 }) },
  ],
  AdamW: [{ variant: 'default', make: (p) => new optim.AdamW(p, { lr: 0.1 }) }],
  RMSprop: [
    { variant: 'default', make: (p) => new optim.RMSprop(p, { lr: 0.1 }) },
    { variant: 'centered, momentum', make: (p) => new optim.RMSprop(p, { lr: 0.1, centered: true, momentum: 0.9 }) },
  ],
  Adagrad: [
    { variant: 'default', make: (p) => new optim.Adagrad(p, { lr: 0.1 }) },
    { variant: 'lr decay, weight decay, accumulator, maximize', make: (p) => new optim.Adagrad(p, { lr: 0.1, lrDecay: 0.1, weightDecay: 0.01, initialAccumulatorValue: 0.1, maximize: true }) },
  ],
  Adadelta: [
    { variant: 'default', make: (p) => new optim.Adadelta(p) },
    { variant: 'weight decay, maximize', make: (p) => new optim.Adadelta(p, { lr: 0.5, weightDecay: 0.01, maximize: true }) },
  ],
  Adamax: [
    { variant: 'default', make: (p) => new optim.Adamax(p, { lr: 0.1 }) },
    { variant: 'weight decay, maximize', make: (p) => new optim.Adamax(p, { lr: 0.1, weightDecay: 0.01, maximize: true }) },
  ],
  NAdam: [
    { variant: 'default', make: (p) => new optim.NAdam(p, { lr: 0.1 }) },
    { variant: 'weight decay', make: (p) => new optim.NAdam(p, { lr: 0.1, weightDecay: 0.01 }) },
  ],
  RAdam: [
    { variant: 'default (two unrectified steps)', make: (p) => new optim.RAdam(p, { lr: 0.1 }) },
    // β2 = 0.9: ρ_t passes 5 at step 6, so the last step is rectified.
    { variant: 'weight decay, six steps', make: (p) => new optim.RAdam(p, { lr: 0.1, betas: [0.9, 0.9], weightDecay: 0.01 }), steps: 6 },
  ],
};

describe('special values: optimizer updates', () => {
  it('covers every optimizer class', () => {
    const classes = Object.entries(optim).filter(([, v]) => typeof v === 'function' && v.prototype instanceof optim.Optimizer).map(([k]) => k);
    expect(Object.keys(OPTIMIZERS).sort()).toEqual(classes.sort());
  });

  for (const [name, variants] of Object.entries(OPTIMIZERS)) {
    it(`${name}: two steps (or more) from every (parameter, gradient) pair of special values`, async () => {
      const { a, b: raw } = pairs();
      // Adam, RMSprop, Adagrad, Adadelta, NAdam and RAdam keep g² in float32 state: a ±1e30
      // gradient's square overflows there (as in torch, whose float32 step then leaves the
      // parameter as it is) but not in the float64 reference, so their huge gradients are ±1e18,
      // whose squares fit. SGD and Adamax (an infinity norm) take ±1e30 as it is.
      const b = name === 'SGD' || name === 'Adamax' ? raw : raw.map((v) => (valueClass(v) === '±1e30' ? Math.sign(v) * 1e18 : v));
      for (const { variant, make, steps = 2 } of variants) {
        await expectAgrees({
          row: `optim ${name}`, variant, args: [{ values: a, shape: [a.length], grad: true }, { values: b, shape: [b.length] }],
          run: ([p, g]) => {
            const opt = make([p!]);
            for (let step = 0; step < steps; step++) {
              opt.zeroGrad();
              p!.mul(g!).sum().backward(); // p.grad = g
              opt.step();
            }
            // The parameter and every state buffer (a NaN the update drops may still live in the state);
            // the buffers become the harness's to dispose, and the optimizer is dropped with them.
            return [p!.detach(), ...Object.values(opt.state.get(p!)!.buffers)];
          },
          classes: (_o, i) => [valueClass(a[i]!), valueClass(raw[i]!)],
        });
      }
    });
  }
});

describe('special values: a network whose weights went NaN', () => {
  it('Linear → ReLU → Linear → crossEntropy reports NaN on both backends', async () => {
    for (const device of ['cpu', 'webgpu'] as const) {
      const w1 = tensor(ordinary(12, 1).map((v, i) => (i === 0 ? NaN : v)), { shape: [4, 3], device });
      const w2 = tensor(ordinary(12, 2), { shape: [3, 4], device });
      const x = tensor(ordinary(6, 3), { shape: [2, 3], device });
      const loss = crossEntropy(F.linear(F.linear(x, w1).relu(), w2), tensor([0, 2], { dtype: 'int32', device }));
      expect(Number.isNaN(await loss.item()), device).toBe(true);
      for (const t of [w1, w2, x, loss]) t.dispose();
    }
  });
});
