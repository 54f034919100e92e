// Transforms applied to each sample (torchvision.transforms): Compose, ToTensor, Normalize,
// Lambda. Each works on a HostTensor sample; the built-in ones also have `forwardBatch`, the
// same arithmetic over a whole batch [B, ...], which datasets use to transform a batch in
// one pass over one host array before it is uploaded.

import { DTypeError, fmtShape, ShapeError, ValueError } from '../errors.ts';
import { tensor } from '../tensor/creation.ts';
import { Tensor } from '../tensor/tensor.ts';
import { HostTensor } from './host-tensor.ts';

/**
 * A transform maps one sample to another. `forwardBatch`, when present, must equal applying
 * `forward` to each row of a batch [B, ...] and stacking the results; datasets then skip the
 * per-sample path. The method is `forward`, as torchvision's transforms are nn.Modules (not
 * `apply`, which every JS function has: a union with functions would lose type inference).
 */
export interface Transform<I = HostTensor, O = HostTensor> {
  /** Maps one sample to its transformed value; should not modify `x` (datasets may share its memory). */
  forward(x: I): O;
  /**
   * Optional batched form over [B, ...] (the first dim indexes samples): must equal `forward`
   * on each row, stacked. Undefined means per-sample only.
   */
  forwardBatch?: ((batch: HostTensor) => HostTensor) | undefined;
  /** How the transform prints inside a dataset's or Compose's description (`'ToTensor()'`). */
  toString(): string;
}
/** A transform object or a plain function (treated as `new Lambda(fn)`). */
export type TransformLike<I = HostTensor, O = HostTensor> = Transform<I, O> | ((x: I) => O);

/** A Transform from a TransformLike. */
export function asTransform<I, O>(t: TransformLike<I, O>): Transform<I, O> {
  return typeof t === 'function' ? new Lambda(t) : t;
}

/**
 * Applies transforms in order. Batched when every member is.
 * @example new Compose([new ToTensor(), new Normalize([0.1307], [0.3081])])
 */
export class Compose<I = HostTensor, O = HostTensor> implements Transform<I, O> {
  /** The transforms, in application order (plain functions wrapped in Lambda). */
  readonly transforms: readonly Transform<unknown, unknown>[];
  /** The batched path: every member's `forwardBatch` in turn (ToTensor + Normalize fused on uint8 images), or undefined when a member has none. */
  readonly forwardBatch: ((batch: HostTensor) => HostTensor) | undefined;

  // The output type comes from the last transform, so `new MNIST({ transform: new Compose([…]) })` infers its samples.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  constructor(transforms: readonly [...TransformLike<any, any>[], TransformLike<any, O>]) {
    this.transforms = transforms.map((t) => asTransform(t));
    const batched = this.transforms.every((t) => t.forwardBatch);
    if (!batched) {
      this.forwardBatch = undefined;
      return;
    }
    // ToTensor then Normalize on grey uint8 images depends on the byte alone: one pass
    // through a 256-entry table, the same float32 values as the two steps.
    const steps: ((b: HostTensor) => HostTensor)[] = [];
    for (let i = 0; i < this.transforms.length; i++) {
      const t = this.transforms[i]!;
      const next = this.transforms[i + 1];
      if (t instanceof ToTensor && next instanceof Normalize) {
        steps.push((b) => (b.dtype === 'uint8' && b.ndim === 3 ? next.fromBytes(b) : next.forwardBatch(t.forwardBatch(b))));
        i++;
      } else {
        steps.push(t.forwardBatch!);
      }
    }
    this.forwardBatch = (b) => steps.reduce((x, step) => step(x), b);
  }

  /** Each transform's `forward` in order, each on the previous one's output. */
  forward(x: I): O {
    return this.transforms.reduce<unknown>((v, t) => t.forward(v), x) as O;
  }

  /** `Compose(` and one member per indented line, then `)`, as torchvision prints it. */
  toString(): string {
    return `Compose(\n${this.transforms.map((t) => `    ${t.toString()}`).join('\n')}\n)`;
  }
}

/**
 * Image to float tensor, as torchvision's ToTensor: uint8 pixels 0–255 become float32
 * x / 255 in [0, 1] (float32 division, as `img.float().div(255)`); an [H, W] image gets a
 * channel dim, [1, H, W]; an [H, W, C] image becomes [C, H, W]. Non-uint8 data is converted
 * to float32 without scaling (as torchvision does for non-byte input).
 */
export class ToTensor implements Transform<HostTensor, HostTensor> {
  /**
   * [H, W] → [1, H, W] or [H, W, C] → [C, H, W], float32 (uint8 scaled by 1/255).
   * @throws ShapeError when the image is not 2-D or 3-D.
   */
  forward(x: HostTensor): HostTensor {
    return toTensorImpl(x, false);
  }
  /** [B, H, W] or [B, H, W, C] → [B, 1, H, W] or [B, C, H, W]. */
  readonly forwardBatch = (b: HostTensor): HostTensor => toTensorImpl(b, true);
  /** `'ToTensor()'`. */
  toString(): string {
    return 'ToTensor()';
  }
}

function toTensorImpl(x: HostTensor, batched: boolean): HostTensor {
  const lead = batched ? 1 : 0;
  const op = batched ? 'ToTensor (batch)' : 'ToTensor';
  const rank = x.ndim - lead;
  if (rank !== 2 && rank !== 3) {
    throw new ShapeError(op, `expects an image [H, W] or [H, W, C]${batched ? ' per sample' : ''}, got ${fmtShape(x.shape)}`, [x.shape]);
  }
  const B = batched ? x.shape[0]! : 1;
  const [H, W] = [x.shape[lead]!, x.shape[lead + 1]!];
  const C = rank === 3 ? x.shape[lead + 2]! : 1;
  const src = x.data;
  const out = new Float32Array(src.length);
  const scale = x.dtype === 'uint8';
  if (C === 1) {
    // Storing the double quotient into a Float32Array rounds once: exactly float32 v / 255.
    if (scale) for (let i = 0; i < src.length; i++) out[i] = src[i]! / 255;
    else out.set(src);
  } else {
    // HWC → CHW per sample.
    const hw = H * W;
    for (let b = 0; b < B; b++) {
      const base = b * hw * C;
      for (let p = 0; p < hw; p++) {
        for (let c = 0; c < C; c++) {
          const v = src[base + p * C + c]!;
          out[base + c * hw + p] = scale ? v / 255 : v;
        }
      }
    }
  }
  return new HostTensor(out, batched ? [B, C, H, W] : [C, H, W]);
}

/**
 * Per-channel standardisation, `(x - mean[c]) / std[c]` in float32, as torchvision's
 * Normalize (which runs `sub_(mean).div_(std)` on float32 tensors): the difference is
 * rounded to float32 before the division, so results match PyTorch bit for bit. Input is
 * float32 [C, ...] (put ToTensor first); a single mean/std applies to every channel.
 * A GPU Tensor input is normalised with tensor ops (its division may differ in the last bit).
 * @example new Normalize([0.1307], [0.3081])
 */
export class Normalize implements Transform<HostTensor, HostTensor> {
  /** Per-channel means, rounded to float32 (one value applies to every channel). */
  readonly mean: readonly number[];
  /** Per-channel standard deviations, rounded to float32 (one value applies to every channel). */
  readonly std: readonly number[];

  /**
   * @param mean one mean per channel, or one for all (MNIST: 0.1307).
   * @param std one standard deviation per channel, or one for all (MNIST: 0.3081).
   * @throws ValueError when either is empty, their lengths disagree (neither being 1), or a std is 0 or not finite.
   */
  constructor(mean: number | readonly number[], std: number | readonly number[]) {
    this.mean = (typeof mean === 'number' ? [mean] : [...mean]).map(Math.fround);
    this.std = (typeof std === 'number' ? [std] : [...std]).map(Math.fround);
    if (this.mean.length === 0 || this.std.length === 0) throw new ValueError('Normalize', 'mean and std need at least one value');
    if (this.mean.length !== this.std.length && this.mean.length !== 1 && this.std.length !== 1) {
      throw new ValueError('Normalize', `mean has ${this.mean.length} values but std has ${this.std.length}`);
    }
    if (this.std.some((s) => s === 0 || !Number.isFinite(s))) throw new ValueError('Normalize', `std must be finite and nonzero, got [${this.std.join(', ')}]`);
  }

  // The HostTensor overload comes last: type inference reads the last signature.
  /** Normalises a GPU tensor [C, ...] with tensor ops; returns a new tensor the caller owns (`x` is kept). */
  forward(x: Tensor): Tensor;
  /**
   * Normalises a float32 HostTensor [C, ...] (channel first) into a new one.
   * @throws DTypeError when `x` is not float32 (put ToTensor first); ShapeError when its channel count does not match mean/std.
   */
  forward(x: HostTensor): HostTensor;
  forward(x: HostTensor | Tensor): HostTensor | Tensor {
    if (x instanceof Tensor) return this.forwardGpu(x);
    return this.normalize(x, false);
  }

  /** [B, C, ...] with the channel on dim 1. */
  readonly forwardBatch = (b: HostTensor): HostTensor => this.normalize(b, true);

  /**
   * ToTensor then this Normalize on a grey uint8 batch [B, H, W] → [B, 1, H, W], by table:
   * entry v is float32((float32(v / 255) − mean) / std), exactly what the two steps compute.
   */
  fromBytes(b: HostTensor): HostTensor {
    const [B, H, W] = b.shape as [number, number, number];
    this.channels('Normalize', [1], 0);
    const m = this.mean[0]!;
    const s = this.std[0]!;
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) table[v] = Math.fround(Math.fround(v / 255) - m) / s;
    const src = b.data as Uint8Array;
    const out = new Float32Array(src.length);
    for (let i = 0; i < src.length; i++) out[i] = table[src[i]!]!;
    return new HostTensor(out, [B, 1, H, W]);
  }

  private channels(op: string, shape: readonly number[], lead: number): number {
    const C = shape[lead];
    if (C === undefined) throw new ShapeError(op, `expects [${lead ? 'B, ' : ''}C, ...], got ${fmtShape(shape)}`, [shape]);
    const n = Math.max(this.mean.length, this.std.length);
    if (n !== 1 && n !== C) {
      throw new ShapeError(op, `${n} mean/std values for ${C} channels (shape ${fmtShape(shape)}, channel dim ${lead})`, [shape]);
    }
    return C;
  }

  private normalize(x: HostTensor, batched: boolean): HostTensor {
    const op = batched ? 'Normalize (batch)' : 'Normalize';
    if (x.dtype !== 'float32') throw new DTypeError(op, `expects float32 input, got ${x.dtype} ${fmtShape(x.shape)}: put ToTensor() before Normalize`);
    const lead = batched ? 1 : 0;
    const C = this.channels(op, x.shape, lead);
    const B = batched ? x.shape[0]! : 1;
    const inner = C === 0 ? 0 : x.numel / (B * C);
    const src = x.data as Float32Array;
    const out = new Float32Array(src.length);
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) {
        const m = this.mean[this.mean.length === 1 ? 0 : c]!;
        const s = this.std[this.std.length === 1 ? 0 : c]!;
        const base = (b * C + c) * inner;
        // fround(x - m) is the float32 subtraction; the float64 quotient of two float32s
        // rounds to the float32 quotient when stored (double rounding is innocuous here).
        for (let i = base; i < base + inner; i++) out[i] = Math.fround(src[i]! - m) / s;
      }
    }
    return new HostTensor(out, x.shape);
  }

  private forwardGpu(x: Tensor): Tensor {
    const C = this.channels('Normalize', x.shape, 0);
    const n = Math.max(this.mean.length, this.std.length);
    const bshape = [n === 1 ? 1 : C, ...x.shape.slice(1).map(() => 1)];
    const expand = (v: readonly number[]) => (v.length === 1 && n > 1 ? Array(n).fill(v[0]) : v);
    const mean = tensor(new Float32Array(expand(this.mean)), { shape: bshape, device: x.device });
    const std = tensor(new Float32Array(expand(this.std)), { shape: bshape, device: x.device });
    const centred = x.sub(mean);
    const out = centred.div(std);
    for (const t of [mean, std, centred]) t.dispose();
    return out;
  }

  /** `Normalize(mean=[…], std=[…])`. */
  toString(): string {
    return `Normalize(mean=[${this.mean.join(', ')}], std=[${this.std.join(', ')}])`;
  }
}

/**
 * A user function as a transform. Pass `batchFn` (the same map over a batch [B, ...]) to
 * keep the fast batched path; without it a dataset falls back to one call per sample.
 * @example new Lambda((x: HostTensor) => x.reshape([784]))
 */
export class Lambda<I = HostTensor, O = HostTensor> implements Transform<I, O> {
  /** The `batchFn` given to the constructor, or undefined (then datasets transform sample by sample). */
  readonly forwardBatch: ((batch: HostTensor) => HostTensor) | undefined;
  constructor(
    /** The per-sample function `forward` calls. */
    readonly fn: (x: I) => O,
    batchFn?: (batch: HostTensor) => HostTensor,
  ) {
    this.forwardBatch = batchFn;
  }
  /** `fn(x)`. */
  forward(x: I): O {
    return this.fn(x);
  }
  /** `Lambda(<function name>)`, or `Lambda(<fn>)` for an anonymous function. */
  toString(): string {
    return `Lambda(${this.fn.name || '<fn>'})`;
  }
}
