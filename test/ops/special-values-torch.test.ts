// Special values where PyTorch itself defines the result — softmax and cross entropy of rows
// holding NaN, ±Inf, ±0, subnormals and ±1e30, and the gradients of maximum/minimum and max at
// NaN — checked on both backends against torch 1.13's own output (the generating snippet is beside
// each table). The unary ops and activations are in special-values.test.ts.
import { describe, expect, it } from 'vitest';
import { crossEntropy, tensor, type Tensor } from '../../src/index.ts';
import { useGpu } from '../helpers/gpu.ts';
import { SPECIAL, TOL, sameValue } from '../helpers/special-values.ts';

useGpu();

const DEVICES = ['cpu', 'webgpu'] as const;

/** Mismatches of `got` (float64 on the CPU: rounded first, as torch's float32 was) against torch's `want`. */
function differences(what: string, got: ArrayLike<number>, want: readonly number[]): string[] {
  const bad: string[] = [];
  for (let i = 0; i < want.length; i++) {
    if (!sameValue(Math.fround(got[i]!), want[i]!, 'float32', TOL)) bad.push(`${what}[${i}] = ${got[i]}, torch ${want[i]}`);
  }
  return bad;
}

/**
 * Rows [v, 1, −1] for v in SPECIAL, then [−∞, −∞, −∞]; y and the input gradient for the upstream
 * gradient g = arange(36).reshape(12, 3)/10 − 1.5 (softmax, logSoftmax) or ones (cross entropy):
 *   S = [nan, inf, -inf, 0., -0., 1e-40, -1e-40, 1e30, -1e30, 1., -1.]
 *   x = torch.tensor([[v, 1., -1.] for v in S] + [[-inf] * 3], requires_grad=True)
 *   torch.softmax(x, 1).backward(g); torch.log_softmax(x, 1).backward(g)
 *   F.cross_entropy(x, torch.full((12,), t), reduction='none', label_smoothing=eps).sum().backward()
 */
const ROWS: Record<string, { y: number[]; g: number[] }> = {
  'softmax': { y: [NaN, NaN, NaN, NaN, NaN, NaN, 0, 0.8807970285415649, 0.11920291185379028, 0.2447284758090973, 0.6652409434318542, 0.09003057330846786, 0.2447284758090973, 0.6652409434318542, 0.09003057330846786, 0.2447284758090973, 0.6652409434318542, 0.09003057330846786, 0.2447284758090973, 0.6652409434318542, 0.09003057330846786, 1, 0, 0, 0, 0.8807970285415649, 0.11920291185379028, 0.46831053495407104, 0.46831053495407104, 0.06337893754243851, 0.10650697350502014, 0.7869859933853149, 0.10650697350502014, NaN, NaN, NaN],
    g: [NaN, NaN, NaN, NaN, NaN, NaN, 0, -0.010499393567442894, 0.010499355383217335, -0.020686956122517586, 0.010291137732565403, 0.01039581373333931, -0.020686933770775795, 0.010291117243468761, 0.010395810939371586, -0.020686956122517586, 0.010291137732565403, 0.01039581373333931, -0.02068694867193699, 0.01029115729033947, 0.010395816527307034, 0, 0, 0, 0, -0.010499289259314537, 0.010499355383217335, -0.02786770462989807, 0.018963303416967392, 0.008904307149350643, -0.010650686919689178, 0, 0.010650712996721268, NaN, NaN, NaN] },
  'logSoftmax': { y: [NaN, NaN, NaN, NaN, NaN, NaN, -Infinity, -0.12692804634571075, -2.1269280910491943, -1.4076058864593506, -0.40760594606399536, -2.4076058864593506, -1.4076058864593506, -0.40760594606399536, -2.4076058864593506, -1.4076058864593506, -0.40760594606399536, -2.4076058864593506, -1.4076058864593506, -0.40760594606399536, -2.4076058864593506, 0, -1.0000000150474662e+30, -1.0000000150474662e+30, -1.0000000150474662e+30, -0.12692804634571075, -2.1269280910491943, -0.7586236596107483, -0.7586236596107483, -2.7586236000061035, -2.2395448684692383, -0.2395448386669159, -2.2395448684692383, NaN, NaN, NaN],
    g: [NaN, NaN, NaN, NaN, NaN, NaN, -0.8999999761581421, 1.3139129877090454, -0.41391298174858093, -0.23290729522705078, 0.49786150455474854, -0.2649540901184082, -0.1531628519296646, 0.19914457201957703, -0.045981671661138535, -0.07341856509447098, -0.0995723232626915, 0.17299087345600128, 0.006325780879706144, -0.39828917384147644, 0.39196330308914185, -1.5, 0.7000000476837158, 0.7999999523162842, 0.9000000953674316, -1.6423910856246948, 0.7423911690711975, -0.6264110803604126, -0.5264111757278442, 1.1528222560882568, 0.9887665510177612, -2.177532911300659, 1.188766598701477, NaN, NaN, NaN] },
  'crossEntropy target 0': { y: [NaN, NaN, Infinity, 1.4076058864593506, 1.4076058864593506, 1.4076058864593506, 1.4076058864593506, 0, 1.0000000150474662e+30, 0.7586236596107483, 2.2395448684692383, NaN],
    g: [NaN, NaN, NaN, NaN, NaN, NaN, -1, 0.8807970285415649, 0.11920291185379028, -0.7552714943885803, 0.665241003036499, 0.09003058075904846, -0.7552714943885803, 0.665241003036499, 0.09003058075904846, -0.7552714943885803, 0.665241003036499, 0.09003058075904846, -0.7552714943885803, 0.665241003036499, 0.09003058075904846, 0, 0, 0, -1, 0.8807970285415649, 0.11920291185379028, -0.531689465045929, 0.46831053495407104, 0.0633789449930191, -0.8934930562973022, 0.7869859933853149, 0.10650696605443954, NaN, NaN, NaN] },
  'crossEntropy target 1': { y: [NaN, NaN, 0.12692804634571075, 0.40760594606399536, 0.40760594606399536, 0.40760594606399536, 0.40760594606399536, 1.0000000150474662e+30, 0.12692804634571075, 0.7586236596107483, 0.2395448386669159, NaN],
    g: [NaN, NaN, NaN, NaN, NaN, NaN, 0, -0.11920297145843506, 0.11920291185379028, 0.24472849071025848, -0.334758996963501, 0.09003058075904846, 0.24472849071025848, -0.334758996963501, 0.09003058075904846, 0.24472849071025848, -0.334758996963501, 0.09003058075904846, 0.24472849071025848, -0.334758996963501, 0.09003058075904846, 1, -1, 0, 0, -0.11920297145843506, 0.11920291185379028, 0.46831053495407104, -0.531689465045929, 0.0633789449930191, 0.10650696605443954, -0.21301400661468506, 0.10650696605443954, NaN, NaN, NaN] },
  'crossEntropy target 1, smoothing 0.1': { y: [NaN, NaN, Infinity, 0.5076059103012085, 0.5076059103012085, 0.5076059103012085, 0.5076059103012085, 9.666666812125507e+29, 3.333333619609878e+28, 0.825290322303772, 0.37287816405296326, NaN],
    g: [NaN, NaN, NaN, NaN, NaN, NaN, -0.03333333507180214, -0.05253630876541138, 0.08586958050727844, 0.21139515936374664, -0.2680923342704773, 0.05669724568724632, 0.21139515936374664, -0.2680923342704773, 0.05669724568724632, 0.21139515936374664, -0.2680923342704773, 0.05669724568724632, 0.21139515936374664, -0.2680923342704773, 0.05669724568724632, 0.9666666388511658, -0.9333333373069763, -0.03333333507180214, -0.03333333507180214, -0.05253630876541138, 0.08586958050727844, 0.4349772036075592, -0.4650228023529053, 0.030045609921216965, 0.0731736272573471, -0.14634734392166138, 0.0731736272573471, NaN, NaN, NaN] },
};

const ROW_OPS: Record<string, (x: Tensor) => Tensor> = {
  softmax: (x) => x.softmax(1),
  logSoftmax: (x) => x.logSoftmax(1),
  'crossEntropy target 0': (x) => crossEntropy(x, tensor(new Array(12).fill(0), { dtype: 'int32', device: x.device }), { reduction: 'none' }),
  'crossEntropy target 1': (x) => crossEntropy(x, tensor(new Array(12).fill(1), { dtype: 'int32', device: x.device }), { reduction: 'none' }),
  'crossEntropy target 1, smoothing 0.1': (x) => crossEntropy(x, tensor(new Array(12).fill(1), { dtype: 'int32', device: x.device }), { reduction: 'none', labelSmoothing: 0.1 }),
};

/**
 * Gradients of torch.maximum / minimum over every ordered pair (a, b) of SPECIAL (a major):
 *   a = torch.tensor([v for v in S for w in S], requires_grad=True); b likewise with w
 *   torch.maximum(a, b).sum().backward()  # ties halve, NaN gives both operands the gradient
 */
const BINARY: Record<'maximum' | 'minimum', { ga: number[]; gb: number[] }> = {
  maximum: { ga: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0.5, 0.5, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0.5, 0.5, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 1, 0.5, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0, 0, 0.5, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0.5, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0.5, 0, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0.5, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0.5],
    gb: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0.5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0.5, 0.5, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0.5, 0.5, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0.5, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 1, 0.5, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0.5, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0.5, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0.5, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0.5] },
  minimum: { ga: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0.5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0.5, 0.5, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0.5, 0.5, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0.5, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 1, 0.5, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0.5, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0.5, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0.5, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0.5],
    gb: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0.5, 0.5, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0.5, 0.5, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 1, 0.5, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0, 0, 0.5, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0.5, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0.5, 0, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0.5, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0.5] },
};

describe('special values against torch 1.13', () => {
  for (const device of DEVICES) {
    it(`${device}: softmax, logSoftmax and crossEntropy of rows holding special values, forward and backward`, async () => {
      const bad: string[] = [];
      const rows = [...SPECIAL.flatMap((v) => [v, 1, -1]), -Infinity, -Infinity, -Infinity];
      const g = Array.from({ length: 36 }, (_, i) => i / 10 - 1.5);
      for (const [name, f] of Object.entries(ROW_OPS)) {
        const x = tensor(rows, { shape: [12, 3], device, requiresGrad: true });
        const y = f(x);
        const up = name.startsWith('cross') ? y.onesLike() : tensor(g, { shape: [12, 3], device });
        y.backward(up);
        bad.push(...differences(`${name} y`, await y.data(), ROWS[name]!.y), ...differences(`${name} grad`, await x.grad!.data(), ROWS[name]!.g));
        for (const t of [x, y, up]) t.dispose();
      }
      expect(bad, bad.join('\n')).toEqual([]);
    });

    it(`${device}: maximum and minimum give both operands the gradient at a NaN, half each on ties`, async () => {
      const bad: string[] = [];
      for (const op of ['maximum', 'minimum'] as const) {
        const a = tensor(SPECIAL.flatMap((v) => SPECIAL.map(() => v)), { device, requiresGrad: true });
        const b = tensor(SPECIAL.flatMap(() => SPECIAL), { device, requiresGrad: true });
        const y = a[op](b);
        y.backward(y.onesLike());
        bad.push(...differences(`${op} grad a`, await a.grad!.data(), BINARY[op].ga), ...differences(`${op} grad b`, await b.grad!.data(), BINARY[op].gb));
        for (const t of [a, b, y]) t.dispose();
      }
      expect(bad, bad.join('\n')).toEqual([]);
    });

    // torch: x = torch.tensor([nan, 1., nan, inf], requires_grad=True); x.max().backward() → [0.5, 0, 0.5, 0]
    //        x = torch.tensor([inf, 1., inf, -inf], requires_grad=True); x.max().backward() → [0.5, 0, 0.5, 0]
    it(`${device}: max over all elements sends the gradient to the NaNs (shared), as torch's x.max()`, async () => {
      for (const [values, want] of [[[NaN, 1, NaN, Infinity], [0.5, 0, 0.5, 0]], [[Infinity, 1, Infinity, -Infinity], [0.5, 0, 0.5, 0]]]) {
        const x = tensor(values!, { device, requiresGrad: true });
        x.max().backward();
        expect(Array.from(await x.grad!.data())).toEqual(want);
        x.dispose();
      }
    });
  }
});
