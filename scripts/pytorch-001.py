#!/usr/bin/env python3
# PyTorch's own run of tutorial 001's two CNNs on full MNIST, the reference for the README's
# intermediate-epoch numbers (seeds/README.md gives only the final ones). Same setup as
# examples/001-*.ts: seed 0, SGD lr 0.01 momentum 0.5, Normalize(0.1307, 0.3081), batch 64,
# test batch 1000; torchvision is not needed (the IDX files are read with numpy).
#   /usr/bin/python3 scripts/pytorch-001.py tiny|pool EPOCHS [MNIST_DIR]   (apt-get install python3-torch; one thread)
import gzip, sys, time, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(1)
which, epochs = sys.argv[1], int(sys.argv[2])
root = (sys.argv[3] if len(sys.argv) > 3 else '../shared/data/mnist').rstrip('/') + '/'
def idx(name, off):
    with gzip.open(root + name) as f: return np.frombuffer(f.read(), np.uint8, offset=off)
def load(prefix):
    x = torch.tensor(idx(f'{prefix}-images-idx3-ubyte.gz', 16).reshape(-1, 1, 28, 28).astype(np.float32) / 255)
    y = torch.tensor(idx(f'{prefix}-labels-idx1-ubyte.gz', 8).astype(np.int64))
    return torch.utils.data.TensorDataset((x - 0.1307) / 0.3081, y)
torch.manual_seed(0)
train, test = load('train'), load('t10k')
class Tiny(nn.Module):
    def __init__(self):
        super().__init__(); self.conv1 = nn.Conv2d(1, 1, 3); self.conv2 = nn.Conv2d(1, 1, 3); self.fc1 = nn.Linear(576, 100); self.fc2 = nn.Linear(100, 10)
    def forward(self, x):
        x = F.relu(self.conv1(x)); x = F.relu(self.conv2(x)); x = x.view(-1, 576); x = F.relu(self.fc1(x)); x = F.dropout(x, training=self.training)
        return F.log_softmax(self.fc2(x), 1)
class Pool(nn.Module):
    def __init__(self):
        super().__init__(); self.conv1 = nn.Conv2d(1, 20, 5); self.conv2 = nn.Conv2d(20, 30, 5); self.conv2_dropout = nn.Dropout2d(); self.fc1 = nn.Linear(480, 60); self.fc2 = nn.Linear(60, 10)
    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2)); x = F.relu(F.max_pool2d(self.conv2_dropout(self.conv2(x)), 2)); x = x.view(-1, 480)
        x = F.relu(self.fc1(x)); x = F.dropout(x, training=self.training); return F.log_softmax(self.fc2(x), 1)
model = Tiny() if which == 'tiny' else Pool()
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
tl = torch.utils.data.DataLoader(train, batch_size=64, shuffle=True)
vl = torch.utils.data.DataLoader(test, batch_size=1000)
for e in range(1, epochs + 1):
    t0 = time.time(); model.train()
    for x, y in tl:
        opt.zero_grad(); loss = F.nll_loss(model(x), y); loss.backward(); opt.step()
    model.eval(); c = 0; s = 0.0
    with torch.no_grad():
        for x, y in vl:
            o = model(x); s += F.nll_loss(o, y, reduction='sum').item(); c += (o.argmax(1) == y).sum().item()
    print(f'{which} epoch {e}: {c}/10000 ({c/100:.2f}%) loss {s/10000:.5f} ({time.time()-t0:.1f} s)', flush=True)
