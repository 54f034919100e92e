// Install test (d): a browser project's view of the types: bundler resolution with the
// "browser" condition, the DOM library, no @types/node, declarations checked (skipLibCheck off).
import * as webgrad from 'webgrad';
import { init, nn, noGrad, tensor, type Tensor } from 'webgrad';

export async function demo(canvas: HTMLCanvasElement): Promise<number> {
  await init();
  const a: Tensor = tensor([[1, 2], [3, 4]], { requiresGrad: true });
  const s = a.sin().sum();
  s.backward();
  noGrad(() => a.sub_(a.grad!, 0.1));
  const layer = new nn.Linear(2, 3);
  canvas.title = `${await s.item()} ${layer.forward(a).shape.join('x')}`;
  return (await a.grad!.toArray()) instanceof Array ? 1 : 0;
}

// Checkpoint files are Node-only: the browser entry's types must not offer them.
// @ts-expect-error save is exported by the Node entry only
export const notInBrowser = webgrad.save;
