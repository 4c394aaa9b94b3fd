// The README's example, run as a test: keep the two in step.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, toArray } from '@tfjs-losses/test-utils';
import { balancedL1Loss, DynamicSmoothL1Loss, SelfAdjustingSmoothL1Loss, smoothL1Loss, type SelfAdjustingSmoothL1LossState } from './index';

describe(`README example on ${tf.getBackend()}`, () => {
  it('runs and prints what the README says', async () => {
    // --- README example starts (minus the backend import and console output) ---
    const pred = tf.tensor2d([[0.2, 1.5], [-0.4, 3]]);
    const target = tf.tensor2d([[0, 0], [0, 1]]);

    const a = smoothL1Loss(pred, target); // 0.65 = (0.02 + 1 + 0.08 + 1.5) / 4
    const b = smoothL1Loss(pred, target, { beta: 0 }); // 1.025, plain L1
    const c = balancedL1Loss(pred, target); // 1.1983

    // Dynamic R-CNN: each iteration computes the loss with the current beta, then update().
    const dynamic = new DynamicSmoothL1Loss({ beta: 1, kE: 2, iterationCount: 2 });
    const d = dynamic.call(pred, target); // 0.65 (beta 1)
    dynamic.update([0.9, 0.3, 0.5]); // records 0.5, the 2nd smallest
    dynamic.update([0.2, 0.4]); // records 0.4; 2nd update: beta = sorted [0.4, 0.5][1]
    const dynamicBeta = dynamic.beta; // 0.5
    const e = dynamic.call(pred, target); // 0.8 (beta 0.5)

    // RetinaMask: one beta per coordinate, adjusted while training.
    const boxes = tf.variable(tf.zeros([64, 4]));
    const goal = tf.randomUniform([64, 4], -1, 1, 'float32', 7);
    const selfAdjusting = new SelfAdjustingSmoothL1Loss();
    const optimizer = tf.train.sgd(0.02);
    for (let i = 0; i < 60; i++) {
      optimizer.minimize(() => selfAdjusting.call(boxes, goal, { reduction: 'sum' }) as tf.Scalar);
    }
    await selfAdjusting.sync(); // only needed on WebGPU in Node
    const betas = selfAdjusting.beta; // four values near 0.01 (they start at betaMax = 0.11)

    // A checkpoint is plain JSON; the resumed loss continues with the same beta.
    const saved = JSON.stringify(selfAdjusting.getState());
    const resumed = new SelfAdjustingSmoothL1Loss();
    resumed.setState(JSON.parse(saved));
    // --- README example ends ---

    await expectClose(a, 0.65);
    await expectClose(b, 1.025);
    await expectClose(c, 1.1983035329394425);
    await expectClose(d, 0.65);
    expect(dynamicBeta).toBe(0.5);
    await expectClose(e, 0.8);
    expect(betas.length).toBe(4);
    for (const x of betas) expect(x > 0.005 && x < 0.02).toBe(true);
    await resumed.sync();
    expect(resumed.beta).toEqual(betas);
    expect((JSON.parse(saved) as SelfAdjustingSmoothL1LossState).runningMean?.length).toBe(4);
    const residual = await toArray(tf.mean(tf.abs(tf.sub(boxes, goal))));
    expect(residual[0]).toBeLessThan(0.1);
    boxes.dispose();
    selfAdjusting.dispose();
    resumed.dispose();
  });
});
