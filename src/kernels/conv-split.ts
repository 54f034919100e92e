// conv2d and its gradients on tensors larger than one storage binding: cut into parts
// (src/kernels/split.ts) along the batch, then the output or input channels, each part run
// through the autotuned kernels of conv-tune.ts with its own geometry. The batch of the weight
// gradient is a sum over images, so its parts add up. Ops that fit one binding go straight
// through. Channel cuts need groups = 1 (a channel part would cross groups otherwise).

import type { Backend, View } from '../backend/types.ts';
import type { Conv2dGeometry } from '../backend/conv-geometry.ts';
import type { FusedActivation } from '../backend/fused-activation.ts';
import type { GpuRuntime } from '../device/runtime.ts';
import * as tuned from './conv-tune.ts';
import { exceedsBinding, runSplit, type Cut } from './split.ts';
import type { GpuStorage } from './storage.ts';
import * as ew from './elementwise.ts';

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Forward conv2d (see conv.ts), split by batch and output channels when over one binding. */
export function conv2d(rt: GpuRuntime, backend: Backend, x: View, w: View, bias: View | null, g: Conv2dGeometry, act: FusedActivation | null = null): GpuStorage {
  const outShape = [g.batch, g.outChannels, g.outH, g.outW];
  if (numel(outShape) === 0 || !exceedsBinding(rt, [x, w, bias], [numel(outShape)])) return tuned.conv2d(rt, backend, x, w, bias, g, act);
  const cuts: Cut[] = [{ axis: 'the batch', extent: g.batch, dims: [0, null, null, 0], join: 'slab' }];
  // Input channels add up; the bias and activation wait for the sum.
  const inner: Cut = {
    axis: 'input channels', extent: g.inChannels, dims: [1, 1, null, null], join: 'sum',
    after: ([sum], [, , pb], [s]) => [epilogue(rt, backend, sum!, s!, pb, act)],
  };
  if (g.groups === 1) cuts.push({ axis: 'output channels', extent: g.outChannels, dims: [null, 0, 0, 1], join: 'slab' }, inner);
  return runSplit(rt, {
    name: 'conv2d', backend, inputs: [x, w, bias], roles: ['input', 'weight', 'bias'], outputs: [{ shape: outShape, dtype: 'float32' }], cuts,
    leaf: ([px, pw, pb], [s], under) => {
      const geo = { ...g, batch: s![0]!, outChannels: s![1]!, inChannels: px!.shape[1]! };
      return [under.has(inner) ? tuned.conv2d(rt, backend, px!, pw!, null, geo, null) : tuned.conv2d(rt, backend, px!, pw!, pb, geo, act)];
    },
  })[0]!;
}

/** y + bias (over channels) then the activation, for a conv output [N, C, H, W] summed from parts; releases y. */
function epilogue(rt: GpuRuntime, backend: Backend, y: GpuStorage, shape: readonly number[], bias: View | null, act: FusedActivation | null): GpuStorage {
  const st = [shape[1]! * shape[2]! * shape[3]!, shape[2]! * shape[3]!, shape[3]!, 1];
  let out = y;
  if (bias) {
    const b = ew.binary(rt, backend, 'add', { storage: out, shape, strides: st, offset: 0 }, { ...bias, shape, strides: [0, bias.strides[0]!, 0, 0] }, shape, 'float32', 'float32');
    out.release();
    out = b;
  }
  if (act) {
    const a = ew.unary(rt, backend, act, { storage: out, shape, strides: st, offset: 0 }, 'float32');
    out.release();
    out = a;
  }
  return out;
}

/** Input gradient of conv2d, split by batch and input channels when over one binding. */
export function conv2dBackwardInput(rt: GpuRuntime, backend: Backend, gy: View, w: View, g: Conv2dGeometry): GpuStorage {
  const outShape = [g.batch, g.inChannels, g.height, g.width];
  if (numel(outShape) === 0 || !exceedsBinding(rt, [gy, w], [numel(outShape)])) return tuned.conv2dBackwardInput(rt, backend, gy, w, g);
  const cuts: Cut[] = [{ axis: 'the batch', extent: g.batch, dims: [0, null, 0], join: 'slab' }];
  if (g.groups === 1) {
    cuts.push({ axis: 'input channels', extent: g.inChannels, dims: [null, 1, 1], join: 'slab' });
    // Each output channel's gradient flows back through its own filters: parts add up.
    cuts.push({ axis: 'output channels', extent: g.outChannels, dims: [1, 0, null], join: 'sum' });
  }
  return runSplit(rt, {
    name: 'conv2dBackwardInput', backend, inputs: [gy, w], roles: ['output gradient', 'weight'], outputs: [{ shape: outShape, dtype: 'float32' }], cuts,
    leaf: ([pg, pw], [s]) => [tuned.conv2dBackwardInput(rt, backend, pg!, pw!, { ...g, batch: s![0]!, inChannels: s![1]!, outChannels: pg!.shape[1]! })],
  })[0]!;
}

/** Weight gradient of conv2d, split by channels (slabs) and batch (summed) when over one binding. */
export function conv2dBackwardWeight(rt: GpuRuntime, backend: Backend, x: View, gy: View, g: Conv2dGeometry): GpuStorage {
  const outShape = [g.outChannels, g.inChannels / g.groups, g.kernelH, g.kernelW];
  if (numel(outShape) === 0 || g.batch === 0 || !exceedsBinding(rt, [x, gy], [numel(outShape)])) return tuned.conv2dBackwardWeight(rt, backend, x, gy, g);
  const cuts: Cut[] = [];
  if (g.groups === 1) {
    cuts.push({ axis: 'output channels', extent: g.outChannels, dims: [null, 1, 0], join: 'slab' });
    cuts.push({ axis: 'input channels', extent: g.inChannels, dims: [1, null, 1], join: 'slab' });
  }
  cuts.push({ axis: 'the batch', extent: g.batch, dims: [0, 0, null], join: 'sum' });
  return runSplit(rt, {
    name: 'conv2dBackwardWeight', backend, inputs: [x, gy], roles: ['input', 'output gradient'], outputs: [{ shape: outShape, dtype: 'float32' }], cuts,
    leaf: ([px, pg], [s]) => [tuned.conv2dBackwardWeight(rt, backend, px!, pg!, { ...g, batch: px!.shape[0]!, outChannels: s![0]!, inChannels: s![1]! * g.groups })],
  })[0]!;
}
