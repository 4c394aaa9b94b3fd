import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectLossInputError, expectNoLeak, gradCheck, loadFixture, randomTensor } from '@tfjs-losses/test-utils';
import { smoothL1Loss, smoothL1LossKeras } from './index';

describe('smoothL1Loss', () => {
  for (const c of loadFixture(import.meta.url, 'smooth-l1-loss.json')) {
    it(`matches PyTorch: ${c.name}`, async () => {
      const f = (p: tf.Tensor, t: tf.Tensor) => smoothL1Loss(p, t, c.options);
      const { value, grads } = tf.valueAndGrads(f)([tf.tensor(c.pred), tf.tensor(c.target)]);
      await expectClose(value, c.value);
      await expectClose(grads[0], c.gradPred);
      await expectClose(grads[1], c.gradTarget);
    });
  }

  it('has the documented shape per reduction', () => {
    const p = tf.zeros([2, 3]);
    expect(smoothL1Loss(p, p, { reduction: 'none' }).shape).toEqual([2, 3]);
    expect(smoothL1Loss(p, p, { reduction: 'sum' }).shape).toEqual([]);
    expect(smoothL1Loss(p, p).shape).toEqual([]);
  });

  it('agrees with finite differences', async () => {
    await gradCheck((p, t) => smoothL1Loss(p, t), [randomTensor([3, 4], 1), randomTensor([3, 4], 2)]);
  });

  it('accepts plain arrays and the Keras adapter swaps arguments', async () => {
    await expectClose(smoothL1Loss([1, 2], [0, 0], { reduction: 'sum' }), 5);
    await expectClose(smoothL1LossKeras()(tf.tensor([0, 0]), tf.tensor([1, 2])), 2.5);
  });

  it('rejects mismatched shapes with LossInputError', () => {
    expectLossInputError(() => smoothL1Loss(tf.zeros([2, 3]), tf.zeros([2, 4])), 'smoothL1Loss: target must have the shape of pred [2, 3]; got [2, 4].');
  });

  it('leaks no tensors', () => {
    const p = randomTensor([4, 4], 3);
    const t = randomTensor([4, 4], 4);
    expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => smoothL1Loss(a, b))([p, t]));
  });
});
