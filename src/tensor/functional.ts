// Free-function forms of the tensor ops (torch.add, torch.matmul, torch.where, …), for code
// written in PyTorch's functional style.

import type { Tensor, TensorOrScalar, Dims } from './tensor.ts';
import * as E from '../autograd/ops/elementwise.ts';
import * as M from '../autograd/ops/matmul.ts';

const t = (x: TensorOrScalar, op: string): Tensor => {
  if (typeof x === 'number') throw new TypeError(`${op}: expected a tensor as first argument`);
  return x;
};

/** `a + b`, broadcast (torch.add). */
export const add = (a: TensorOrScalar, b: TensorOrScalar): Tensor => E.add(a, b);
/** `a - b`, broadcast (torch.sub). */
export const sub = (a: TensorOrScalar, b: TensorOrScalar): Tensor => E.sub(a, b);
/** `a · b`, broadcast (torch.mul). */
export const mul = (a: TensorOrScalar, b: TensorOrScalar): Tensor => E.mul(a, b);
/** `a / b`, broadcast (torch.div). */
export const div = (a: TensorOrScalar, b: TensorOrScalar): Tensor => E.div(a, b);
/** `a ** b`, broadcast (torch.pow). */
export const pow = (a: TensorOrScalar, b: TensorOrScalar): Tensor => E.pow(a, b);
/** Elementwise larger of `a` and `b`, broadcast (torch.maximum). */
export const maximum = (a: TensorOrScalar, b: TensorOrScalar): Tensor => E.maximum(a, b);
/** Elementwise smaller of `a` and `b`, broadcast (torch.minimum). */
export const minimum = (a: TensorOrScalar, b: TensorOrScalar): Tensor => E.minimum(a, b);
/** `a` where `cond` is true, else `b` (torch.where). */
export const where = (cond: Tensor, a: TensorOrScalar, b: TensorOrScalar): Tensor => E.where(cond, a, b);
/** Matrix product with PyTorch's rules for 1-D operands and broadcast batch dims (torch.matmul). */
export const matmul = (a: Tensor, b: Tensor): Tensor => M.matmul(a, b);
/** 2-D matrix product `[n, k] × [k, m] → [n, m]` (torch.mm). */
export const mm = (a: Tensor, b: Tensor): Tensor => M.mm(a, b);
/** Batched matrix product `[b, n, k] × [b, k, m] → [b, n, m]` (torch.bmm). */
export const bmm = (a: Tensor, b: Tensor): Tensor => M.bmm(a, b);
/** Elementwise `e^x` (torch.exp). */
export const exp = (x: Tensor): Tensor => t(x, 'exp').exp();
/** Elementwise natural logarithm (torch.log). */
export const log = (x: Tensor): Tensor => t(x, 'log').log();
/** Elementwise `√x` (torch.sqrt). */
export const sqrt = (x: Tensor): Tensor => t(x, 'sqrt').sqrt();
/** Elementwise `|x|` (torch.abs). */
export const abs = (x: Tensor): Tensor => t(x, 'abs').abs();
/** Elementwise sine (torch.sin). */
export const sin = (x: Tensor): Tensor => t(x, 'sin').sin();
/** Elementwise cosine (torch.cos). */
export const cos = (x: Tensor): Tensor => t(x, 'cos').cos();
/** Elementwise hyperbolic tangent (torch.tanh). */
export const tanh = (x: Tensor): Tensor => t(x, 'tanh').tanh();
/** Elementwise `1 / (1 + e^-x)` (torch.sigmoid). */
export const sigmoid = (x: Tensor): Tensor => t(x, 'sigmoid').sigmoid();
/** Elementwise `max(x, 0)` (torch.relu). */
export const relu = (x: Tensor): Tensor => t(x, 'relu').relu();
/** Elementwise `-x` (torch.neg). */
export const neg = (x: Tensor): Tensor => t(x, 'neg').neg();
/** Sum over `dim` (all dims when omitted), keeping reduced dims when `keepdim` (torch.sum). */
export const sum = (x: Tensor, dim?: Dims, keepdim = false): Tensor => x.sum(dim, keepdim);
/** Mean over `dim` (all dims when omitted), keeping reduced dims when `keepdim` (torch.mean). */
export const mean = (x: Tensor, dim?: Dims, keepdim = false): Tensor => x.mean(dim, keepdim);
/** Index of the largest value along `dim` (of the flattened tensor when omitted) (torch.argmax). */
export const argmax = (x: Tensor, dim?: number, keepdim = false): Tensor => x.argmax(dim, keepdim);
