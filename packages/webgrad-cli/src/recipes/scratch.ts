// The raw-tensor pieces of tutorials 002 (part 2) and 003, under the tutorials' own names:
// hand-written relu/softmax/cross-entropy, fastai's init_params, mnist_loss and
// batch_accuracy. The examples use them on bare tensors exactly as the tutorials do; the
// CLI wraps the same math in small modules (ScratchMLP, Linear37, TwoLayer37) so that its
// checkpoints and evaluation treat every recipe alike.

import { arange, nn, noGrad, randn, scope, tensor, zeros, type Tensor } from 'webgrad';

// ---- tutorial 002, part 2 -------------------------------------------------------------------

/** Rectified linear unit: maximum(x, 0) (the tutorial's `torch.maximum(x, torch.tensor(0.0))`). */
export function relu(x: Tensor): Tensor {
  return x.maximum(tensor(0.0, { device: x.device }));
}

/** Softmax over the last dim: exp(x) / exp(x).sum(-1, keepdim=True), as the tutorial writes it. */
export function softmax(x: Tensor): Tensor {
  return x.exp().div(x.exp().sum(-1, true));
}

/**
 * Cross-entropy of probabilities: -mean(log(predictions[arange(n), targets])), the tutorial's
 * `predictions[torch.arange(len(predictions)), targets]` written with `index`.
 */
export function crossEntropyLoss(predictions: Tensor, targets: Tensor): Tensor {
  const targetPreds = predictions.index(arange(predictions.shape[0]!, undefined, 1, { device: predictions.device }), targets);
  return targetPreds.log().mean().neg();
}

/** Fraction of rows whose argmax equals the target: (argmax(1) == targets).float().mean(). */
export function accuracy(predictions: Tensor, targets: Tensor): Tensor {
  return predictions.argmax(1).eq(targets).float().mean();
}

/**
 * Tutorial 002's from-scratch network as a module (for the CLI): W1 [784, 500] = randn/√784,
 * b = zeros(500), W2 [500, 10] = randn/√500, forward = softmax(relu(x W1 + b) W2). Returns
 * probabilities, so its loss is `crossEntropyLoss` above and its update is the tutorial's
 * manual `W -= W.grad * lr` (see `manualSgdStep`).
 */
export class ScratchMLP extends nn.Module {
  W1: nn.Parameter;
  b: nn.Parameter;
  W2: nn.Parameter;
  constructor(inputSize = 28 * 28, hiddenSize = 500, nClasses = 10) {
    super();
    this.W1 = owned(scope(() => randn(inputSize, hiddenSize).div(Math.sqrt(inputSize))));
    this.b = owned(zeros(hiddenSize));
    this.W2 = owned(scope(() => randn(hiddenSize, nClasses).div(Math.sqrt(hiddenSize))));
  }
  override forward(x: Tensor): Tensor {
    x = x.reshape(-1, 28 * 28); // Flatten the image
    let z = x.matmul(this.W1).add(this.b); // First linear transformation
    x = relu(z); // Hidden layer activation
    z = x.matmul(this.W2); // Second linear transformation
    return softmax(z); // Output layer activation
  }
}

/** A parameter that takes over `t` (the temporary is freed: the parameter shares its storage). */
function owned(t: Tensor): nn.Parameter {
  const p = new nn.Parameter(t);
  t.dispose();
  return p;
}

/**
 * The tutorials' hand-written update, `p -= p.grad * lr; p.grad.zero_()` inside no_grad, as an
 * object with the optimizer methods the CLI calls (step, zeroGrad, stateDict, loadStateDict).
 */
export class ManualSGD {
  constructor(
    readonly params: Tensor[],
    public lr: number,
  ) {}
  /** Applies `p -= p.grad * lr` and zeroes each gradient (the tutorials do both in one block). */
  step(): void {
    noGrad(() =>
      scope(() => {
        for (const p of this.params) {
          if (!p.grad) continue;
          p.sub_(p.grad.mul(this.lr));
          p.grad.zero_();
        }
      }),
    );
  }
  zeroGrad(): void {
    for (const p of this.params) p.grad?.zero_();
  }
  stateDict(): { lr: number } {
    return { lr: this.lr };
  }
  loadStateDict(s: { lr?: number }): void {
    if (typeof s?.lr === 'number') this.lr = s.lr;
  }
}

// ---- tutorial 003 ---------------------------------------------------------------------------

/** fastai's `init_params(size, std=1.0)`: `(torch.randn(size) * std).requires_grad_()`. */
export function initParams(size: number | readonly number[], std = 1.0): Tensor {
  const shape = typeof size === 'number' ? [size] : [...size];
  return scope(() => randn(shape).mul(std)).requiresGrad_();
}

/**
 * Tutorial 003's loss: sigmoid the predictions, then `torch.where(targets == 1, 1 - p, p).mean()`:
 * how far each prediction is from its 0/1 target.
 */
export function mnistLoss(predictions: Tensor, targets: Tensor): Tensor {
  predictions = predictions.sigmoid(); // make all predictions between 0 and 1
  return predictions.rsub(1).where(targets.eq(1), predictions).mean();
}

/** Tutorial 003's metric: `((xb.sigmoid() > 0.5) == yb).float().mean()`. */
export function batchAccuracy(xb: Tensor, yb: Tensor): Tensor {
  const preds = xb.sigmoid();
  const correct = preds.gt(0.5).int().eq(yb);
  return correct.float().mean();
}

/** Tutorial 003's linear model `xb @ weights + bias` (w [784, 1] and b [1] from init_params). */
export class Linear37 extends nn.Module {
  weights: nn.Parameter;
  bias: nn.Parameter;
  constructor() {
    super();
    this.weights = owned(initParams([28 * 28, 1]));
    this.bias = owned(initParams(1));
  }
  override forward(xb: Tensor): Tensor {
    return xb.matmul(this.weights).add(this.bias);
  }
}

/** Tutorial 003's `simple_net`: xb @ w1 + b1 → max(0) → @ w2 + b2 (784-30-1, all from init_params). */
export class TwoLayer37 extends nn.Module {
  w1: nn.Parameter;
  b1: nn.Parameter;
  w2: nn.Parameter;
  b2: nn.Parameter;
  constructor() {
    super();
    this.w1 = owned(initParams([28 * 28, 30]));
    this.b1 = owned(initParams(30));
    this.w2 = owned(initParams([30, 1]));
    this.b2 = owned(initParams(1));
  }
  override forward(xb: Tensor): Tensor {
    let res = xb.matmul(this.w1).add(this.b1); // Linear
    res = res.maximum(0.0); // ReLu
    res = res.matmul(this.w2).add(this.b2); // Linear
    return res;
  }
}
