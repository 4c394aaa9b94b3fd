// The README's example, run as a test (only the import path differs).
import { expectClose } from '@tfjs-losses/test-utils';
import { it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { lovaszHinge, lovaszSoftmax } from './index';

it('README example', async () => {
  // One 2x2 image, 3 classes, channels last; the bottom-right pixel is void (255).
  const probas = tf.tensor4d([[[[0.7, 0.2, 0.1], [0.1, 0.6, 0.3]], [[0.2, 0.2, 0.6], [0.3, 0.4, 0.3]]]]);
  const labels = tf.tensor3d([[[0, 1], [2, 255]]], undefined, 'int32');
  const loss = lovaszSoftmax(probas, labels, { ignoreIndex: 255 });
  console.log(await loss.array()); // 0.3666666…

  // Binary masks from raw scores (one per pixel), averaged per image.
  const logits = tf.tensor3d([[[2, -1], [0.5, -3]]]);
  const masks = tf.tensor3d([[[1, 0], [1, 0]]], undefined, 'int32');
  const hinge = lovaszHinge(logits, masks);
  console.log(await hinge.array()); // 0.25

  // Both are differentiable: gradients for training.
  const grad = tf.grad((x: tf.Tensor) => lovaszHinge(x, masks))(logits);
  console.log(await grad.array()); // [[[0, 0], [-0.5, 0]]]

  await expectClose(loss, 0.36666664481163025);
  await expectClose(hinge, 0.25);
  await expectClose(grad, [[[0, 0], [-0.5, 0]]]);
});
