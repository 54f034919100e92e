#!/usr/bin/env python3
"""makemore's MLP from Andrej Karpathy's "Building makemore Part 2: MLP" lecture
(nn-zero-to-hero, lectures/makemore/makemore_part2_mlp.ipynb): a character-level language model on
names.txt after Bengio et al. 2003.

Same as the lecture: vocabulary '.' + a-z (27), block size 3, words shuffled with random.seed(42) and
split 80/10/10 into train/dev/test; parameters C [27, 10], W1 [30, 200], b1 [200], W2 [200, 27],
b2 [27] drawn from torch.randn with a Generator seeded 2147483647 (11 897 parameters); minibatches of
32 drawn with torch.randint; tanh hidden layer; F.cross_entropy; plain SGD p.data += -lr * p.grad with
lr 0.1, then 0.01 for the second half; 20 names sampled with a Generator seeded 2147483647 + 10.
The lecture trains 200 000 steps (lr 0.01 from step 100 000); the comparison setting here is the
shrunk 20 000 steps (lr 0.01 from step 10 000), which runs in seconds and reaches train ~2.30 /
dev ~2.31. The lecture does not seed the minibatch draws; here torch.manual_seed(--seed) does.
Thread count is PyTorch's default. The last line printed is a JSON summary.

  python3 makemore-mlp.py --data names.txt [--steps 20000] [--seed 2147483647] [--log-every 1000]
"""
import argparse, json, random, time
import torch
import torch.nn.functional as F

block_size = 3  # context length: how many characters do we take to predict the next one?


def build_dataset(words, stoi):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + '.':
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]  # crop and append
    return torch.tensor(X), torch.tensor(Y)


def split_loss(parameters, X, Y):
    C, W1, b1, W2, b2 = parameters
    with torch.no_grad():
        emb = C[X]
        h = torch.tanh(emb.view(-1, 30) @ W1 + b1)
        logits = h @ W2 + b2
        return F.cross_entropy(logits, Y).item()


def main():
    p = argparse.ArgumentParser(description="makemore part 2: MLP character-level language model")
    p.add_argument('--data', required=True, help="makemore's names.txt (one lowercase name a line)")
    p.add_argument('--steps', type=int, default=20000, help='training steps (the lecture: 200000)')
    p.add_argument('--decay-step', type=int, default=None, help='step from which lr is 0.01 (default: steps / 2)')
    p.add_argument('--seed', type=int, default=2147483647, help='Generator seed for the parameters and torch.manual_seed for minibatches')
    p.add_argument('--log-every', type=int, default=1000, metavar='N', help='print the minibatch loss every N steps')
    args = p.parse_args()
    decay_step = args.steps // 2 if args.decay_step is None else args.decay_step

    words = open(args.data, 'r').read().splitlines()
    chars = sorted(list(set(''.join(words))))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi['.'] = 0
    itos = {i: s for s, i in stoi.items()}

    random.seed(42)
    random.shuffle(words)
    n1 = int(0.8 * len(words))
    n2 = int(0.9 * len(words))
    Xtr, Ytr = build_dataset(words[:n1], stoi)
    Xdev, Ydev = build_dataset(words[n1:n2], stoi)
    Xte, Yte = build_dataset(words[n2:], stoi)
    print('train', tuple(Xtr.shape), 'dev', tuple(Xdev.shape), 'test', tuple(Xte.shape))

    g = torch.Generator().manual_seed(args.seed)  # for reproducibility
    C = torch.randn((27, 10), generator=g)
    W1 = torch.randn((30, 200), generator=g)
    b1 = torch.randn(200, generator=g)
    W2 = torch.randn((200, 27), generator=g)
    b2 = torch.randn(27, generator=g)
    parameters = [C, W1, b1, W2, b2]
    print(sum(p.nelement() for p in parameters), 'parameters')
    for p_ in parameters:
        p_.requires_grad = True

    torch.manual_seed(args.seed)
    log = []
    t0 = time.perf_counter()
    for i in range(args.steps):
        # minibatch construct
        ix = torch.randint(0, Xtr.shape[0], (32,))
        # forward pass
        emb = C[Xtr[ix]]  # (32, 3, 10)
        h = torch.tanh(emb.view(-1, 30) @ W1 + b1)  # (32, 200)
        logits = h @ W2 + b2  # (32, 27)
        loss = F.cross_entropy(logits, Ytr[ix])
        # backward pass
        for p_ in parameters:
            p_.grad = None
        loss.backward()
        # update
        lr = 0.1 if i < decay_step else 0.01
        for p_ in parameters:
            p_.data += -lr * p_.grad
        if i % args.log_every == 0 or i == args.steps - 1:
            log.append({'step': i, 'loss': loss.item()})
            print(f'step {i:6d}: minibatch loss {loss.item():.4f}', flush=True)
    ms_per_step = 1000 * (time.perf_counter() - t0) / args.steps

    train_loss = split_loss(parameters, Xtr, Ytr)
    dev_loss = split_loss(parameters, Xdev, Ydev)
    print(f'train loss {train_loss:.4f}, dev loss {dev_loss:.4f}, {ms_per_step:.3f} ms per step')

    # sample from the model
    g = torch.Generator().manual_seed(args.seed + 10)
    names = []
    for _ in range(20):
        out = []
        context = [0] * block_size  # initialize with all ...
        while True:
            emb = C[torch.tensor([context])]  # (1, block_size, d)
            h = torch.tanh(emb.view(1, -1) @ W1 + b1)
            logits = h @ W2 + b2
            probs = F.softmax(logits, dim=1)
            ix = torch.multinomial(probs, num_samples=1, generator=g).item()
            context = context[1:] + [ix]
            out.append(ix)
            if ix == 0:
                break
        names.append(''.join(itos[i] for i in out))
        print(names[-1])

    print(json.dumps({
        'program': 'makemore-mlp', 'seed': args.seed, 'torch': torch.__version__, 'threads': torch.get_num_threads(),
        'settings': {'steps': args.steps, 'decay_step': decay_step, 'batch_size': 32, 'block_size': block_size,
                     'n_embd': 10, 'n_hidden': 200, 'lr': [0.1, 0.01]},
        'minibatch_losses': log, 'train_loss': train_loss, 'dev_loss': dev_loss,
        'ms_per_step': round(ms_per_step, 4), 'samples': names,
    }))


if __name__ == '__main__':
    main()
