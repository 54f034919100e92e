// Adagrad, Adadelta, Adamax, NAdam and RAdam: PyTorch 1.13's numbers over ten steps of a
// quadratic (float64 CPU twin to rounding, the fused WGSL update to float32), the WGSL kernel
// against the CPU twin over odd sizes and unaligned parameters, exact resume from a state dict,
// PyTorch's state names, and validation before any update.
import { describe, expect, it } from 'vitest';
import { optim, parseCheckpoint, serializeCheckpoint, tensor, type BackendName, type Tensor } from '../../src/index.ts';
import { gpuRuntime } from '../../src/tensor/backends.ts';
import { useGpu } from '../helpers/gpu.ts';
import { hostValues } from '../helpers/data.ts';

useGpu();

type Kind = 'Adagrad' | 'Adadelta' | 'Adamax' | 'NAdam' | 'RAdam';
const make = (kind: Kind, params: Tensor[], opts: Record<string, unknown>): optim.Optimizer<any> => new optim[kind](params, opts);

/** The problem of the torch snippet below: parameter k of n elements and its coefficients. */
function init(n: number, k: number): { p: number[]; a: number[]; b: number[] } {
  const r = Array.from({ length: n }, (_, i) => i);
  return { p: r.map((i) => (((i * 37 + 11 * k) % 19) - 9) / 8), a: r.map((i) => 0.25 + ((i + k) % 4) / 8), b: r.map((i) => (((i * 5 + k) % 7) - 3) / 4) };
}

/** Ten steps of loss = Σ a·p² + b·p on `device`; the final parameters. */
async function runQuadratic(kind: Kind, opts: Record<string, unknown>, device: BackendName): Promise<number[][]> {
  const probs = [5, 6].map((n, k) => init(n, k));
  const ps = probs.map(({ p }) => tensor(p, { device, requiresGrad: true }));
  const cs = probs.map(({ a, b }) => [tensor(a, { device }), tensor(b, { device })] as const);
  const opt = make(kind, ps, opts);
  for (let t = 0; t < 10; t++) {
    opt.zeroGrad();
    ps.map((p, k) => p.square().mul(cs[k]![0]).add(p.mul(cs[k]![1])).sum()).reduce((x, y) => x.add(y)).backward();
    opt.step();
  }
  const out = await Promise.all(ps.map((p) => p.toArray() as Promise<number[]>));
  opt.dispose();
  for (const t of [...ps, ...cs.flat()]) t.dispose();
  return out;
}

// PyTorch 1.13, float64 parameters (the default dtype left float32, so NAdam's mu_product is
// the float32 tensor it is in ordinary use):
//   def init(n, k): p = [((i*37 + 11*k) % 19 - 9)/8 ...]; a = [0.25 + ((i+k) % 4)/8 ...]; b = [((i*5 + k) % 7 - 3)/4 ...]
//   ps = [tensor(init(n, k).p, dtype=torch.float64, requires_grad=True) for k, n in enumerate([5, 6])]; opt = cls(ps, **kw)
//   for _ in range(10): opt.zero_grad(); sum((p*p*a + p*b).sum() ...).backward(); opt.step()
//   print([p.tolist() for p in ps])
const TORCH: [Kind, Record<string, unknown>, number[][]][] = [
  ['Adagrad', { lr: 0.1 }, [[-0.6424357839824938, 0.6522516468250404, 0.5537312003777336, 0.5048978816674838, 0.2708995475076486], [0.5987208673770305, -0.31212536963287124, -0.19937887930844186, 0.28123330821564624, 0.20860175646936233, -0.49999997421597253]]],
  ['Adagrad', { lr: 0.1, lrDecay: 0.05, weightDecay: 0.1, initialAccumulatorValue: 0.2, eps: 1e-06 }, [[-0.7149977635482503, 0.721015067300705, 0.6188229002545178, 0.5536761781378743, 0.34633026889033536], [0.48249601157390937, -0.2396232022094757, -0.1647090556768136, 0.1523388830323543, 0.13244860294783084, -0.44561973319496256]]],
  ['Adagrad', { lr: 0.05, maximize: true }, [[-1.3805422548778958, 1.3825459852821123, 1.2623141599467562, 1.147915727286061, 1.0062664219452233], [-0.025450952799513947, 0.3887880913905899, 0.2935461034317793, -0.3932927391591766, -0.5101956904483144, -0.06737292744003344]]],
  ['Adadelta', {}, [[-1.091381369551912, 1.0914431029662404, 0.9665971863702767, 0.8419829684028324, 0.7164035280497288], [0.28291293435566467, 0.09164704382658391, -0.03200454271045641, -0.09180799874989055, -0.21652749519716108, -0.405951087729064]]],
  ['Adadelta', { lr: 0.5, rho: 0.8, eps: 1e-05, weightDecay: 0.1 }, [[-1.084600119469683, 1.084674798952631, 0.9598666953623624, 0.8353212238474849, 0.7096366046903784], [0.28921600738791614, 0.08497750596483958, -0.03807199477617789, -0.08526672827853422, -0.20981317950803147, -0.409583841472711]]],
  ['Adadelta', { maximize: true }, [[-1.1588839687547527, 1.1589456457893725, 1.0340992983520623, 0.9094830738756745, 0.7839060320479213], [0.21541597975513774, 0.1591489260547117, 0.03548289703614179, -0.15930621313319135, -0.28402970062328114, -0.33849522055375547]]],
  ['Adamax', { lr: 0.01 }, [[-1.0255335826138143, 1.0259890928839663, 0.9021174861939083, 0.7798933636474884, 0.6506970067335953], [0.3443775498729779, 0.02748001342734284, -0.08814491668490958, -0.028632619555966795, -0.15160806951641387, -0.45638328475715023]]],
  ['Adamax', { lr: 0.02, betas: [0.8, 0.99], eps: 1e-06, weightDecay: 0.1 }, [[-0.9221420303544338, 0.9229586786174965, 0.8030275558772758, 0.6895410515348488, 0.5469260573818691], [0.4246147853125812, -0.06910783787881797, -0.1498627900682711, 0.06201185774914421, -0.05161581608625186, -0.4694391936497747]]],
  ['Adamax', { lr: 0.01, maximize: true }, [[-1.224287878146626, 1.223970346105718, 1.0982131611004318, 0.9715074042323751, 0.8491731361434522], [0.15390817847520732, 0.22297827499399217, 0.0929697903416853, -0.22225652776874483, -0.3485499763618573, -0.2847729151209386]]],
  ['NAdam', { lr: 0.01 }, [[-1.0447970955888313, 1.0449874906536536, 0.9204690873884321, 0.7967169051329943, 0.6698651421317717], [0.32793977667402757, 0.04562688269434395, -0.07471449506220205, -0.04613875811067477, -0.17024989453217018, -0.44555445751666967]]],
  ['NAdam', { lr: 0.02, betas: [0.8, 0.99], weightDecay: 0.1, momentumDecay: 0.01 }, [[-0.9440812634169998, 0.9450336425955433, 0.8225453206200962, 0.7038971054213, 0.5695415579042983], [0.41419302214449594, -0.05096137831648444, -0.1444834878023211, 0.047015873511838356, -0.07182933412697959, -0.4597886557650756]]],
  ['RAdam', { lr: 0.01 }, [[-1.0578311847457376, 1.0564610782237889, 0.9486460339491539, 0.8438208488582044, 0.6921553120695452], [0.2673955630671019, 0.07982833868405557, -0.014223822118984278, -0.10755997066684564, -0.2016084019910297, -0.38307706888770027]]],
  ['RAdam', { lr: 0.02, betas: [0.8, 0.99], weightDecay: 0.1, eps: 1e-06 }, [[-0.9725725528353555, 0.9703957026711051, 0.8810074869486767, 0.7972644973314281, 0.6197555930798919], [0.2900368317961178, 0.026712249016807816, -0.03593194338222941, -0.08103408042920447, -0.14378809483248312, -0.39521733366895995]]],
];

describe('against PyTorch 1.13 (ten steps of a quadratic)', () => {
  for (const [kind, opts, want] of TORCH) {
    it(`${kind} ${JSON.stringify(opts)}: the CPU twin to rounding, WebGPU to float32`, async () => {
      const cpu = await runQuadratic(kind, opts, 'cpu');
      const gpu = await runQuadratic(kind, opts, 'webgpu');
      want.forEach((w, k) =>
        w.forEach((v, i) => {
          expect(Math.abs(cpu[k]![i]! - v), `cpu param ${k}[${i}]: ${cpu[k]![i]} vs torch ${v}`).toBeLessThan(1e-13 + 1e-12 * Math.abs(v));
          expect(Math.abs(gpu[k]![i]! - v), `webgpu param ${k}[${i}]: ${gpu[k]![i]} vs torch ${v}`).toBeLessThan(2e-5 + 2e-5 * Math.abs(v));
        }),
      );
    });
  }
});

/** One option set per optimizer that turns on every term its kernel has (weight decay, maximize). */
const FULL: [Kind, Record<string, unknown>][] = [
  ['Adagrad', { lr: 0.1, lrDecay: 0.01, weightDecay: 0.05, initialAccumulatorValue: 0.1, maximize: true }],
  ['Adadelta', { lr: 0.9, rho: 0.85, weightDecay: 0.05, maximize: true }],
  ['Adamax', { lr: 0.01, betas: [0.85, 0.98], weightDecay: 0.05, maximize: true }],
  ['NAdam', { lr: 0.01, weightDecay: 0.05, momentumDecay: 0.01 }],
  // betas[1] = 0.9: ρ_t passes 5 at step 4, so both branches run within the steps below.
  ['RAdam', { lr: 0.01, betas: [0.8, 0.9], weightDecay: 0.05 }],
];

/**
 * `steps` updates with the same seeded gradients on `device`; the parameter's values. With
 * `offset`, the parameter is a contiguous leaf at that offset into a larger buffer (the scalar
 * kernel's unaligned path).
 */
async function runGrads(kind: Kind, opts: Record<string, unknown>, n: number, device: BackendName, steps: number, offset = 0): Promise<Float32Array> {
  const base = tensor(hostValues(n + offset, { seed: n }), { device });
  const p = base.narrow(0, offset, n).detach().requiresGrad_();
  const opt = make(kind, [p], opts);
  for (let t = 0; t < steps; t++) {
    p.grad = tensor(hostValues(n, { seed: 100 * t + n }), { device });
    opt.step();
  }
  const out = await p.data();
  opt.dispose();
  p.grad?.dispose();
  base.dispose();
  return out as Float32Array;
}

describe('the fused WGSL update against the float64 CPU twin', () => {
  for (const [kind, opts] of FULL) {
    it(`${kind}: sizes 1, 3, 17, 129, 1000 (scalar and vec4 kernels) and an unaligned parameter, 6 steps`, async () => {
      for (const [n, offset] of [[1, 0], [3, 0], [17, 0], [129, 0], [1000, 0], [1000, 1], [12, 3]] as const) {
        const want = await runGrads(kind, opts, n, 'cpu', 6, offset);
        const got = await runGrads(kind, opts, n, 'webgpu', 6, offset);
        for (let i = 0; i < n; i++) {
          expect(Math.abs(got[i]! - want[i]!), `${kind} n=${n} offset=${offset} [${i}]: ${got[i]} vs ${want[i]}`).toBeLessThan(1e-5 + 1e-5 * Math.abs(want[i]!));
        }
      }
    });
  }

  it('a non-contiguous gradient is read through a contiguous copy; a non-contiguous parameter is refused up front', async () => {
    for (const [kind, opts] of FULL) {
      const [p, q] = [0, 1].map(() => tensor(hostValues(12, { seed: 7 }), { shape: [3, 4], requiresGrad: true }));
      const g = tensor(hostValues(12, { seed: 8 }), { shape: [4, 3] });
      p!.grad = g.t(); // a transposed view
      q!.grad = g.t().contiguous();
      const [op, oq] = [make(kind, [p!], opts), make(kind, [q!], opts)];
      op.step();
      oq.step();
      expect(await p!.toArray(), kind).toEqual(await q!.toArray());
      const leafView = tensor(hostValues(12, { seed: 9 }), { shape: [4, 3] }).t().requiresGrad_();
      leafView.grad = leafView.detach().zerosLike();
      expect(() => make(kind, [leafView], opts).step()).toThrow(new RegExp(`${kind}: parameter 0 of group 0 \\(shape \\[3, 4\\]\\) is a non-contiguous view; optimize a contiguous tensor`));
      op.dispose();
      oq.dispose();
    }
  });

  it('one dispatch per parameter, for every optimizer', () => {
    const rt = gpuRuntime();
    for (const [kind, opts] of FULL) {
      const params = [[17], [3, 4], [129]].map((s, k) => tensor(hostValues(s.reduce((x, y) => x * y, 1), { seed: k }), { shape: s, requiresGrad: true }));
      const opt = make(kind, params, opts);
      for (const p of params) p.grad = p.onesLike();
      opt.step();
      const before = rt.stats.dispatches;
      opt.step();
      expect(rt.stats.dispatches - before, kind).toBe(params.length);
      opt.dispose();
      for (const p of params) {
        p.grad?.dispose();
        p.dispose();
      }
    }
  });
});

describe('state dicts: PyTorch names, exact resume', () => {
  it("uses PyTorch's state names (camelCased) and NAdam's float32 muProduct", () => {
    const names: Record<Kind, string[]> = {
      Adagrad: ['step', 'sum'],
      Adadelta: ['step', 'squareAvg', 'accDelta'],
      Adamax: ['step', 'expAvg', 'expInf'],
      NAdam: ['step', 'muProduct', 'expAvg', 'expAvgSq'],
      RAdam: ['step', 'expAvg', 'expAvgSq'],
    };
    for (const [kind, opts] of FULL) {
      const p = tensor([1, 2, 3], { requiresGrad: true });
      const opt = make(kind, [p], opts);
      p.grad = tensor([0.5, -1, 2]);
      opt.step();
      opt.step();
      const sd = opt.stateDict();
      expect(Object.keys(sd.state[0]!), kind).toEqual(names[kind]);
      expect(sd.state[0]!.step).toBe(2);
      if (kind === 'NAdam') {
        // torch 1.13: mu_product = tensor(1.); mu_product *= mu twice (float32), μ_t = 0.9·(1 − ½·0.96^(0.01·t))
        const mu = (t: number) => 0.9 * (1 - 0.5 * 0.96 ** (0.01 * t));
        expect(sd.state[0]!.muProduct).toBe(Math.fround(Math.fround(mu(1)) * Math.fround(mu(2))));
      }
      opt.dispose();
    }
  });

  it('Adagrad has its state from construction, as torch (step 0, sum = initialAccumulatorValue)', async () => {
    const p = tensor([1, 2], { requiresGrad: true });
    const q = tensor([3], { requiresGrad: true });
    const opt = new optim.Adagrad([p], { initialAccumulatorValue: 0.5 });
    opt.addParamGroup({ params: [q], initialAccumulatorValue: 0.25 });
    const sd = opt.stateDict();
    expect(Object.keys(sd.state)).toEqual(['0', '1']);
    expect(sd.state[0]!.step).toBe(0);
    expect(await (sd.state[0]!.sum as Tensor).toArray()).toEqual([0.5, 0.5]);
    expect(await (sd.state[1]!.sum as Tensor).toArray()).toEqual([0.25]);
    opt.dispose();
  });

  for (const [kind, opts] of FULL) {
    it(`${kind}: a state dict saved after 3 steps (through a checkpoint) resumes bit for bit`, async () => {
      const grads = (t: number) => [tensor(hostValues(7, { seed: t + 1 })), tensor(hostValues(12, { seed: t + 50 }), { shape: [3, 4] })];
      const mk = () => [tensor(hostValues(7, { seed: 3 }), { requiresGrad: true }), tensor(hostValues(12, { seed: 4 }), { shape: [3, 4], requiresGrad: true })];
      const a = mk();
      const optA = make(kind, a, opts);
      for (let t = 0; t < 3; t++) {
        grads(t).forEach((g, k) => (a[k]!.grad = g));
        optA.step();
      }
      const ck = parseCheckpoint(await serializeCheckpoint({ optimizer: optA.stateDict() as never }));
      const b = await Promise.all(a.map(async (p) => tensor(await p.data(), { shape: p.shape, requiresGrad: true })));
      const optB = make(kind, b, opts);
      optB.loadStateDict(ck.optimizer);
      for (let t = 3; t < 7; t++) {
        grads(t).forEach((g, k) => (a[k]!.grad = g));
        grads(t).forEach((g, k) => (b[k]!.grad = g));
        optA.step();
        optB.step();
      }
      for (let k = 0; k < 2; k++) expect(await b[k]!.toArray()).toEqual(await a[k]!.toArray());
      expect(optB.stateDict().state[0]!.step).toBe(7);
      optA.dispose();
      optB.dispose();
    });
  }
});

describe('validation', () => {
  it("rejects options out of PyTorch's ranges", () => {
    const w = () => [tensor([1], { requiresGrad: true })];
    expect(() => new optim.Adagrad(w(), { lrDecay: -1 })).toThrow(/Adagrad: invalid lrDecay value: -1/);
    expect(() => new optim.Adagrad(w(), { initialAccumulatorValue: -0.1 })).toThrow(/invalid initialAccumulatorValue value/);
    expect(() => new optim.Adadelta(w(), { rho: 1.5 })).toThrow(/Adadelta: invalid rho value: 1.5/);
    expect(() => new optim.Adamax(w(), { betas: [0.9, 1] })).toThrow(/Adamax: invalid beta parameter at index 1 value: 1/);
    expect(() => new optim.NAdam(w(), { momentumDecay: -1 })).toThrow(/NAdam: invalid momentumDecay value: -1/);
    expect(() => new optim.RAdam(w(), { eps: -1 })).toThrow(/RAdam: invalid epsilon value: -1/);
    expect(() => new optim.RAdam(w(), { lr: Number.NaN })).toThrow(/RAdam: invalid learning rate value/);
  });

  it('a failing step updates nothing: no parameter, no step count, no muProduct', async () => {
    const ps = [tensor([1, 2], { requiresGrad: true }), tensor([3, 4], { requiresGrad: true })];
    const opt = new optim.NAdam(ps, { lr: 0.1 });
    ps.forEach((p) => (p.grad = tensor([1, 1])));
    opt.step();
    const before = await Promise.all(ps.map((p) => p.toArray()));
    const mu = opt.state.get(ps[0]!)!.scalars.muProduct;
    ps[1]!.grad = tensor([1, 1, 1]); // wrong shape, found after a valid parameter
    expect(() => opt.step()).toThrow(/NAdam: the gradient of parameter 1 of group 0 \(shape \[2\]\) has shape \[3\]/);
    expect(await Promise.all(ps.map((p) => p.toArray()))).toEqual(before);
    expect(opt.state.get(ps[0]!)!.step).toBe(1);
    expect(opt.state.get(ps[0]!)!.scalars.muProduct).toBe(mu);
    opt.dispose();
  });
});
