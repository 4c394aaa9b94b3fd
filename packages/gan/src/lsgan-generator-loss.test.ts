import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectLossInputError, expectNoLeak, gradCheck, loadFixture, randomTensor } from '@tfjs-losses/test-utils';
import { lsganGeneratorLoss, lsganGeneratorLossKeras } from './index';
import type { ScoreCase } from './testing/scores';

describe('lsganGeneratorLoss', () => {
  for (const c of loadFixture<ScoreCase>(import.meta.url, 'score-losses.json').filter((k) => k.fn === 'lsganGeneratorLoss')) {
    it(`matches the PyTorch reference: ${c.name}`, async () => {
      const { value, grad } = tf.valueAndGrad((q: tf.Tensor) => lsganGeneratorLoss(q, c.options))(tf.tensor(c.fake));
      await expectClose(value, c.value);
      await expectClose(grad, c.gradFake);
    });
  }

  it('has the documented shape per reduction', () => {
    const q = tf.zeros([2, 3]);
    expect(lsganGeneratorLoss(q).shape).toEqual([]);
    expect(lsganGeneratorLoss(q, { reduction: 'sum' }).shape).toEqual([]);
    expect(lsganGeneratorLoss(q, { reduction: 'none' }).shape).toEqual([2, 3]);
  });

  it('agrees with finite differences', async () => {
    await gradCheck((q) => lsganGeneratorLoss(q, { c: 0.3 }), [randomTensor([3, 4], 1)]);
  });

  it('is half of the squared error (CycleGAN trains G with twice this)', async () => {
    await expectClose(lsganGeneratorLoss([0, 2]), 0.5 * (1 + 1) / 2);
  });

  it('Keras adapter ignores yTrue', async () => {
    await expectClose(lsganGeneratorLossKeras({ c: 0 })(tf.tensor([5, 5]), tf.tensor([1, 3])), 0.5 * (1 + 9) / 2);
  });

  it('rejects bad input with LossInputError', () => {
    expectLossInputError(() => lsganGeneratorLoss([1], { c: Number.NaN }), 'lsganGeneratorLoss: c must be a number; got NaN.');
    expectLossInputError(() => lsganGeneratorLoss(['a'] as unknown as number[]), 'lsganGeneratorLoss: fakeScores must hold numbers');
  });

  it('leaks no tensors', () => {
    const q = randomTensor([4], 3);
    expectNoLeak(() => tf.grad((v: tf.Tensor) => lsganGeneratorLoss(v))(q));
  });
});
