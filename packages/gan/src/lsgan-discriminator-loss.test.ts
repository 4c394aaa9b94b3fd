import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectLossInputError, expectNoLeak, gradCheck, loadFixture, randomTensor } from '@tfjs-losses/test-utils';
import { lsganDiscriminatorLoss, lsganDiscriminatorLossKeras } from './index';
import type { ScoreCase } from './testing/scores';

describe('lsganDiscriminatorLoss', () => {
  for (const c of loadFixture<ScoreCase>(import.meta.url, 'score-losses.json').filter((k) => k.fn === 'lsganDiscriminatorLoss')) {
    it(`matches the PyTorch reference: ${c.name}`, async () => {
      const f = (r: tf.Tensor, q: tf.Tensor) => lsganDiscriminatorLoss(r, q, c.options);
      const { value, grads } = tf.valueAndGrads(f)([tf.tensor(c.real!), tf.tensor(c.fake)]);
      await expectClose(value, c.value);
      await expectClose(grads[0], c.gradReal!);
      await expectClose(grads[1], c.gradFake);
    });
  }

  it('has the documented shape per reduction', () => {
    const r = tf.zeros([2, 3]);
    expect(lsganDiscriminatorLoss(r, r).shape).toEqual([]);
    expect(lsganDiscriminatorLoss(r, r, { reduction: 'sum' }).shape).toEqual([]);
    expect(lsganDiscriminatorLoss(r, r, { reduction: 'none' }).shape).toEqual([2, 3]);
  });

  it('agrees with finite differences', async () => {
    await gradCheck((r, q) => lsganDiscriminatorLoss(r, q, { a: -1, b: 1 }), [randomTensor([3, 4], 1), randomTensor([5], 2)]);
  });

  it('is 0 at the targets and 0.5 (b - a)^2 when real and fake swap places', async () => {
    await expectClose(lsganDiscriminatorLoss([1, 1], [0, 0, 0]), 0);
    await expectClose(lsganDiscriminatorLoss([0.2], [0.7], { a: 0.2, b: 0.7 }), 0.5 * 0.25 + 0.5 * 0.25);
  });

  it('stays finite for huge scores', async () => {
    const v = await lsganDiscriminatorLoss([1e15, -1e15], [1e15]).data();
    expect(Number.isFinite(v[0])).toBe(true);
  });

  it('Keras adapter: labels pick the real and generated subsets', async () => {
    const scores = tf.tensor([[0.9], [0.1], [0.4], [1.3], [-0.2]]);
    const labels = tf.tensor([[1], [0], [0], [1], [0]]);
    const paired = lsganDiscriminatorLoss([[0.9], [1.3]], [[0.1], [0.4], [-0.2]], { a: -1 });
    await expectClose(lsganDiscriminatorLossKeras({ a: -1 })(labels, scores), paired);
  });

  it('rejects bad input with LossInputError', () => {
    expectLossInputError(() => lsganDiscriminatorLoss(tf.zeros([2]), tf.zeros([3]), { reduction: 'none' }), 'lsganDiscriminatorLoss: fakeScores must have the shape of realScores [2]; got [3].');
    expectLossInputError(() => lsganDiscriminatorLoss([1], [1], { a: '0' as unknown as number }), 'lsganDiscriminatorLoss: a must be a number; got "0".');
    expectLossInputError(() => lsganDiscriminatorLoss([1], [1], { reduction: 'max' as 'sum' }), 'lsganDiscriminatorLoss: reduction must be one of "none", "mean", "sum"; got "max".');
    expectLossInputError(() => lsganDiscriminatorLoss(undefined as unknown as number[], [1]), 'lsganDiscriminatorLoss: realScores must be a tensor');
    expectLossInputError(() => lsganDiscriminatorLossKeras()(tf.zeros([2, 1]), tf.zeros([3, 1])), 'lsganDiscriminatorLossKeras: yTrue must have the shape of yPred [3, 1]; got [2, 1].');
  });

  it('leaks no tensors', () => {
    const r = randomTensor([4], 3);
    const q = randomTensor([4], 4);
    expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => lsganDiscriminatorLoss(a, b))([r, q]));
    const labels = tf.tensor([1, 0, 1, 0]);
    expectNoLeak(() => lsganDiscriminatorLossKeras()(labels, r));
  });
});
