// The five PyTorch MNIST tutorials' models, each written as its tutorial writes it: the
// same layers in the same order with the same names, so `toString()` prints the tutorial's
// `print(model)` tree and a state dict has PyTorch's keys. Shared by examples/ and the CLI.
// Knows nn and F only; nothing here reads data or prints.

import { F, nn, type Tensor } from 'webgrad';

/**
 * Tutorial 000's `SimpleNN`: Linear(784, 128) → ReLU → Linear(128, 10), returning logits.
 * @example new SimpleNN(28 * 28, 128, 10).call(x /* [100, 784] *\/) // [100, 10]
 */
export class SimpleNN extends nn.Module {
  fc1: nn.Linear;
  relu: nn.ReLU;
  fc2: nn.Linear;
  constructor(inputSize: number, hiddenSize: number, outputSize: number) {
    super();
    this.fc1 = new nn.Linear(inputSize, hiddenSize);
    this.relu = new nn.ReLU();
    this.fc2 = new nn.Linear(hiddenSize, outputSize);
  }
  override forward(x: Tensor): Tensor {
    x = this.fc1.call(x);
    x = this.relu.call(x);
    x = this.fc2.call(x);
    return x;
  }
}

/**
 * Tutorial 001's first network (its `NeuralNetwork`): two 1-channel 3×3 convolutions, then
 * Linear(576, 100) → ReLU → dropout → Linear(100, 10) → log_softmax. Returns log-probabilities.
 * Its one-channel convolutions often start almost dead: with some seeds it sits at chance for
 * a few epochs before it learns (PyTorch does the same).
 */
export class TinyCNN extends nn.Module {
  conv1: nn.Conv2d;
  conv2: nn.Conv2d;
  fc1: nn.Linear;
  fc2: nn.Linear;
  constructor() {
    super();
    // Default padding=0 and stride=1
    this.conv1 = new nn.Conv2d(1, 1, 3);
    this.conv2 = new nn.Conv2d(1, 1, 3);
    this.fc1 = new nn.Linear(24 * 24, 100);
    this.fc2 = new nn.Linear(100, 10);
  }
  override forward(x: Tensor): Tensor {
    x = F.relu(this.conv1.call(x)); // [64, 1, 28, 28] → [64, 1, 26, 26]
    x = F.relu(this.conv2.call(x)); // → [64, 1, 24, 24]
    x = x.view(-1, 24 * 24 * 1); // → [64, 576]
    x = F.relu(this.fc1.call(x)); // → [64, 100]
    x = F.dropout(x, 0.5, this.training);
    x = this.fc2.call(x); // → [64, 10]
    return F.logSoftmax(x, 1);
  }
}

/**
 * Tutorial 001's improved network: Conv2d(1, 20, 5) → max_pool2d(2) → ReLU → Conv2d(20, 30, 5)
 * → Dropout2d → max_pool2d(2) → ReLU → view(480) → Linear(480, 60) → ReLU → dropout →
 * Linear(60, 10) → log_softmax. Returns log-probabilities.
 */
export class PoolingCNN extends nn.Module {
  conv1: nn.Conv2d;
  conv2: nn.Conv2d;
  conv2_dropout: nn.Dropout2d;
  fc1: nn.Linear;
  fc2: nn.Linear;
  constructor() {
    super();
    this.conv1 = new nn.Conv2d(1, 20, 5);
    this.conv2 = new nn.Conv2d(20, 30, 5);
    this.conv2_dropout = new nn.Dropout2d();
    this.fc1 = new nn.Linear(480, 60);
    this.fc2 = new nn.Linear(60, 10);
  }
  override forward(x: Tensor): Tensor {
    x = F.relu(F.maxPool2d(this.conv1.call(x), 2)); // [64, 1, 28, 28] → [64, 20, 12, 12]
    x = F.relu(F.maxPool2d(this.conv2_dropout.call(this.conv2.call(x)), 2)); // → [64, 30, 4, 4]
    x = x.view(-1, 480);
    x = F.relu(this.fc1.call(x)); // → [64, 60]
    x = F.dropout(x, 0.5, this.training);
    x = this.fc2.call(x); // → [64, 10]
    return F.logSoftmax(x, 1);
  }
}

/**
 * Tutorial 002's module version (`FullyConnected`): reshape to 784 → Linear(784, 500) →
 * F.relu → Linear(500, 10, bias=False), returning logits (F.crossEntropy applies the softmax).
 */
export class FullyConnected extends nn.Module {
  linear_1: nn.Linear;
  linear_2: nn.Linear;
  constructor(inputSize: number, hiddenSize: number, outputSize: number) {
    super();
    this.linear_1 = new nn.Linear(inputSize, hiddenSize);
    this.linear_2 = new nn.Linear(hiddenSize, outputSize, { bias: false });
  }
  override forward(x: Tensor): Tensor {
    x = x.reshape(-1, 28 * 28);
    let z = this.linear_1.call(x);
    x = F.relu(z);
    z = this.linear_2.call(x);
    return z; // Notice we do not implement the softmax activation
  }
}

/**
 * Tutorial 004's `NeuralNet`: Linear(784, 128) → ReLU → Linear(128, 128) → ReLU →
 * Linear(128, 10), one ReLU module used twice, returning logits.
 */
export class NeuralNet extends nn.Module {
  input_layer: nn.Linear;
  hidden_layer: nn.Linear;
  output_layer: nn.Linear;
  relu: nn.ReLU;
  constructor() {
    super();
    this.input_layer = new nn.Linear(28 * 28, 128);
    this.hidden_layer = new nn.Linear(128, 128);
    this.output_layer = new nn.Linear(128, 10);
    this.relu = new nn.ReLU();
  }
  override forward(x: Tensor): Tensor {
    x = this.input_layer.call(x);
    x = this.relu.call(x);
    x = this.hidden_layer.call(x);
    x = this.relu.call(x);
    x = this.output_layer.call(x);
    return x;
  }
}
