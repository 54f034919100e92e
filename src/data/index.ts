// webgrad's data pipeline (torch.utils.data + torchvision's datasets and transforms):
//   import { data } from 'webgrad';
//   const train = new data.MNIST({ root: '../shared/data/mnist', train: true, transform: new data.ToTensor() });
//   for await (const [x, y] of new data.DataLoader(train, { batchSize: 64, shuffle: true })) { … }
// Browser-safe: file reading goes through node-io.ts, which never imports node:* modules.

export { HostTensor, type HostData, type HostDType } from './host-tensor.ts';
export { DataError } from './errors.ts';
export { parseIdx, encodeIdx, isGzip, gunzip, gunzipIdx, type IdxArray, type IdxDType, type IdxData } from './idx.ts';
export { Dataset, ArrayDataset, TensorDataset, Subset, randomSplit, randperm } from './dataset.ts';
export { collateHost, defaultCollate, uploadBatch, disposeBatch, stackHost, type Collated, type HostBatch, type AnyTypedArray } from './collate.ts';
export { DataLoader, type DataLoaderOptions } from './dataloader.ts';
export { Compose, ToTensor, Normalize, Lambda, asTransform, type Transform, type TransformLike } from './transforms.ts';
export {
  ImageClassificationDataset, MNIST, FashionMNIST, FASHION_MNIST_DEBIAN_ROOT,
  type IdxDatasetOptions, type ImageTransforms,
} from './vision.ts';
export { EmbeddedMNIST, type EmbeddedMNISTOptions } from './embedded.ts';
export { mnistTiny, MnistTiny, MNIST_TINY_SIZES, type MnistTinyOptions } from './mnist-tiny.ts';
