import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { expectClose } from '@tfjs-losses/test-utils';
import { gradientPenalty, hingeDiscriminatorLoss, lsganDiscriminatorLoss, wassersteinGeneratorLoss, wganGpCriticLoss } from './index';

// The README's examples, run as written (imports aside).

describe('README examples', () => {
  it('score losses', async () => {
    const realScores = tf.tensor([0.9, 1.2, 0.4]);
    const fakeScores = tf.tensor([-0.3, 0.1]);
    const lsgan = lsganDiscriminatorLoss(realScores, fakeScores); // 0.5 mean((D(x) - 1)^2) + 0.5 mean(D(G(z))^2)
    const hinge = hingeDiscriminatorLoss(realScores, fakeScores); // mean(relu(1 - D(x))) + mean(relu(1 + D(G(z))))
    await expectClose(lsgan, 0.5 * (0.01 + 0.04 + 0.36) / 3 + 0.5 * (0.09 + 0.01) / 2);
    await expectClose(hinge, (0.1 + 0 + 0.6) / 3 + (0.7 + 1.1) / 2);
  });

  it('a WGAN-GP critic step with a plain-function critic', async () => {
    // D(x) = x . a with ||a|| = 5: every input gradient has norm 5.
    const a = tf.variable(tf.tensor2d([[3], [4]]));
    const critic = (x: tf.Tensor) => tf.matMul(x, a);
    const real = tf.tensor2d([[1, 0], [0, 1]]);
    const fake = tf.tensor2d([[0, 0], [1, 1]]);

    // E[D(fake)] - E[D(real)] + 10 E[(||grad D(x_hat)|| - 1)^2] = 3.5 - 3.5 + 10 * 16
    const loss = wganGpCriticLoss(critic, real, fake, { epsilon: [0.5, 0.5] });
    await expectClose(loss, 160);

    // One Adam step on the critic's variables (second-order gradients).
    const optimizer = tf.train.adam(1e-2);
    optimizer.minimize(() => wganGpCriticLoss(critic, real, fake), false, [a]);
    // The penalty's gradient points along a: the step shrinks ||a|| toward 1.
    const norm = tf.norm(a);
    expect((await norm.data())[0]).toBeLessThan(5);
  });

  it('a tf.LayersModel critic, logging gradient norms', async () => {
    const critic = tfl.sequential({
      layers: [
        tfl.layers.dense({ units: 16, inputShape: [2] }),
        tfl.layers.leakyReLU({ alpha: 0.2 }),
        tfl.layers.dense({ units: 1 }),
      ],
    });
    const real = tf.randomNormal([8, 2]);
    const fake = tf.randomNormal([8, 2]);
    const optimizer = tf.train.adam(1e-3);
    const criticVars = critic.trainableWeights.map((w) => w.read() as tf.Variable);
    let norms: tf.Tensor1D | undefined;
    optimizer.minimize(() => {
      const { loss, gradNorms } = wganGpCriticLoss(critic, real, fake, { returnGradNorms: true });
      norms = tf.keep(gradNorms);
      return loss;
    }, false, criticVars);
    expect(norms!.shape).toEqual([8]);
    const penalty = gradientPenalty(critic, real, fake, { lambda: 10 });
    const generatorLoss = wassersteinGeneratorLoss(critic.apply(fake) as tf.Tensor);
    expect(penalty.shape).toEqual([]);
    expect(generatorLoss.shape).toEqual([]);
  });
});
