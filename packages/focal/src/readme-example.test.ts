// The example of README.md, line for line, with the printed values checked
// against PyTorch (fixtures/readme-example.json from fixtures/generate.py).
import * as tf from '@tensorflow/tfjs-core';
import { describe, it } from 'vitest';
import { expectClose, loadFixture } from '@tfjs-losses/test-utils';
import { sigmoidFocalLoss, softmaxFocalLoss } from './index';

const [expected] = loadFixture<{ sigmoid: number; softmax: number; softmaxGrad: number[][] }>(import.meta.url, 'readme-example.json');

describe('README example', () => {
  it('prints the values PyTorch gives', async () => {
    // Two anchors, three classes, one-vs-all targets (RetinaNet style).
    const logits = tf.tensor2d([[2, -1, 0.5], [-3, 4, 0]]);
    const targets = tf.tensor2d([[1, 0, 0], [0, 1, 0]]);

    // Summed over all elements and divided by the number of positives (2).
    await expectClose(sigmoidFocalLoss(logits, targets, { avgFactor: 2 }), expected.sigmoid);

    // The same scores read as a 3-way softmax over class labels.
    await expectClose(softmaxFocalLoss(logits, [0, 1], { alpha: [0.25, 0.5, 1] }), expected.softmax);

    // Differentiable like any tfjs op.
    const grad = tf.grad((x: tf.Tensor) => softmaxFocalLoss(x, [0, 1]))(logits);
    await expectClose(grad, expected.softmaxGrad);
  });
});
