// Byte-for-byte comparison with PyTorch's repr(tensor). Every expected string was printed by
// torch 1.13 (`/usr/bin/python3 -c 'import torch; print(repr(<snippet>))'`); the snippet is in
// the comment above each case. No Python or torch is needed to run these tests.

import { describe, expect, it } from 'vitest';
import type { DType } from '../src/dtype.ts';
import { formatTensor, type FormatOptions } from '../src/tensor/format.ts';

interface Case {
  name: string;
  values: ArrayLike<number>;
  shape: number[];
  dtype: DType;
  opts?: FormatOptions;
  expected: string;
}

const cases: Case[] = [
  // torch.tensor(3.)
  {
    name: '0-d float, integer valued',
    values: [3.0],
    shape: [],
    dtype: 'float32',
    expected: 'tensor(3.)',
  },
  // torch.tensor(0.5)
  {
    name: '0-d float, fractional',
    values: [0.5],
    shape: [],
    dtype: 'float32',
    expected: 'tensor(0.5000)',
  },
  // torch.tensor(-7, dtype=torch.int32)
  {
    name: '0-d int32',
    values: [-7],
    shape: [],
    dtype: 'int32',
    expected: 'tensor(-7, dtype=torch.int32)',
  },
  // torch.tensor(True)
  {
    name: '0-d bool',
    values: [1],
    shape: [],
    dtype: 'bool',
    expected: 'tensor(True)',
  },
  // torch.tensor(float('nan'))
  {
    name: '0-d nan',
    values: [NaN],
    shape: [],
    dtype: 'float32',
    expected: 'tensor(nan)',
  },
  // torch.tensor(-1.5e-7)
  {
    name: '0-d scientific',
    values: [-1.500000053056283e-07],
    shape: [],
    dtype: 'float32',
    expected: 'tensor(-1.5000e-07)',
  },
  // torch.tensor(-0.)
  {
    name: '0-d negative zero',
    values: [-0],
    shape: [],
    dtype: 'float32',
    expected: 'tensor(-0.)',
  },
  // torch.tensor([1., 2., 3.])
  {
    name: '1-d integer-valued floats',
    values: [1.0, 2.0, 3.0],
    shape: [3],
    dtype: 'float32',
    expected: 'tensor([1., 2., 3.])',
  },
  // torch.tensor([0.1, -2.5])
  {
    name: '1-d mixed signs share a width',
    values: [0.10000000149011612, -2.5],
    shape: [2],
    dtype: 'float32',
    expected: 'tensor([ 0.1000, -2.5000])',
  },
  // torch.tensor([-1.25, 10.5, 0., -100.75, 3.])
  {
    name: '1-d negatives and positives',
    values: [-1.25, 10.5, 0.0, -100.75, 3.0],
    shape: [5],
    dtype: 'float32',
    expected: 'tensor([  -1.2500,   10.5000,    0.0000, -100.7500,    3.0000])',
  },
  // torch.tensor([1e-5, 1e3])
  {
    name: 'scientific: max/min ratio > 1000',
    values: [9.999999747378752e-06, 1000.0],
    shape: [2],
    dtype: 'float32',
    expected: 'tensor([1.0000e-05, 1.0000e+03])',
  },
  // torch.tensor([1.5e-5, 2.5e-5])
  {
    name: 'scientific: min < 1e-4',
    values: [1.4999999621068127e-05, 2.499999936844688e-05],
    shape: [2],
    dtype: 'float32',
    expected: 'tensor([1.5000e-05, 2.5000e-05])',
  },
  // torch.tensor([123456789., 1.])
  {
    name: 'scientific: max > 1e8 in int mode',
    values: [123456792.0, 1.0],
    shape: [2],
    dtype: 'float32',
    expected: 'tensor([1.2346e+08, 1.0000e+00])',
  },
  // torch.tensor([1., 5000.])
  {
    name: 'scientific: int mode ratio > 1000',
    values: [1.0, 5000.0],
    shape: [2],
    dtype: 'float32',
    expected: 'tensor([1.0000e+00, 5.0000e+03])',
  },
  // torch.tensor([-1e-5, 2e3, 0.])
  {
    name: 'scientific with zero and negatives',
    values: [-9.999999747378752e-06, 2000.0, 0.0],
    shape: [3],
    dtype: 'float32',
    expected: 'tensor([-1.0000e-05,  2.0000e+03,  0.0000e+00])',
  },
  // torch.tensor([3.4e38, -1e-38])
  {
    name: 'scientific near float32 limits',
    values: [3.3999999521443642e+38, -9.999999350456404e-39],
    shape: [2],
    dtype: 'float32',
    expected: 'tensor([ 3.4000e+38, -1.0000e-38])',
  },
  // torch.tensor([0.03125, 0.125, -0.09375, 0.15625])
  {
    name: 'round half to even on exact ties',
    values: [0.03125, 0.125, -0.09375, 0.15625],
    shape: [4],
    dtype: 'float32',
    expected: 'tensor([ 0.0312,  0.1250, -0.0938,  0.1562])',
  },
  // torch.tensor([9.99995e-5, 1.])
  {
    name: 'rounding carries into exponent',
    values: [9.999950270866975e-05, 1.0],
    shape: [2],
    dtype: 'float32',
    expected: 'tensor([1.0000e-04, 1.0000e+00])',
  },
  // torch.tensor([float('nan'), float('inf'), -float('inf'), 1.5])
  {
    name: 'nan, inf, -inf with fractions',
    values: [NaN, Infinity, -Infinity, 1.5],
    shape: [4],
    dtype: 'float32',
    expected: 'tensor([   nan,    inf,   -inf, 1.5000])',
  },
  // torch.tensor([float('nan'), 1., -2.])
  {
    name: 'nan in int mode',
    values: [NaN, 1.0, -2.0],
    shape: [3],
    dtype: 'float32',
    expected: 'tensor([nan,  1., -2.])',
  },
  // torch.tensor([float('inf'), 1e-6])
  {
    name: 'inf in scientific mode',
    values: [Infinity, 9.999999974752427e-07],
    shape: [2],
    dtype: 'float32',
    expected: 'tensor([       inf, 1.0000e-06])',
  },
  // torch.tensor([0., 0.])
  {
    name: 'all zeros',
    values: [0.0, 0.0],
    shape: [2],
    dtype: 'float32',
    expected: 'tensor([0., 0.])',
  },
  // torch.tensor([-0., 0.5])
  {
    name: 'negative zero next to a fraction',
    values: [-0, 0.5],
    shape: [2],
    dtype: 'float32',
    expected: 'tensor([-0.0000, 0.5000])',
  },
  // torch.tensor([1, 2, 3], dtype=torch.int32)
  {
    name: 'int32 1-d',
    values: [1, 2, 3],
    shape: [3],
    dtype: 'int32',
    expected: 'tensor([1, 2, 3], dtype=torch.int32)',
  },
  // torch.tensor([-100, 5, 20000], dtype=torch.int32)
  {
    name: 'int32 mixed widths',
    values: [-100, 5, 20000],
    shape: [3],
    dtype: 'int32',
    expected: 'tensor([ -100,     5, 20000], dtype=torch.int32)',
  },
  // torch.tensor([True, False])
  {
    name: 'bool 1-d',
    values: [1, 0],
    shape: [2],
    dtype: 'bool',
    expected: 'tensor([ True, False])',
  },
  // torch.tensor([[True, True], [False, True]])
  {
    name: 'bool 2-d',
    values: [1, 1, 0, 1],
    shape: [2, 2],
    dtype: 'bool',
    expected: 'tensor([[ True,  True],\n        [False,  True]])',
  },
  // torch.tensor([])
  {
    name: 'empty 1-d',
    values: [],
    shape: [0],
    dtype: 'float32',
    expected: 'tensor([])',
  },
  // torch.zeros(0, 3)
  {
    name: 'empty 2-d',
    values: [],
    shape: [0, 3],
    dtype: 'float32',
    expected: 'tensor([], size=(0, 3))',
  },
  // torch.zeros(0, dtype=torch.int32)
  {
    name: 'empty int32',
    values: [],
    shape: [0],
    dtype: 'int32',
    expected: 'tensor([], dtype=torch.int32)',
  },
  // torch.zeros(2, 0, 3, dtype=torch.bool)
  {
    name: 'empty bool 3-d',
    values: [],
    shape: [2, 0, 3],
    dtype: 'bool',
    expected: 'tensor([], size=(2, 0, 3), dtype=torch.bool)',
  },
  // torch.zeros(0, 3, requires_grad=True)
  {
    name: 'empty with requires_grad',
    values: [],
    shape: [0, 3],
    dtype: 'float32',
    opts: { requiresGrad: true },
    expected: 'tensor([], size=(0, 3), requires_grad=True)',
  },
  // torch.tensor([[1., -2.], [3.5, 4.]])
  {
    name: '2-d floats',
    values: [1.0, -2.0, 3.5, 4.0],
    shape: [2, 2],
    dtype: 'float32',
    expected: 'tensor([[ 1.0000, -2.0000],\n        [ 3.5000,  4.0000]])',
  },
  // torch.tensor([[1., 2.], [3., 4.]], requires_grad=True)
  {
    name: '2-d requires_grad',
    values: [1.0, 2.0, 3.0, 4.0],
    shape: [2, 2],
    dtype: 'float32',
    opts: { requiresGrad: true },
    expected: 'tensor([[1., 2.],\n        [3., 4.]], requires_grad=True)',
  },
  // torch.tensor([1., 2.], requires_grad=True).sin()
  {
    name: 'grad_fn',
    values: [0.8414709568023682, 0.9092974066734314],
    shape: [2],
    dtype: 'float32',
    opts: { gradFn: 'SinBackward0' },
    expected: 'tensor([0.8415, 0.9093], grad_fn=<SinBackward0>)',
  },
  // torch.tensor(2.5, requires_grad=True)
  {
    name: '0-d requires_grad',
    values: [2.5],
    shape: [],
    dtype: 'float32',
    opts: { requiresGrad: true },
    expected: 'tensor(2.5000, requires_grad=True)',
  },
  // torch.full((2, 8), 1.2345, requires_grad=True)
  {
    name: 'suffix wraps onto a new line',
    values: new Array(16).fill(1.2345),
    shape: [2, 8],
    dtype: 'float32',
    opts: { requiresGrad: true },
    expected: 'tensor([[1.2345, 1.2345, 1.2345, 1.2345, 1.2345, 1.2345, 1.2345, 1.2345],\n        [1.2345, 1.2345, 1.2345, 1.2345, 1.2345, 1.2345, 1.2345, 1.2345]],\n       requires_grad=True)',
  },
  // torch.arange(24.).reshape(2, 3, 4)
  {
    name: '3-d floats',
    values: Array.from({ length: 24 }, (_, i) => i),
    shape: [2, 3, 4],
    dtype: 'float32',
    expected: 'tensor([[[ 0.,  1.,  2.,  3.],\n         [ 4.,  5.,  6.,  7.],\n         [ 8.,  9., 10., 11.]],\n\n        [[12., 13., 14., 15.],\n         [16., 17., 18., 19.],\n         [20., 21., 22., 23.]]])',
  },
  // torch.tensor([[[1.5, -2.], [0.25, 3.]], [[-4.125, 5.], [6., -7.75]]])
  {
    name: '3-d mixed signs',
    values: [1.5, -2.0, 0.25, 3.0, -4.125, 5.0, 6.0, -7.75],
    shape: [2, 2, 2],
    dtype: 'float32',
    expected: 'tensor([[[ 1.5000, -2.0000],\n         [ 0.2500,  3.0000]],\n\n        [[-4.1250,  5.0000],\n         [ 6.0000, -7.7500]]])',
  },
  // torch.arange(16, dtype=torch.int32).reshape(2, 2, 2, 2)
  {
    name: '4-d int32',
    values: Array.from({ length: 16 }, (_, i) => i),
    shape: [2, 2, 2, 2],
    dtype: 'int32',
    expected: 'tensor([[[[ 0,  1],\n          [ 2,  3]],\n\n         [[ 4,  5],\n          [ 6,  7]]],\n\n\n        [[[ 8,  9],\n          [10, 11]],\n\n         [[12, 13],\n          [14, 15]]]], dtype=torch.int32)',
  },
  // torch.arange(30.) * 1.5
  {
    name: 'long 1-d wraps at linewidth',
    values: Array.from({ length: 30 }, (_, i) => i * 1.5),
    shape: [30],
    dtype: 'float32',
    expected: 'tensor([ 0.0000,  1.5000,  3.0000,  4.5000,  6.0000,  7.5000,  9.0000, 10.5000,\n        12.0000, 13.5000, 15.0000, 16.5000, 18.0000, 19.5000, 21.0000, 22.5000,\n        24.0000, 25.5000, 27.0000, 28.5000, 30.0000, 31.5000, 33.0000, 34.5000,\n        36.0000, 37.5000, 39.0000, 40.5000, 42.0000, 43.5000])',
  },
  // torch.arange(40, dtype=torch.int32)
  {
    name: 'long int32 row wraps',
    values: Array.from({ length: 40 }, (_, i) => i),
    shape: [40],
    dtype: 'int32',
    expected: 'tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17,\n        18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,\n        36, 37, 38, 39], dtype=torch.int32)',
  },
  // torch.arange(24.).reshape(2, 12) / 3
  {
    name: '2-d rows wrap',
    values: Array.from({ length: 24 }, (_, i) => i / 3),
    shape: [2, 12],
    dtype: 'float32',
    expected: 'tensor([[0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667, 2.0000, 2.3333, 2.6667,\n         3.0000, 3.3333, 3.6667],\n        [4.0000, 4.3333, 4.6667, 5.0000, 5.3333, 5.6667, 6.0000, 6.3333, 6.6667,\n         7.0000, 7.3333, 7.6667]])',
  },
  // torch.set_printoptions(threshold=5); torch.arange(10.)
  {
    name: 'summarise 1-d (threshold)',
    values: Array.from({ length: 10 }, (_, i) => i),
    shape: [10],
    dtype: 'float32',
    opts: { threshold: 5 },
    expected: 'tensor([0., 1., 2.,  ..., 7., 8., 9.])',
  },
  // torch.set_printoptions(threshold=5); torch.arange(10, dtype=torch.int32)
  {
    name: 'summarise 1-d int32 (threshold)',
    values: Array.from({ length: 10 }, (_, i) => i),
    shape: [10],
    dtype: 'int32',
    opts: { threshold: 5 },
    expected: 'tensor([0, 1, 2,  ..., 7, 8, 9], dtype=torch.int32)',
  },
  // (torch.arange(2000.) - 1000) / 8
  {
    name: '[2000] float summarised',
    values: Array.from({ length: 2000 }, (_, i) => (i - 1000) / 8),
    shape: [2000],
    dtype: 'float32',
    expected: 'tensor([-125.0000, -124.8750, -124.7500,  ...,  124.6250,  124.7500,\n         124.8750])',
  },
  // torch.arange(2000, dtype=torch.int32)
  {
    name: '[2000] int32 summarised',
    values: Array.from({ length: 2000 }, (_, i) => i),
    shape: [2000],
    dtype: 'int32',
    expected: 'tensor([   0,    1,    2,  ..., 1997, 1998, 1999], dtype=torch.int32)',
  },
  // torch.arange(10000.).reshape(100, 100) / 4
  {
    name: '[100, 100] float summarised',
    values: Array.from({ length: 10000 }, (_, i) => i / 4),
    shape: [100, 100],
    dtype: 'float32',
    expected: 'tensor([[0.0000e+00, 2.5000e-01, 5.0000e-01,  ..., 2.4250e+01, 2.4500e+01,\n         2.4750e+01],\n        [2.5000e+01, 2.5250e+01, 2.5500e+01,  ..., 4.9250e+01, 4.9500e+01,\n         4.9750e+01],\n        [5.0000e+01, 5.0250e+01, 5.0500e+01,  ..., 7.4250e+01, 7.4500e+01,\n         7.4750e+01],\n        ...,\n        [2.4250e+03, 2.4252e+03, 2.4255e+03,  ..., 2.4492e+03, 2.4495e+03,\n         2.4498e+03],\n        [2.4500e+03, 2.4502e+03, 2.4505e+03,  ..., 2.4742e+03, 2.4745e+03,\n         2.4748e+03],\n        [2.4750e+03, 2.4752e+03, 2.4755e+03,  ..., 2.4992e+03, 2.4995e+03,\n         2.4998e+03]])',
  },
  // torch.arange(2000.).reshape(400, 5)
  {
    name: '[400, 5] rows summarised, columns kept',
    values: Array.from({ length: 2000 }, (_, i) => i),
    shape: [400, 5],
    dtype: 'float32',
    expected: 'tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00, 3.0000e+00, 4.0000e+00],\n        [5.0000e+00, 6.0000e+00, 7.0000e+00, 8.0000e+00, 9.0000e+00],\n        [1.0000e+01, 1.1000e+01, 1.2000e+01, 1.3000e+01, 1.4000e+01],\n        ...,\n        [1.9850e+03, 1.9860e+03, 1.9870e+03, 1.9880e+03, 1.9890e+03],\n        [1.9900e+03, 1.9910e+03, 1.9920e+03, 1.9930e+03, 1.9940e+03],\n        [1.9950e+03, 1.9960e+03, 1.9970e+03, 1.9980e+03, 1.9990e+03]])',
  },
  // torch.arange(1200.).reshape(2, 20, 30) - 600
  {
    name: '[2, 20, 30] 3-d summarised',
    values: Array.from({ length: 1200 }, (_, i) => i - 600),
    shape: [2, 20, 30],
    dtype: 'float32',
    expected: 'tensor([[[-600., -599., -598.,  ..., -573., -572., -571.],\n         [-570., -569., -568.,  ..., -543., -542., -541.],\n         [-540., -539., -538.,  ..., -513., -512., -511.],\n         ...,\n         [ -90.,  -89.,  -88.,  ...,  -63.,  -62.,  -61.],\n         [ -60.,  -59.,  -58.,  ...,  -33.,  -32.,  -31.],\n         [ -30.,  -29.,  -28.,  ...,   -3.,   -2.,   -1.]],\n\n        [[   0.,    1.,    2.,  ...,   27.,   28.,   29.],\n         [  30.,   31.,   32.,  ...,   57.,   58.,   59.],\n         [  60.,   61.,   62.,  ...,   87.,   88.,   89.],\n         ...,\n         [ 510.,  511.,  512.,  ...,  537.,  538.,  539.],\n         [ 540.,  541.,  542.,  ...,  567.,  568.,  569.],\n         [ 570.,  571.,  572.,  ...,  597.,  598.,  599.]]])',
  },
  // torch.arange(2000.).reshape(40, 50).requires_grad_() * 0.25 - 3
  {
    name: 'summarised with grad_fn',
    values: Array.from({ length: 2000 }, (_, i) => i * 0.25 - 3),
    shape: [40, 50],
    dtype: 'float32',
    opts: { gradFn: 'SubBackward0' },
    expected: 'tensor([[ -3.0000,  -2.7500,  -2.5000,  ...,   8.7500,   9.0000,   9.2500],\n        [  9.5000,   9.7500,  10.0000,  ...,  21.2500,  21.5000,  21.7500],\n        [ 22.0000,  22.2500,  22.5000,  ...,  33.7500,  34.0000,  34.2500],\n        ...,\n        [459.5000, 459.7500, 460.0000,  ..., 471.2500, 471.5000, 471.7500],\n        [472.0000, 472.2500, 472.5000,  ..., 483.7500, 484.0000, 484.2500],\n        [484.5000, 484.7500, 485.0000,  ..., 496.2500, 496.5000, 496.7500]],\n       grad_fn=<SubBackward0>)',
  },
  // torch.set_printoptions(threshold=10, edgeitems=2); torch.arange(20.).reshape(4, 5)
  {
    name: 'edgeitems=2',
    values: Array.from({ length: 20 }, (_, i) => i),
    shape: [4, 5],
    dtype: 'float32',
    opts: { threshold: 10, edgeitems: 2 },
    expected: 'tensor([[ 0.,  1.,  ...,  3.,  4.],\n        [ 5.,  6.,  ...,  8.,  9.],\n        [10., 11.,  ..., 13., 14.],\n        [15., 16.,  ..., 18., 19.]])',
  },
  // torch.set_printoptions(precision=2); torch.tensor([1.12345, -0.005])
  {
    name: 'precision=2',
    values: [1.1234500408172607, -0.004999999888241291],
    shape: [2],
    dtype: 'float32',
    opts: { precision: 2 },
    expected: 'tensor([ 1.12, -0.00])',
  },
  // torch.set_printoptions(precision=6); torch.tensor([3.14159265, 1e-3])
  {
    name: 'precision=6',
    values: [3.1415927410125732, 0.0010000000474974513],
    shape: [2],
    dtype: 'float32',
    opts: { precision: 6 },
    expected: 'tensor([3.141593e+00, 1.000000e-03])',
  },
  // torch.set_printoptions(precision=0); torch.tensor([1.5, 2.5, -0.4])
  {
    name: 'precision=0 rounds half to even, keeps -0',
    values: [1.5, 2.5, -0.4000000059604645],
    shape: [3],
    dtype: 'float32',
    opts: { precision: 0 },
    expected: 'tensor([ 2,  2, -0])',
  },
  // torch.set_printoptions(precision=0); torch.tensor([12345., 0.5])
  {
    name: 'precision=0 scientific',
    values: [12345.0, 0.5],
    shape: [2],
    dtype: 'float32',
    opts: { precision: 0 },
    expected: 'tensor([1e+04, 5e-01])',
  },
  // torch.set_printoptions(sci_mode=True); torch.tensor([1., 2.5])
  {
    name: 'sci_mode forced on',
    values: [1.0, 2.5],
    shape: [2],
    dtype: 'float32',
    opts: { sciMode: true },
    expected: 'tensor([1.0000e+00, 2.5000e+00])',
  },
  // torch.set_printoptions(sci_mode=False); torch.tensor([1e-5, 1e3])
  {
    name: 'sci_mode forced off',
    values: [9.999999747378752e-06, 1000.0],
    shape: [2],
    dtype: 'float32',
    opts: { sciMode: false },
    expected: 'tensor([    0.0000,  1000.0000])',
  },
  // torch.set_printoptions(sci_mode=True); torch.tensor([0., float('nan')])
  {
    name: 'sci_mode ignored when all zero',
    values: [0.0, NaN],
    shape: [2],
    dtype: 'float32',
    opts: { sciMode: true },
    expected: 'tensor([0., nan])',
  },
  // torch.set_printoptions(linewidth=40); torch.arange(12.) + 0.5
  {
    name: 'linewidth=40',
    values: Array.from({ length: 12 }, (_, i) => i + 0.5),
    shape: [12],
    dtype: 'float32',
    opts: { linewidth: 40 },
    expected: 'tensor([ 0.5000,  1.5000,  2.5000,\n         3.5000,  4.5000,  5.5000,\n         6.5000,  7.5000,  8.5000,\n         9.5000, 10.5000, 11.5000])',
  },
];

describe('formatTensor matches torch repr', () => {
  it.each(cases)('$name', ({ values, shape, dtype, opts, expected }) => {
    expect(formatTensor(values, shape, dtype, opts)).toBe(expected);
  });
});

describe('formatTensor input handling', () => {
  it('rounds float32 inputs to float32 first, as torch stores them', () => {
    // torch.tensor([0.1, 1e-46]) -> tensor([0.1000, 0.0000]): 1e-46 underflows to 0 in float32
    expect(formatTensor([0.1, 1e-46], [2], 'float32')).toBe('tensor([0.1000, 0.0000])');
    expect(formatTensor(new Float32Array([0.1, 1e-46]), [2], 'float32')).toBe('tensor([0.1000, 0.0000])');
  });

  it('reads int32 and bool from typed arrays', () => {
    // torch.tensor([[-3, 4]], dtype=torch.int32)
    expect(formatTensor(new Int32Array([-3, 4]), [1, 2], 'int32')).toBe('tensor([[-3,  4]], dtype=torch.int32)');
    // torch.tensor([False, True, True])
    expect(formatTensor(new Int32Array([0, 1, 1]), [3], 'bool')).toBe('tensor([False,  True,  True])');
  });

  it('breaks exact ties to even where JS toFixed rounds up', () => {
    // torch.tensor([0.03125]) -> tensor([0.0312]); (0.03125).toFixed(4) gives '0.0313'
    expect((0.03125).toFixed(4)).toBe('0.0313');
    expect(formatTensor([0.03125], [1], 'float32')).toBe('tensor([0.0312])');
  });

  it('grad_fn wins over requires_grad', () => {
    // torch.tensor([1.], requires_grad=True) * 2 -> tensor([2.], grad_fn=<MulBackward0>)
    expect(formatTensor([2], [1], 'float32', { requiresGrad: true, gradFn: 'MulBackward0' })).toBe(
      'tensor([2.], grad_fn=<MulBackward0>)',
    );
  });

  it('rejects a values length that does not match the shape', () => {
    expect(() => formatTensor([1, 2, 3], [2, 2], 'float32')).toThrow(/3 values given for shape \[2,2\] \(4 elements\)/);
  });

  it('rejects a negative or fractional size', () => {
    expect(() => formatTensor([], [-1], 'float32')).toThrow(RangeError);
  });
});
