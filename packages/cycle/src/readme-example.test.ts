import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose } from '@tfjs-losses/test-utils';
import { cycleConsistency, cycleConsistencyLoss, identityLoss } from './index';

// The README's example, run as written (imports aside).

describe('README example', () => {
  it('cycle and identity losses, from tensors and from mappings', async () => {
    const x = tf.tensor2d([[0.5, -1], [2, 0]]);
    const reconstructedX = tf.tensor2d([[0.5, -0.5], [1, 0]]); // F(G(x))
    const y = tf.tensor1d([1, 2, 3]);
    const reconstructedY = tf.tensor1d([1, 2, 2]); // G(F(y))
    // 10 * mean(|F(G(x)) - x|) + 10 * mean(|G(F(y)) - y|) = 10 * 1.5 / 4 + 10 * 1 / 3
    const loss = cycleConsistencyLoss(x, reconstructedX, y, reconstructedY, { lambdaX: 10, lambdaY: 10 });
    await expectClose(loss, 3.75 + 10 / 3);

    // CycleGAN's identity loss: F(x) should be x, G(y) should be y, at half the cycle weight.
    const idt = identityLoss(x, reconstructedX, y, reconstructedY, { lambdaX: 5, lambdaY: 5 });
    await expectClose(idt, (3.75 + 10 / 3) / 2);

    // With the mappings themselves (functions or tf.LayersModels), inside an optimizer.
    const scale = tf.variable(tf.scalar(0.5));
    const G = (t: tf.Tensor) => tf.mul(t, scale); // X -> Y
    const F = (t: tf.Tensor) => tf.div(t, 2); // Y -> X
    const optimizer = tf.train.sgd(0.1);
    optimizer.minimize(() => cycleConsistency(G, F, x, y, { lambdaX: 10, lambdaY: 10 }), false, [scale]);
    // F(G(x)) = x / 4 and G(F(y)) = y / 4: the loss pulls the scale up, toward 2.
    expect((await scale.data())[0]).toBeGreaterThan(0.5);
  });
});
