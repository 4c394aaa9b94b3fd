import * as tf from '@tensorflow/tfjs-core';
import { describe, it } from 'vitest';
import { expectClose, expectNoLeak, randomTensor } from '@tfjs-losses/test-utils';
import { ctcLoss, ctcLossKeras } from './index';

// tfjs-layers' fit and evaluate reject targets whose shape differs from the
// model output's (standardizeInputData in engine/training.js), so a [B, S]
// label tensor never reaches a loss compiled for a [B, T, C] output. The
// adapter takes one-hot label rows of the output's shape for that.

/** [B, T, C] one-hot rows of `padded` ([B, S], padded with -1), then zero rows up to T frames. */
function oneHotTargets(padded: number[][], T: number, C: number): tf.Tensor {
  return tf.tidy(() => {
    const S = padded[0].length;
    const rows = tf.cast(tf.oneHot(tf.tensor2d(padded, undefined, 'int32'), C), 'float32');
    return tf.pad(rows, [[0, 0], [0, T - S], [0, 0]]);
  });
}

describe('ctcLossKeras with targets of the output shape (what tfjs-layers passes)', () => {
  const padded = [[1, 2, -1], [3, 3, 1], [2, -1, -1]];
  const logits = randomTensor([3, 6, 4], 501, -2, 2);
  const yTrue = oneHotTargets(padded, 6, 4);
  const reference = (x: tf.Tensor, reduction: 'mean' | 'sum' | 'none') =>
    ctcLoss(x, [[1, 2, 0], [3, 3, 1], [2, 0, 0]], { labelLengths: [2, 3, 1], reduction });

  for (const reduction of ['mean', 'sum', 'none'] as const) {
    it(`equals ctcLoss on the decoded labels, value and gradient ('${reduction}')`, async () => {
      const loss = ctcLossKeras({ reduction });
      await expectClose(loss(yTrue, logits), reference(logits, reduction));
      const g = tf.grad((x: tf.Tensor) => tf.sum(loss(yTrue, x)))(logits);
      await expectClose(g, tf.grad((x: tf.Tensor) => tf.sum(reference(x, reduction)))(logits));
    });
  }

  it('equals the [B, S] padded form, and honours blank', async () => {
    await expectClose(ctcLossKeras()(yTrue, logits), ctcLossKeras()(tf.tensor2d(padded), logits));
    // Blank 0 is a label here and class 3 the blank: one-hot of [[1, 0]], padding as zero rows.
    const x = tf.slice(logits, [0, 0, 0], [1, 6, 4]);
    const t = oneHotTargets([[1, 0, -1]], 6, 4);
    await expectClose(ctcLossKeras({ blank: 3 })(t, x), ctcLoss(x, [[1, 0]], { blank: 3 }));
  });

  it('leaks no tensors (value and gradient)', () => {
    const loss = ctcLossKeras();
    expectNoLeak(() => loss(yTrue, logits));
    expectNoLeak(() => tf.grad((x: tf.Tensor) => loss(yTrue, x))(logits));
  });
});
