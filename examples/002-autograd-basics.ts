// Tutorial 002, part 1 ("Neural networks with PyTorch", PyTorch basics): tensors, element-wise
// and matrix ops, requiresGrad, backward(), gradient accumulation and zeroing gradients.
// Checks what the tutorial shows: a.grad = cos(a), b.grad = -sin(b), then cos(a) + 1.
//   npx tsx examples/002-autograd-basics.ts

import { cos, sin, sum, tensor, type Tensor } from '../src/index.node.ts';
import { runIfMain, setup } from './lib/cli.ts';

export async function main(argv: string[] = []) {
  const { log } = await setup(argv, { epochs: 0, batchSize: 0, seed: 7 }); // torch.manual_seed(7)
  const show = async (...ts: Tensor[]) => log((await Promise.all(ts.map((t) => t.format()))).join(',\n'));

  const aTensor = tensor([1.0, 2.0, 3.0]);
  const bTensor = tensor([4.0, 5.0, 6.0]);
  log(aTensor.constructor.name); // type(a_tensor): Tensor

  // Any kind of operations over tensors, from matrix to element-wise operations.
  await show(aTensor.add(3));
  await show(aTensor.matmul(bTensor)); // dot product: tensor(32.)
  log(aTensor.requiresGrad ? 'True' : 'False'); // False by default

  // sum_i sin(a_i) + cos(b_i); d/dx sin = cos, d/dx cos = -sin
  aTensor.requiresGrad = true;
  bTensor.requiresGrad = true;
  const value = sum(sin(aTensor).add(cos(bTensor)));
  value.backward();

  await show(aTensor.grad!, cos(aTensor)); // equal
  await show(bTensor.grad!, sin(bTensor).neg()); // equal
  const first = { a: Array.from(await aTensor.grad!.data()), b: Array.from(await bTensor.grad!.data()) };

  // Subsequent gradient computations add to the existing gradient: d(sum a)/da = 1.
  const aSum = sum(aTensor);
  aSum.backward();
  await show(aTensor.grad!, cos(aTensor).add(1));
  await show(bTensor.grad!); // unchanged
  const accumulated = Array.from(await aTensor.grad!.data());

  // To reset the gradients of a tensor, set them to zero or to null (None).
  aTensor.grad!.zero_();
  bTensor.grad = null;
  await show(aTensor.grad!);
  log(String(bTensor.grad));
  return { aGrad: first.a, bGrad: first.b, accumulated, zeroed: Array.from(await aTensor.grad!.data()) };
}

runIfMain(import.meta.url, main);
