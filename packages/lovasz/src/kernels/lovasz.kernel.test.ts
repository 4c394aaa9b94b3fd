import * as tf from '@tensorflow/tfjs-core';
import { withComposedOps } from '@tfjs-losses/core';
import { expectClose, expectNoLeak, seededRandom } from '@tfjs-losses/test-utils';
import { describe, expect, it } from 'vitest';
import { lovaszExtension, lovaszExtensionIsFused } from './lovasz.kernel';

/**
 * Plain-JS oracle: sort by decreasing error, ties by position; skip nothing,
 * weigh entries with error <= 0 by 0 (they add nothing).
 */
function oracle(errors: number[][], fg: number[][]): { loss: number[]; weights: number[][] } {
  const loss: number[] = [];
  const weights: number[][] = [];
  errors.forEach((row, r) => {
    const f = fg[r];
    const order = row.map((_, i) => i).sort((a, b) => row[b] - row[a] || a - b);
    const total = f.reduce((a, b) => a + b, 0);
    let cumFg = 0;
    let prev = 0;
    let acc = 0;
    const w = row.map(() => 0);
    order.forEach((j, i) => {
      cumFg += f[j];
      const jac = 1 - (total - cumFg) / (total + (i + 1 - cumFg));
      if (row[j] > 0) {
        w[j] = jac - prev;
        acc += row[j] * (jac - prev);
      }
      prev = jac;
    });
    loss.push(acc);
    weights.push(w);
  });
  return { loss, weights };
}

/** Rows with many ties (values on a coarse grid), excluded entries (-1) and zeros. */
function tiedInputs(rows: number, n: number, seed: number): { errors: number[][]; fg: number[][] } {
  const rand = seededRandom(seed);
  const errors: number[][] = [];
  const fg: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const e: number[] = [];
    const f: number[] = [];
    for (let i = 0; i < n; i++) {
      const u = rand();
      e.push(u < 0.1 ? -1 : u < 0.2 ? 0 : Math.round(rand() * 8) / 4 - 0.5);
      f.push(rand() < 0.4 && e[i] !== -1 ? 1 : 0);
    }
    errors.push(e);
    fg.push(f);
  }
  return { errors, fg };
}

describe('lovaszExtension (the sorted Jaccard dot product)', () => {
  const paths: [string, <T>(fn: () => T) => T][] = [
    ['default path', (fn) => fn()],
    ['composed ops', withComposedOps],
  ];
  for (const [label, run] of paths) {
    it(`${label}: value and gradient match a plain-JS oracle, ties ordered by position`, async () => {
      const { errors, fg } = tiedInputs(5, 37, 11);
      const want = oracle(errors, fg);
      const e = tf.tensor2d(errors);
      const f = tf.tensor2d(fg);
      const dy = tf.tensor1d([1, -2, 0.5, 3, 1.5]);
      const { value, grads } = run(() => tf.valueAndGrads((x: tf.Tensor) => tf.sum(tf.mul(lovaszExtension(x, f), dy)))([e]));
      const loss = run(() => lovaszExtension(e, f));
      await expectClose(loss, want.loss);
      await expectClose(value, want.loss.reduce((a, l, i) => a + l * [1, -2, 0.5, 3, 1.5][i], 0));
      await expectClose(grads[0], want.weights.map((row, r) => row.map((w) => w * [1, -2, 0.5, 3, 1.5][r])));
    });

    it(`${label}: a long row (radix passes over every digit) matches the oracle`, async () => {
      const rand = seededRandom(5);
      const n = 4000;
      // Mixed signs and magnitudes, a few exact duplicates.
      const row = Array.from({ length: n }, (_, i) => (i % 97 === 0 ? 0.25 : (rand() - 0.3) * 10 ** Math.floor(rand() * 6 - 3)));
      const f = Array.from({ length: n }, () => (rand() < 0.3 ? 1 : 0));
      const want = oracle([row], [f]);
      const e = tf.tensor2d([row]);
      const { value, grads } = run(() => tf.valueAndGrads((x: tf.Tensor) => tf.sum(lovaszExtension(x, tf.tensor2d([f]))))([e]));
      await expectClose(value, want.loss[0]);
      await expectClose(grads[0], want.weights);
    });

    it(`${label}: one entry per row, all-excluded rows and empty foreground`, async () => {
      await expectClose(run(() => lovaszExtension(tf.tensor2d([[0.7], [-1], [0.2]]), tf.tensor2d([[1], [0], [0]]))), [0.7, 0, 0.2]);
      // No foreground: the largest error (Jaccard steps 1, 0, 0, ...).
      await expectClose(run(() => lovaszExtension(tf.tensor2d([[0.1, 0.6, 0.3]]), tf.tensor2d([[0, 0, 0]]))), [0.6]);
      const g = run(() => tf.grad((x: tf.Tensor) => tf.sum(lovaszExtension(x, tf.zeros([2, 3]))))(tf.tensor2d([[-1, -1, -1], [-1, -1, -1]])));
      await expectClose(g, [[0, 0, 0], [0, 0, 0]]);
    });

    it(`${label}: leaks no tensors`, () => {
      const { errors, fg } = tiedInputs(3, 20, 3);
      const e = tf.tensor2d(errors);
      const f = tf.tensor2d(fg);
      expectNoLeak(() => run(() => tf.valueAndGrads((x: tf.Tensor) => tf.sum(lovaszExtension(x, f)))([e])));
      expectNoLeak(() => run(() => lovaszExtension(e, f)));
    });
  }

  it('runs the fused kernel on cpu and wasm, composed ops on webgpu', () => {
    expect(lovaszExtensionIsFused()).toBe(tf.getBackend() !== 'webgpu');
    expect(withComposedOps(() => lovaszExtensionIsFused())).toBe(false);
  });
});
