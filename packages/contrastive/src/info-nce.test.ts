import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectLossInputError, expectNoLeak, gradCheck, loadFixture, randomTensor } from '@tfjs-losses/test-utils';
import { infoNCE, infoNCEKeras } from './index';

describe('infoNCE', () => {
  for (const c of loadFixture(import.meta.url, 'info-nce.json')) {
    it(`matches PyTorch: ${c.name}`, async () => {
      const f = (p: tf.Tensor, t: tf.Tensor) => infoNCE(p, t, c.options);
      const { value, grads } = tf.valueAndGrads(f)([tf.tensor(c.pred), tf.tensor(c.target)]);
      await expectClose(value, c.value);
      await expectClose(grads[0], c.gradPred);
      await expectClose(grads[1], c.gradTarget);
    });
  }

  it('has the documented shape per reduction', () => {
    const p = tf.zeros([2, 3]);
    expect(infoNCE(p, p, { reduction: 'none' }).shape).toEqual([2, 3]);
    expect(infoNCE(p, p, { reduction: 'sum' }).shape).toEqual([]);
    expect(infoNCE(p, p).shape).toEqual([]);
  });

  it('agrees with finite differences', async () => {
    await gradCheck((p, t) => infoNCE(p, t), [randomTensor([3, 4], 1), randomTensor([3, 4], 2)]);
  });

  it('accepts plain arrays and the Keras adapter swaps arguments', async () => {
    await expectClose(infoNCE([1, 2], [0, 0], { reduction: 'sum' }), 5);
    await expectClose(infoNCEKeras()(tf.tensor([0, 0]), tf.tensor([1, 2])), 2.5);
  });

  it('rejects mismatched shapes with LossInputError', () => {
    expectLossInputError(() => infoNCE(tf.zeros([2, 3]), tf.zeros([2, 4])), 'infoNCE: target must have the shape of pred [2, 3]; got [2, 4].');
  });

  it('leaks no tensors', () => {
    const p = randomTensor([4, 4], 3);
    const t = randomTensor([4, 4], 4);
    expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => infoNCE(a, b))([p, t]));
  });
});
