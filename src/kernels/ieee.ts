// IEEE-754 special values in WGSL, as PyTorch treats them: the one library of NaN-safe helpers
// every kernel calls (`ieee_max`, `ieee_relu`, `ieee_tanh`, `ieee_nonzero`, `ieee_f2i`, …).
// Kernels are compiled through `kernel()` below, which prepends exactly the helpers a shader
// names, so a new kernel gets them by writing the name.
//
// Why helpers and not the builtins: WGSL leaves NaN and subnormals to the implementation, and
// Vulkan drivers compile float code under "no NaN" assumptions. Mesa folds `x != x` to false,
// may turn `select(x < 0, 0, x)` into a NaN-dropping fmax, and its max/min/clamp drop a NaN
// operand; `x != 0` is false for NaN there; its tanh(NaN) is -1, its log and pow are wrong for
// subnormal inputs, and its sin/cos reduce large arguments with a few bits of π (sin(1e30) = -1).
// So every NaN-sensitive decision below goes through a bit test (integer ops, which no float
// rule can fold), and the transcendental functions that must stay right on the whole float
// range are written out here.
//
// Each helper exists for f32 and, with a `4` suffix, for vec4<f32> (component-wise), so
// vectorised kernels call the same semantics. The float64 reference (src/backend/cpu) follows
// the same rules in JS; test/ops/special-values*.test.ts checks every kernel against it.

import type { GpuRuntime, Kernel } from '../device/runtime.ts';

/** The WGSL types of one flavour: the float type and its bool, u32 and i32 counterparts. */
interface Flavour {
  sfx: '' | '4';
  T: string;
  B: string;
  U: string;
  I: string;
}
const SCALAR: Flavour = { sfx: '', T: 'f32', B: 'bool', U: 'u32', I: 'i32' };
const VEC4: Flavour = { sfx: '4', T: 'vec4<f32>', B: 'vec4<bool>', U: 'vec4<u32>', I: 'vec4<i32>' };

/** Largest |x| whose sin/cos take the Cody–Waite reduction (k·P1 and k·P2 stay exact: k < 2^13). */
const TRIG_FAST_MAX = 8192;
/** π/2 = P1 + P2 + P3 (11, 11 and 24 significant bits). */
const PIO2 = [1.5703125, 4.837512969970703e-4, 7.549790126404332e-8];
/** 2/π's bits after the binary point, 32 per word, behind one zero word (the integer part). */
const TWO_OVER_PI_WORDS = [
  0x00000000, 0xa2f9836e, 0x4e441529, 0xfc2757d1, 0xf534ddc0, 0xdb629599, 0x3c439041, 0xfe5163ab, 0xdebbc561, 0xb7246e3a, 0x424dd2e0, 0x06492eea,
];

/** A helper: the names it calls and its WGSL for one flavour (module-scope declarations are flavour-free). */
interface Helper {
  deps: readonly string[];
  wgsl: (f: Flavour) => string;
  /** Declared once whatever the flavour (constants, tables). */
  shared?: boolean;
}

const f = (name: string, fl: Flavour): string => `ieee_${name}${fl.sfx}`;

/** The helpers, by base name; a shader calls `ieee_<name>` (f32) or `ieee_<name>4` (vec4<f32>). */
const HELPERS: Record<string, Helper> = {
  // NaN and ±Inf through private variables: WGSL rejects them in constant expressions.
  consts: {
    shared: true,
    deps: [],
    wgsl: () => `var<private> ieee_nan_bits: u32 = 0x7fc00000u;
var<private> ieee_inf_bits: u32 = 0x7f800000u;
fn ieee_nan() -> f32 { return bitcast<f32>(ieee_nan_bits); }
fn ieee_inf() -> f32 { return bitcast<f32>(ieee_inf_bits); }`,
  },
  isnan: {
    deps: [],
    wgsl: (fl) => `fn ${f('isnan', fl)}(x: ${fl.T}) -> ${fl.B} { return (bitcast<${fl.U}>(x) & ${fl.U}(0x7fffffffu)) > ${fl.U}(0x7f800000u); }`,
  },
  // NaN or ±Inf.
  nonfinite: {
    deps: [],
    wgsl: (fl) => `fn ${f('nonfinite', fl)}(x: ${fl.T}) -> ${fl.B} { return (bitcast<${fl.U}>(x) & ${fl.U}(0x7fffffffu)) >= ${fl.U}(0x7f800000u); }`,
  },
  // Truthiness, as a cast to bool: every value but ±0 is true, NaN included (torch: NaN.bool() is True).
  nonzero: {
    deps: [],
    wgsl: (fl) => `fn ${f('nonzero', fl)}(x: ${fl.T}) -> ${fl.B} { return (bitcast<${fl.U}>(x) & ${fl.U}(0x7fffffffu)) != ${fl.U}(0u); }`,
  },
  // torch.maximum / minimum: NaN if either operand is NaN.
  max: { deps: ['isnan'], wgsl: (fl) => `fn ${f('max', fl)}(a: ${fl.T}, b: ${fl.T}) -> ${fl.T} { return select(max(a, b), a + b, ${f('isnan', fl)}(a) | ${f('isnan', fl)}(b)); }` },
  min: { deps: ['isnan'], wgsl: (fl) => `fn ${f('min', fl)}(a: ${fl.T}, b: ${fl.T}) -> ${fl.T} { return select(min(a, b), a + b, ${f('isnan', fl)}(a) | ${f('isnan', fl)}(b)); }` },
  // min(max(x, lo), hi) letting NaN through (lo > hi gives hi, as torch.clamp).
  clamp: {
    deps: ['isnan'],
    wgsl: (fl) => `fn ${f('clamp', fl)}(x: ${fl.T}, lo: ${fl.T}, hi: ${fl.T}) -> ${fl.T} { return select(min(max(x, lo), hi), x, ${f('isnan', fl)}(x)); }`,
  },
  relu: { deps: ['isnan'], wgsl: (fl) => `fn ${f('relu', fl)}(x: ${fl.T}) -> ${fl.T} { return select(max(x, ${fl.T}(0.0)), x, ${f('isnan', fl)}(x)); }` },
  // 1/(1 + e^−x): e^−x overflowing to +inf gives 0, as it should.
  sigmoid: {
    deps: ['isnan'],
    wgsl: (fl) => `fn ${f('sigmoid', fl)}(x: ${fl.T}) -> ${fl.T} { return select(${fl.T}(1.0) / (${fl.T}(1.0) + exp(-x)), x, ${f('isnan', fl)}(x)); }`,
  },
  // e^x − 1: Taylor to x^8/8! for |x| < ½ (truncation < 1e-8 relative), else exp(x) − 1.
  expm1: {
    deps: [],
    wgsl: (fl) => `fn ${f('expm1', fl)}(x: ${fl.T}) -> ${fl.T} {
  var q = ${fl.T}(1.0 / 40320.0);
  q = q * x + ${fl.T}(1.0 / 5040.0);
  q = q * x + ${fl.T}(1.0 / 720.0);
  q = q * x + ${fl.T}(1.0 / 120.0);
  q = q * x + ${fl.T}(1.0 / 24.0);
  q = q * x + ${fl.T}(1.0 / 6.0);
  q = q * x + ${fl.T}(0.5);
  q = q * x + ${fl.T}(1.0);
  return select(exp(x) - ${fl.T}(1.0), x * q, abs(x) < ${fl.T}(0.5));
}`,
  },
  // tanh|x| = −m/(m + 2), m = e^(−2|x|) − 1 ∈ (−1, 0]: no overflow for any x, and exact to the
  // last bit near 0 (tanh x ≈ x), where the builtin on llvmpipe is off by 3e-8 absolute.
  tanh: {
    deps: ['isnan', 'expm1'],
    wgsl: (fl) => `fn ${f('tanh', fl)}(x: ${fl.T}) -> ${fl.T} {
  let m = ${f('expm1', fl)}(${fl.T}(-2.0) * abs(x));
  let t = -m / (m + ${fl.T}(2.0));
  return select(select(t, -t, x < ${fl.T}(0.0)), x, ${f('isnan', fl)}(x));
}`,
  },
  // Natural log and log2, right for subnormal inputs (scaled by 2^24 first); else the builtin.
  log: {
    deps: ['isnan'],
    wgsl: (fl) => `fn ${f('log', fl)}(x: ${fl.T}) -> ${fl.T} {
  let sub = x < ${fl.T}(1.1754943508222875e-38);
  let r = select(log(x), log(x * ${fl.T}(16777216.0)) - ${fl.T}(16.635532333438686), sub);
  return select(r, x, ${f('isnan', fl)}(x));
}`,
  },
  log2: {
    deps: [],
    wgsl: (fl) => `fn ${f('log2', fl)}(x: ${fl.T}) -> ${fl.T} { return select(log2(x), log2(x * ${fl.T}(16777216.0)) - ${fl.T}(24.0), x < ${fl.T}(1.1754943508222875e-38)); }`,
  },
  // The documented float → int32 cast (src/dtype.ts castToInt32): truncate toward zero,
  // saturate to [−2^31, 2^31 − 1], NaN → 0. WGSL's i32() saturates at 2^31 − 128 and leaves NaN open.
  f2i: {
    deps: ['isnan'],
    wgsl: (fl) => `fn ${f('f2i', fl)}(x: ${fl.T}) -> ${fl.I} {
  let lo = ${fl.I}(bitcast<i32>(0x80000000u));
  let r = select(select(${fl.I}(x), ${fl.I}(2147483647), x >= ${fl.T}(2147483648.0)), lo, x < ${fl.T}(-2147483648.0));
  return select(r, ${fl.I}(0), ${f('isnan', fl)}(x));
}`,
  },
  // torch.pow (C99 pow): x^0 = 1 and 1^y = 1 even for NaN; 0^(y<0) = ±inf; a negative base only
  // with an integer exponent (sign by its parity); limits at ±inf. |a|^b = 2^(b·log2|a|).
  pow: {
    deps: ['consts', 'isnan', 'log2'],
    wgsl: (fl) =>
      fl.sfx === ''
        ? `fn ieee_pow(a: f32, b: f32) -> f32 {
  let inf = ieee_inf();
  let ab = abs(a);
  let bInt = round(b) == b;
  let bOdd = bInt && abs(b) < 16777216.0 && fract(b * 0.5) != 0.0;
  let bNeg = b < 0.0;
  var r = exp2(b * ieee_log2(ab));
  r = select(r, select(0.0, inf, bNeg), ab == 0.0);
  r = select(r, select(inf, 0.0, bNeg), ab == inf);
  r = select(r, select(select(0.0, inf, (ab > 1.0) != bNeg), 1.0, ab == 1.0), abs(b) == inf);
  r = select(r, -r, (bitcast<u32>(a) & 0x80000000u) != 0u && bOdd);
  r = select(r, ieee_nan(), a < 0.0 && ab != inf && !bInt);
  r = select(r, a + b, ieee_isnan(a) || ieee_isnan(b));
  return select(r, 1.0, b == 0.0 || a == 1.0);
}`
        : `fn ieee_pow4(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> { return vec4<f32>(ieee_pow(a.x, b.x), ieee_pow(a.y, b.y), ieee_pow(a.z, b.z), ieee_pow(a.w, b.w)); }`,
  },
  // sin and cos of r ∈ [−π/4, π/4] (cephes sinf/cosf minimax polynomials, about 1 ulp).
  trigpoly: {
    shared: true,
    deps: [],
    wgsl: () => `fn ieee_sinpoly(r: f32) -> f32 {
  let z = r * r;
  return r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
}
fn ieee_cospoly(r: f32) -> f32 {
  let z = r * r;
  return 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
}`,
  },
  // x·2/π = q + f (q an integer mod 4, f ∈ [−½, ½)) for any finite x, as (f, q): Cody–Waite with
  // π/2 in three parts below TRIG_FAST_MAX; beyond, Payne–Hanek: the 24-bit mantissa m times a
  // 96-bit window of 2/π's bits taken where x's exponent puts the binary point (bits of weight
  // ≥ 4 drop out mod 4), in 16-bit limbs so every partial product fits a u32.
  trigreduce: {
    shared: true,
    deps: [],
    wgsl: () => `const IEEE_TWO_OVER_PI = array<u32, ${TWO_OVER_PI_WORDS.length}>(${TWO_OVER_PI_WORDS.map((w) => `0x${w.toString(16).padStart(8, '0')}u`).join(', ')});
// (r, q): x = q·π/2 + r, |r| ≤ π/4 (a little more when x·2/π rounds at a half), q mod 4 in 0..3.
fn ieee_trigreduce(x: f32) -> vec2<f32> {
  if (abs(x) <= ${TRIG_FAST_MAX}.0) {
    let k = round(x * 0.63661977236758134);
    let r = ((x - k * ${PIO2[0]}) - k * ${PIO2[1]}) - k * ${PIO2[2]};
    return vec2<f32>(r, f32(i32(k) & 3));
  }
  return ieee_trigreduce_big(x);
}
fn ieee_trigreduce_big(x: f32) -> vec2<f32> {
  let bits = bitcast<u32>(abs(x));
  let m = (bits & 0x7fffffu) | 0x800000u;
  let e = i32(bits >> 23u) - 150; // |x| = m · 2^e
  // Window of 96 bits from bit e + 30 of the table (bit 32 is 2/π's first).
  let start = u32(e + 30);
  let wi = start >> 5u;
  let sh = start & 31u;
  var w: array<u32, 3>;
  for (var j = 0u; j < 3u; j++) {
    let hi = IEEE_TWO_OVER_PI[wi + j];
    let lo = IEEE_TWO_OVER_PI[wi + j + 1u];
    w[j] = select((hi << sh) | (lo >> (32u - sh)), hi, sh == 0u);
  }
  // 16-bit limbs, least significant first: v of the window, m0 m1 of the mantissa. Limbs 0..5 of
  // the product suffice: limb 6 on has weights ≥ 4, which drop out mod 4.
  let v = array<u32, 6>(w[2] & 0xffffu, w[2] >> 16u, w[1] & 0xffffu, w[1] >> 16u, w[0] & 0xffffu, w[0] >> 16u);
  let m0 = m & 0xffffu;
  let m1 = m >> 16u;
  var limbs: array<u32, 6>;
  var carry = 0u;
  for (var k = 0u; k < 6u; k++) {
    var acc = carry + ((m0 * v[k]) & 0xffffu);
    if (k >= 1u) { acc += ((m0 * v[k - 1u]) >> 16u) + ((m1 * v[k - 1u]) & 0xffffu); }
    if (k >= 2u) { acc += (m1 * v[k - 2u]) >> 16u; }
    limbs[k] = acc & 0xffffu;
    carry = acc >> 16u;
  }
  // The product has weight 2^-94 per unit: limb 5 holds weights 2^-14 .. 2^1, so q is its top two
  // bits and the fraction the 62 bits below. A fraction ≥ ½ rounds q up and is negated exactly in
  // the limbs (f − 1 in f32 would lose the bits that matter near a multiple of π/2).
  var q = (limbs[5] >> 14u) & 3u;
  var neg = (limbs[5] & 0x2000u) != 0u;
  var fl = array<u32, 4>(limbs[2], limbs[3], limbs[4], limbs[5] & 0x3fffu);
  if (neg) {
    q = q + 1u;
    var c = 1u;
    for (var j = 0u; j < 4u; j++) {
      let mask = select(0xffffu, 0x3fffu, j == 3u);
      let t = (~fl[j] & mask) + c;
      fl[j] = t & mask;
      c = t >> select(16u, 14u, j == 3u);
    }
  }
  let fr = ((f32(fl[0]) * 2.168404344971009e-19 + f32(fl[1]) * 1.4210854715202004e-14) + f32(fl[2]) * 9.313225746154785e-10) + f32(fl[3]) * 6.103515625e-5;
  // fr·π/2 with π/2 in two parts (the f32 π/2 alone is 2.8e-8 off).
  var r = fr * 1.5707963705062866 - fr * 4.371139000186243e-8;
  if (neg) { r = -r; }
  var qf = f32(q & 3u);
  if (x < 0.0) { r = -r; qf = f32((4u - (q & 3u)) & 3u); }
  return vec2<f32>(r, qf);
}`,
  },
  // sin and cos right on the whole float range (torch's float32 libm to a few ulp); NaN and ±inf give NaN.
  sin: {
    deps: ['consts', 'nonfinite', 'trigpoly', 'trigreduce'],
    wgsl: (fl) =>
      fl.sfx === ''
        ? `fn ieee_sin(x: f32) -> f32 {
  let rq = ieee_trigreduce(x);
  let q = u32(rq.y);
  let s = select(ieee_sinpoly(rq.x), ieee_cospoly(rq.x), (q & 1u) == 1u);
  return select(select(s, -s, q >= 2u), ieee_nan(), ieee_nonfinite(x));
}`
        : `fn ieee_sin4(x: vec4<f32>) -> vec4<f32> { return vec4<f32>(ieee_sin(x.x), ieee_sin(x.y), ieee_sin(x.z), ieee_sin(x.w)); }`,
  },
  cos: {
    deps: ['consts', 'nonfinite', 'trigpoly', 'trigreduce'],
    wgsl: (fl) =>
      fl.sfx === ''
        ? `fn ieee_cos(x: f32) -> f32 {
  let rq = ieee_trigreduce(x);
  let q = u32(rq.y);
  let c = select(ieee_cospoly(rq.x), ieee_sinpoly(rq.x), (q & 1u) == 1u);
  return select(select(c, -c, q == 1u || q == 2u), ieee_nan(), ieee_nonfinite(x));
}`
        : `fn ieee_cos4(x: vec4<f32>) -> vec4<f32> { return vec4<f32>(ieee_cos(x.x), ieee_cos(x.y), ieee_cos(x.z), ieee_cos(x.w)); }`,
  },
};

/** The vec4 flavours of these call the scalar one. */
const SCALAR_BACKED = new Set(['pow', 'sin', 'cos']);

/** WGSL of every helper `source` calls (and what those call), dependencies first; '' if none. */
export function ieeeLibrary(source: string): string {
  const wanted = new Set<string>();
  for (const m of source.matchAll(/\bieee_([a-z0-9]+?)(4?)\s*\(/g)) wanted.add(`${m[1]}${m[2]}`);
  if (wanted.size === 0) return '';
  const out: string[] = [];
  const done = new Set<string>();
  const add = (key: string): void => {
    if (done.has(key)) return;
    done.add(key);
    const vec = key.endsWith('4') && !(key in HELPERS);
    const base = vec ? key.slice(0, -1) : key;
    const h = HELPERS[base];
    if (!h) return; // ieee_nan() and friends belong to 'consts'; unknown names fail in the compiler
    if (vec && SCALAR_BACKED.has(base)) add(base); // its vec4 flavour calls the scalar one
    else for (const d of h.deps) add(HELPERS[d]!.shared ? d : vec ? `${d}4` : d);
    out.push(h.wgsl(vec ? VEC4 : SCALAR));
  };
  for (const key of wanted) {
    if (key === 'nan' || key === 'inf') add('consts');
    else add(key);
  }
  return `// ---- NaN-safe helpers (src/kernels/ieee.ts) ----\n${out.join('\n')}\n// ----\n`;
}

/** The pipeline for `source` with the helpers it calls prepended: how every kernel family compiles its shaders. */
export function kernel(rt: GpuRuntime, name: string, source: string): Kernel {
  return rt.kernel(name, source, withIeeeLibrary);
}

/** Directives (`enable f16;`, `requires …;`) must open a module: the helpers go after them. */
const DIRECTIVE = /^[ \t]*(?:enable|requires|diagnostic)\b[^;]*;[ \t]*\n?/gm;

function withIeeeLibrary(source: string): string {
  const lib = ieeeLibrary(source);
  if (!lib) return source;
  const directives = source.match(DIRECTIVE) ?? [];
  return `${directives.join('')}${lib}${source.replace(DIRECTIVE, '')}`;
}

/** Picks the f32 or vec4<f32> helper for a WGSL compute type (`f32`, `vec4<f32>`). */
export function ieeeFn(name: string, type: string): string {
  return `ieee_${name}${type.startsWith('vec4') ? '4' : ''}`;
}
