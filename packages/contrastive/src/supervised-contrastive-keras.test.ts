import * as tf from '@tensorflow/tfjs-core';
import { canReadSync } from '@tfjs-losses/core';
import { describe, it } from 'vitest';
import { expectClose, expectLossInputError, expectNoLeak, randomTensor } from '@tfjs-losses/test-utils';
import { supervisedContrastiveLoss, supervisedContrastiveLossKeras } from './index';

// tfjs-layers' fit and evaluate reject targets whose shape differs from the
// model output's (standardizeInputData in engine/training.js), so `[N]` or
// `[N, 1]` labels never reach a loss compiled for an `[N, D]` output. The
// adapter takes labels repeated over the output's shape for that.

const unit = (x: tf.Tensor) => tf.div(x, tf.norm(x, 2, -1, true));

describe('supervisedContrastiveLossKeras with targets of the output shape (what tfjs-layers passes)', () => {
  const labels = [0, 1, 1, 0, 2];
  const options = { temperature: 0.2, baseTemperature: 0.2 };

  it('[N, D] features, labels tiled to [N, D]: value and gradient of the [N] form', async () => {
    const f = unit(randomTensor([5, 3], 601));
    const tiled = tf.tile(tf.tensor2d(labels, [5, 1]), [1, 3]);
    const loss = supervisedContrastiveLossKeras(options);
    const reference = (x: tf.Tensor) => supervisedContrastiveLoss(tf.expandDims(x, 1), labels, options);
    await expectClose(loss(tiled, f), reference(f));
    await expectClose(loss(tiled, f), loss(tf.tensor1d(labels), f));
    const g = tf.grad((x: tf.Tensor) => loss(tiled, x))(f);
    await expectClose(g, tf.grad(reference)(f));
  });

  it('[N, V, D] features, labels repeated to [N, V, D]', async () => {
    const f = unit(randomTensor([5, 2, 3], 602));
    const repeated = tf.tile(tf.reshape(tf.tensor1d(labels), [5, 1, 1]), [1, 2, 3]);
    await expectClose(supervisedContrastiveLossKeras(options)(repeated, f), supervisedContrastiveLoss(f, labels, options));
  });

  if (canReadSync()) {
    it('rejects a sample whose repeated label varies (backends that read synchronously)', () => {
      const f = unit(randomTensor([5, 3], 603));
      const bad = tf.tensor2d([[0, 0, 0], [1, 1, 1], [1, 2, 1], [0, 0, 0], [2, 2, 2]]);
      expectLossInputError(() => supervisedContrastiveLossKeras()(bad, f), 'supervisedContrastiveLossKeras: yTrue', 'must repeat each sample');
    });
  }

  it('leaks no tensors (value and gradient)', () => {
    const f = unit(randomTensor([5, 3], 604));
    const tiled = tf.tile(tf.tensor2d(labels, [5, 1]), [1, 3]);
    const loss = supervisedContrastiveLossKeras(options);
    expectNoLeak(() => loss(tiled, f));
    expectNoLeak(() => tf.grad((x: tf.Tensor) => loss(tiled, x))(f));
  });
});
