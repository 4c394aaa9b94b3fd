import * as tf from '@tensorflow/tfjs-core';
import { expectClose, expectNoLeak, seededRandom } from '@tfjs-losses/test-utils';
import { describe, expect, it } from 'vitest';
import { withComposedOps } from '@tfjs-losses/core';
import { jaccardWeightsIsFused, lovaszExtension } from './extension';
import { DescendingSorter } from './sort';

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

describe('lovaszExtension (composed ops: the sorted Jaccard dot product)', () => {
  it('value and gradient match a plain-JS oracle, ties ordered by position', async () => {
    const { errors, fg } = tiedInputs(5, 37, 11);
    const want = oracle(errors, fg);
    const e = tf.tensor2d(errors);
    const f = tf.tensor2d(fg);
    const scale = [1, -2, 0.5, 3, 1.5];
    const { value, grads } = tf.valueAndGrads((x: tf.Tensor) => tf.sum(tf.mul(lovaszExtension(x, f), tf.tensor1d(scale))))([e]);
    await expectClose(lovaszExtension(e, f), want.loss);
    await expectClose(value, want.loss.reduce((a, l, i) => a + l * scale[i], 0));
    await expectClose(grads[0], want.weights.map((row, r) => row.map((w) => w * scale[r])));
  });

  it('a long row matches the oracle', async () => {
    const rand = seededRandom(5);
    const n = 4000;
    // Mixed signs and magnitudes, a few exact duplicates.
    const row = Array.from({ length: n }, (_, i) => (i % 97 === 0 ? 0.25 : (rand() - 0.3) * 10 ** Math.floor(rand() * 6 - 3)));
    const f = Array.from({ length: n }, () => (rand() < 0.3 ? 1 : 0));
    const want = oracle([row], [f]);
    const { value, grads } = tf.valueAndGrads((x: tf.Tensor) => tf.sum(lovaszExtension(x, tf.tensor2d([f]))))([tf.tensor2d([row])]);
    await expectClose(value, want.loss[0]);
    await expectClose(grads[0], want.weights);
  });

  it('one entry per row, all-excluded rows and empty foreground', async () => {
    await expectClose(lovaszExtension(tf.tensor2d([[0.7], [-1], [0.2]]), tf.tensor2d([[1], [0], [0]])), [0.7, 0, 0.2]);
    // No foreground: the largest error (Jaccard steps 1, 0, 0, ...).
    await expectClose(lovaszExtension(tf.tensor2d([[0.1, 0.6, 0.3]]), tf.tensor2d([[0, 0, 0]])), [0.6]);
    const g = tf.grad((x: tf.Tensor) => tf.sum(lovaszExtension(x, tf.zeros([2, 3]))))(tf.tensor2d([[-1, -1, -1], [-1, -1, -1]]));
    await expectClose(g, [[0, 0, 0], [0, 0, 0]]);
  });

  it('runs the WGSL Jaccard step on webgpu only', () => {
    expect(jaccardWeightsIsFused()).toBe(tf.getBackend() === 'webgpu');
    expect(withComposedOps(jaccardWeightsIsFused)).toBe(false);
  });

  it('the WGSL step (webgpu) and tfjs ops agree, with ties, excluded entries and single-entry rows', async () => {
    for (const [rows, n, seed] of [[4, 300, 1], [3, 1, 2], [2, 2, 3], [1, 2500, 4]]) {
      const { errors, fg } = tiedInputs(rows, n, seed);
      const e = tf.tensor2d(errors);
      const f = tf.tensor2d(fg);
      const want = oracle(errors, fg);
      for (const run of [<T>(fn: () => T) => fn(), withComposedOps]) {
        const { value, grads } = run(() => tf.valueAndGrads((x: tf.Tensor) => tf.sum(lovaszExtension(x, f)))([e]));
        await expectClose(value, want.loss.reduce((a, b) => a + b, 0));
        await expectClose(grads[0], want.weights);
      }
    }
  });

  it('leaks no tensors', () => {
    const { errors, fg } = tiedInputs(3, 20, 3);
    const e = tf.tensor2d(errors);
    const f = tf.tensor2d(fg);
    expectNoLeak(() => tf.valueAndGrads((x: tf.Tensor) => tf.sum(lovaszExtension(x, f)))([e]));
    expectNoLeak(() => lovaszExtension(e, f));
    expectNoLeak(() => withComposedOps(() => tf.valueAndGrads((x: tf.Tensor) => tf.sum(lovaszExtension(x, f)))([e])));
  });
});

describe("DescendingSorter (the fused kernels' sort)", () => {
  it('orders by decreasing value, ties by position, over every radix digit', () => {
    const rand = seededRandom(19);
    const sorter = new DescendingSorter(5000);
    for (const n of [0, 1, 2, 7, 300, 5000]) {
      // Signs, magnitudes from 1e-30 to 1e30, exact duplicates, ±0 and ±Infinity.
      const v = Float32Array.from({ length: n }, (_, i) => {
        const u = rand();
        if (i % 50 === 3) return -0;
        if (i % 50 === 4) return 0;
        if (i % 97 === 5) return Infinity;
        if (i % 89 === 6) return -Infinity;
        if (u < 0.2) return 0.5;
        return (rand() < 0.5 ? -1 : 1) * rand() * 10 ** Math.floor(rand() * 60 - 30);
      });
      const want = Array.from(v.keys()).sort((a, b) => (v[b] === v[a] ? a - b : v[b] - v[a]));
      expect(Array.from(sorter.sort(v))).toEqual(want);
    }
  });

  it('sorts a view that starts inside a larger buffer', () => {
    const buf = new Float32Array([9, 1, 3, 3, 2, 9]);
    expect(Array.from(new DescendingSorter(4).sort(buf.subarray(1, 5)))).toEqual([1, 2, 3, 0]);
  });
});
