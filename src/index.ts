// webgrad's public API: tensors with reverse-mode autograd on WGSL kernels via WebGPU.
//   import { init, tensor, noGrad } from 'webgrad';
//   await init();
//   const a = tensor([[1, 2], [3, 4]], { requiresGrad: true });
//   a.sin().sum().backward(); await a.grad!.print();

export { Tensor, type TensorOrScalar, type NestedArray, type Dims } from './tensor/tensor.ts';
export {
  tensor, zeros, ones, full, zerosLike, onesLike, fullLike, arange, linspace, eye,
  rand, randn, randint, randLike, randnLike, fromArray,
  type CreateOptions, type RandomOptions, type TensorData,
} from './tensor/creation.ts';
export { init, shutdown, getBackend, adapterInfo, defaultDevice, setDefaultDevice, type InitOptions } from './tensor/backends.ts';
export { manualSeed, Generator, defaultGenerator } from './tensor/random.ts';
export { scope, keep } from './tensor/scope.ts';
export { formatTensor, type FormatOptions } from './tensor/format.ts';
export { memory, type MemoryReport } from './tensor/memory.ts';
export * from './tensor/functional.ts';
export * as F from './nn/functional.ts';
export { noGrad, enableGrad, isGradEnabled, setGradEnabled } from './autograd/grad-mode.ts';
export { gradcheck, GradcheckError, type GradcheckOptions, type GradcheckResult } from './autograd/gradcheck.ts';
export type { BackwardOptions } from './autograd/backward.ts';
export type { Node } from './autograd/graph.ts';
export type { DType } from './dtype.ts';
export type { BackendName, MemoryStats } from './backend/types.ts';
export { WebgradError, ShapeError, DTypeError, ValueError, DisposedError, AutogradError, DeviceError } from './errors.ts';
