/**
 * webgrad's public API: tensors with reverse-mode autograd on hand-written WGSL kernels run
 * through WebGPU, with PyTorch's names. This is what bundlers get for browsers; Node's entry
 * (`webgrad/node` in these docs) adds the Node-only functions (checkpoint files).
 * ```ts
 * import { init, tensor } from 'webgrad';
 * await init();
 * const a = tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * a.sin().sum().backward();
 * await a.grad!.print();
 * ```
 * @module webgrad
 */

// Kept in the emitted index.d.ts so that TypeScript users get the WebGPU types the declarations
// mention (GPUDevice, …) and `Symbol.dispose` (Tensor is Disposable) without configuring them.
/// <reference types="@webgpu/types" preserve="true" />
/// <reference lib="esnext.disposable" preserve="true" />

export { Tensor, type TensorOrScalar, type NestedArray, type Dims } from './tensor/tensor.ts';
export {
  tensor, zeros, ones, full, zerosLike, onesLike, fullLike, arange, linspace, eye,
  rand, randn, randint, randLike, randnLike, fromArray,
  type CreateOptions, type RandomOptions, type TensorData,
} from './tensor/creation.ts';
export { init, shutdown, getBackend, adapterInfo, defaultDevice, setDefaultDevice, type InitOptions } from './tensor/backends.ts';
export type { LimitCaps } from './device/limits.ts';
export { manualSeed, Generator, defaultGenerator } from './tensor/random.ts';
export { scope, keep } from './tensor/scope.ts';
export { formatTensor, type FormatOptions } from './tensor/format.ts';
export { memory, type MemoryReport } from './tensor/memory.ts';
export * from './tensor/functional.ts';
export * as F from './nn/functional.ts';
export * as nn from './nn/index.ts';
export * as optim from './optim/index.ts';
export { serializeSafetensors, parseSafetensors, serializeCheckpoint, parseCheckpoint, disposeCheckpoint, CheckpointError, type SafetensorsContents, type CheckpointValue, type CheckpointRngOptions } from './nn/checkpoint.ts';
export * as data from './data/index.ts';
export { gather, indexSelect, index, scatterAdd, oneHot, oneHotAsync, maskedFill, type IndexEntry } from './autograd/ops/indexing.ts';
export { cat, stack, split, chunk } from './autograd/ops/cat.ts';
export { conv2d, type Conv2dOptions } from './autograd/ops/conv.ts';
export { maxPool2d, maxPool2dWithIndices, avgPool2d, adaptiveAvgPool2d, type MaxPool2dOptions, type AvgPool2dOptions } from './autograd/ops/pool.ts';
export { dropout, dropout2d } from './autograd/ops/dropout.ts';
export { clamp } from './autograd/ops/activation.ts';
export { softmax, logSoftmax } from './autograd/ops/softmax.ts';
export { crossEntropy, nllLoss, binaryCrossEntropy, binaryCrossEntropyWithLogits, mseLoss } from './autograd/ops/losses.ts';
export { noGrad, enableGrad, isGradEnabled, setGradEnabled } from './autograd/grad-mode.ts';
export { gradcheck, GradcheckError, type GradcheckOptions, type GradcheckResult } from './autograd/gradcheck.ts';
export type { BackwardOptions } from './autograd/backward.ts';
export type { Node } from './autograd/graph.ts';
export type { DType } from './dtype.ts';
export type { FusedActivation } from './backend/fused-activation.ts';
export type { BackendName, MemoryStats } from './backend/types.ts';
export { WebgradError, ShapeError, DTypeError, ValueError, DisposedError, AutogradError, DeviceError, DeviceLimitError, DeviceLostError } from './errors.ts';
