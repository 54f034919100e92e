// leakyRelu, elu, gelu (erf and tanh), softplus, logSigmoid, clamp, hardtanh, silu: gradients
// against finite differences and WebGPU against the float64 reference (odd sizes, parameters,
// non-contiguous and broadcast views), PyTorch's values and gradients, kinks tested exactly,
// the accuracy of the WGSL erfc behind gelu, stability at large |x|, NaN, and the errors.
import { describe, expect, it } from 'vitest';
import { F, clamp, gradcheck, tensor, type Tensor } from '../../src/index.ts';
import { erfc } from '../../src/backend/cpu/activation.ts';
import { useGpu } from '../helpers/gpu.ts';
import { ODD_SIZES, input } from '../helpers/data.ts';

useGpu();

type Act = (x: Tensor) => Tensor;

/** The ops with the parameters used below, keyed as in the torch snippet. */
const OPS: Record<string, Act> = {
  'leakyRelu(0.2)': (x) => F.leakyRelu(x, 0.2),
  'elu(1.5)': (x) => F.elu(x, 1.5),
  gelu: (x) => F.gelu(x),
  geluTanh: (x) => F.gelu(x, { approximate: 'tanh' }),
  'softplus(2,3)': (x) => F.softplus(x, { beta: 2, threshold: 3 }),
  logSigmoid: (x) => F.logSigmoid(x),
  'clamp(-1,0.5)': (x) => F.clamp(x, -1, 0.5),
  'hardtanh(-2,1.5)': (x) => F.hardtanh(x, -2, 1.5),
  silu: (x) => F.silu(x),
};

// import torch, torch.nn.functional as F
// x = torch.tensor([-30., -3., -1., -0.25, 0.5, 1., 2., 30.], dtype=torch.float64, requires_grad=True)
// for each op f: y = f(x); g, = torch.autograd.grad(y.sum(), x)   →   [y, g]
// (leaky_relu(x, 0.2), elu(x, 1.5), gelu(x), gelu(x, approximate='tanh'), softplus(x, 2, 3),
//  logsigmoid(x), x.clamp(-1, 0.5), hardtanh(x, -2, 1.5), silu(x))
const X = [-30, -3, -1, -0.25, 0.5, 1, 2, 30];
const TORCH: Record<string, [number[], number[]]> = {
  'leakyRelu(0.2)': [[-6.0, -0.6000000000000001, -0.2, -0.05, 0.5, 1.0, 2.0, 30.0], [0.2, 0.2, 0.2, 0.2, 1.0, 1.0, 1.0, 1.0]],
  'elu(1.5)': [
    [-1.4999999999998597, -1.4253193974482041, -0.9481808382428365, -0.3317988253928927, 0.5, 1.0, 2.0, 30.0],
    [1.4036434453260263e-13, 0.07468060255179591, 0.5518191617571635, 1.1682011746071073, 1.0, 1.0, 1.0, 1.0],
  ],
  gelu: [
    [-0.0, -0.00404969409489031, -0.15865525393145702, -0.10032341857926907, 0.34573123063700656, 0.841344746068543, 1.9544997361036416, 30.0],
    [-4.420938404635643e-195, -0.01194564720418392, -0.08331547058768635, 0.304626645116364, 0.8674951246561629, 1.0833154705876864, 1.085231801078197, 1.0],
  ],
  geluTanh: [
    [-0.0, -0.0036373920817729943, -0.1588080093917233, -0.100324649298315, 0.34571400982514394, 0.8411919906082768, 1.954597694087775, 30.0],
    [0.0, -0.011584166630969648, -0.08296408384578258, 0.30464590484893955, 0.8673699035346424, 1.0829640838457826, 1.0860992566236183, 1.0],
  ],
  'softplus(2,3)': [
    [4.37825538134826e-27, 0.0012378425688652247, 0.06346400552148625, 0.23703849209005334, 0.6566308437591114, 1.0634640055214863, 2.0, 30.0],
    [8.75651076269652e-27, 0.0024726231566347748, 0.11920292202211755, 0.37754066879814546, 0.7310585786300049, 0.8807970779778824, 1.0, 1.0],
  ],
  logSigmoid: [
    [-30.000000000000092, -3.048587351573742, -1.3132616875182228, -0.8259394198788436, -0.4740769841801067, -0.31326168751822286, -0.1269280110429725, -9.357622968839737e-14],
    [0.9999999999999064, 0.9525741268224333, 0.7310585786300049, 0.5621765008857982, 0.37754066879814546, 0.2689414213699951, 0.11920292202211755, 9.3576229688393e-14],
  ],
  'clamp(-1,0.5)': [[-1.0, -1.0, -1.0, -0.25, 0.5, 0.5, 0.5, 0.5], [0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]],
  'hardtanh(-2,1.5)': [[-2.0, -2.0, -1.0, -0.25, 0.5, 1.0, 1.5, 1.5], [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0]],
  silu: [
    [-2.8072868906517896e-12, -0.14227761953270035, -0.2689414213699951, -0.10945587477855048, 0.3112296656009273, 0.7310585786300049, 1.7615941559557646, 29.999999999997197],
    [-2.713710660963134e-12, -0.08810410601516962, 0.07232948812851325, 0.37628997842980233, 0.7399611873026519, 0.9276705118714869, 1.0907842487848955, 1.000000000002711],
  ],
};

async function valuesAndGrad(f: Act, xs: number[], device: 'cpu' | 'webgpu'): Promise<[number[], number[]]> {
  const x = tensor(xs, { device, requiresGrad: true });
  const y = f(x);
  y.sum().backward();
  return [Array.from(await y.data()), Array.from(await x.grad!.data())];
}

function expectClose(got: number[], want: number[], tol: (w: number) => number, what: string): void {
  got.forEach((g, i) => expect(Math.abs(g - want[i]!), `${what}[${i}]: got ${g}, want ${want[i]}`).toBeLessThanOrEqual(tol(want[i]!)));
}

describe('activations', () => {
  it('match PyTorch (float64 reference to 1e-12, WebGPU to float32 rounding)', async () => {
    for (const [name, f] of Object.entries(OPS)) {
      const [y, g] = TORCH[name]!;
      const [cy, cg] = await valuesAndGrad(f, X, 'cpu');
      expectClose(cy, y, (w) => 1e-12 * Math.max(1, Math.abs(w)), `${name} cpu forward`);
      expectClose(cg, g, (w) => 1e-12 * Math.max(1, Math.abs(w)), `${name} cpu backward`);
      const [gy, gg] = await valuesAndGrad(f, X, 'webgpu');
      expectClose(gy, y, (w) => 4e-7 * Math.max(1, Math.abs(w)), `${name} webgpu forward`);
      expectClose(gg, g, (w) => 4e-7 * Math.max(1, Math.abs(w)), `${name} webgpu backward`);
    }
  });

  it('match finite differences and the reference over odd sizes and parameters', async () => {
    for (const n of ODD_SIZES) {
      const x = () => input([n], { seed: n, lo: -4, hi: 4, awayFromZero: 0.01 });
      await gradcheck((t) => F.leakyRelu(t), [x()]);
      await gradcheck((t) => F.leakyRelu(t, 1.7), [x()]);
      await gradcheck((t) => F.elu(t), [x()]);
      await gradcheck((t) => F.elu(t, 0.3), [x()]);
      await gradcheck((t) => F.gelu(t), [x()]);
      await gradcheck((t) => F.gelu(t, { approximate: 'tanh' }), [x()]);
      await gradcheck((t) => F.softplus(t), [x()]);
      await gradcheck((t) => F.softplus(t, { beta: 3, threshold: 5 }), [x()]); // threshold at x = 5/3 (the inputs avoid it)
      await gradcheck((t) => F.softplus(t, { beta: -0.5 }), [x()]);
      await gradcheck((t) => F.logSigmoid(t), [x()]);
      await gradcheck((t) => F.silu(t), [x()]);
      await gradcheck((t) => F.hardtanh(t, -1.005, 2.005), [x()]);
      await gradcheck((t) => t.clamp(-0.995, 1.005), [x()]);
      await gradcheck((t) => t.clamp(null, 0.505), [x()]);
      await gradcheck((t) => t.clamp(-2.005), [x()]);
    }
  });

  it('read non-contiguous and broadcast inputs through their strides', async () => {
    for (const f of Object.values(OPS)) {
      await gradcheck((t) => f(t.T), [input([5, 3], { seed: 4, lo: -3, hi: 3, awayFromZero: 0.01 })]);
      await gradcheck((t) => f(t.expand(3, 4, 5)), [input([4, 1], { seed: 5, lo: -3, hi: 3, awayFromZero: 0.01 })]);
      await gradcheck((t) => f(t.slice(1, 1, 9, 3)), [input([2, 9], { seed: 6, lo: -3, hi: 3, awayFromZero: 0.01 })]);
    }
  });

  it('take PyTorch\'s gradients at the kinks, exactly', async () => {
    for (const device of ['webgpu', 'cpu'] as const) {
      const grad = async (f: Act, xs: number[]) => (await valuesAndGrad(f, xs, device))[1];
      // torch: leaky_relu'(0) = slope, elu'(0) = alpha (x <= 0 branch)
      const f32 = device === 'webgpu' ? Math.fround : (v: number) => v;
      expect(await grad((t) => F.leakyRelu(t, 0.1), [0, -0, 1e-30])).toEqual([f32(0.1), f32(0.1), 1]);
      expect(await grad((t) => F.elu(t, 2), [0, 1e-30])).toEqual([2, 1]);
      // torch.clamp: 1 on [min, max] inclusive; hardtanh: 0 at the bounds
      expect(await grad((t) => t.clamp(-1, 1), [-1.5, -1, 0, 1, 1.5])).toEqual([0, 1, 1, 1, 0]);
      expect(await grad((t) => F.hardtanh(t), [-1.5, -1, 0, 1, 1.5])).toEqual([0, 0, 1, 0, 0]);
      // x.clamp(1, -1): min > max gives max everywhere and no gradient (torch)
      const [y, g] = await valuesAndGrad((t) => t.clamp(1, -1), [-2, 0, 2], device);
      expect(y).toEqual([-1, -1, -1]);
      expect(g).toEqual([0, 0, 0]);
      // softplus at βx == threshold uses the smooth branch (strict >): σ(threshold)
      const [, gs] = await valuesAndGrad((t) => F.softplus(t, { beta: 2, threshold: 2 }), [1, 1.5], device);
      expect(gs[0]).toBeCloseTo(1 / (1 + Math.exp(-2)), 6);
      expect(gs[1]).toBe(1);
      // gelu'(0) = ½, silu'(0) = ½, logSigmoid'(0) = ½
      expect(await grad((t) => F.gelu(t), [0])).toEqual([0.5]);
      expect(await grad((t) => F.silu(t), [0])).toEqual([0.5]);
      expect(await grad((t) => F.logSigmoid(t), [0])).toEqual([0.5]);
    }
  });

  it('compute exact-erf gelu on WebGPU within float32 rounding of the float64 reference', async () => {
    const n = 40001;
    const xs = Array.from({ length: n }, (_, i) => -20 + (40 * i) / (n - 1));
    const [gy, gg] = await valuesAndGrad((t) => F.gelu(t), xs, 'webgpu');
    const [cy, cg] = await valuesAndGrad((t) => F.gelu(t), xs.map(Math.fround), 'cpu');
    let worstY = 0;
    let worstG = 0;
    for (let i = 0; i < n; i++) {
      worstY = Math.max(worstY, Math.abs(gy[i]! - cy[i]!) / Math.max(1, Math.abs(cy[i]!)));
      worstG = Math.max(worstG, Math.abs(gg[i]! - cg[i]!) / Math.max(1, Math.abs(cg[i]!)));
    }
    // Measured on lavapipe: 1.3e-7 forward, 1.9e-7 backward (1–2 ulp of max(1, |y|)).
    expect(worstY).toBeLessThan(1e-6);
    expect(worstG).toBeLessThan(1e-6);
    // Relative accuracy where it is hard: the left tail, gelu(x) = ½x·erfc(−x/√2) for x ∈ [−5, −1].
    let worstTail = 0;
    for (let i = 0; i < n; i++) {
      if (xs[i]! >= -5 && xs[i]! <= -1) worstTail = Math.max(worstTail, Math.abs(gy[i]! - cy[i]!) / Math.abs(cy[i]!));
    }
    // Measured: 2.3e-6, the rounding of exp(−z² + …) in f32 for z² up to 12.5 (exp's own error grows with |arg|).
    expect(worstTail).toBeLessThan(5e-6);
  });

  it('has a float64 erfc accurate to 1e-13 (the reference behind gelu)', () => {
    // import math; [(v, math.erfc(v)) for v in [0.5, 3, -1, 10, 1e-5, -4]]
    const known: [number, number][] = [
      [0.5, 0.4795001221869535],
      [3, 2.2090496998585438e-5],
      [-1, 1.842700792949715],
      [10, 2.088487583762545e-45],
      [1e-5, 0.9999887162083294],
      [-4, 1.999999984582742],
    ];
    for (const [x, want] of known) expect(Math.abs(erfc(x) - want) / want, `erfc(${x})`).toBeLessThan(1e-13);
  });

  it('stay finite at large |x| and propagate NaN, as torch', async () => {
    // torch (float32): f([-100., 100., nan]) for each op
    const want: Record<string, number[]> = {
      'leakyRelu(0.2)': [-20, 100, NaN],
      'elu(1.5)': [-1.5, 100, NaN],
      gelu: [0, 100, NaN],
      geluTanh: [0, 100, NaN],
      'softplus(2,3)': [0, 100, NaN],
      logSigmoid: [-100, -3.923635700109488e-44, NaN],
      'clamp(-1,0.5)': [-1, 0.5, NaN],
      'hardtanh(-2,1.5)': [-2, 1.5, NaN],
      silu: [0, 100, NaN],
    };
    for (const [name, f] of Object.entries(OPS)) {
      for (const device of ['webgpu', 'cpu'] as const) {
        const [y, g] = await valuesAndGrad(f, [-100, 100, NaN], device);
        const w = want[name]!;
        expect(Math.abs(y[0]! - w[0]!), `${name} ${device} f(-100) = ${y[0]}`).toBeLessThan(1e-30 + 1e-6 * Math.abs(w[0]!));
        expect(Math.abs(y[1]! - w[1]!), `${name} ${device} f(100) = ${y[1]}`).toBeLessThan(1e-30 + 1e-6 * Math.abs(w[1]!));
        expect(Number.isNaN(y[2]), `${name} ${device} f(NaN)`).toBe(true);
        expect(g.slice(0, 2).every(Number.isFinite), `${name} ${device} gradient at ±100: ${g}`).toBe(true);
      }
    }
  });

  it('clamp keeps int32, accepts one bound, and is a Tensor method and a free function', async () => {
    const i = tensor([-5, 0, 7], { dtype: 'int32' });
    const c = clamp(i, -2, 3);
    expect(c.dtype).toBe('int32');
    expect(await c.toArray()).toEqual([-2, 0, 3]);
    expect(await i.clamp(1).toArray()).toEqual([1, 1, 7]);
    expect(await i.clamp(null, -1).toArray()).toEqual([-5, -1, -1]);
    expect(await tensor([-5, 0.5, 7]).clip(0, 1).toArray()).toEqual([0, 0.5, 1]);
    expect(await tensor([-1, 2]).leakyRelu().toArray()).toEqual([Math.fround(-0.01), 2]);
    expect(await tensor([0]).elu().toArray()).toEqual([0]);
    expect(tensor([1, 2, 3]).gelu().shape).toEqual([3]);
  });

  it('name the op and the fix in their errors', () => {
    expect(() => F.gelu(tensor([1], { dtype: 'int32' }))).toThrow(/gelu: expected a float32 input, got int32; cast with .float\(\) first/);
    expect(() => F.gelu(tensor([1]), { approximate: 'fast' as 'tanh' })).toThrow(/gelu: approximate must be 'none' or 'tanh', got "fast"/);
    expect(() => clamp(tensor([1]))).toThrow(/clamp: at least one of min or max must be given/);
    expect(() => clamp(tensor([1], { dtype: 'int32' }), 0.5)).toThrow(/clamp: bounds of an int32 tensor must be integers/);
    expect(() => clamp(tensor([true, false]), 0)).toThrow(/clamp: expected a float32 or int32 input, got bool/);
    expect(() => F.hardtanh(tensor([1]), 1, -1)).toThrow(/hardtanh: minVal \(1\) must not be greater than maxVal \(-1\)/);
    expect(() => F.softplus(tensor([1]), { beta: 0 })).toThrow(/softplus: beta must be nonzero/);
    expect(() => F.leakyRelu(tensor([1]), NaN)).toThrow(/leakyRelu: parameters must be numbers/);
  });
});
