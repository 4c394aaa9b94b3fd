import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectLossInputError, expectNoLeak, gradCheck, loadFixture, randomTensor } from '@tfjs-losses/test-utils';
import { wassersteinGeneratorLoss, wassersteinGeneratorLossKeras } from './index';
import type { ScoreCase } from './testing/scores';

describe('wassersteinGeneratorLoss', () => {
  for (const c of loadFixture<ScoreCase>(import.meta.url, 'score-losses.json').filter((k) => k.fn === 'wassersteinGeneratorLoss')) {
    it(`matches the PyTorch reference: ${c.name}`, async () => {
      const { value, grad } = tf.valueAndGrad((q: tf.Tensor) => wassersteinGeneratorLoss(q, c.options))(tf.tensor(c.fake));
      await expectClose(value, c.value);
      await expectClose(grad, c.gradFake);
    });
  }

  it('has the documented shape per reduction', () => {
    const q = tf.zeros([2, 3]);
    expect(wassersteinGeneratorLoss(q).shape).toEqual([]);
    expect(wassersteinGeneratorLoss(q, { reduction: 'none' }).shape).toEqual([2, 3]);
  });

  it('agrees with finite differences', async () => {
    await gradCheck((q) => wassersteinGeneratorLoss(q), [randomTensor([2, 2], 2)]);
  });

  it('Keras adapter ignores yTrue', async () => {
    await expectClose(wassersteinGeneratorLossKeras({ reduction: 'sum' })(tf.tensor([0, 0]), tf.tensor([1, 3])), -4);
  });

  it('rejects bad input with LossInputError', () => {
    expectLossInputError(() => wassersteinGeneratorLoss({} as unknown as number[]), 'wassersteinGeneratorLoss: fakeScores must be a tensor');
  });

  it('leaks no tensors', () => {
    const q = randomTensor([4], 3);
    expectNoLeak(() => tf.grad((v: tf.Tensor) => wassersteinGeneratorLoss(v))(q));
  });
});
