#!/usr/bin/env python3
""""Learning PyTorch with Examples" (pytorch.org/tutorials/beginner/pytorch_with_examples): fit
y = sin(x) on 2000 points of [-pi, pi] with a third-order polynomial, 2000 steps per version,
printing the loss at steps 99, 199, ..., 1999 (t % 100 == 99) and the final coefficients, as the
tutorial does. The versions, each the tutorial's program:

  autograd  tensors + autograd: a, b, c, d = randn(()), SGD by hand with lr 1e-6 (polynomial_autograd.py)
  function  custom autograd Function LegendrePolynomial3 (P3), y = a + b * P3(c + d x),
            a, b, c, d = 0, -1, 0, 0.3, SGD by hand with lr 5e-6 (polynomial_custom_function.py)
  nn        nn.Sequential(Linear(3, 1), Flatten(0, 1)), MSELoss(reduction='sum'),
            SGD by hand with lr 1e-6 (polynomial_nn.py)
  optim     the same model with torch.optim.RMSprop lr 1e-3 (polynomial_optim.py)
  module    a custom nn.Module Polynomial3 (a, b, c, d = randn(())) with torch.optim.SGD
            lr 1e-6 (polynomial_module.py)

The tutorial sets no seed; --seed (default 0) is given to torch.manual_seed before each version.
float32 on the CPU as the tutorial; thread count is PyTorch's default. The starting coefficients are
printed (and kept in the JSON summary) so that a port can start from the same values. The last line
printed is a JSON summary.

  python3 polynomial.py [--seed 0] [--versions autograd,function,nn,optim,module]
"""
import argparse, json, math, time
import torch

STEPS = 2000
dtype = torch.float
device = torch.device("cpu")


def data():
    x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    y = torch.sin(x)
    return x, y


def run_autograd(log):
    x, y = data()
    a = torch.randn((), device=device, dtype=dtype, requires_grad=True)
    b = torch.randn((), device=device, dtype=dtype, requires_grad=True)
    c = torch.randn((), device=device, dtype=dtype, requires_grad=True)
    d = torch.randn((), device=device, dtype=dtype, requires_grad=True)
    log.initial(a=a.item(), b=b.item(), c=c.item(), d=d.item())
    learning_rate = 1e-6
    for t in range(STEPS):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        if t % 100 == 99:
            log(t, loss.item())
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    print(f'Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3')
    return {'a': a.item(), 'b': b.item(), 'c': c.item(), 'd': d.item()}


class LegendrePolynomial3(torch.autograd.Function):
    """P3(x) = 1/2 (5x^3 - 3x), with its derivative 3/2 (5x^2 - 1) written by hand."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


def run_function(log):
    x, y = data()
    a = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
    b = torch.full((), -1.0, device=device, dtype=dtype, requires_grad=True)
    c = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
    d = torch.full((), 0.3, device=device, dtype=dtype, requires_grad=True)
    log.initial(a=a.item(), b=b.item(), c=c.item(), d=d.item())
    learning_rate = 5e-6
    for t in range(STEPS):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        if t % 100 == 99:
            log(t, loss.item())
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    print(f'Result: y = {a.item()} + {b.item()} * P3({c.item()} + {d.item()} x)')
    return {'a': a.item(), 'b': b.item(), 'c': c.item(), 'd': d.item()}


def sequential_model():
    x, y = data()
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)  # [2000, 3]: x, x^2, x^3
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    return xx, y, model


def linear_coefficients(model):
    linear_layer = model[0]
    return {'a': linear_layer.bias.item(), 'b': linear_layer.weight[:, 0].item(),
            'c': linear_layer.weight[:, 1].item(), 'd': linear_layer.weight[:, 2].item()}


def linear_result(model):
    r = linear_coefficients(model)
    print(f"Result: y = {r['a']} + {r['b']} x + {r['c']} x^2 + {r['d']} x^3")
    return r


def run_nn(log):
    xx, y, model = sequential_model()
    log.initial(**linear_coefficients(model))
    loss_fn = torch.nn.MSELoss(reduction='sum')
    learning_rate = 1e-6
    for t in range(STEPS):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        if t % 100 == 99:
            log(t, loss.item())
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= learning_rate * param.grad
    return linear_result(model)


def run_optim(log):
    xx, y, model = sequential_model()
    log.initial(**linear_coefficients(model))
    loss_fn = torch.nn.MSELoss(reduction='sum')
    learning_rate = 1e-3
    optimizer = torch.optim.RMSprop(model.parameters(), lr=learning_rate)
    for t in range(STEPS):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        if t % 100 == 99:
            log(t, loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return linear_result(model)


class Polynomial3(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(()))
        self.b = torch.nn.Parameter(torch.randn(()))
        self.c = torch.nn.Parameter(torch.randn(()))
        self.d = torch.nn.Parameter(torch.randn(()))

    def forward(self, x):
        return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3

    def string(self):
        return f'y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3'


def run_module(log):
    x, y = data()
    model = Polynomial3()
    log.initial(**{k: getattr(model, k).item() for k in 'abcd'})
    criterion = torch.nn.MSELoss(reduction='sum')
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-6)
    for t in range(STEPS):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        if t % 100 == 99:
            log(t, loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f'Result: {model.string()}')
    return {k: getattr(model, k).item() for k in 'abcd'}


class Log:
    """Collects the printed losses and the starting coefficients (so a port can start from the same values)."""

    def __init__(self):
        self.losses, self.init = [], {}

    def __call__(self, t, loss):
        self.losses.append({'step': t, 'loss': loss})
        print(t, loss)

    def initial(self, **coeffs):
        self.init = coeffs
        print('initial', ' '.join(f'{k}={v}' for k, v in coeffs.items()))


VERSIONS = {'autograd': run_autograd, 'function': run_function, 'nn': run_nn, 'optim': run_optim, 'module': run_module}


def main():
    p = argparse.ArgumentParser(description='Learning PyTorch with Examples: sin(x) by a third-order polynomial')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--versions', default=','.join(VERSIONS), help='comma-separated subset of ' + ', '.join(VERSIONS))
    args = p.parse_args()
    out = {}
    for name in args.versions.split(','):
        print(f'== {name}')
        torch.manual_seed(args.seed)
        log = Log()
        t0 = time.perf_counter()
        coeffs = VERSIONS[name](log)
        ms = 1000 * (time.perf_counter() - t0) / STEPS
        out[name] = {'initial': log.init, 'losses': log.losses, 'final_loss': log.losses[-1]['loss'],
                     'coefficients': coeffs, 'ms_per_step': round(ms, 4)}
    print(json.dumps({'program': 'polynomial', 'seed': args.seed, 'torch': torch.__version__,
                      'threads': torch.get_num_threads(), 'steps': STEPS, 'versions': out}))


if __name__ == '__main__':
    main()
