// The float64 exp and log1p of the typed-array kernels against Math.exp and
// Math.log1p (V8's fdlibm ports, under 1 ulp), over their whole domains.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '@tfjs-losses/test-utils';
import { expF64, log1pUnit } from './kernels/fast-math';

function maxRelativeError(f: (v: number) => number, ref: (v: number) => number, points: number[]): number {
  let worst = 0;
  for (const v of points) {
    const want = ref(v);
    const got = f(v);
    const err = want === 0 ? Math.abs(got) : Math.abs(got - want) / Math.abs(want);
    worst = Math.max(worst, err);
  }
  return worst;
}

describe('fast-math', () => {
  const rand = seededRandom(7);

  it('expF64 is within 1e-15 of Math.exp on [-708, 709] and exact outside', () => {
    const points = [0, -0, 1, -1, 700, -700, 709.7, -708, 1e-300, -1e-20];
    for (let i = 0; i < 20000; i++) points.push((rand() * 2 - 1) * [1, 20, 708][i % 3]);
    expect(maxRelativeError(expF64, Math.exp, points)).toBeLessThan(1e-15);
    expect(expF64(Number.NaN)).toBeNaN();
    expect(expF64(-Infinity)).toBe(0);
    expect(expF64(Infinity)).toBe(Infinity);
    expect(expF64(-800)).toBe(0);
    expect(expF64(-745)).toBe(Math.exp(-745));
    expect(expF64(709.78)).toBe(Math.exp(709.78));
  });

  it('log1pUnit is within 1e-15 of Math.log1p on [0, 1], tiny arguments included', () => {
    const points = [0, 1, 1e-300, 5e-324, 1e-17, 1e-8, 0.5, 0.4142135623730951, 1 - 1e-16];
    for (let i = 0; i < 20000; i++) points.push(rand() ** (1 + (i % 10) * 6));
    expect(maxRelativeError(log1pUnit, Math.log1p, points)).toBeLessThan(1e-15);
  });
});
