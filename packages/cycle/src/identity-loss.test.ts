import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectLossInputError, expectNoLeak, gradCheck, loadFixture, randomTensor } from '@tfjs-losses/test-utils';
import { cycleConsistencyLoss, identityLoss, identityLossKeras } from './index';
import type { LossCase } from './testing/cases';

const cases = loadFixture<LossCase>(import.meta.url, 'cycle-losses.json').filter((c) => c.fn === 'identityLoss');

describe('identityLoss', () => {
  for (const c of cases) {
    it(`matches the PyTorch reference: ${c.name}`, async () => {
      const f = (x: tf.Tensor, ix: tf.Tensor, y: tf.Tensor, iy: tf.Tensor) => identityLoss(x, ix, y, iy, c.options);
      const { value, grads } = tf.valueAndGrads(f)([c.realX, c.otherX, c.realY, c.otherY].map((v) => tf.tensor(v)));
      await expectClose(value, c.value);
      for (let i = 0; i < 4; i++) await expectClose(grads[i], c.grads[i]);
    });
  }

  it('returns a scalar and agrees with finite differences', async () => {
    const inputs = [randomTensor([2, 3], 1), randomTensor([2, 3], 2), randomTensor([5], 3), randomTensor([5], 4)];
    expect(identityLoss(inputs[0], inputs[1], inputs[2], inputs[3]).shape).toEqual([]);
    await gradCheck((x, ix, y, iy) => identityLoss(x, ix, y, iy, { lambdaX: 5, lambdaY: 5 }), inputs);
  });

  it('with CycleGAN\'s weights (0.5 lambda = 5) is half the cycle loss of the same pairs at lambda 10', async () => {
    const x = randomTensor([2, 4], 5);
    const fx = randomTensor([2, 4], 6);
    const y = randomTensor([3], 7);
    const gy = randomTensor([3], 8);
    await expectClose(identityLoss(x, fx, y, gy, { lambdaX: 5, lambdaY: 5 }), tf.mul(cycleConsistencyLoss(x, fx, y, gy, { lambdaX: 10, lambdaY: 10 }), 0.5));
  });

  it('Keras adapter scores one mapping', async () => {
    await expectClose(identityLossKeras({ lambda: 5 })(tf.tensor([1, 2]), tf.tensor([1, 3])), 2.5);
  });

  it('rejects bad input with LossInputError', () => {
    const a = tf.zeros([2, 3]);
    expectLossInputError(() => identityLoss(a, tf.zeros([2, 4]), a, a), 'identityLoss: identityX must have the shape of realX [2, 3]; got [2, 4].');
    expectLossInputError(() => identityLoss(a, a, a, a, { lambdaY: Number.NaN }), 'identityLoss: lambdaY must be a number; got NaN.');
    expectLossInputError(() => identityLossKeras({ lambda: -1 })(a, a), 'identityLossKeras: lambda must be >= 0; got -1.');
  });

  it('leaks no tensors', () => {
    const inputs = [randomTensor([2, 3], 1), randomTensor([2, 3], 2), randomTensor([4], 3), randomTensor([4], 4)];
    expectNoLeak(() => tf.grads((x: tf.Tensor, ix: tf.Tensor, y: tf.Tensor, iy: tf.Tensor) => identityLoss(x, ix, y, iy, { distance: 'smoothL1' }))(inputs));
  });
});
