import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectLossInputError, expectNoLeak, gradCheck, loadFixture, randomTensor } from '@tfjs-losses/test-utils';
import { wassersteinCriticLoss, wassersteinCriticLossKeras } from './index';
import type { ScoreCase } from './testing/scores';

describe('wassersteinCriticLoss', () => {
  for (const c of loadFixture<ScoreCase>(import.meta.url, 'score-losses.json').filter((k) => k.fn === 'wassersteinCriticLoss')) {
    it(`matches the PyTorch reference: ${c.name}`, async () => {
      const f = (r: tf.Tensor, q: tf.Tensor) => wassersteinCriticLoss(r, q, c.options);
      const { value, grads } = tf.valueAndGrads(f)([tf.tensor(c.real!), tf.tensor(c.fake)]);
      await expectClose(value, c.value);
      await expectClose(grads[0], c.gradReal!);
      await expectClose(grads[1], c.gradFake);
    });
  }

  it('has the documented shape per reduction', () => {
    const r = tf.zeros([4, 1]);
    expect(wassersteinCriticLoss(r, r).shape).toEqual([]);
    expect(wassersteinCriticLoss(r, r, { reduction: 'sum' }).shape).toEqual([]);
    expect(wassersteinCriticLoss(r, r, { reduction: 'none' }).shape).toEqual([4, 1]);
  });

  it('agrees with finite differences', async () => {
    await gradCheck((r, q) => wassersteinCriticLoss(r, q), [randomTensor([3], 1), randomTensor([4], 2)]);
  });

  it('is E[fake] - E[real]; shifting both by the same amount changes nothing', async () => {
    await expectClose(wassersteinCriticLoss([1, 3], [0, 0, 3]), 1 - 2);
    await expectClose(wassersteinCriticLoss([101, 103], [100, 100, 103]), 1 - 2);
  });

  it('Keras adapter: labels pick the real and generated subsets', async () => {
    await expectClose(wassersteinCriticLossKeras()(tf.tensor([1, 1, 0]), tf.tensor([2, 4, -1])), -1 - 3);
    // Only real samples in the batch: the generated mean adds 0.
    await expectClose(wassersteinCriticLossKeras()(tf.tensor([1, 1]), tf.tensor([2, 4])), -3);
  });

  it('rejects bad input with LossInputError', () => {
    expectLossInputError(() => wassersteinCriticLoss([1, 2], [1], { reduction: 'none' }), 'wassersteinCriticLoss: fakeScores must have the shape of realScores [2]; got [1].');
  });

  it('leaks no tensors', () => {
    const inputs = [randomTensor([4], 3), randomTensor([4], 4)];
    expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => wassersteinCriticLoss(a, b))(inputs));
    expectNoLeak(() => wassersteinCriticLoss(inputs[0], inputs[1], { reduction: 'none' }));
  });
});
