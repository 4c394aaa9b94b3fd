import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectLossInputError, expectNoLeak, gradCheck, loadFixture, randomTensor } from '@tfjs-losses/test-utils';
import { hingeDiscriminatorLoss, hingeDiscriminatorLossKeras } from './index';
import type { ScoreCase } from './testing/scores';

describe('hingeDiscriminatorLoss', () => {
  for (const c of loadFixture<ScoreCase>(import.meta.url, 'score-losses.json').filter((k) => k.fn === 'hingeDiscriminatorLoss')) {
    it(`matches the PyTorch reference: ${c.name}`, async () => {
      const f = (r: tf.Tensor, q: tf.Tensor) => hingeDiscriminatorLoss(r, q, c.options);
      const { value, grads } = tf.valueAndGrads(f)([tf.tensor(c.real!), tf.tensor(c.fake)]);
      await expectClose(value, c.value);
      await expectClose(grads[0], c.gradReal!);
      await expectClose(grads[1], c.gradFake);
    });
  }

  it('has the documented shape per reduction', () => {
    const r = tf.zeros([2, 2, 2, 1]);
    expect(hingeDiscriminatorLoss(r, r).shape).toEqual([]);
    expect(hingeDiscriminatorLoss(r, r, { reduction: 'sum' }).shape).toEqual([]);
    expect(hingeDiscriminatorLoss(r, r, { reduction: 'none' }).shape).toEqual([2, 2, 2, 1]);
  });

  it('agrees with finite differences (away from the hinges)', async () => {
    await gradCheck((r, q) => hingeDiscriminatorLoss(r, q), [tf.tensor([0.5, 2, -0.3]), tf.tensor([-2, 0.4, -0.5, 1.5])]);
  });

  it('is 0 past the margins, and the gradient at the hinge is 0 as PyTorch relu', async () => {
    await expectClose(hingeDiscriminatorLoss([1.5, 3], [-1.2, -4]), 0);
    const g = tf.grads((r: tf.Tensor, q: tf.Tensor) => hingeDiscriminatorLoss(r, q))([tf.tensor([1]), tf.tensor([-1])]);
    await expectClose(g[0], [0]);
    await expectClose(g[1], [0]);
  });

  it('Keras adapter: labels pick the real and generated subsets', async () => {
    const scores = tf.tensor([0.2, -0.5, 2, 0.3]);
    const labels = tf.tensor([1, 0, 1, 0]);
    await expectClose(hingeDiscriminatorLossKeras()(labels, scores), hingeDiscriminatorLoss([0.2, 2], [-0.5, 0.3]));
  });

  it('stays finite for huge scores', async () => {
    expect(Number.isFinite((await hingeDiscriminatorLoss([-1e30], [1e30]).data())[0])).toBe(true);
  });

  it('rejects bad input with LossInputError', () => {
    expectLossInputError(() => hingeDiscriminatorLoss(tf.zeros([2]), tf.zeros([2, 1]), { reduction: 'none' }), 'hingeDiscriminatorLoss: fakeScores must have the shape of realScores [2]; got [2, 1].');
    expectLossInputError(() => hingeDiscriminatorLoss([1], null as unknown as number[]), 'hingeDiscriminatorLoss: fakeScores must be a tensor');
  });

  it('leaks no tensors', () => {
    const inputs = [randomTensor([4], 3), randomTensor([6], 4)];
    expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => hingeDiscriminatorLoss(a, b))(inputs));
    const labels = tf.tensor([1, 0, 1, 0]);
    expectNoLeak(() => hingeDiscriminatorLossKeras()(labels, inputs[0]));
  });
});
