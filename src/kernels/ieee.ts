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

/**
 * |x| up to which sin/cos are the builtins (just under π: where WGSL bounds their error, and
 * where ordinary data lies, so the common case costs what it did).
 */
const TRIG_BUILTIN_MAX = 3.140625;
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
  /** The vec4 flavour also calls the scalar one (for lanes that leave its vectorised path). */
  vec4CallsScalar?: boolean;
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
  // Natural log and log2, right for subnormal inputs: those are scaled by 2^24 first (one log
  // either way; a select between two logs would evaluate both).
  log: {
    deps: ['isnan'],
    wgsl: (fl) => `fn ${f('log', fl)}(x: ${fl.T}) -> ${fl.T} {
  let sub = x < ${fl.T}(1.1754943508222875e-38);
  let r = log(x * select(${fl.T}(1.0), ${fl.T}(16777216.0), sub)) - select(${fl.T}(0.0), ${fl.T}(16.635532333438686), sub);
  return select(r, x, ${f('isnan', fl)}(x));
}`,
  },
  log2: {
    deps: [],
    wgsl: (fl) => `fn ${f('log2', fl)}(x: ${fl.T}) -> ${fl.T} {
  let sub = x < ${fl.T}(1.1754943508222875e-38);
  return log2(x * select(${fl.T}(1.0), ${fl.T}(16777216.0), sub)) - select(${fl.T}(0.0), ${fl.T}(24.0), sub);
}`,
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
    wgsl: ({ sfx, T, U }) => `fn ieee_pow${sfx}(a: ${T}, b: ${T}) -> ${T} {
  let inf = ${T}(ieee_inf());
  let zero = ${T}(0.0);
  let one = ${T}(1.0);
  let ab = abs(a);
  let bInt = round(b) == b;
  let bOdd = bInt & (abs(b) < ${T}(16777216.0)) & (fract(b * ${T}(0.5)) != zero);
  let bNeg = b < zero;
  var r = exp2(b * ieee_log2${sfx}(ab));
  r = select(r, select(zero, inf, bNeg), ab == zero);
  r = select(r, select(inf, zero, bNeg), ab == inf);
  r = select(r, select(select(zero, inf, (ab > one) != bNeg), one, ab == one), abs(b) == inf);
  r = select(r, -r, ((bitcast<${U}>(a) & ${U}(0x80000000u)) != ${U}(0u)) & bOdd);
  r = select(r, ${T}(ieee_nan()), (a < zero) & (ab != inf) & !bInt);
  r = select(r, a + b, ieee_isnan${sfx}(a) | ieee_isnan${sfx}(b));
  return select(r, one, (b == zero) | (a == one));
}`,
  },
  // sin and cos of r ∈ [−π/4, π/4] (cephes sinf/cosf minimax polynomials, about 1 ulp).
  trigpoly: {
    deps: [],
    wgsl: (fl) => `fn ${f('sinpoly', fl)}(r: ${fl.T}) -> ${fl.T} {
  let z = r * r;
  return r + r * z * (${fl.T}(-1.6666654611e-1) + z * (${fl.T}(8.3321608736e-3) + z * ${fl.T}(-1.9515295891e-4)));
}
fn ${f('cospoly', fl)}(r: ${fl.T}) -> ${fl.T} {
  let z = r * r;
  return ${fl.T}(1.0) - ${fl.T}(0.5) * z + z * z * (${fl.T}(4.166664568298827e-2) + z * (${fl.T}(-1.388731625493765e-3) + z * ${fl.T}(2.443315711809948e-5)));
}`,
  },
  // x·2/π = q + f (q mod 4, f ∈ [−½, ½)) for |x| > TRIG_FAST_MAX, as (r = f·π/2, q): Payne–Hanek.
  // The 24-bit mantissa m times a 96-bit window of 2/π's bits taken where x's exponent puts the
  // binary point (bits of weight ≥ 4 drop out mod 4), in 16-bit limbs so every partial product
  // fits a u32. Only lanes with a huge argument run it.
  trigbig: {
    shared: true,
    deps: [],
    wgsl: () => `// Word i of TWO_OVER_PI_WORDS, by selects (no array: lanes index it differently, and an
// indexed array lives in memory where registers would do).
fn ieee_two_over_pi(i: u32) -> u32 {
  var w = 0u;
${TWO_OVER_PI_WORDS.map((w, i) => `  w = select(w, 0x${w.toString(16).padStart(8, '0')}u, i == ${i}u);`).join('\n')}
  return w;
}
fn ieee_trigreduce_big(x: f32) -> vec2<f32> {
  let bits = bitcast<u32>(abs(x));
  let m = (bits & 0x7fffffu) | 0x800000u;
  let e = i32(bits >> 23u) - 150; // |x| = m · 2^e
  // The 96-bit window from bit e + 30 of the table (bit 32 is 2/π's first), as w0 w1 w2.
  let start = u32(e + 30);
  let wi = start >> 5u;
  let sh = start & 31u;
  let t0 = ieee_two_over_pi(wi);
  let t1 = ieee_two_over_pi(wi + 1u);
  let t2 = ieee_two_over_pi(wi + 2u);
  let t3 = ieee_two_over_pi(wi + 3u);
  let rs = 32u - sh; // unused when sh = 0 (a shift by 32 is no shift in WGSL)
  let w0 = select((t0 << sh) | (t1 >> rs), t0, sh == 0u);
  let w1 = select((t1 << sh) | (t2 >> rs), t1, sh == 0u);
  let w2 = select((t2 << sh) | (t3 >> rs), t2, sh == 0u);
  // 16-bit limbs, least significant first: v0..v5 of the window, m0 m1 of the mantissa. Limbs
  // 0..5 of the product suffice: limb 6 on has weights ≥ 4, which drop out mod 4.
  let v0 = w2 & 0xffffu; let v1 = w2 >> 16u; let v2 = w1 & 0xffffu; let v3 = w1 >> 16u; let v4 = w0 & 0xffffu; let v5 = w0 >> 16u;
  let m0 = m & 0xffffu;
  let m1 = m >> 16u;
${[0, 1, 2, 3, 4, 5].map((k) => {
    const terms = [`((m0 * v${k}) & 0xffffu)`];
    if (k >= 1) terms.push(`((m0 * v${k - 1}) >> 16u)`, `((m1 * v${k - 1}) & 0xffffu)`);
    if (k >= 2) terms.push(`((m1 * v${k - 2}) >> 16u)`);
    return `  let a${k} = ${k ? `(a${k - 1} >> 16u) + ` : ''}${terms.join(' + ')};`;
  }).join('\n')}
  // The product has weight 2^-94 per unit: limb 5 holds weights 2^-14 .. 2^1, so q is its top two
  // bits and the fraction the 62 bits below (limbs 2..5). A fraction ≥ ½ rounds q up and is
  // negated exactly in the limbs (f − 1 in f32 would lose the bits that matter near a multiple of π/2).
  let l5 = a5 & 0xffffu;
  let neg = (l5 & 0x2000u) != 0u;
  let q = ((l5 >> 14u) + select(0u, 1u, neg)) & 3u;
  // Two's complement of the 62-bit fraction where neg: invert and add one, carrying through the limbs.
  let inv = select(0u, 0xffffu, neg);
  let c2 = ((a2 & 0xffffu) ^ inv) + select(0u, 1u, neg);
  let c3 = ((a3 & 0xffffu) ^ inv) + (c2 >> 16u);
  let c4 = ((a4 & 0xffffu) ^ inv) + (c3 >> 16u);
  let c5 = ((l5 & 0x3fffu) ^ (inv & 0x3fffu)) + (c4 >> 16u);
  let fr = ((f32(c2 & 0xffffu) * 2.168404344971009e-19 + f32(c3 & 0xffffu) * 1.4210854715202004e-14) + f32(c4 & 0xffffu) * 9.313225746154785e-10) + f32(c5 & 0x3fffu) * 6.103515625e-5;
  // fr·π/2 with π/2 in two parts (the f32 π/2 alone is 2.8e-8 off); the sign of x and of the rounding.
  let r = fr * 1.5707963705062866 - fr * 4.371139000186243e-8;
  let flip = neg != (x < 0.0);
  return vec2<f32>(select(r, -r, flip), f32(select(q, (4u - q) & 3u, x < 0.0)));
}`,
  },
  // sin and cos right on the whole float range (torch's float32 libm to a couple of ulp); NaN and
  // ±inf give NaN. |x| ≤ TRIG_BUILTIN_MAX: the builtin. Up to TRIG_FAST_MAX: k = round(x·2/π),
  // r = x − k·π/2 with π/2 in three parts (Cody–Waite; k·P1 and k·P2 exact) and the polynomials,
  // vectorised. Beyond, Payne–Hanek (a vec4 with such a component goes component by component).
  // Branches, so each costs only when some lane needs it (bench/run.ts, elementwise sin rows).
  sin: trig('sin'),
  cos: trig('cos'),
};

/**
 * sin or cos for one flavour: the sign and the polynomial follow the quadrant q of x = q·π/2 + r
 * (sin: sin r, cos r, −sin r, −cos r for q = 0..3; cos: cos r, −sin r, −cos r, sin r).
 */
function trig(fn: 'sin' | 'cos'): Helper {
  return {
    deps: ['consts', 'nonfinite', 'trigpoly', 'trigbig'],
    vec4CallsScalar: true,
    wgsl: (fl) => {
      const { T, I } = fl;
      const pick = (r: string, q: string): string => {
        const odd = `(${q} & ${I}(1)) == ${I}(1)`;
        const [even, other] = fn === 'sin' ? [f('sinpoly', fl), f('cospoly', fl)] : [f('cospoly', fl), f('sinpoly', fl)];
        const neg = fn === 'sin' ? `${q} >= ${I}(2)` : `(${q} == ${I}(1)) | (${q} == ${I}(2))`;
        return `let v = select(${even}(${r}), ${other}(${r}), ${odd});
  return select(select(v, -v, ${neg}), ${T}(ieee_nan()), ieee_nonfinite${fl.sfx}(x));`;
      };
      const slow = fl.sfx === ''
        ? `if (abs(x) > ${TRIG_FAST_MAX}.0) {
    let rq = ieee_trigreduce_big(x);
    let rb = rq.x;
    let qb = i32(rq.y);
    ${pick('rb', 'qb')}
  }`
        : `if (any(abs(x) > ${T}(${TRIG_FAST_MAX}.0))) { return ${T}(ieee_${fn}(x.x), ieee_${fn}(x.y), ieee_${fn}(x.z), ieee_${fn}(x.w)); }`;
      return `fn ${f(fn, fl)}(x: ${T}) -> ${T} {
  if (${fl.sfx ? 'all' : ''}(abs(x) <= ${T}(${TRIG_BUILTIN_MAX}))) { return ${fn}(x); }
  ${slow}
  let k = round(x * ${T}(0.63661977236758134));
  let r = ((x - k * ${T}(${PIO2[0]})) - k * ${T}(${PIO2[1]})) - k * ${T}(${PIO2[2]});
  let q = ${I}(k) & ${I}(3);
  ${pick('r', 'q')}
}`;
    },
  };
}


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
    if (vec && h.vec4CallsScalar) add(base);
    for (const d of h.deps) add(HELPERS[d]!.shared ? d : vec ? `${d}4` : d);
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
