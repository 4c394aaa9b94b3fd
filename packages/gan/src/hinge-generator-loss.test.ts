import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectLossInputError, expectNoLeak, gradCheck, loadFixture, randomTensor } from '@tfjs-losses/test-utils';
import { hingeGeneratorLoss, hingeGeneratorLossKeras, wassersteinGeneratorLoss } from './index';
import type { ScoreCase } from './testing/scores';

describe('hingeGeneratorLoss', () => {
  for (const c of loadFixture<ScoreCase>(import.meta.url, 'score-losses.json').filter((k) => k.fn === 'hingeGeneratorLoss')) {
    it(`matches the PyTorch reference: ${c.name}`, async () => {
      const { value, grad } = tf.valueAndGrad((q: tf.Tensor) => hingeGeneratorLoss(q, c.options))(tf.tensor(c.fake));
      await expectClose(value, c.value);
      await expectClose(grad, c.gradFake);
    });
  }

  it('has the documented shape per reduction and equals the Wasserstein generator loss', async () => {
    const q = randomTensor([2, 3], 1);
    expect(hingeGeneratorLoss(q).shape).toEqual([]);
    expect(hingeGeneratorLoss(q, { reduction: 'sum' }).shape).toEqual([]);
    expect(hingeGeneratorLoss(q, { reduction: 'none' }).shape).toEqual([2, 3]);
    await expectClose(hingeGeneratorLoss(q), wassersteinGeneratorLoss(q));
  });

  it('agrees with finite differences', async () => {
    await gradCheck((q) => hingeGeneratorLoss(q, { reduction: 'sum' }), [randomTensor([5], 2)]);
  });

  it('Keras adapter ignores yTrue', async () => {
    await expectClose(hingeGeneratorLossKeras()(tf.tensor([9, 9]), tf.tensor([1, 3])), -2);
  });

  it('rejects bad input with LossInputError', () => {
    expectLossInputError(() => hingeGeneratorLoss([1], { reduction: 'all' as 'sum' }), 'hingeGeneratorLoss: reduction must be one of');
  });

  it('leaks no tensors', () => {
    const q = randomTensor([4], 3);
    expectNoLeak(() => tf.grad((v: tf.Tensor) => hingeGeneratorLoss(v))(q));
  });
});
