// nn.Module: registration order, traversal, modes, zeroGrad, printing (PyTorch's print(model)
// line for line), state dicts and their errors, containers, and PyTorch-default initialisation.
import { describe, expect, it } from 'vitest';
import { manualSeed, nn, ones, scope, tensor, zeros, type Tensor } from '../../src/index.ts';
import { useGpu } from '../helpers/gpu.ts';

useGpu();

/** Seed 004's model, written as the tutorial writes it. */
class NeuralNet extends nn.Module {
  input_layer = new nn.Linear(28 * 28, 128);
  hidden_layer = new nn.Linear(128, 128);
  output_layer = new nn.Linear(128, 10);
  relu = new nn.ReLU();

  override forward(x: Tensor): Tensor {
    x = this.input_layer.call(x);
    x = this.relu.call(x);
    x = this.hidden_layer.call(x);
    x = this.relu.call(x);
    return this.output_layer.call(x);
  }
}

describe('printing', () => {
  it("seed 004's model prints the tutorial's lines", () => {
    // From 004_c05f1281b3dd7d4e.txt, `print(model)`:
    const tutorial = [
      'NeuralNet(',
      '  (input_layer): Linear(in_features=784, out_features=128, bias=True)',
      '  (hidden_layer): Linear(in_features=128, out_features=128, bias=True)',
      '  (output_layer): Linear(in_features=128, out_features=10, bias=True)',
      '  (relu): ReLU()',
      ')',
    ];
    expect(new NeuralNet().toString().split('\n')).toEqual(tutorial);
    expect(`${new NeuralNet()}`).toBe(tutorial.join('\n'));
  });

  it('every layer prints as PyTorch 1.13 prints it', () => {
    const m = new nn.Sequential(
      new nn.Linear(3, 4), new nn.Linear(3, 4, { bias: false }), new nn.Conv2d(1, 20, 5),
      new nn.Conv2d(1, 2, [3, 5], { stride: 2, padding: 1, bias: false, dilation: 2 }),
      new nn.MaxPool2d(2), new nn.MaxPool2d(3, { stride: 1, padding: 1, ceilMode: true }), new nn.AvgPool2d(2),
      new nn.ReLU(), new nn.Sigmoid(), new nn.Tanh(), new nn.GELU(), new nn.GELU({ approximate: 'tanh' }),
      new nn.Dropout(), new nn.Dropout(0.2), new nn.Dropout2d(), new nn.Flatten(), new nn.Softmax(1), new nn.LogSoftmax(1), new nn.Softmax(), new nn.Identity(),
      new nn.BatchNorm1d(10), new nn.BatchNorm2d(20, { momentum: null, affine: false }), new nn.LayerNorm(10), new nn.LayerNorm([3, 4], { eps: 1e-6, elementwiseAffine: false }),
      new nn.ModuleList([new nn.ReLU(), new nn.Sequential(new nn.Tanh())]),
      new nn.CrossEntropyLoss(), new nn.NLLLoss(), new nn.MSELoss(), new nn.BCELoss(), new nn.BCEWithLogitsLoss(), new nn.Sequential(),
    );
    // torch.nn.Sequential(<the same layers>) printed by PyTorch 1.13:
    expect(m.toString()).toBe(`Sequential(
  (0): Linear(in_features=3, out_features=4, bias=True)
  (1): Linear(in_features=3, out_features=4, bias=False)
  (2): Conv2d(1, 20, kernel_size=(5, 5), stride=(1, 1))
  (3): Conv2d(1, 2, kernel_size=(3, 5), stride=(2, 2), padding=(1, 1), dilation=(2, 2), bias=False)
  (4): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  (5): MaxPool2d(kernel_size=3, stride=1, padding=1, dilation=1, ceil_mode=True)
  (6): AvgPool2d(kernel_size=2, stride=2, padding=0)
  (7): ReLU()
  (8): Sigmoid()
  (9): Tanh()
  (10): GELU(approximate='none')
  (11): GELU(approximate='tanh')
  (12): Dropout(p=0.5, inplace=False)
  (13): Dropout(p=0.2, inplace=False)
  (14): Dropout2d(p=0.5, inplace=False)
  (15): Flatten(start_dim=1, end_dim=-1)
  (16): Softmax(dim=1)
  (17): LogSoftmax(dim=1)
  (18): Softmax(dim=None)
  (19): Identity()
  (20): BatchNorm1d(10, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
  (21): BatchNorm2d(20, eps=1e-05, momentum=None, affine=False, track_running_stats=True)
  (22): LayerNorm((10,), eps=1e-05, elementwise_affine=True)
  (23): LayerNorm((3, 4), eps=1e-06, elementwise_affine=False)
  (24): ModuleList(
    (0): ReLU()
    (1): Sequential(
      (0): Tanh()
    )
  )
  (25): CrossEntropyLoss()
  (26): NLLLoss()
  (27): MSELoss()
  (28): BCELoss()
  (29): BCEWithLogitsLoss()
  (30): Sequential()
)`);
    m.dispose();
  });
});

describe('registration and traversal', () => {
  class Block extends nn.Module {
    scale: nn.Parameter;
    fc: nn.Linear;
    plain: Tensor; // a plain tensor field is not registered (as in PyTorch)
    constructor() {
      super();
      this.scale = new nn.Parameter(ones([2]));
      this.fc = new nn.Linear(2, 2);
      this.plain = zeros([2]);
      this.registerBuffer('count', zeros([1]));
      this.registerBuffer('cache', zeros([2]), { persistent: false });
    }
  }
  class Net extends nn.Module {
    a = new Block();
    shared = new nn.Linear(2, 3);
    b = new nn.Sequential(new nn.ReLU(), this.shared);
    head: nn.Linear | null = null;
  }

  it("finds parameters, buffers and children in PyTorch's order, shared ones once", () => {
    const net = new Net();
    expect(net.namedParameters().map(([k]) => k)).toEqual(['a.scale', 'a.fc.weight', 'a.fc.bias', 'shared.weight', 'shared.bias']);
    expect(net.parameters()).toHaveLength(5);
    expect(net.namedBuffers().map(([k]) => k)).toEqual(['a.count', 'a.cache']);
    expect(net.namedChildren().map(([k]) => k)).toEqual(['a', 'shared', 'b']);
    expect(net.namedModules().map(([k]) => k)).toEqual(['', 'a', 'a.fc', 'shared', 'b', 'b.0']);
    expect(net.modules()).toHaveLength(6);
    expect(net.children()[0]).toBe(net.a);
    // The state dict has every path (shared modules under each name) and persistent buffers only.
    expect(Object.keys(net.stateDict())).toEqual(['a.scale', 'a.count', 'a.fc.weight', 'a.fc.bias', 'shared.weight', 'shared.bias', 'b.1.weight', 'b.1.bias']);
    expect(net.getParameter('b.1.weight')).toBe(net.shared.weight);
    expect(net.getSubmodule('a.fc')).toBe(net.a.fc);
    expect(() => net.getSubmodule('a.nope')).toThrow(/Block has no submodule "nope"/);
    // Assigning a field registers; null unregisters; reassignment keeps the position.
    net.head = new nn.Linear(3, 1);
    expect(net.namedChildren().map(([k]) => k)).toEqual(['a', 'shared', 'b', 'head']);
    net.a = new Block();
    expect(net.namedChildren().map(([k]) => k)).toEqual(['a', 'shared', 'b', 'head']);
    net.head = null;
    expect(net.namedChildren().map(([k]) => k)).toEqual(['a', 'shared', 'b']);
    expect(net.numParameters()).toBe(2 + 6 + 9);
    expect(() => net.registerParameter('x', zeros([1]) as nn.Parameter)).toThrow(/must be an nn.Parameter/);
    expect(() => net.registerBuffer('a', zeros([1]))).toThrow(/already exists as a module/);
  });

  it('train()/eval() reach every module; apply() visits children first', () => {
    const net = new Net();
    expect(net.training && net.a.fc.training).toBe(true);
    net.eval();
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.train();
    expect(net.modules().every((m) => m.training)).toBe(true);
    const order: string[] = [];
    net.apply((m) => order.push(m.constructor.name));
    // As in PyTorch, a module shared by two parents (`shared`, also b[1]) is visited under each.
    expect(order).toEqual(['Linear', 'Block', 'Linear', 'ReLU', 'Linear', 'Sequential', 'Net']);
  });

  it('zeroGrad disposes grads (setToNone) or zeroes them; requiresGrad_ freezes', async () => {
    const fc = new nn.Linear(3, 2);
    fc.call(ones([4, 3])).sum().backward();
    expect(fc.weight.grad).not.toBeNull();
    const g = fc.bias!.grad!;
    expect(await g.toArray()).toEqual([4, 4]);
    fc.zeroGrad({ setToNone: false });
    expect(fc.bias!.grad).toBe(g);
    expect(await g.toArray()).toEqual([0, 0]);
    fc.zeroGrad();
    expect(fc.weight.grad).toBeNull();
    expect(g.disposed).toBe(true);
    fc.requiresGrad_(false);
    expect(fc.parameters().every((p) => !p.requiresGrad)).toBe(true);
    expect(fc.numParameters({ trainableOnly: true })).toBe(0);
  });

  it('parameters outlive scopes; dispose() frees them', async () => {
    const fc = scope(() => new nn.Linear(2, 2));
    expect(fc.weight.disposed).toBe(false);
    fc.dispose();
    expect(fc.weight.disposed).toBe(true);
  });
});

describe('containers', () => {
  it('Sequential: indexing, iteration, append/insert, named form, forward', async () => {
    const s = new nn.Sequential(new nn.Linear(2, 3), new nn.ReLU());
    expect(s.length).toBe(2);
    expect(s[0]).toBeInstanceOf(nn.Linear);
    expect(s.at(-1)).toBeInstanceOf(nn.ReLU);
    s.append(new nn.Linear(3, 1));
    s.insert(1, new nn.Identity());
    expect([...s].map((m) => m.constructor.name)).toEqual(['Linear', 'Identity', 'ReLU', 'Linear']);
    expect(Object.keys(s.stateDict())).toEqual(['0.weight', '0.bias', '3.weight', '3.bias']);
    const named = new nn.Sequential({ conv: new nn.Conv2d(1, 2, 3), act: new nn.ReLU() });
    expect(named.toString()).toBe('Sequential(\n  (conv): Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1))\n  (act): ReLU()\n)');
    const y = s.call(ones([5, 2]));
    expect(y.shape).toEqual([5, 1]);
    y.sum().backward();
    expect(s.at(0).parameters().every((p) => p.grad !== null)).toBe(true);
  });

  it('ModuleList registers its modules', () => {
    const l = new nn.ModuleList([new nn.Linear(2, 2), new nn.Linear(2, 2)]);
    l.append(new nn.Linear(2, 1));
    expect(l.length).toBe(3);
    expect(l.parameters()).toHaveLength(6);
    expect(() => l.forward()).toThrow(/forward\(\) is not implemented/);
    expect(() => l.at(3)).toThrow(/index 3 is out of range for 3 modules/);
  });
});

describe('state dicts', () => {
  it('round-trip between two models', async () => {
    manualSeed(1);
    const a = new NeuralNet();
    const b = new NeuralNet();
    expect(await b.input_layer.bias!.toArray()).not.toEqual(await a.input_layer.bias!.toArray());
    const res = b.loadStateDict(a.stateDict());
    expect(res).toEqual({ missingKeys: [], unexpectedKeys: [] });
    for (const [k, t] of Object.entries(a.stateDict())) expect(await b.stateDict()[k]!.toArray()).toEqual(await t.toArray());
    // Copies, not aliases.
    expect(b.input_layer.weight.storage).not.toBe(a.input_layer.weight.storage);
  });

  it('missing and unexpected keys are named; nothing is copied on error', async () => {
    const a = new NeuralNet();
    const b = new NeuralNet();
    const before = await b.output_layer.bias!.toArray();
    const sd = { ...a.stateDict() };
    delete sd['hidden_layer.bias'];
    sd['extra.weight'] = zeros([1]);
    let err: nn.StateDictError | null = null;
    try {
      b.loadStateDict(sd);
    } catch (e) {
      err = e as nn.StateDictError;
    }
    expect(err).toBeInstanceOf(nn.StateDictError);
    expect(err!.message).toMatch(/loadStateDict: error\(s\) loading the state dict into NeuralNet:/);
    expect(err!.message).toMatch(/missing key\(s\) in the state dict: "hidden_layer.bias"/);
    expect(err!.message).toMatch(/unexpected key\(s\) in the state dict: "extra.weight"/);
    expect(err!.missingKeys).toEqual(['hidden_layer.bias']);
    expect(err!.unexpectedKeys).toEqual(['extra.weight']);
    expect(await b.output_layer.bias!.toArray()).toEqual(before);
    // strict: false reports them instead and copies the rest.
    expect(b.loadStateDict(sd, { strict: false })).toEqual({ missingKeys: ['hidden_layer.bias'], unexpectedKeys: ['extra.weight'] });
    expect(await b.output_layer.bias!.toArray()).toEqual(await a.output_layer.bias!.toArray());
  });

  it('a shape mismatch names the key and both shapes, even when not strict', () => {
    const a = new nn.Sequential(new nn.Linear(4, 10), new nn.Linear(10, 5));
    const b = new nn.Sequential(new nn.Linear(4, 10), new nn.Linear(10, 3));
    const msg = /size mismatch for 1\.weight: copying a tensor of shape \[5, 10\] from the state dict, the shape in the current module is \[3, 10\]/;
    expect(() => b.loadStateDict(a.stateDict())).toThrow(msg);
    expect(() => b.loadStateDict(a.stateDict(), { strict: false })).toThrow(msg);
    try {
      b.loadStateDict(a.stateDict());
    } catch (e) {
      expect((e as nn.StateDictError).mismatches).toEqual([
        { key: '1.weight', expected: [3, 10], got: [5, 10] },
        { key: '1.bias', expected: [3], got: [5] },
      ]);
    }
  });

  it('buffers (BatchNorm running statistics) are in the state dict under PyTorch names', async () => {
    const bn = new nn.BatchNorm1d(3);
    expect(Object.keys(bn.stateDict())).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    expect(bn.stateDict().num_batches_tracked!.dtype).toBe('int32');
    const other = new nn.BatchNorm1d(3);
    other.call(tensor([[1, 2, 3], [3, 5, 9]]));
    bn.loadStateDict(other.stateDict());
    expect(await bn.runningMean!.toArray()).toEqual([expect.closeTo(0.2, 6), expect.closeTo(0.35, 6), expect.closeTo(0.6, 6)]);
    expect(await bn.numBatchesTracked!.item()).toBe(1);
  });
});

describe('initialisation (PyTorch defaults, seeded)', () => {
  /** min, max, mean and std of a tensor's values. */
  async function stats(t: Tensor) {
    const v = await t.data();
    let mn = Infinity, mx = -Infinity, s = 0, s2 = 0;
    for (const x of v) {
      mn = Math.min(mn, x);
      mx = Math.max(mx, x);
      s += x;
      s2 += x * x;
    }
    const mean = s / v.length;
    return { mn, mx, mean, std: Math.sqrt(s2 / v.length - mean * mean) };
  }

  it('Linear: weight U(±1/√fan_in) (kaiming-uniform, a = √5), bias U(±1/√fan_in)', async () => {
    manualSeed(0);
    const fc = new nn.Linear(784, 500);
    const bound = 1 / Math.sqrt(784);
    const w = await stats(fc.weight);
    expect(w.mn).toBeGreaterThanOrEqual(-bound);
    expect(w.mx).toBeLessThanOrEqual(bound);
    expect(w.mn).toBeLessThan(-0.99 * bound);
    expect(w.std).toBeCloseTo(bound / Math.sqrt(3), 3);
    expect(Math.abs(w.mean)).toBeLessThan(1e-4);
    const b = await stats(fc.bias!);
    expect(b.mn).toBeGreaterThanOrEqual(-bound);
    expect(b.mx).toBeLessThanOrEqual(bound);
    expect(b.std).toBeCloseTo(bound / Math.sqrt(3), 2);
  });

  it('Conv2d: fan_in = in/groups · kH · kW', async () => {
    manualSeed(0);
    const conv = new nn.Conv2d(20, 30, 5);
    expect(conv.weight.shape).toEqual([30, 20, 5, 5]);
    const bound = 1 / Math.sqrt(20 * 25);
    const w = await stats(conv.weight);
    expect(w.mx).toBeLessThanOrEqual(bound);
    expect(w.mn).toBeGreaterThanOrEqual(-bound);
    expect(w.std).toBeCloseTo(bound / Math.sqrt(3), 3);
    const b = await stats(conv.bias!);
    expect(b.mx).toBeLessThanOrEqual(bound);
  });

  it('manualSeed makes initialisation reproducible on both backends', async () => {
    manualSeed(42);
    const a = await new nn.Linear(10, 7).weight.data();
    manualSeed(42);
    const b = await new nn.Linear(10, 7).weight.data();
    manualSeed(42);
    const c = await new nn.Linear(10, 7, { device: 'cpu' }).weight.data();
    manualSeed(43);
    const d = await new nn.Linear(10, 7).weight.data();
    expect(b).toEqual(a);
    c.forEach((v, i) => expect(v).toBeCloseTo(a[i]!, 6));
    expect(d).not.toEqual(a);
  });

  it('nn.init functions and calculateGain', async () => {
    expect(nn.init.calculateGain('relu')).toBeCloseTo(Math.SQRT2, 12);
    expect(nn.init.calculateGain('tanh')).toBeCloseTo(5 / 3, 12);
    expect(nn.init.calculateGain('leaky_relu')).toBeCloseTo(Math.sqrt(2 / (1 + 0.01 ** 2)), 12);
    expect(nn.init.calculateGain('leaky_relu', Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3), 12);
    expect(nn.init.calculateGain('selu')).toBe(0.75);
    expect(nn.init.calculateGain('conv2d')).toBe(1);
    manualSeed(3);
    const t = zeros([400, 300]);
    nn.init.xavierUniform_(t);
    let s = await stats(t);
    const a = Math.sqrt(6 / 700);
    expect(s.mx).toBeLessThanOrEqual(a);
    expect(s.std).toBeCloseTo(a / Math.sqrt(3), 3);
    nn.init.xavierNormal_(t, 2);
    expect((await stats(t)).std).toBeCloseTo(2 * Math.sqrt(2 / 700), 3);
    nn.init.kaimingNormal_(t, { mode: 'fan_out', nonlinearity: 'relu' });
    expect((await stats(t)).std).toBeCloseTo(Math.SQRT2 / Math.sqrt(400), 3);
    nn.init.kaimingUniform_(t, { nonlinearity: 'relu' });
    s = await stats(t);
    expect(s.mx).toBeLessThanOrEqual(Math.sqrt(6 / 300));
    nn.init.normal_(t, 1, 0.5);
    s = await stats(t);
    expect(s.mean).toBeCloseTo(1, 2);
    expect(s.std).toBeCloseTo(0.5, 2);
    nn.init.uniform_(t, 2, 3);
    s = await stats(t);
    expect(s.mn).toBeGreaterThanOrEqual(2);
    expect(s.mx).toBeLessThan(3);
    nn.init.constant_(t, 0.25);
    expect((await stats(t)).mn).toBe(0.25);
    nn.init.zeros_(t);
    expect((await stats(t)).mx).toBe(0);
    nn.init.ones_(t);
    expect((await stats(t)).mn).toBe(1);
    // On parameters (leaves that require grad) too: init runs without recording.
    const p = new nn.Parameter(zeros([3, 3]));
    nn.init.kaimingUniform_(p);
    expect(p.isLeaf && p.requiresGrad).toBe(true);
    expect(() => nn.init.xavierUniform_(zeros([3]))).toThrow(/fewer than 2 dimensions/);
  });
});
