// The FinalizationRegistry safety net: a training loop written without scope() or dispose()
// must stay bounded, so every tensor of an autograd graph has to become collectable once the
// program no longer reaches it (no strong cycle through the finalizer's held value, the graph
// nodes, saved tensors or a leaf's gradient).
import { describe, expect, it } from 'vitest';
import { F, cat, memory, manualSeed, nn, optim, randint, randn, stack, type Tensor } from '../src/index.ts';
import { useGpu } from './helpers/gpu.ts';
import { collectGarbage } from './helpers/gc.ts';

useGpu();

/** Live tensors and GPU bytes in use: what a careless loop must not grow. */
function usage() {
  const m = memory();
  return { liveTensors: m.liveTensors, bytesInUse: m.webgpu!.bytesInUse };
}

/**
 * What may survive a collection although the program dropped it: optimised code can keep the
 * last iteration's values in a stack slot for a while, so a tensor or two (of at most
 * `maxBytes` each) may linger; a leak instead grows with the number of iterations.
 */
function expectNoGrowth(now: ReturnType<typeof usage>, base: ReturnType<typeof usage>, maxBytes: number, what: string): void {
  expect(now.liveTensors - base.liveTensors, `${what}: live tensors`).toBeLessThanOrEqual(2);
  expect(now.bytesInUse - base.bytesInUse, `${what}: GPU bytes in use`).toBeLessThanOrEqual(2 * maxBytes);
}

describe('careless loops (no scope, no dispose) under forced GC', () => {
  it('2000 steps of an MLP training loop keep live tensors and GPU bytes flat', async () => {
    manualSeed(3);
    const model = new nn.Sequential(new nn.Linear(8, 16), new nn.ReLU(), new nn.Dropout(0.25), new nn.Linear(16, 4));
    const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
    const x = randn(32, 8);
    const y = randint(0, 4, [32]);
    const step = (): Tensor => {
      opt.zeroGrad();
      const loss = F.crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
      return loss;
    };
    // Warm-up: Adam's state and the gradients exist from here on.
    for (let i = 0; i < 3; i++) step();
    await step().item();
    await collectGarbage();
    const base = usage();
    let peak = base.liveTensors;
    let last = NaN;
    for (let i = 1; i <= 2000; i++) {
      if (i % 200 !== 0) {
        step();
        continue;
      }
      last = await step().item();
      peak = Math.max(peak, memory().liveTensors);
      await collectGarbage();
      // Everything a step made is gone after one collection: the loop is bounded by what
      // accumulates between two collections, not by the number of steps.
      expectNoGrowth(usage(), base, 32 * 16 * 4, `after step ${i}`);
    }
    expect(Number.isFinite(last)).toBe(true);
    // Between collections at most 200 steps' worth of garbage (a handful of tensors per step).
    expect(peak - base.liveTensors).toBeLessThan(200 * 20);
  });

  // Each family keeps different things in its graph nodes (saved tensors, closures in attrs,
  // index tensors, random state): after one collection, none of it may survive.
  const families: Record<string, (w: Tensor) => void> = {
    'elementwise and reductions': (w) => w.mul(randn(4, 4)).exp().sum().backward(),
    views: (w) => w.mul(2).permute(1, 0).reshape(16).slice(0, 2, 10).unsqueeze(0).expand(3, 8).transpose(0, 1).contiguous().sum().backward(),
    'a graph that is never differentiated': (w) => void w.mul(2).t().flatten().softmax(0).max(),
    'crossEntropy and nllLoss': (w) => {
      F.crossEntropy(w, randint(0, 4, [4])).backward();
      F.nllLoss(w.logSoftmax(1), randint(0, 4, [4])).backward();
    },
    'pointwise losses': (w) => {
      F.binaryCrossEntropy(w.sigmoid(), randn(4, 4).gt(0).float()).backward();
      F.mseLoss(w, randn(4, 4)).backward();
    },
    'conv, pooling, dropout': (w) => {
      const img = w.reshape(1, 1, 4, 4).expand(2, 3, 4, 4);
      F.conv2d(img, randn(2, 3, 3, 3), randn(2), { padding: 1 }).maxPool2d(2).dropout(0.5).avgPool2d(2).sum().backward();
    },
    'cat, stack, split': (w) => {
      const parts = cat([w, w.mul(2)]).split(3);
      stack(parts.slice(0, 2).map((p) => p.sum(0))).sum().backward();
    },
    'layers made and dropped inside the loop (normalization, GELU)': (w) => {
      const img = w.reshape(1, 1, 4, 4).expand(2, 3, 4, 4);
      const net = new nn.Sequential(new nn.BatchNorm2d(3), new nn.GELU(), new nn.Flatten(), new nn.LayerNorm(48), new nn.Linear(48, 2));
      net.forward(img).sum().backward();
    },
    indexing: (w) => {
      const i = randint(0, 4, [4]);
      w.gather(1, i.unsqueeze(1)).sum().add(w.index(i, i).sum()).add(w.indexSelect(0, i).sum()).backward();
    },
  };
  for (const [family, run] of Object.entries(families)) {
    it(`${family}: every graph tensor is collected by one GC`, async () => {
      const w = randn(4, 4, { requiresGrad: true });
      run(w);
      await collectGarbage();
      const base = usage();
      for (let i = 0; i < 50; i++) run(w);
      await collectGarbage();
      expectNoGrowth(usage(), base, 2 * 3 * 4 * 4 * 4, family);
      w.dispose();
      w.grad?.dispose();
    });
  }

  it('a leaf whose gradient was built with createGraph is collected with it (no leaf → grad → graph → leaf cycle)', async () => {
    await collectGarbage();
    const base = usage();
    const run = () => {
      const p = randn(4, 4, { requiresGrad: true });
      p.pow(3).sum().backward(undefined, { createGraph: true });
    };
    for (let i = 0; i < 50; i++) run();
    await collectGarbage(2);
    // V8 may keep the very last iteration's objects in a register; 50 iterations would leave 50×.
    expect(usage().liveTensors - base.liveTensors).toBeLessThan(10);
  });

  it('a gradient still reaches a leaf that is alive while only the graph held it before', async () => {
    // The accumulator holds the leaf weakly: gradients still land in a leaf the program keeps.
    const p = randn(3, { requiresGrad: true });
    const loss = p.mul(p).sum();
    await collectGarbage();
    loss.backward();
    expect(await p.grad!.toArray()).toEqual(await p.mul(2).toArray());
  });
});
