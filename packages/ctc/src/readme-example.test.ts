// The README's example, run as a test (imports from ./index instead of the
// package name). Expected numbers come from PyTorch (fixtures/readme.json).
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { expectClose, loadFixture } from '@tfjs-losses/test-utils';
import { ctcForcedAlign, ctcGreedyDecode, ctcLoss } from './index';

it('README example', async () => {
  const [ref] = loadFixture(import.meta.url, 'readme.json');

  // One sequence of 4 frames over the classes {0: blank, 1, 2}: [batch, time, classes].
  const logits = tf.tensor3d([[[2, 0, 0], [0, 3, 0], [0, 0, 3], [2, 0, 0]]]);
  const labels = [[1, 2]];

  const loss = ctcLoss(logits, labels); // 'mean': divided by the label length
  const grad = tf.grad((x: tf.Tensor) => ctcLoss(x, labels))(logits);

  const { sequences } = await ctcGreedyDecode(logits);
  const { spans } = await ctcForcedAlign(logits, labels);

  await expectClose(loss, ref.value);
  await expectClose(grad, ref.gradLogits);
  expect(sequences).toEqual([[1, 2]]);
  expect(spans[0].map(({ token, start, end }) => [token, start, end])).toEqual([
    [1, 1, 2],
    [2, 2, 3],
  ]);
});
