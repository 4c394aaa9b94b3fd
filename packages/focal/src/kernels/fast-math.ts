/*
 * exp and log1p for the typed-array kernels, in float64 and accurate to a few
 * float64 ulps (relative error below 1e-15, checked against Math.exp and
 * Math.log1p in fast-math.test.ts), so the float32 results they feed round
 * as with Math.exp / Math.log1p. They exist for speed: V8 calls out to C for
 * Math.exp and Math.log1p (about 15 ns each on the bench machine), which made
 * those calls most of the time of a focal loss; these are a table look-up and
 * a short polynomial that the JIT compiles inline.
 */

/** 2^(j/2048), j = 0..2047. */
const EXP2_FRAC = new Float64Array(2048);
for (let j = 0; j < 2048; j++) EXP2_FRAC[j] = Math.pow(2, j / 2048);

/** 2^m for m = -1075..1024 at index m + 1075 (subnormals included). */
const EXP2_INT_BIAS = 1075;
const EXP2_INT = new Float64Array(2100);
for (let m = -EXP2_INT_BIAS; m < 2100 - EXP2_INT_BIAS; m++) EXP2_INT[m + EXP2_INT_BIAS] = Math.pow(2, m);

/** 2048 / ln 2 */
const INV_STEP = 2954.639443740597;
/**
 * ln 2 / 2048 in two parts. The high part has 32 significant bits, so
 * k * STEP_HI is exact for |k| < 2^21, and |x| <= 700 keeps |k| <= 2.07e6 < 2^21.
 */
const STEP_HI = 0.6931471803691238 / 2048;
const STEP_LO = 1.9082149292705877e-10 / 2048;
/** Adding and subtracting 1.5 * 2^52 rounds a float64 of magnitude < 2^51 to the nearest integer. */
const ROUND = 6755399441055744;

/**
 * e^x. With k = round(2048 x / ln 2) and r = x - k ln 2 / 2048 (|r| <=
 * 1.7e-4), e^x = 2^(k >> 11) 2^((k & 2047) / 2048) e^r, with e^r from its
 * Taylor series to r^3 (remainder below 4e-17). Arguments outside
 * [-700, 700] (and NaN) go to Math.exp.
 */
export function expF64(x: number): number {
  if (!(x >= -700 && x <= 700)) return Math.exp(x);
  const kf = x * INV_STEP + ROUND - ROUND;
  const r = x - kf * STEP_HI - kf * STEP_LO;
  const k = kf | 0;
  const er = 1 + r + r * r * (0.5 + r * (1 / 6));
  return EXP2_FRAC[k & 2047] * EXP2_INT[(k >> 11) + EXP2_INT_BIAS] * er;
}

/** log1p(j / 128) and 128 / (128 + j), j = 0..128. */
const LOG1P_KNOT = new Float64Array(129);
const INV_KNOT = new Float64Array(129);
for (let j = 0; j <= 128; j++) {
  LOG1P_KNOT[j] = Math.log1p(j / 128);
  INV_KNOT[j] = 128 / (128 + j);
}

/**
 * log(1 + u) for 0 <= u <= 1. With v = fl(1 + u), w = v - 1 and c = u - w
 * (both exact), log(1 + u) = log(1 + w) + c (up to c u, below 2e-16
 * relative). w = j / 128 + d with 0 <= d < 1/128 gives log(1 + w) =
 * log1p(j / 128) + log1p(t), t = d / (1 + j / 128) < 1/128, whose Taylor
 * series to t^8 leaves less than 3e-16 relative.
 */
export function log1pUnit(u: number): number {
  const w = 1 + u - 1;
  const c = u - w;
  const j = (w * 128) | 0;
  const t = (w - j * 0.0078125) * INV_KNOT[j];
  const t2 = t * t;
  const series = 1 - 0.5 * t + t2 * (1 / 3 - 0.25 * t) + t2 * t2 * (0.2 - t * (1 / 6) + t2 * (1 / 7 - 0.125 * t));
  return LOG1P_KNOT[j] + t * series + c;
}
