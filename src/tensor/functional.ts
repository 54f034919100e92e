// Free-function forms of the tensor ops (torch.add, torch.matmul, torch.where, …), for code
// written in PyTorch's functional style.

import type { Tensor, TensorOrScalar, Dims } from './tensor.ts';
import * as E from '../autograd/ops/elementwise.ts';
import * as M from '../autograd/ops/matmul.ts';

const t = (x: TensorOrScalar, op: string): Tensor => {
  if (typeof x === 'number') throw new TypeError(`${op}: expected a tensor as first argument`);
  return x;
};

export const add = (a: TensorOrScalar, b: TensorOrScalar): Tensor => E.add(a, b);
export const sub = (a: TensorOrScalar, b: TensorOrScalar): Tensor => E.sub(a, b);
export const mul = (a: TensorOrScalar, b: TensorOrScalar): Tensor => E.mul(a, b);
export const div = (a: TensorOrScalar, b: TensorOrScalar): Tensor => E.div(a, b);
export const pow = (a: TensorOrScalar, b: TensorOrScalar): Tensor => E.pow(a, b);
export const maximum = (a: TensorOrScalar, b: TensorOrScalar): Tensor => E.maximum(a, b);
export const minimum = (a: TensorOrScalar, b: TensorOrScalar): Tensor => E.minimum(a, b);
/** `a` where `cond` is true, else `b` (torch.where). */
export const where = (cond: Tensor, a: TensorOrScalar, b: TensorOrScalar): Tensor => E.where(cond, a, b);
export const matmul = (a: Tensor, b: Tensor): Tensor => M.matmul(a, b);
export const mm = (a: Tensor, b: Tensor): Tensor => M.mm(a, b);
export const bmm = (a: Tensor, b: Tensor): Tensor => M.bmm(a, b);
export const exp = (x: Tensor): Tensor => t(x, 'exp').exp();
export const log = (x: Tensor): Tensor => t(x, 'log').log();
export const sqrt = (x: Tensor): Tensor => t(x, 'sqrt').sqrt();
export const abs = (x: Tensor): Tensor => t(x, 'abs').abs();
export const sin = (x: Tensor): Tensor => t(x, 'sin').sin();
export const cos = (x: Tensor): Tensor => t(x, 'cos').cos();
export const tanh = (x: Tensor): Tensor => t(x, 'tanh').tanh();
export const sigmoid = (x: Tensor): Tensor => t(x, 'sigmoid').sigmoid();
export const relu = (x: Tensor): Tensor => t(x, 'relu').relu();
export const neg = (x: Tensor): Tensor => t(x, 'neg').neg();
export const sum = (x: Tensor, dim?: Dims, keepdim = false): Tensor => x.sum(dim, keepdim);
export const mean = (x: Tensor, dim?: Dims, keepdim = false): Tensor => x.mean(dim, keepdim);
export const argmax = (x: Tensor, dim?: number, keepdim = false): Tensor => x.argmax(dim, keepdim);
