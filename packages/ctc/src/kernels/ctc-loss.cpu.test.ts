import { describe, expect, it } from 'vitest';
import { seededRandom } from '@tfjs-losses/test-utils';
import { expAccurate } from './ctc-loss.cpu';

describe('expAccurate (the typed-array kernel exp)', () => {
  it('is within 2 units in the last place of Math.exp over its whole range, and exact at the edges', () => {
    const r = seededRandom(7);
    let worst = 0;
    const check = (d: number) => {
      const want = Math.exp(d);
      const got = expAccurate(d);
      const ulp = Math.abs(got - want) / (want * Number.EPSILON);
      if (ulp > worst) worst = ulp;
    };
    for (let i = 0; i < 20000; i++) check(-700 + 1400 * r());
    for (let i = 0; i < 20000; i++) check(-40 * r());
    for (let i = 0; i < 2000; i++) check((r() - 0.5) * 1e-6);
    for (let k = -1000; k <= 1000; k++) check(k * (Math.LN2 / 64));
    expect(worst).toBeLessThanOrEqual(2);
    expect(expAccurate(0)).toBe(1);
    for (const d of [-700, -745, -800, -Infinity, 700, 710, Infinity]) expect(expAccurate(d)).toBe(Math.exp(d));
    expect(Number.isNaN(expAccurate(NaN))).toBe(true);
  });
});
