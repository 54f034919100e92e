#!/usr/bin/env python3
"""pytorch/examples mnist/main.py (the "basic MNIST example"), run on MNIST IDX files without
torchvision.

Same as the original: Net = Conv2d(1, 32, 3, 1), ReLU, Conv2d(32, 64, 3, 1), ReLU, max_pool2d 2,
Dropout(0.25), flatten, Linear(9216, 128), ReLU, Dropout(0.5), Linear(128, 10), log_softmax;
PyTorch's default init; nll_loss; Adadelta lr 1.0; StepLR(step_size=1, gamma=0.7) stepped after each
epoch; batch 64, test batch 1000; ToTensor() then Normalize((0.1307,), (0.3081,)); seed 1; log every
10 batches. As in the original on a CPU, the training data is not shuffled (the original passes
shuffle=True only with CUDA; --shuffle turns it on). The original trains 14 epochs of 938 batches; on two
loaded CPU cores one such epoch takes five to ten minutes, so the comparison setting is shorter:
--epochs 2 --max-batches 100 (each epoch trains on the first 100 batches, then tests on all 10 000
test images; StepLR takes the learning rate from 1.0 to 0.7 between the two epochs; see RESULTS.md). Thread
count is PyTorch's default. The last line printed is a JSON summary.

  python3 mnist-cnn.py --data DIR [--epochs 14] [--max-batches N] [--seed 1] [--shuffle] [--dry-run]

DIR holds train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz,
t10k-labels-idx1-ubyte.gz.
"""
import argparse, gzip, json, os, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR


def read_idx(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def load(root, prefix):
    """ToTensor() then Normalize((0.1307,), (0.3081,)): float32 [N, 1, 28, 28]; labels int64."""
    x = read_idx(os.path.join(root, f'{prefix}-images-idx3-ubyte.gz'), 16).reshape(-1, 1, 28, 28)
    y = read_idx(os.path.join(root, f'{prefix}-labels-idx1-ubyte.gz'), 8)
    x = (torch.tensor(x.astype(np.float32) / 255) - 0.1307) / 0.3081
    return torch.utils.data.TensorDataset(x, torch.tensor(y.astype(np.int64)))


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(args, model, train_loader, optimizer, epoch, log):
    model.train()
    steps, t0 = 0, time.perf_counter()
    for batch_idx, (data, target) in enumerate(train_loader):
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        steps += 1
        if batch_idx % args.log_interval == 0:
            log.append({'epoch': epoch, 'batch': batch_idx, 'loss': loss.item()})
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                epoch, batch_idx * len(data), len(train_loader.dataset),
                100. * batch_idx / len(train_loader), loss.item()), flush=True)
            if args.dry_run:
                break
        if args.max_batches and steps == args.max_batches:
            break
    return steps, time.perf_counter() - t0


def test(model, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()  # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)  # get the index of the max log-probability
            correct += pred.eq(target.view_as(pred)).sum().item()

    test_loss /= len(test_loader.dataset)

    print('\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n'.format(
        test_loss, correct, len(test_loader.dataset),
        100. * correct / len(test_loader.dataset)), flush=True)
    return test_loss, correct


def main():
    parser = argparse.ArgumentParser(description='PyTorch MNIST Example')
    parser.add_argument('--data', required=True, help='folder with the MNIST IDX .gz files')
    parser.add_argument('--batch-size', type=int, default=64, metavar='N')
    parser.add_argument('--test-batch-size', type=int, default=1000, metavar='N')
    parser.add_argument('--epochs', type=int, default=14, metavar='N')
    parser.add_argument('--lr', type=float, default=1.0, metavar='LR')
    parser.add_argument('--gamma', type=float, default=0.7, metavar='M')
    parser.add_argument('--dry-run', action='store_true', default=False, help='quickly check a single pass')
    parser.add_argument('--seed', type=int, default=1, metavar='S')
    parser.add_argument('--log-interval', type=int, default=10, metavar='N')
    parser.add_argument('--max-batches', type=int, default=0, metavar='N',
                        help='train on only the first N batches of each epoch (0: all; not in the original)')
    parser.add_argument('--shuffle', action='store_true', default=False,
                        help='shuffle the training data (the original does so only with CUDA)')
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    dataset1, dataset2 = load(args.data, 'train'), load(args.data, 't10k')
    train_loader = torch.utils.data.DataLoader(dataset1, batch_size=args.batch_size, shuffle=args.shuffle)
    test_loader = torch.utils.data.DataLoader(dataset2, batch_size=args.test_batch_size)

    model = Net()
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)

    train_log, epochs = [], []
    total_steps, total_s = 0, 0.0
    for epoch in range(1, args.epochs + 1):
        steps, secs = train(args, model, train_loader, optimizer, epoch, train_log)
        total_steps += steps
        total_s += secs
        test_loss, correct = test(model, test_loader)
        epochs.append({'epoch': epoch, 'test_avg_loss': test_loss, 'test_correct': correct,
                       'test_accuracy': correct / len(dataset2), 'train_s': round(secs, 1),
                       'lr': optimizer.param_groups[0]['lr']})
        scheduler.step()

    print(json.dumps({
        'program': 'mnist-cnn', 'seed': args.seed, 'torch': torch.__version__, 'threads': torch.get_num_threads(),
        'settings': {'epochs': args.epochs, 'batch_size': args.batch_size, 'test_batch_size': args.test_batch_size,
                     'lr': args.lr, 'gamma': args.gamma, 'optimizer': 'Adadelta', 'shuffle': args.shuffle,
                     'max_batches': args.max_batches or None, 'dry_run': args.dry_run},
        'epochs': epochs, 'train_loss_every_%d_batches' % args.log_interval: train_log,
        'final_test_accuracy': epochs[-1]['test_accuracy'], 'final_test_avg_loss': epochs[-1]['test_avg_loss'],
        'ms_per_step': round(1000 * total_s / total_steps, 2),
    }))


if __name__ == '__main__':
    main()
