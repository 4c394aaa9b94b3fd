import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { withComposedOps } from '@tfjs-losses/core';
import { expectClose, expectNoLeak } from '@tfjs-losses/test-utils';
import { balancedL1Loss, smoothL1Loss } from '@tfjs-losses/smooth-l1';
import { sigmoidFocalLoss, softmaxFocalLoss } from '@tfjs-losses/focal';
import { ctcLoss } from '@tfjs-losses/ctc';
import { cycleConsistencyLoss } from '@tfjs-losses/cycle';
import { hingeDiscriminatorLoss, lsganDiscriminatorLoss } from '@tfjs-losses/gan';
import { infoNCE } from '@tfjs-losses/contrastive';

// A gradient of a gradient (what a gradient penalty on a loss computes)
// through every loss that has fused kernels: the fused kernels' gradients are
// kernels of their own, so under nested tapes the losses must run their
// composed ops, and the result must be tfjs's differentiation of those.
const x = tf.tensor2d([
  [0.3, -1.2, 0.8, 2.1, -0.4, 0.05],
  [-0.7, 0.2, 1.5, -2.2, 0.9, -0.1],
  [1.1, -0.3, -0.6, 0.4, 0.0, 1.7],
  [-1.4, 0.6, 0.25, -0.9, 1.3, -0.5],
]);
const y = tf.tensor2d([
  [0.1, -0.2, 1.4, 1.1, -0.4, 0.6],
  [-0.2, 0.9, 0.3, -1.0, 0.8, 0.7],
  [1.0, -1.3, -0.1, 0.5, 0.2, 1.2],
  [-0.4, 0.3, 0.2, -0.2, 1.9, -1.5],
]);
const binary = tf.tensor2d([
  [1, 0, 1, 1, 0, 0],
  [0, 0, 1, 0, 1, 1],
  [1, 1, 0, 0, 0, 1],
  [0, 1, 0, 1, 1, 0],
]);
const classes = tf.tensor1d([1, 5, 0, 3], 'int32');

const cases: [string, (v: tf.Tensor) => tf.Tensor][] = [
  ['sigmoidFocalLoss', (v) => sigmoidFocalLoss(v, binary)],
  ['softmaxFocalLoss', (v) => softmaxFocalLoss(v, classes)],
  ['smoothL1Loss', (v) => smoothL1Loss(v, y)],
  ['balancedL1Loss', (v) => balancedL1Loss(v, y)],
  ['cycleConsistencyLoss', (v) => cycleConsistencyLoss(v, y, y, tf.mul(v, 0.5))],
  ['lsganDiscriminatorLoss', (v) => lsganDiscriminatorLoss(tf.reshape(v, [-1]), tf.reshape(y, [-1]))],
  ['hingeDiscriminatorLoss', (v) => hingeDiscriminatorLoss(tf.reshape(v, [-1]), tf.reshape(y, [-1]))],
  ['infoNCE', (v) => infoNCE(v, y)],
];

// (The Lovasz losses are piecewise linear in their inputs, with Jaccard
// weights that are constants of the sort as in the authors' code: their
// gradient does not depend on the inputs, and tfjs, like PyTorch without
// allow_unused, refuses a gradient of it.)

// CTC has no second-order gradient, as in PyTorch (F.ctc_loss's backward is
// not differentiable): asking for one must fail, not return zeros.
const ctc = (v: tf.Tensor) => ctcLoss(tf.reshape(v, [2, 4, 3]), tf.tensor2d([[1, 2], [2, 0]], undefined, 'int32'), { labelLengths: [2, 1] });

describe(`second-order gradients through fused losses on ${tf.getBackend()}`, () => {
  for (const [name, f] of cases) {
    it(`${name}: gradient of |gradient|^2 equals the composed ops'`, async () => {
      const penalty = (v: tf.Tensor) => tf.sum(tf.square(tf.grad(f)(v)));
      const fused = tf.grad(penalty)(x);
      const composed = withComposedOps(() => tf.grad(penalty)(x));
      expect(fused.shape).toEqual(x.shape);
      await expectClose(fused, composed, { rtol: 1e-4, atol: 1e-5 });
      tf.dispose([fused, composed]);
      expectNoLeak(() => tf.grad(penalty)(x));
    });
  }

  it('ctcLoss: a gradient of its gradient throws', () => {
    const penalty = (v: tf.Tensor) => tf.sum(tf.square(tf.grad(ctc)(v)));
    expect(() => tf.grad(penalty)(x)).toThrow();
  });
});
