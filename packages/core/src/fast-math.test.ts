// expF64 and log1pF64 against Math.exp and Math.log1p (V8's fdlibm ports,
// within 1 ulp of the exact values): sweeps over every range the kernels
// use, points in every table cell, and the special values.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '@tfjs-losses/test-utils';
import { expF64, log1pF64 } from './index';

const bits = new Float64Array(1);
const word = new BigUint64Array(bits.buffer);

/** The gap between |y| and the next float64 above it. */
function ulpOf(y: number): number {
  bits[0] = Math.abs(y);
  word[0] += 1n;
  return bits[0] - Math.abs(y);
}

/** Largest |f(x) - ref(x)| over xs, in units in the last place of ref(x); NaN when f and ref disagree on a non-finite value. */
function maxUlp(f: (x: number) => number, ref: (x: number) => number, xs: Iterable<number>): number {
  let worst = 0;
  for (const x of xs) {
    const want = ref(x);
    const got = f(x);
    if (Object.is(got, want)) continue;
    if (!Number.isFinite(want) || !Number.isFinite(got)) return NaN;
    worst = Math.max(worst, Math.abs(got - want) / ulpOf(want));
  }
  return worst;
}

function* uniform(seed: number, n: number, lo: number, hi: number): Generator<number> {
  const r = seededRandom(seed);
  for (let i = 0; i < n; i++) yield lo + (hi - lo) * r();
}

function* logUniform(seed: number, n: number, lo: number, hi: number): Generator<number> {
  for (const e of uniform(seed, n, Math.log2(lo), Math.log2(hi))) yield 2 ** e;
}

describe('expF64', () => {
  it('is within 2 ulp of Math.exp on [-700, 700]', () => {
    expect(maxUlp(expF64, Math.exp, uniform(1, 40000, -700, 700))).toBeLessThanOrEqual(2);
    // The softmax and sigmoid ranges.
    expect(maxUlp(expF64, Math.exp, uniform(2, 40000, -40, 0))).toBeLessThanOrEqual(2);
    expect(maxUlp(expF64, Math.exp, uniform(3, 20000, -1, 1))).toBeLessThanOrEqual(2);
    expect(maxUlp(expF64, Math.exp, uniform(4, 2000, -1e-6, 1e-6))).toBeLessThanOrEqual(1);
  });

  it('is within 2 ulp in every cell of its table, at both edges of each cell', () => {
    // x = k ln 2 / 2048 (+- half a step) hits 2^(k / 2048) for every k mod 2048, with several exponents.
    const xs: number[] = [];
    const step = Math.LN2 / 2048;
    for (let k = -6144; k < 6144; k++) xs.push(k * step, (k + 0.4999) * step, (k - 0.4999) * step);
    for (let k = 0; k < 2048; k++) xs.push(-690 + k * step, 690 - k * step);
    expect(maxUlp(expF64, Math.exp, xs)).toBeLessThanOrEqual(2);
  });

  it('keeps the special values and the edges of float64 exact', () => {
    expect(expF64(0)).toBe(1);
    expect(expF64(-0)).toBe(1);
    expect(expF64(-Infinity)).toBe(0);
    expect(expF64(Infinity)).toBe(Infinity);
    expect(expF64(Number.NaN)).toBeNaN();
    expect(expF64(710)).toBe(Infinity);
    expect(expF64(-800)).toBe(0);
    expect(expF64(5e-324)).toBe(1);
    for (const x of [-700, 700, -700.5, 700.5, -708.4, 709.78, -745, -745.2]) expect(expF64(x)).toBe(Math.exp(x));
    expect(maxUlp(expF64, Math.exp, uniform(5, 2000, -746, -700))).toBe(0);
  });
});

describe('log1pF64', () => {
  it('is within 2 ulp of Math.log1p on (0, 1], the softplus range', () => {
    expect(maxUlp(log1pF64, Math.log1p, uniform(6, 40000, 0, 1))).toBeLessThanOrEqual(2);
    // exp(-|x|) for |x| up to 40, as the sigmoid and softmax kernels pass it.
    const sigmoidArgs = Array.from(uniform(7, 40000, 0, 40), (x) => Math.exp(-x));
    expect(maxUlp(log1pF64, Math.log1p, sigmoidArgs)).toBeLessThanOrEqual(2);
    expect(maxUlp(log1pF64, Math.log1p, logUniform(8, 20000, 1e-300, 1))).toBeLessThanOrEqual(1);
  });

  it('is within 2 ulp of Math.log1p on (1, 2^30) and equal to it beyond', () => {
    // Balanced L1 passes b q / beta, up to b = e^(gamma / alpha) - 1.
    expect(maxUlp(log1pF64, Math.log1p, uniform(9, 40000, 1, 32))).toBeLessThanOrEqual(2);
    expect(maxUlp(log1pF64, Math.log1p, logUniform(10, 40000, 1, 2 ** 30))).toBeLessThanOrEqual(2);
    expect(maxUlp(log1pF64, Math.log1p, logUniform(11, 2000, 2 ** 30, 1e300))).toBe(0);
  });

  it('is within 2 ulp in every cell of both tables', () => {
    const xs: number[] = [];
    for (let j = 0; j < 128; j++) for (const f of [1e-12, 0.3, 0.7, 1 - 1e-9]) xs.push((j + f) / 128);
    for (let k = 0; k < 30; k++) {
      for (let j = 0; j < 32; j++) for (const f of [1e-9, 0.5, 1 - 1e-9]) xs.push(2 ** k * (1 + (j + f) / 32) - 1);
    }
    expect(maxUlp(log1pF64, Math.log1p, xs.filter((x) => x > 0))).toBeLessThanOrEqual(2);
  });

  it('keeps tiny arguments and the special values exact', () => {
    for (const u of [5e-324, 1e-310, 2.2250738585072014e-308, 1e-300, 1e-20, 1e-17, 1.1e-16]) expect(log1pF64(u)).toBe(Math.log1p(u));
    expect(Object.is(log1pF64(0), 0)).toBe(true);
    expect(Object.is(log1pF64(-0), -0)).toBe(true);
    expect(log1pF64(-1)).toBe(-Infinity);
    expect(log1pF64(-2)).toBeNaN();
    expect(log1pF64(Number.NaN)).toBeNaN();
    expect(log1pF64(Infinity)).toBe(Infinity);
    expect(log1pF64(-Infinity)).toBeNaN();
    expect(log1pF64(1)).toBe(Math.LN2);
    expect(log1pF64(2 ** 30)).toBe(Math.log1p(2 ** 30));
    expect(maxUlp(log1pF64, Math.log1p, uniform(12, 2000, -1, 0))).toBe(0);
  });
});
