// The `optim` namespace: optimizers (each update one fused WGSL dispatch per parameter),
// learning-rate schedulers (also under optim.lrScheduler, as torch.optim.lr_scheduler) and
// gradient clipping.
//   import { optim } from 'webgrad';
//   const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });

export { Optimizer, type ParamGroup, type ParamGroupInput, type ParamsInput, type ParamState, type OptimizerStateDict, type BaseOptions, type SchedulerFields } from './optimizer.ts';
export { SGD, type SGDOptions } from './sgd.ts';
export { Adam, AdamW, type AdamOptions } from './adam.ts';
export { RMSprop, type RMSpropOptions } from './rmsprop.ts';
export { Adagrad, Adadelta, type AdagradOptions, type AdadeltaOptions } from './adagrad.ts';
export { Adamax, NAdam, RAdam, type AdamaxOptions, type NAdamOptions, type RAdamOptions } from './adam-variants.ts';
export {
  LRScheduler, StepLR, MultiStepLR, ExponentialLR, LambdaLR, LinearLR, CosineAnnealingLR, OneCycleLR, SequentialLR, ChainedScheduler, ReduceLROnPlateau,
  type OneCycleOptions, type ReduceLROnPlateauOptions, type LrLambda, type SchedulerStateDict,
} from './lr-scheduler.ts';
export * as lrScheduler from './lr-scheduler.ts';
export { clipGradNorm_ } from '../nn/utils.ts';
