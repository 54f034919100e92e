// Special values (NaN, ±Inf, ±0, subnormal, ±1e30, ±1) through every elementwise, cast,
// reduction, activation and softmax kernel, forward and backward: WebGPU against the float64
// reference under the one rule of test/helpers/special-values.ts. The cases are tables keyed by
// the registered op names (UNARY_OPS, BINARY_OPS, …), so an op added later without a row fails
// to compile here and fails the "covers every op" test. Matmul, conv, losses, pooling and the
// optimizers are in special-values-nn.test.ts.
//
// Where PyTorch itself defines the value (a NaN's gradient, a kink), both backends are also
// checked against torch 1.13's own output (TORCH below).
//
// SPECIAL_VALUES_REPORT=file writes the per-op, per-value mismatch counts as JSON.
import { describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '../../src/index.ts';
import { ACTIVATION_OPS, type ActivationOp } from '../../src/backend/pool-activation-types.ts';
import { BINARY_OPS, REDUCE_OPS, UNARY_OPS, type BinaryOp, type ReduceOp, type UnaryOp } from '../../src/backend/types.ts';
import { wrap } from '../../src/autograd/ops/common.ts';
import { softmaxTuning } from '../../src/kernels/softmax.ts';
import { useGpu } from '../helpers/gpu.ts';
import {
  S12, SPECIAL, TOL, expectAgrees, ordinary, pairs, sameValue, valueClass, writeReportAfterAll, type Case, type ValueClass,
} from '../helpers/special-values.ts';

useGpu();
writeReportAfterAll('elementwise');

/** `values` spread over every other element of a buffer, and the stride-2 view that reads them back (a non-contiguous operand). */
function spread(values: readonly number[]): { values: number[]; view: (t: Tensor) => Tensor } {
  return { values: values.flatMap((v) => [v, 0.25]), view: (t) => t.slice(0, 0, 2 * values.length, 2) };
}

/** Classes of output element i from the logical inputs (lists aligned with the output); gradients fall back to the default. */
const byLists = (outputs: number, ...lists: (readonly number[])[]) => (k: number, i: number): ValueClass[] | undefined =>
  k < outputs ? lists.map((l) => valueClass(l[i]!)) : undefined;

// ---- unary primitives -----------------------------------------------------------------------

const UNARY_CALL: Record<UnaryOp, (x: Tensor) => Tensor> = {
  identity: (x) => x.clone(),
  neg: (x) => x.neg(),
  abs: (x) => x.abs(),
  sign: (x) => x.sign(),
  exp: (x) => x.exp(),
  log: (x) => x.log(),
  sqrt: (x) => x.sqrt(),
  rsqrt: (x) => x.rsqrt(),
  reciprocal: (x) => x.reciprocal(),
  square: (x) => x.square(),
  sin: (x) => x.sin(),
  cos: (x) => x.cos(),
  tanh: (x) => x.tanh(),
  sigmoid: (x) => x.sigmoid(),
  relu: (x) => x.relu(),
  floor: (x) => x.floor(),
  ceil: (x) => x.ceil(),
  round: (x) => x.round(),
  logicalNot: (x) => x.logicalNot(),
};

/** The activation primitives with the parameters each is checked at. */
const ACTIVATION_CALL: Record<ActivationOp, (x: Tensor) => Tensor> = {
  leakyRelu: (x) => x.leakyRelu(),
  elu: (x) => x.elu(),
  gelu: (x) => x.gelu(),
  geluTanh: (x) => x.gelu({ approximate: 'tanh' }),
  softplus: (x) => x.softplus(),
  logSigmoid: (x) => x.logSigmoid(),
  clamp: (x) => x.clamp(-0.5, 0.5),
  hardtanh: (x) => x.hardtanh(),
  silu: (x) => x.silu(),
};

/**
 * torch 1.13's values f(x) and gradients f'(x) at SPECIAL, from
 *   x = torch.tensor(S, requires_grad=True); y = f(x); y.backward(torch.ones_like(y)); y, x.grad
 * with S = [nan, inf, -inf, 0., -0., 1e-40, -1e-40, 1e30, -1e30, 1., -1.] and f = torch.<op> or
 * F.<op> (clamp(-0.5, 0.5), F.gelu(approximate='tanh') for geluTanh, default parameters).
 */
const TORCH: Record<UnaryOp | ActivationOp, { y: number[]; g?: number[] }> = {
  identity: { y: [NaN, Infinity, -Infinity, 0, -0, 9.99994610111476e-41, -9.99994610111476e-41, 1.0000000150474662e+30, -1.0000000150474662e+30, 1, -1], g: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1] },
  neg: { y: [NaN, -Infinity, Infinity, -0, 0, -9.99994610111476e-41, 9.99994610111476e-41, -1.0000000150474662e+30, 1.0000000150474662e+30, -1, 1], g: [-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1] },
  abs: { y: [NaN, Infinity, Infinity, 0, 0, 9.99994610111476e-41, 9.99994610111476e-41, 1.0000000150474662e+30, 1.0000000150474662e+30, 1, 1], g: [0, 1, -1, 0, 0, 1, -1, 1, -1, 1, -1] },
  sign: { y: [0, 1, -1, 0, 0, 1, -1, 1, -1, 1, -1], g: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
  exp: { y: [NaN, Infinity, 0, 1, 1, 1, 1, Infinity, 0, 2.7182817459106445, 0.3678794503211975], g: [NaN, Infinity, 0, 1, 1, 1, 1, Infinity, 0, 2.7182817459106445, 0.3678794503211975] },
  log: { y: [NaN, Infinity, NaN, -Infinity, -Infinity, -92.10340881347656, NaN, 69.07755279541016, NaN, 0, NaN], g: [NaN, 0, -0, Infinity, -Infinity, Infinity, -Infinity, 1.0000000031710769e-30, -1.0000000031710769e-30, 1, -1] },
  sqrt: { y: [NaN, Infinity, NaN, 0, -0, 9.999973025467516e-21, NaN, 999999986991104, NaN, 1, NaN], g: [NaN, 0, NaN, Infinity, -Infinity, 5.00001329434392e+19, NaN, 5.000000018137469e-16, NaN, 0.5, NaN] },
  rsqrt: { y: [NaN, 0, NaN, Infinity, -Infinity, 1.000002658868784e+20, NaN, 1.0000000036274937e-15, NaN, 1, NaN], g: [NaN, -0, NaN, -Infinity, Infinity, -Infinity, NaN, -0, NaN, -0.5, NaN] },
  reciprocal: { y: [NaN, 0, -0, Infinity, -Infinity, Infinity, -Infinity, 1.0000000031710769e-30, -1.0000000031710769e-30, 1, -1], g: [NaN, -0, -0, -Infinity, -Infinity, -Infinity, -Infinity, -0, -0, -1, -1] },
  square: { y: [NaN, Infinity, Infinity, 0, 0, 0, 0, Infinity, Infinity, 1, 1], g: [NaN, Infinity, -Infinity, 0, -0, 1.999989220222952e-40, -1.999989220222952e-40, 2.0000000300949324e+30, -2.0000000300949324e+30, 2, -2] },
  sin: { y: [NaN, NaN, NaN, 0, -0, 9.99994610111476e-41, -9.99994610111476e-41, -0.791163444519043, 0.791163444519043, 0.8414709568023682, -0.8414709568023682], g: [NaN, NaN, NaN, 1, 1, 1, 1, -0.6116048097610474, -0.6116048097610474, 0.5403023362159729, 0.5403023362159729] },
  cos: { y: [NaN, NaN, NaN, 1, 1, 1, 1, -0.6116048097610474, -0.6116048097610474, 0.5403023362159729, 0.5403023362159729], g: [NaN, NaN, NaN, -0, 0, -9.99994610111476e-41, 9.99994610111476e-41, 0.791163444519043, -0.791163444519043, -0.8414709568023682, 0.8414709568023682] },
  tanh: { y: [NaN, 1, -1, 0, -0, 9.99994610111476e-41, -9.99994610111476e-41, 1, -1, 0.7615941762924194, -0.7615941762924194], g: [NaN, 0, 0, 1, 1, 1, 1, 0, 0, 0.41997429728507996, 0.41997429728507996] },
  sigmoid: { y: [NaN, 1, 0, 0.5, 0.5, 0.5, 0.5, 1, 0, 0.7310585975646973, 0.2689414322376251], g: [NaN, 0, 0, 0.25, 0.25, 0.25, 0.25, 0, 0, 0.1966119259595871, 0.1966119408607483] },
  relu: { y: [NaN, Infinity, 0, 0, -0, 9.99994610111476e-41, 0, 1.0000000150474662e+30, 0, 1, 0], g: [1, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0] },
  floor: { y: [NaN, Infinity, -Infinity, 0, -0, 0, -1, 1.0000000150474662e+30, -1.0000000150474662e+30, 1, -1], g: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
  ceil: { y: [NaN, Infinity, -Infinity, 0, -0, 1, -0, 1.0000000150474662e+30, -1.0000000150474662e+30, 1, -1], g: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
  round: { y: [NaN, Infinity, -Infinity, 0, -0, 0, -0, 1.0000000150474662e+30, -1.0000000150474662e+30, 1, -1], g: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
  logicalNot: { y: [0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0] },
  leakyRelu: { y: [NaN, Infinity, -Infinity, 0, -0, 9.99994610111476e-41, -1.0005271035279194e-42, 1.0000000150474662e+30, -9.99999944211969e+27, 1, -0.009999999776482582], g: [0.009999999776482582, 1, 0.009999999776482582, 0.009999999776482582, 0.009999999776482582, 1, 0.009999999776482582, 1, 0.009999999776482582, 1, 0.009999999776482582] },
  elu: { y: [NaN, Infinity, -1, 0, 0, 9.99994610111476e-41, 0, 1.0000000150474662e+30, -1, 1, -0.6321205496788025], g: [1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0.3678794503211975] },
  gelu: { y: [NaN, Infinity, NaN, 0, 0, 4.99997305055738e-41, -4.99997305055738e-41, 1.0000000150474662e+30, 0, 0.8413447141647339, -0.1586552858352661], g: [NaN, NaN, NaN, 0.5, 0.5, 0.5, 0.5, 1, 0, 1.083315372467041, -0.08331543207168579] },
  // torch's gradient at ±1e30 is NaN: its float32 x³ overflows (∞·0). The limit, 1 and 0, is
  // what the float64 reference and the kernel give; GELU_TANH_GRAD_LIMIT below holds them.
  geluTanh: { y: [NaN, Infinity, NaN, 0, -0, 4.99997305055738e-41, -4.99997305055738e-41, 1.0000000150474662e+30, -0, 0.8411920070648193, -0.15880799293518066], g: [NaN, NaN, NaN, 0.5, 0.5, 0.5, 0.5, NaN, NaN, 1.0829640626907349, -0.08296409249305725] },
  softplus: { y: [NaN, Infinity, 0, 0.6931471824645996, 0.6931471824645996, 0.6931471824645996, 0.6931471824645996, 1.0000000150474662e+30, 0, 1.31326162815094, 0.3132616877555847], g: [NaN, 1, 0, 0.5, 0.5, 0.5, 0.5, 1, 0, 0.7310585975646973, 0.2689414322376251] },
  logSigmoid: { y: [NaN, 0, -Infinity, -0.6931471824645996, -0.6931471824645996, -0.6931471824645996, -0.6931471824645996, 0, -1.0000000150474662e+30, -0.3132616877555847, -1.3132617473602295], g: [NaN, 0, 1, 0.5, 0.5, 0.5, 0.5, 0, 1, 0.2689414322376251, 0.7310585975646973] },
  clamp: { y: [NaN, 0.5, -0.5, 0, -0, 9.99994610111476e-41, -9.99994610111476e-41, 0.5, -0.5, 0.5, -0.5], g: [0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0] },
  hardtanh: { y: [NaN, 1, -1, 0, -0, 9.99994610111476e-41, -9.99994610111476e-41, 1, -1, 1, -1], g: [1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0] },
  silu: { y: [NaN, Infinity, NaN, 0, -0, 4.99997305055738e-41, -4.99997305055738e-41, 1.0000000150474662e+30, -0, 0.7310585975646973, -0.2689414322376251], g: [NaN, NaN, NaN, 0.5, 0.5, 0.5, 0.5, 1, -0, 0.9276705384254456, 0.07232948392629623] },
};
/** geluTanh's gradient at ±1e30 (positions 7, 8 of SPECIAL): the limits, where torch's float32 formula overflows. */
const GELU_TANH_GRAD_LIMIT: Record<number, number> = { 7: 1, 8: 0 };

/** The elementwise cases of one op: contiguous (vec4 kernels) and through a stride-2 view (strided kernels), with gradients. */
function elementwiseCases(row: string, f: (x: Tensor) => Tensor, differentiable: boolean): Case[] {
  const s = spread(S12);
  return [
    { row, variant: 'contiguous', args: [{ values: S12, shape: [12], grad: differentiable }], run: ([x]) => f(x!), backward: differentiable },
    {
      row, variant: 'strided', args: [{ values: s.values, shape: [24], grad: differentiable }], run: ([x]) => f(s.view(x!)), backward: differentiable,
      classes: byLists(1, S12),
    },
  ];
}

describe('special values: unary primitives, activations and casts', () => {
  it('covers every registered unary and activation op', () => {
    expect(Object.keys(UNARY_CALL).sort()).toEqual([...UNARY_OPS].sort());
    expect(Object.keys(ACTIVATION_CALL).sort()).toEqual([...ACTIVATION_OPS].sort());
    expect(Object.keys(TORCH).sort()).toEqual([...UNARY_OPS, ...ACTIVATION_OPS].sort());
  });

  for (const op of UNARY_OPS) {
    it(`unary ${op}: WebGPU matches the reference`, async () => {
      for (const c of elementwiseCases(`unary ${op}`, UNARY_CALL[op], TORCH[op].g !== undefined)) await expectAgrees(c);
    });
  }
  for (const op of ACTIVATION_OPS) {
    it(`activation ${op}: WebGPU matches the reference`, async () => {
      for (const c of elementwiseCases(`activation ${op}`, ACTIVATION_CALL[op], true)) await expectAgrees(c);
    });
  }

  it('clamp with one open bound and hardtanh with other bounds', async () => {
    const rows: [string, (x: Tensor) => Tensor][] = [
      ['min only', (x) => x.clamp(0)],
      ['max only', (x) => x.clamp(null, -1)],
      ['hardtanh(-2, 3)', (x) => x.hardtanh(-2, 3)],
      ['leakyRelu(0.2)', (x) => x.leakyRelu(0.2)],
      ['softplus(beta 2, threshold 5)', (x) => x.softplus({ beta: 2, threshold: 5 })],
    ];
    for (const [variant, f] of rows) for (const c of elementwiseCases('activation options', f, true)) await expectAgrees({ ...c, variant: `${variant} ${c.variant}` });
  });

  for (const device of ['cpu', 'webgpu'] as const) {
    it(`${device}: values and gradients equal torch's at the special values`, async () => {
      const bad: string[] = [];
      for (const op of [...UNARY_OPS, ...ACTIVATION_OPS]) {
        const f = (UNARY_CALL as Record<string, (x: Tensor) => Tensor>)[op] ?? ACTIVATION_CALL[op as ActivationOp];
        const want = TORCH[op];
        const x = tensor([...SPECIAL], { device, requiresGrad: want.g !== undefined });
        const y = f(x);
        if (want.g) y.backward(y.onesLike());
        const got = await y.data();
        const grad = want.g ? await x.grad!.data() : null;
        SPECIAL.forEach((v, i) => {
          // The CPU computes in float64: round as torch's float32 result was.
          if (!sameValue(Math.fround(got[i]!), want.y[i]!, y.dtype, TOL)) bad.push(`${op}(${v}) = ${got[i]}, torch ${want.y[i]}`);
          const gw = op === 'geluTanh' && i in GELU_TANH_GRAD_LIMIT ? GELU_TANH_GRAD_LIMIT[i]! : want.g?.[i];
          if (grad && gw !== undefined && !sameValue(Math.fround(grad[i]!), gw, 'float32', TOL)) bad.push(`${op}'(${v}) = ${grad[i]}, torch ${gw}`);
        });
        x.dispose();
        y.dispose();
      }
      expect(bad, bad.join('\n')).toEqual([]);
    });
  }

  it('casts: to int32 (the documented rule), to bool, and back, through to() and copy_()', async () => {
    const rows: [string, (x: Tensor) => Tensor][] = [
      ['to(int32)', (x) => x.to('int32')],
      ['to(bool)', (x) => x.to('bool')],
      ['bool().float()', (x) => x.bool().float()],
      ['copy_ into int32', (x) => x.zerosLike('int32').copy_(x)],
      ['copy_ into bool', (x) => x.zerosLike('bool').copy_(x)],
    ];
    const big = [2147483520, 2147483648, -2147483648, -2147483904, 3e9, -3e9, 2.7, -2.7];
    for (const [variant, f] of rows) {
      for (const c of elementwiseCases('cast', f, false)) await expectAgrees({ ...c, variant: `${variant} ${c.variant}` });
      await expectAgrees({ row: 'cast', variant: `${variant} int32 range edges`, args: [{ values: big, shape: [8] }], run: ([x]) => f(x!) });
    }
  });
});

describe('sin and cos over the whole float range', () => {
  // torch 1.13: x = torch.tensor(X, dtype=torch.float32); torch.sin(x), torch.cos(x)
  const X = [1e30, -1e30, 3.4e38, 1e10, 123456.789, 8192.5, 8191.9, 1e5, 1.5707963705062866 * 2 ** 20, 3.1415927410125732e6, 1e-30, 2.5, 1e38];
  const SIN = [-0.791163444519043, 0.791163444519043, -0.24408487975597382, -0.48750603199005127, -0.9986608624458313, -0.6987442374229431, -0.9806467890739441, 0.03574879840016365, 0.045818667858839035, 0.0962609201669693, 1.0000000031710769e-30, 0.5984721183776855, 0.9891644716262817];
  const COS = [-0.6116048097610474, -0.6116048097610474, 0.9697538614273071, 0.8731196522712708, 0.05173495039343834, 0.7153716087341309, 0.19578522443771362, -0.9993607997894287, 0.9989497661590576, 0.9953561425209045, 1, -0.8011435866355896, 0.14681167900562286];

  it('large arguments give torch’s values (both backends)', async () => {
    for (const device of ['cpu', 'webgpu'] as const) {
      const x = tensor(X.map(Math.fround), { device }); // the CPU keeps doubles: give it float32 inputs
      const s = await x.sin().data();
      const c = await x.cos().data();
      X.forEach((v, i) => {
        expect(Math.abs(s[i]! - SIN[i]!), `${device} sin(${v})`).toBeLessThan(2e-7);
        expect(Math.abs(c[i]! - COS[i]!), `${device} cos(${v})`).toBeLessThan(2e-7);
      });
    }
  });

  it('every path (builtin, Cody–Waite, Payne–Hanek; vec4 and strided) is within 2 ulp of 1 of float64, also near multiples of π/2', async () => {
    // Log-uniform magnitudes from 1e-3 to 3e38 of both signs, and the float32 numbers nearest to
    // k·π/2, where sin or cos is tiny and the reduction must keep its bits.
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const xs: number[] = [];
    for (let i = 0; i < 4000; i++) xs.push(Math.fround((rnd() < 0.5 ? -1 : 1) * Math.exp(Math.log(1e-3) + rnd() * (Math.log(3e38) - Math.log(1e-3)))));
    for (let k = 1; k < 2000; k += 7) xs.push(Math.fround(k * Math.PI / 2), Math.fround(k * 1031 * Math.PI / 2));
    while (xs.length % 4) xs.push(1);
    const x = tensor(xs);
    for (const view of [(t: Tensor) => t, (t: Tensor) => t.view(-1, 2).t()]) {
      const v = view(x);
      const s = await v.sin().data();
      const c = await v.cos().data();
      const flat = view(tensor(xs, { device: 'cpu' }));
      const want = await flat.data();
      for (let i = 0; i < want.length; i++) {
        // 2 ulp of 1 absolute, and 2e-6 relative where the value is tiny (near a multiple of π/2).
        const tol = (w: number) => Math.max(2.4e-7, 2e-6 * Math.abs(w));
        expect(Math.abs(s[i]! - Math.sin(want[i]!)), `sin(${want[i]})`).toBeLessThan(tol(Math.sin(want[i]!)) + 1e-30);
        expect(Math.abs(c[i]! - Math.cos(want[i]!)), `cos(${want[i]})`).toBeLessThan(tol(Math.cos(want[i]!)) + 1e-30);
      }
    }
  });
});

// ---- binary primitives, comparisons, where ---------------------------------------------------

const BINARY_CALL: Record<BinaryOp, (a: Tensor, b: Tensor | number) => Tensor> = {
  add: (a, b) => a.add(b),
  sub: (a, b) => a.sub(b),
  mul: (a, b) => a.mul(b),
  div: (a, b) => a.div(b),
  pow: (a, b) => a.pow(b),
  maximum: (a, b) => a.maximum(b),
  minimum: (a, b) => a.minimum(b),
  eq: (a, b) => a.eq(b),
  ne: (a, b) => a.ne(b),
  lt: (a, b) => a.lt(b),
  le: (a, b) => a.le(b),
  gt: (a, b) => a.gt(b),
  ge: (a, b) => a.ge(b),
  logicalAnd: (a, b) => a.logicalAnd(b),
  logicalOr: (a, b) => a.logicalOr(b),
};
const DIFFERENTIABLE_BINARY = new Set<BinaryOp>(['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum']);

describe('special values: binary primitives, comparisons, where', () => {
  it('covers every registered binary op', () => {
    expect(Object.keys(BINARY_CALL).sort()).toEqual([...BINARY_OPS].sort());
  });

  for (const op of BINARY_OPS) {
    it(`binary ${op}: every pair of special values, contiguous, strided and with a scalar operand`, async () => {
      const row = `binary ${op}`;
      const f = BINARY_CALL[op];
      const grad = DIFFERENTIABLE_BINARY.has(op);
      const { a, b } = pairs();
      const n = a.length;
      // pow's gradient b·a^(b−1) at a subnormal a and b: a^(b−1) ≈ 1e40 overflows float32 (torch's
      // float32 result is ±inf too), where the float64 reference gets ±1.
      const sub = (v: number) => valueClass(v) === 'subnormal';
      const skip = op === 'pow' ? (k: number, i: number) => k === 1 && sub(a[i]!) && sub(b[i]!) : undefined;
      await expectAgrees({
        row, variant: 'pairs, contiguous', args: [{ values: a, shape: [n], grad }, { values: b, shape: [n], grad }], run: ([x, y]) => f(x!, y!), backward: grad, skip,
      });
      const sa = spread(a);
      const sb = spread(b);
      await expectAgrees({
        row, variant: 'pairs, strided', args: [{ values: sa.values, shape: [2 * n], grad }, { values: sb.values, shape: [2 * n], grad }],
        run: ([x, y]) => f(sa.view(x!), sb.view(y!)), backward: grad, classes: byLists(1, a, b), skip: skip && ((k, i) => i % 2 === 0 && skip(k, i / 2)),
      });
      for (const s of SPECIAL) {
        await expectAgrees({
          row, variant: `scalar ${s}`, args: [{ values: S12, shape: [12], grad }], run: ([x]) => f(x!, s), backward: grad,
          classes: (_k, i) => [valueClass(S12[i]!), valueClass(s)], skip: op === 'pow' ? (k, i) => k === 1 && sub(S12[i]!) && sub(s) : undefined,
        });
      }
    });
  }

  it('where: special conditions (NaN is true) and special branches', async () => {
    const { a, b } = pairs();
    const other = ordinary(a.length, 5);
    await expectAgrees({
      row: 'where', variant: 'float condition', args: [{ values: a, shape: [a.length] }, { values: b, shape: [b.length], grad: true }, { values: other, shape: [a.length], grad: true }],
      run: ([c, x, y]) => x!.where(c!, y!), backward: true,
    });
    await expectAgrees({
      row: 'where', variant: 'condition from ne(0)', args: [{ values: a, shape: [a.length] }, { values: b, shape: [b.length], grad: true }],
      run: ([c, x]) => x!.where(c!.ne(0), 0), backward: true,
    });
  });
});

// ---- reductions ------------------------------------------------------------------------------

/** Reductions through the public ops (with gradients where differentiable); prod through the primitive, which has no public op yet. */
const REDUCE_CALL: Record<ReduceOp, { f: (x: Tensor, dim: number) => Tensor; grad: boolean }> = {
  sum: { f: (x, d) => x.sum(d), grad: true },
  mean: { f: (x, d) => x.mean(d), grad: true },
  max: { f: (x, d) => x.max(d), grad: true },
  min: { f: (x, d) => x.min(d), grad: true },
  prod: { f: (x, d) => primitiveReduce('prod', x, d), grad: false },
  argmax: { f: (x, d) => x.argmax(d), grad: false },
  argmin: { f: (x, d) => x.argmin(d), grad: false },
};

function primitiveReduce(op: ReduceOp, x: Tensor, dim: number): Tensor {
  const t = dim === x.ndim - 1 ? x : x.transpose(dim, x.ndim - 1);
  return wrap(t.storage.backend.reduce(op, t.layout, 1, t.dtype), t.shape.slice(0, -1));
}

/**
 * Rows of length n, each holding one ordered pair of special values (at positions p and q) among
 * ordinary values: the row's output is compared, classed by the pair, with the tolerance scaled
 * by the row's Σ|x| (finite terms) for the sums.
 */
function reductionRows(n: number, p: number, q: number, lo = -1, hi = 1): { values: number[]; pairsA: number[]; pairsB: number[]; rows: number } {
  const { a, b } = pairs();
  const values: number[] = [];
  a.forEach((x, r) => {
    const row = ordinary(n, r + 1, lo, hi);
    row[p] = x;
    row[q] = b[r]!;
    values.push(...row);
  });
  return { values, pairsA: a, pairsB: b, rows: a.length };
}

function rowScale(values: readonly number[], n: number, op: ReduceOp): (k: number, i: number) => number {
  return (k, i) => {
    if (k > 0 || op !== 'sum' && op !== 'mean' && op !== 'prod') return 0;
    let s = 0;
    for (let j = 0; j < n; j++) {
      const v = Math.abs(values[i * n + j]!);
      if (Number.isFinite(v)) s += v;
    }
    return op === 'mean' ? s / n : op === 'prod' ? 0 : s;
  };
}

describe('special values: reductions', () => {
  it('covers every registered reduction', () => {
    expect(Object.keys(REDUCE_CALL).sort()).toEqual([...REDUCE_OPS].sort());
  });

  // Row lengths that take each kernel path on the adapter: one thread per row (5), lanes in a tree
  // (3000), and the split first pass over few long rows (20000).
  const SHAPES: [string, number, number, number][] = [['short rows', 5, 0, 3], ['long rows', 3000, 17, 2900], ['split', 20000, 5, 19999]];
  for (const op of REDUCE_OPS) {
    it(`reduce ${op}: rows holding every pair of special values, along the last dim and along dim 0`, async () => {
      const { f, grad } = REDUCE_CALL[op];
      for (const [variant, n, p, q] of SHAPES) {
        // A product of thousands of values in (−1, 1) underflows to 0 in one order and not in another:
        // prod's ordinary values stay near 1.
        const r = op === 'prod' ? reductionRows(n, p, q, 0.999, 1.001) : reductionRows(n, p, q);
        const used = variant === 'split' ? 11 : r.rows; // 11 pairs keep the split pass (it needs few outputs)
        const values = r.values.slice(0, used * n);
        await expectAgrees({
          row: `reduce ${op}`, variant, args: [{ values, shape: [used, n], grad }], run: ([x]) => f(x!, 1), backward: grad,
          classes: (k, i) => (k === 0 ? [valueClass(r.pairsA[i]!), valueClass(r.pairsB[i]!)] : [valueClass(values[i]!)]),
          scale: rowScale(values, n, op),
        });
      }
      const r = reductionRows(5, 1, 3);
      const cols: number[] = [];
      for (let j = 0; j < 5; j++) for (let i = 0; i < r.rows; i++) cols.push(r.values[i * 5 + j]!);
      await expectAgrees({
        row: `reduce ${op}`, variant: 'dim 0', args: [{ values: cols, shape: [5, r.rows], grad }], run: ([x]) => f(x!, 0), backward: grad,
        classes: (k, i) => (k === 0 ? [valueClass(r.pairsA[i]!), valueClass(r.pairsB[i]!)] : [valueClass(cols[i]!)]),
        scale: rowScale(r.values, 5, op),
      });
    });
  }
});

// ---- softmax / logSoftmax --------------------------------------------------------------------

describe('special values: softmax and logSoftmax', () => {
  for (const log of [false, true]) {
    const name = log ? 'logSoftmax' : 'softmax';
    it(`${name}: rows holding every pair of special values, one thread per row and lanes in a tree, forward and backward`, async () => {
      const r = reductionRows(6, 0, 3);
      for (const lanes of [0, 4]) {
        softmaxTuning.forceLanes = lanes;
        try {
          await expectAgrees({
            row: name, variant: lanes ? `${lanes} lanes per row` : 'default lanes', args: [{ values: r.values, shape: [r.rows, 6], grad: true }],
            run: ([x]) => (log ? x!.logSoftmax(1) : x!.softmax(1)), backward: true,
            classes: (k, i) => (k === 0 ? [valueClass(r.pairsA[Math.floor(i / 6)]!), valueClass(r.pairsB[Math.floor(i / 6)]!)] : [valueClass(r.values[i]!)]),
          });
        } finally {
          softmaxTuning.forceLanes = 0;
        }
      }
      // Along dim 0 of the transposed layout.
      await expectAgrees({
        row: name, variant: 'dim 0', args: [{ values: r.values, shape: [r.rows, 6], grad: true }],
        run: ([x]) => (log ? x!.t().logSoftmax(0) : x!.t().softmax(0)), backward: true,
        classes: (k, i) => (k === 0 ? [valueClass(r.pairsA[i % r.rows]!), valueClass(r.pairsB[i % r.rows]!)] : [valueClass(r.values[i]!)]),
      });
    });
  }
});
