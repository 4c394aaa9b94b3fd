import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectLossInputError, expectNoLeak, gradCheck, randomTensor } from '@tfjs-losses/test-utils';
import { accurateMean, accurateSum, reduce } from './index';

describe('reduce', () => {
  const l = tf.tensor([[1, 2, 3], [4, 5, 6]]);

  it('none keeps the shape, sum and mean are scalars', async () => {
    const none = reduce(l, 'none');
    expect(none.shape).toEqual([2, 3]);
    await expectClose(none, [[1, 2, 3], [4, 5, 6]]);
    await expectClose(reduce(l, 'sum'), 21);
    await expectClose(reduce(l, 'mean'), 3.5);
    expect(reduce(l, 'mean').shape).toEqual([]);
  });

  it('weights: mean is sum(w l) / number of elements, avgFactor replaces it', async () => {
    const w = tf.tensor([[1], [0]]);
    await expectClose(reduce(l, 'sum', w), 6);
    await expectClose(reduce(l, 'mean', w), 1);
    await expectClose(reduce(l, 'mean', w, { avgFactor: 3 }), 2);
    await expectClose(reduce(l, 'none', w), [[1, 2, 3], [0, 0, 0]]);
  });

  it('mask: mean over unmasked positions, 0 when none', async () => {
    const mask = tf.tensor([[1, 1, 0], [0, 0, 0]]);
    await expectClose(reduce(tf.mul(l, mask), 'mean', undefined, { mask }), 1.5);
    await expectClose(reduce(tf.zeros([2, 3]), 'mean', undefined, { mask: tf.zeros([2, 3]) }), 0);
  });

  it('is differentiable', async () => {
    const w = tf.tensor([0.5, 2, 1]);
    await gradCheck((x) => reduce(tf.square(x), 'mean', w), [randomTensor([4, 3], 1)]);
  });

  it('rejects bad reductions, weights and avgFactor with LossInputError', async () => {
    expectLossInputError(() => reduce(l, 'avg' as never), 'reduce: reduction must be one of', '"avg"');
    expectLossInputError(() => reduce(l, 'mean', tf.ones([3, 3])), 'weights must be broadcastable to the unreduced loss [2, 3]', 'got [3, 3]');
    expectLossInputError(() => reduce(l, 'mean', tf.ones([2, 3, 1])), 'got [2, 3, 1]');
    expectLossInputError(() => reduce(l, 'mean', undefined, { avgFactor: 0 }), 'avgFactor must be a number > 0; got 0');
    expectLossInputError(() => reduce(l, 'sum', undefined, { avgFactor: 2, fn: 'myLoss' }), 'myLoss: avgFactor only applies');
  });

  it('leaks nothing', async () => {
    const w = tf.ones([2, 1]);
    expectNoLeak(() => [reduce(l, 'mean', w), reduce(l, 'none'), reduce(l, 'sum', [[2], [3]])]);
  });
});

describe('accurateSum', () => {
  it('sums 5M values to float32 accuracy on this backend', async () => {
    // Values 0.1 + 1e-3 * (i mod 1000): the exact sum is known in closed form.
    const n = 5_000_000;
    const v = new Float32Array(n);
    let exact = 0;
    for (let i = 0; i < n; i++) {
      v[i] = 0.1 + 1e-3 * (i % 1000);
      exact += v[i];
    }
    const x = tf.tensor1d(v);
    const got = (await accurateSum(x).data())[0];
    expect(Math.abs(got - exact) / exact).toBeLessThan(2e-6);
    const m = (await accurateMean(x).data())[0];
    expect(Math.abs(m - exact / n) / (exact / n)).toBeLessThan(2e-6);
    // Along an axis too.
    const rows = await accurateSum(tf.reshape(x, [2, n / 2]), 1).data();
    expect(Math.abs(rows[0] + rows[1] - exact) / exact).toBeLessThan(2e-6);
    x.dispose();
  });

  // Only wasm accumulates sequentially in float32; the test exists only in the wasm project.
  if (tf.getBackend() === 'wasm') it('on wasm, plain tf.sum is measurably worse (the gap core repairs)', async () => {
    const n = 5_000_000;
    const v = new Float32Array(n);
    let exact = 0;
    for (let i = 0; i < n; i++) {
      v[i] = 0.1 + 1e-3 * (i % 1000);
      exact += v[i];
    }
    const x = tf.tensor1d(v);
    const stock = (await tf.sum(x).data())[0];
    expect(Math.abs(stock - exact) / exact).toBeGreaterThan(1e-4);
    x.dispose();
  });

  it('keepDims and axis lists match tf.sum shapes', async () => {
    const x = randomTensor([3, 5000, 2], 3);
    const a = accurateSum(x, [1], true);
    expect(a.shape).toEqual([3, 1, 2]);
    await expectClose(a, tf.sum(x, [1], true), { rtol: 1e-4, atol: 1e-3 });
    expect(accurateSum(x, [0, 2]).shape).toEqual([5000]);
  });
});
