#!/usr/bin/env python3
"""The GPT of Andrej Karpathy's "Let's build GPT: from scratch, in code, spelled out" lecture
(karpathy/ng-video-lecture gpt.py): a decoder-only transformer trained on tiny Shakespeare, one
character a token.

Same as gpt.py: characters sorted into a 65-symbol vocabulary; first 90% train, rest val; random
blocks drawn with torch.randint; token + position nn.Embedding; n_layer Blocks of pre-LayerNorm
multi-head causal self-attention (per-head key/query/value Linear without bias, scores scaled by
head_size ** -0.5, tril mask, softmax, Dropout, projection Linear + Dropout) and a 4x ReLU
feed-forward + Dropout; final LayerNorm and lm_head; weights init normal(0, 0.02), biases zero;
AdamW (PyTorch's defaults: betas (0.9, 0.999), weight_decay 0.01) at lr 3e-4; torch.manual_seed(1337);
the loss estimated on eval_iters batches of each split every eval_interval steps and at the last
step; 500 characters generated from a '\\n' context with torch.multinomial.

--size picks the hyperparameters:
  small   (default) n_embd 64, 4 heads, 4 layers, block 32, batch 16, dropout 0.2, 1 000 iterations,
          evaluated every 100 with eval_iters 200: the shrunk setting that runs in minutes on a CPU
          (0.21 M parameters)
  lecture gpt.py's own: n_embd 384, 6 heads, 6 layers, block 256, batch 64, dropout 0.2, 5 000
          iterations, evaluated every 500 with eval_iters 200 (10.8 M parameters; needs a GPU)
--iters, --eval-interval and --eval-iters override the size's values. The generator is reseeded
with --seed before sampling (gpt.py samples from wherever training left the generator), so the
sampled text depends only on the seed and the trained weights. Thread count is PyTorch's default.
The last line printed is a JSON summary.

  python3 gpt.py --data tinyshakespeare.txt [--size small|lecture] [--seed 1337]
"""
import argparse, json, time
import torch
import torch.nn as nn
from torch.nn import functional as F

SIZES = {
    'small': dict(batch_size=16, block_size=32, max_iters=1000, eval_interval=100, learning_rate=3e-4,
                  eval_iters=200, n_embd=64, n_head=4, n_layer=4, dropout=0.2),
    'lecture': dict(batch_size=64, block_size=256, max_iters=5000, eval_interval=500, learning_rate=3e-4,
                    eval_iters=200, n_embd=384, n_head=6, n_layer=6, dropout=0.2),
}

p = argparse.ArgumentParser(description="ng-video-lecture gpt.py: a character-level GPT on tiny Shakespeare")
p.add_argument('--data', required=True, help='the tiny Shakespeare text (char-rnn input.txt)')
p.add_argument('--size', choices=sorted(SIZES), default='small')
p.add_argument('--iters', type=int, help='training iterations (max_iters)')
p.add_argument('--eval-interval', type=int)
p.add_argument('--eval-iters', type=int)
p.add_argument('--seed', type=int, default=1337)
p.add_argument('--sample-chars', type=int, default=500)
args = p.parse_args()

# hyperparameters
hp = dict(SIZES[args.size])
if args.iters is not None: hp['max_iters'] = args.iters
if args.eval_interval is not None: hp['eval_interval'] = args.eval_interval
if args.eval_iters is not None: hp['eval_iters'] = args.eval_iters
batch_size = hp['batch_size']  # how many independent sequences will we process in parallel?
block_size = hp['block_size']  # what is the maximum context length for predictions?
max_iters = hp['max_iters']
eval_interval = hp['eval_interval']
learning_rate = hp['learning_rate']
device = 'cpu'
eval_iters = hp['eval_iters']
n_embd = hp['n_embd']
n_head = hp['n_head']
n_layer = hp['n_layer']
dropout = hp['dropout']
# ------------

torch.manual_seed(args.seed)

with open(args.data, 'r', encoding='utf-8') as f:
    text = f.read()

# here are all the unique characters that occur in this text
chars = sorted(list(set(text)))
vocab_size = len(chars)
# create a mapping from characters to integers
stoi = {ch: i for i, ch in enumerate(chars)}
itos = {i: ch for i, ch in enumerate(chars)}
encode = lambda s: [stoi[c] for c in s]  # encoder: take a string, output a list of integers
decode = lambda l: ''.join([itos[i] for i in l])  # decoder: take a list of integers, output a string

# Train and test splits
data = torch.tensor(encode(text), dtype=torch.long)
n = int(0.9 * len(data))  # first 90% will be train, rest val
train_data = data[:n]
val_data = data[n:]


# data loading
def get_batch(split):
    # generate a small batch of data of inputs x and targets y
    data = train_data if split == 'train' else val_data
    ix = torch.randint(len(data) - block_size, (batch_size,))
    x = torch.stack([data[i:i + block_size] for i in ix])
    y = torch.stack([data[i + 1:i + block_size + 1] for i in ix])
    x, y = x.to(device), y.to(device)
    return x, y


@torch.no_grad()
def estimate_loss():
    out = {}
    model.eval()
    for split in ['train', 'val']:
        losses = torch.zeros(eval_iters)
        for k in range(eval_iters):
            X, Y = get_batch(split)
            logits, loss = model(X, Y)
            losses[k] = loss.item()
        out[split] = losses.mean()
    model.train()
    return out


class Head(nn.Module):
    """ one head of self-attention """

    def __init__(self, head_size):
        super().__init__()
        self.key = nn.Linear(n_embd, head_size, bias=False)
        self.query = nn.Linear(n_embd, head_size, bias=False)
        self.value = nn.Linear(n_embd, head_size, bias=False)
        self.register_buffer('tril', torch.tril(torch.ones(block_size, block_size)))

        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        # input of size (batch, time-step, channels)
        # output of size (batch, time-step, head size)
        B, T, C = x.shape
        k = self.key(x)   # (B,T,hs)
        q = self.query(x)  # (B,T,hs)
        # compute attention scores ("affinities")
        wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5  # (B, T, hs) @ (B, hs, T) -> (B, T, T)
        wei = wei.masked_fill(self.tril[:T, :T] == 0, float('-inf'))  # (B, T, T)
        wei = F.softmax(wei, dim=-1)  # (B, T, T)
        wei = self.dropout(wei)
        # perform the weighted aggregation of the values
        v = self.value(x)  # (B,T,hs)
        out = wei @ v  # (B, T, T) @ (B, T, hs) -> (B, T, hs)
        return out


class MultiHeadAttention(nn.Module):
    """ multiple heads of self-attention in parallel """

    def __init__(self, num_heads, head_size):
        super().__init__()
        self.heads = nn.ModuleList([Head(head_size) for _ in range(num_heads)])
        self.proj = nn.Linear(head_size * num_heads, n_embd)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        out = torch.cat([h(x) for h in self.heads], dim=-1)
        out = self.dropout(self.proj(out))
        return out


class FeedFoward(nn.Module):
    """ a simple linear layer followed by a non-linearity """

    def __init__(self, n_embd):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_embd, 4 * n_embd),
            nn.ReLU(),
            nn.Linear(4 * n_embd, n_embd),
            nn.Dropout(dropout),
        )

    def forward(self, x):
        return self.net(x)


class Block(nn.Module):
    """ Transformer block: communication followed by computation """

    def __init__(self, n_embd, n_head):
        # n_embd: embedding dimension, n_head: the number of heads we'd like
        super().__init__()
        head_size = n_embd // n_head
        self.sa = MultiHeadAttention(n_head, head_size)
        self.ffwd = FeedFoward(n_embd)
        self.ln1 = nn.LayerNorm(n_embd)
        self.ln2 = nn.LayerNorm(n_embd)

    def forward(self, x):
        x = x + self.sa(self.ln1(x))
        x = x + self.ffwd(self.ln2(x))
        return x


class GPTLanguageModel(nn.Module):

    def __init__(self):
        super().__init__()
        # each token directly reads off the logits for the next token from a lookup table
        self.token_embedding_table = nn.Embedding(vocab_size, n_embd)
        self.position_embedding_table = nn.Embedding(block_size, n_embd)
        self.blocks = nn.Sequential(*[Block(n_embd, n_head=n_head) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)  # final layer norm
        self.lm_head = nn.Linear(n_embd, vocab_size)

        # better init, not covered in the original GPT video, but important
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets=None):
        B, T = idx.shape

        # idx and targets are both (B,T) tensor of integers
        tok_emb = self.token_embedding_table(idx)  # (B,T,C)
        pos_emb = self.position_embedding_table(torch.arange(T, device=device))  # (T,C)
        x = tok_emb + pos_emb  # (B,T,C)
        x = self.blocks(x)  # (B,T,C)
        x = self.ln_f(x)  # (B,T,C)
        logits = self.lm_head(x)  # (B,T,vocab_size)

        if targets is None:
            loss = None
        else:
            B, T, C = logits.shape
            logits = logits.view(B * T, C)
            targets = targets.view(B * T)
            loss = F.cross_entropy(logits, targets)

        return logits, loss

    def generate(self, idx, max_new_tokens):
        # idx is (B, T) array of indices in the current context
        for _ in range(max_new_tokens):
            # crop idx to the last block_size tokens
            idx_cond = idx[:, -block_size:]
            # get the predictions
            logits, loss = self(idx_cond)
            # focus only on the last time step
            logits = logits[:, -1, :]  # becomes (B, C)
            # apply softmax to get probabilities
            probs = F.softmax(logits, dim=-1)  # (B, C)
            # sample from the distribution
            idx_next = torch.multinomial(probs, num_samples=1)  # (B, 1)
            # append sampled index to the running sequence
            idx = torch.cat((idx, idx_next), dim=1)  # (B, T+1)
        return idx


model = GPTLanguageModel()
m = model.to(device)
# print the number of parameters in the model
n_params = sum(p.numel() for p in m.parameters())
print(n_params / 1e6, 'M parameters')

# create a PyTorch optimizer
optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)

evals = []
train_s, eval_s = 0.0, 0.0
for iter in range(max_iters):

    # every once in a while evaluate the loss on train and val sets
    if iter % eval_interval == 0 or iter == max_iters - 1:
        t0 = time.perf_counter()
        losses = estimate_loss()
        eval_s += time.perf_counter() - t0
        evals.append({'step': iter, 'train': losses['train'].item(), 'val': losses['val'].item()})
        ms = 1000 * train_s / iter if iter else float('nan')
        print(f"step {iter}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f} ({ms:.1f} ms/iter)", flush=True)

    t0 = time.perf_counter()
    # sample a batch of data
    xb, yb = get_batch('train')

    # evaluate the loss
    logits, loss = model(xb, yb)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    train_s += time.perf_counter() - t0

ms_per_iter = 1000 * train_s / max_iters
print(f'{ms_per_iter:.1f} ms per training iteration; evaluation took {eval_s:.1f} s in all')

# generate from the model
torch.manual_seed(args.seed)
context = torch.zeros((1, 1), dtype=torch.long, device=device)
t0 = time.perf_counter()
sample = decode(m.generate(context, max_new_tokens=args.sample_chars)[0].tolist())
sample_ms = 1000 * (time.perf_counter() - t0) / args.sample_chars
print(sample)

print(json.dumps({
    'program': 'gpt', 'size': args.size, 'seed': args.seed, 'torch': torch.__version__, 'threads': torch.get_num_threads(),
    'settings': hp, 'parameters': n_params, 'evals': evals,
    'final_train_loss': evals[-1]['train'], 'final_val_loss': evals[-1]['val'],
    'ms_per_iter': round(ms_per_iter, 2), 'eval_s': round(eval_s, 1), 'sample_ms_per_char': round(sample_ms, 2),
    'sample': sample,
}))
