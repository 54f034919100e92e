// The `nn` namespace: Module and Parameter, the layers, nn.init, nn.utils, losses as modules,
// and `nn.functional` (the same object as the top-level F).
//   import { nn } from 'webgrad';
//   const model = new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));

export { Module, Parameter, StateDictError, type StateDict, type LoadResult, type ShapeMismatch } from './module.ts';
export { Linear, Identity, Flatten } from './layers/linear.ts';
export { Conv2d, type Conv2dLayerOptions } from './layers/conv.ts';
export { MaxPool2d, AvgPool2d, type Size2 } from './layers/pooling.ts';
export { ReLU, Sigmoid, Tanh, GELU, Softmax, LogSoftmax } from './layers/activation.ts';
export { Dropout, Dropout2d } from './layers/dropout.ts';
export { Sequential, ModuleList } from './layers/container.ts';
export { BatchNorm1d, BatchNorm2d, LayerNorm, type BatchNormOptions, type LayerNormOptions } from './layers/normalization.ts';
export { CrossEntropyLoss, NLLLoss, MSELoss, BCELoss, BCEWithLogitsLoss, type Reduction } from './layers/loss.ts';
export type { FactoryOptions } from './layers/common.ts';
export * as init from './init.ts';
export * as utils from './utils.ts';
export * as functional from './functional.ts';
