#!/usr/bin/env python3
# PyTorch's own run of tutorial 003's two 3-vs-7 models on the rebuilt MNIST_TINY, seed by seed,
# the reference spread for the README's 003 rows (seeds/README.md gives only min–max). Same setup
# as examples/003-*.ts: the first 709 training-file 3s and 7s (threes stacked before sevens), the
# first 699 test-file ones for validation, pixels /255, label 1 for 3, init_params randn std 1,
# sigmoid + where(target == 1, 1 - p, p).mean(), batch 256 shuffled, p.data -= p.grad * lr with
# lr 1, 20 epochs; prints the last epoch's validate_epoch per seed and the summary.
#   /usr/bin/python3 scripts/pytorch-003.py linear|two FIRST_SEED LAST_SEED [MNIST_DIR]   (apt-get install python3-torch)
import gzip, sys, numpy as np, torch
from torch.utils.data import DataLoader
torch.set_num_threads(1)
which, s0, s1 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
root = (sys.argv[4] if len(sys.argv) > 4 else '../shared/data/mnist').rstrip('/') + '/'
def idx(name, off):
    with gzip.open(root + name) as f: return np.frombuffer(f.read(), np.uint8, offset=off)
def tiny(prefix, n3, n7):
    x = idx(f'{prefix}-images-idx3-ubyte.gz', 16).reshape(-1, 784); y = idx(f'{prefix}-labels-idx1-ubyte.gz', 8)
    picked = [i for i in range(len(y)) if y[i] in (3, 7)]
    threes = [i for i in picked if y[i] == 3]; sevens = [i for i in picked if y[i] == 7]
    # The first n images that are a 3 or a 7, in file order, split by digit.
    first = picked[:n3 + n7]; threes = [i for i in first if y[i] == 3]; sevens = [i for i in first if y[i] == 7]
    xs = torch.tensor(np.concatenate([x[threes], x[sevens]]).astype(np.float32) / 255)
    ys = torch.tensor([1] * len(threes) + [0] * len(sevens)).unsqueeze(1)
    return list(zip(xs, ys))
dset, valid = tiny('train', 338, 371), tiny('t10k', 0, 699)
def init_params(size, std=1.0): return (torch.randn(size) * std).requires_grad_()
def mnist_loss(p, t): p = p.sigmoid(); return torch.where(t == 1, 1 - p, p).mean()
def batch_accuracy(xb, yb): return ((xb.sigmoid() > 0.5) == yb).float().mean()
results = []
for seed in range(s0, s1 + 1):
    torch.manual_seed(seed)
    dl = DataLoader(dset, batch_size=256, shuffle=True); vdl = DataLoader(valid, batch_size=256)
    if which == 'linear':
        w, b = init_params((784, 1)), init_params(1); params = [w, b]; model = lambda xb: xb @ w + b
    else:
        w1, b1, w2, b2 = init_params((784, 30)), init_params(30), init_params((30, 1)), init_params(1); params = [w1, b1, w2, b2]
        model = lambda xb: (xb @ w1 + b1).max(torch.tensor(0.0)) @ w2 + b2
    for epoch in range(20):
        for xb, yb in dl:
            mnist_loss(model(xb), yb).backward()
            for p in params: p.data -= p.grad * 1.0; p.grad.zero_()
    acc = round(torch.stack([batch_accuracy(model(xb), yb) for xb, yb in vdl]).mean().item(), 4)
    results.append(acc); print(f'{which} seed {seed}: {acc}', flush=True)
r = np.array(results)
print(f'{which} seeds {s0}-{s1}: min {r.min():.4f} median {np.median(r):.4f} mean {r.mean():.4f} max {r.max():.4f}')
