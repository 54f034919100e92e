#!/usr/bin/env python3
"""PyTorch's official Quickstart tutorial (pytorch.org/tutorials/beginner/basics/quickstart_tutorial),
run on Fashion-MNIST IDX files without torchvision.

Same as the tutorial: NeuralNetwork = Flatten, Linear(784, 512), ReLU, Linear(512, 512), ReLU,
Linear(512, 10) with PyTorch's default init; CrossEntropyLoss; SGD lr 1e-3 (no momentum); batch 64
for training and testing; no shuffling (the tutorial's DataLoaders do not shuffle); 5 epochs; pixels
scaled to [0, 1] as ToTensor() does. The tutorial sets no seed; --seed (default 0) is added so a run
repeats. Thread count is PyTorch's default (torch.set_num_threads is not called).

  python3 quickstart.py --data DIR [--epochs 5] [--seed 0]

DIR holds train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz,
t10k-labels-idx1-ubyte.gz (Debian's fashion-mnist package installs them in
/usr/share/datasets/fashion-mnist, the default). The last line printed is a JSON summary.
"""
import argparse, gzip, json, os, time
import numpy as np
import torch
from torch import nn


def read_idx(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def load(root, prefix):
    """Images as ToTensor() gives them: float32 [N, 1, 28, 28] in [0, 1]; labels int64."""
    x = read_idx(os.path.join(root, f'{prefix}-images-idx3-ubyte.gz'), 16).reshape(-1, 1, 28, 28)
    y = read_idx(os.path.join(root, f'{prefix}-labels-idx1-ubyte.gz'), 8)
    return torch.tensor(x.astype(np.float32) / 255), torch.tensor(y.astype(np.int64))


def batches(x, y, batch_size):
    # What DataLoader(TensorDataset(x, y), batch_size) yields without shuffling, minus its
    # per-item indexing cost (the last batch is the remainder).
    for i in range(0, len(x), batch_size):
        yield x[i:i + batch_size], y[i:i + batch_size]


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


def train(data, model, loss_fn, optimizer, batch_size, log):
    x_all, y_all = data
    size = len(x_all)
    model.train()
    steps = 0
    t0 = time.perf_counter()
    for batch, (X, y) in enumerate(batches(x_all, y_all, batch_size)):
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        steps += 1
        if batch % 100 == 0:
            loss, current = loss.item(), (batch + 1) * len(X)
            log.append({'batch': batch, 'loss': loss})
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")
    return steps, time.perf_counter() - t0


def test(data, model, loss_fn, batch_size):
    x_all, y_all = data
    size = len(x_all)
    num_batches = (size + batch_size - 1) // batch_size
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in batches(x_all, y_all, batch_size):
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
    return correct, test_loss


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', default='/usr/share/datasets/fashion-mnist', help='folder with the Fashion-MNIST IDX .gz files')
    p.add_argument('--epochs', type=int, default=5)
    p.add_argument('--batch-size', type=int, default=64)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--seed', type=int, default=0)
    args = p.parse_args()

    torch.manual_seed(args.seed)
    training_data, test_data = load(args.data, 'train'), load(args.data, 't10k')
    model = NeuralNetwork()
    print(model)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)

    epochs, train_log = [], []
    total_steps, total_s = 0, 0.0
    for t in range(args.epochs):
        print(f"Epoch {t+1}\n-------------------------------")
        log = []
        steps, secs = train(training_data, model, loss_fn, optimizer, args.batch_size, log)
        total_steps += steps
        total_s += secs
        acc, avg_loss = test(test_data, model, loss_fn, args.batch_size)
        train_log.append(log)
        epochs.append({'epoch': t + 1, 'test_accuracy': acc, 'test_avg_loss': avg_loss, 'train_s': round(secs, 2)})
    print("Done!")
    print(json.dumps({
        'program': 'quickstart', 'seed': args.seed, 'torch': torch.__version__, 'threads': torch.get_num_threads(),
        'settings': {'epochs': args.epochs, 'batch_size': args.batch_size, 'lr': args.lr, 'optimizer': 'SGD', 'shuffle': False},
        'epochs': epochs, 'train_loss_every_100_batches': train_log,
        'final_test_accuracy': epochs[-1]['test_accuracy'], 'final_test_avg_loss': epochs[-1]['test_avg_loss'],
        'ms_per_step': round(1000 * total_s / total_steps, 3),
    }))


if __name__ == '__main__':
    main()
