// Printing: turns a tensor's row-major values into the exact string PyTorch's `repr(tensor)`
// gives. Pure string work on values already read back; knows nothing of devices or Tensor.
// Follows torch/_tensor_str.py (`_Formatter`, `_tensor_str_with_formatter`, `_str_intern`).

import type { DType } from '../dtype.ts';

/** Print options; the defaults are PyTorch's `torch.set_printoptions(profile='default')`. */
export interface FormatOptions {
  /** Appends `, requires_grad=True` unless `gradFn` is set. */
  requiresGrad?: boolean;
  /** Name of the node that made the tensor, e.g. `'SinBackward0'` → `, grad_fn=<SinBackward0>`. */
  gradFn?: string;
  /** Digits after the decimal point for floats (default 4). */
  precision?: number;
  /** Summarise with `...` when there are more than this many elements (default 1000). */
  threshold?: number;
  /** Items shown at each end of a summarised dim (default 3). */
  edgeitems?: number;
  /** Characters per line before a long row wraps (default 80). */
  linewidth?: number;
  /** Force scientific notation on or off; left out, PyTorch's automatic choice applies. */
  sciMode?: boolean;
}

interface PrintOptions {
  precision: number;
  threshold: number;
  edgeitems: number;
  linewidth: number;
  sciMode: boolean | undefined;
}

/**
 * Formats a tensor exactly as PyTorch 1.13/2.x `repr(tensor)` does, byte for byte.
 *
 * `values` holds the elements in row-major order (`bool` as 0/1); `float32` values are
 * rounded to float32 first, as torch formats the stored float32. Options mirror
 * `torch.set_printoptions`; `int32` gets a `dtype=torch.int32` suffix since torch's
 * default integer is int64.
 *
 * @example
 * formatTensor([0.1, -2.5], [2], 'float32')            // 'tensor([ 0.1000, -2.5000])'
 * formatTensor([1, 2, 3], [3], 'int32')                // 'tensor([1, 2, 3], dtype=torch.int32)'
 * formatTensor([3], [], 'float32', { requiresGrad: true }) // 'tensor(3., requires_grad=True)'
 */
export function formatTensor(
  values: ArrayLike<number>,
  shape: readonly number[],
  dtype: DType,
  opts: FormatOptions = {},
): string {
  const o: PrintOptions = {
    precision: opts.precision ?? 4,
    threshold: opts.threshold ?? 1000,
    edgeitems: opts.edgeitems ?? 3,
    linewidth: opts.linewidth ?? 80,
    sciMode: opts.sciMode,
  };
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(`formatTensor: shape [${shape.join(',')}] has a size that is not a non-negative integer`);
    }
  }
  const numel = shape.reduce((a, b) => a * b, 1);
  if (values.length !== numel) {
    throw new RangeError(
      `formatTensor: ${values.length} values given for shape [${shape.join(',')}] (${numel} elements)`,
    );
  }

  const prefix = 'tensor(';
  const indent = prefix.length;
  const suffixes: string[] = [];
  let body: string;
  if (numel === 0) {
    // Torch prints the shape unless it is (0,), and the dtype unless it is the default float:
    // an empty tensor has no elements from which to infer it.
    if (shape.length !== 1) suffixes.push(`size=${pyTuple(shape)}`);
    if (dtype !== 'float32') suffixes.push(`dtype=torch.${dtype}`);
    body = '[]';
  } else {
    // float32 (default dtype) and bool are torch defaults; int32 is not (int64 is).
    if (dtype === 'int32') suffixes.push('dtype=torch.int32');
    body = tensorBody(values, shape, dtype, indent, o);
  }
  if (opts.gradFn !== undefined) suffixes.push(`grad_fn=<${opts.gradFn}>`);
  else if (opts.requiresGrad) suffixes.push('requires_grad=True');
  return addSuffixes(prefix + body, suffixes, indent, o.linewidth);
}

/** Python's `str(tuple(shape))`: `(0, 3)`, `(0,)`, `()`. */
function pyTuple(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/** `_add_suffixes`: each suffix goes on the last line unless it would pass `linewidth`. */
function addSuffixes(text: string, suffixes: readonly string[], indent: number, linewidth: number): string {
  const parts = [text];
  // Torch's own arithmetic, off by two on purpose: rfind gives -1 when there is no newline.
  let lastLineLen = text.length - text.lastIndexOf('\n') + 1;
  for (const s of suffixes) {
    if (lastLineLen + s.length + 2 > linewidth) {
      parts.push(',\n' + ' '.repeat(indent) + s);
      lastLineLen = indent + s.length;
    } else {
      parts.push(', ' + s);
      lastLineLen += s.length + 2;
    }
  }
  parts.push(')');
  return parts.join('');
}

/** Indices shown along a dim of `size`: all, or the edges around an ellipsis (`null`). */
function shownIndices(size: number, summarize: boolean, edge: number): (number | null)[] {
  if (summarize && edge === 0) return [null]; // torch ≥ 2.2 prints only '...' here
  if (!summarize || size <= 2 * edge) return Array.from({ length: size }, (_, i) => i);
  const head = Array.from({ length: edge }, (_, i) => i);
  const tail = Array.from({ length: edge }, (_, i) => size - edge + i);
  return [...head, null, ...tail];
}

function tensorBody(
  raw: ArrayLike<number>,
  shape: readonly number[],
  dtype: DType,
  indent: number,
  o: PrintOptions,
): string {
  const values = dtype === 'float32' ? Float64Array.from(raw, Math.fround) : raw;
  const strides: number[] = new Array(shape.length);
  for (let d = shape.length - 1, s = 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d]!;
  }
  const summarize = values.length > o.threshold;

  // The formatter sees only the printed elements (torch's `get_summarized_data`), so widths
  // and the fixed/scientific choice ignore the hidden middle.
  const shown: number[] = [];
  const collect = (dim: number, offset: number): void => {
    if (dim === shape.length) {
      shown.push(values[offset]!);
      return;
    }
    for (const i of shownIndices(shape[dim]!, summarize, o.edgeitems)) {
      if (i !== null) collect(dim + 1, offset + i * strides[dim]!);
    }
  };
  collect(0, 0);
  const fmt = makeFormatter(shown, dtype, o);

  const render = (dim: number, offset: number, ind: number): string => {
    const rank = shape.length - dim;
    if (rank === 0) return fmt.format(values[offset]!);
    const idx = shownIndices(shape[dim]!, summarize, o.edgeitems);
    if (rank === 1) {
      // `_vector_str`: each element takes its width plus ', '.
      const perLine = Math.max(1, Math.floor((o.linewidth - ind) / (fmt.width + 2)));
      const items = idx.map((i) => {
        if (i !== null) return fmt.format(values[offset + i * strides[dim]!]!);
        return idx.length === 1 ? '...' : ' ...';
      });
      const lines: string[] = [];
      for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(', '));
      return '[' + lines.join(',\n' + ' '.repeat(ind + 1)) + ']';
    }
    const slices = idx.map((i) => (i === null ? '...' : render(dim + 1, offset + i * strides[dim]!, ind + 1)));
    // Blocks of rank r are separated by r-1 newlines: a blank line between 2-d blocks, etc.
    return '[' + slices.join(',' + '\n'.repeat(rank - 1) + ' '.repeat(ind + 1)) + ']';
  };
  return render(0, 0, indent);
}

interface Formatter {
  /** Width every element is right-aligned to. */
  readonly width: number;
  format(value: number): string;
}

/** Torch's `_Formatter`: picks integer, fixed or scientific mode and a common width. */
function makeFormatter(shown: readonly number[], dtype: DType, o: PrintOptions): Formatter {
  const pad = (s: string, width: number): string => ' '.repeat(Math.max(0, width - s.length)) + s;
  if (dtype !== 'float32') {
    const str = dtype === 'bool' ? (v: number) => (v !== 0 ? 'True' : 'False') : (v: number) => String(Math.trunc(v));
    let width = 1;
    for (const v of shown) width = Math.max(width, str(v).length);
    return { width, format: (v) => pad(str(v), width) };
  }

  const p = o.precision;
  let intMode = true;
  let sci = false;
  let width = 1;
  const finite = shown.filter((v) => Number.isFinite(v) && v !== 0);
  // With no nonzero finite value torch returns early: integer mode, and sciMode is ignored.
  if (finite.length > 0) {
    let min = Infinity;
    let max = 0;
    for (const v of finite) {
      const a = Math.abs(v);
      if (a < min) min = a;
      if (a > max) max = a;
      if (v !== Math.ceil(v)) intMode = false;
    }
    if (max / min > 1000 || max > 1e8 || (!intMode && min < 1e-4)) {
      sci = true;
      for (const v of finite) width = Math.max(width, toExponential(v, p).length);
    } else if (intMode) {
      // +1 for the '.' that marks a float.
      for (const v of finite) width = Math.max(width, toFixed(v, 0).length + 1);
    } else {
      for (const v of finite) width = Math.max(width, toFixed(v, p).length);
    }
    if (o.sciMode !== undefined) sci = o.sciMode;
  }

  const format = (v: number): string => {
    let s: string;
    if (Number.isNaN(v)) s = 'nan';
    else if (!Number.isFinite(v)) s = v > 0 ? 'inf' : '-inf';
    else if (sci) s = toExponential(v, p);
    else if (intMode) s = toFixed(v, 0) + '.';
    else s = toFixed(v, p);
    return pad(s, width);
  };
  return { width, format };
}

// Exact decimal formatting. Python's '{:.Nf}' and '{:.Ne}' round the exact binary value
// half-to-even; JS toFixed/toExponential break exact ties upwards (0.03125 → '0.0313', Python
// '0.0312'), drop the sign of -0 and write 'e-5' for 'e-05', so we do it with BigInt.

const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);

/** |x| = num / den exactly, den a power of two; x finite. */
function exactRational(x: number): { num: bigint; den: bigint } {
  F64[0] = x;
  const bits = U64[0]!;
  const biased = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const mant = biased === 0 ? frac : frac | (1n << 52n);
  const exp = (biased === 0 ? 1 : biased) - 1075;
  return exp >= 0 ? { num: mant << BigInt(exp), den: 1n } : { num: mant, den: 1n << BigInt(-exp) };
}

/** round(num / den) with ties to even; num, den ≥ 0. */
function divRoundHalfEven(num: bigint, den: bigint): bigint {
  const q = num / den;
  const twice = 2n * (num - q * den);
  return twice > den || (twice === den && q % 2n === 1n) ? q + 1n : q;
}

function signOf(x: number): string {
  return x < 0 || Object.is(x, -0) ? '-' : '';
}

/** Python `'{:.{p}f}'.format(x)` for finite x. */
function toFixed(x: number, p: number): string {
  const { num, den } = exactRational(x);
  const digits = divRoundHalfEven(num * 10n ** BigInt(p), den)
    .toString()
    .padStart(p + 1, '0');
  const body = p > 0 ? `${digits.slice(0, -p)}.${digits.slice(-p)}` : digits;
  return signOf(x) + body;
}

/** Python `'{:.{p}e}'.format(x)` for finite x. */
function toExponential(x: number, p: number): string {
  let digits: bigint;
  let e: number;
  if (x === 0) {
    digits = 0n;
    e = 0;
  } else {
    const { num, den } = exactRational(x);
    const lo = 10n ** BigInt(p);
    const hi = lo * 10n;
    // log10 can be off by one near powers of ten; exact comparisons settle the exponent.
    e = Math.floor(Math.log10(Math.abs(x)));
    for (;;) {
      const k = p - e;
      const n = k >= 0 ? num * 10n ** BigInt(k) : num;
      const d = k >= 0 ? den : den * 10n ** BigInt(-k);
      if (n < lo * d) e -= 1;
      else if (n >= hi * d) e += 1;
      else {
        digits = divRoundHalfEven(n, d);
        break;
      }
    }
    if (digits === hi) {
      digits = lo;
      e += 1;
    }
  }
  const s = digits.toString().padStart(p + 1, '0');
  const mantissa = p > 0 ? `${s[0]}.${s.slice(1)}` : s;
  const exp = `${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return `${signOf(x)}${mantissa}e${exp}`;
}
