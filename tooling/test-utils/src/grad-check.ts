import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { seededRandom } from './random';

/** Options of {@link gradCheck}. */
export interface GradCheckOptions {
  /** Step of the central difference (default 1e-2, suited to float32). */
  eps?: number;
  /** Tolerance: |analytic - numeric| <= atol + rtol * |numeric| (defaults 2e-2, 2e-3). */
  rtol?: number;
  atol?: number;
  /** How many coordinates of each input to probe (default 12, chosen by a seeded draw). */
  samples?: number;
  /** Which inputs to check (default: all). */
  check?: number[];
  seed?: number;
}

/**
 * Compares the analytic gradient of the scalar `f` (from `tf.grads`) with
 * central finite differences at sampled coordinates of each input. The
 * differences are taken in float32 on the current backend, so keep inputs
 * away from kinks and use an `eps` that float32 can resolve. Always `await` it.
 */
export async function gradCheck(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], options: GradCheckOptions = {}): Promise<void> {
  const { eps = 1e-2, rtol = 2e-2, atol = 2e-3, samples = 12, check, seed = 7 } = options;
  const rand = seededRandom(seed);
  const gradTensors = tf.grads(f)(inputs);
  const analytic = await Promise.all(gradTensors.map(async (g) => Array.from(await g.data())));
  tf.dispose(gradTensors);
  const bad: string[] = [];
  let probed = 0;
  for (let k = 0; k < inputs.length; k++) {
    if (check && !check.includes(k)) continue;
    const x = inputs[k];
    const base = Float32Array.from(await x.data());
    const n = base.length;
    const idx = n <= samples ? [...Array(n).keys()] : Array.from({ length: samples }, () => Math.floor(rand() * n));
    for (const i of idx) {
      const at = async (delta: number) => {
        const v = base.slice();
        v[i] += delta;
        const out = tf.tidy(() => {
          const xs = inputs.map((t, j) => (j === k ? tf.tensor(v, t.shape, 'float32') : t));
          return f(...xs);
        });
        const value = (await out.data())[0];
        out.dispose();
        return value;
      };
      const numeric = ((await at(eps)) - (await at(-eps))) / (2 * eps);
      const a = analytic[k][i];
      probed++;
      if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) {
        bad.push(`input ${k} [${i}]: analytic ${a}, numeric ${numeric}`);
      }
    }
  }
  expect(probed, 'coordinates probed').toBeGreaterThan(0);
  expect(bad, 'gradient differs from central differences').toEqual([]);
}
