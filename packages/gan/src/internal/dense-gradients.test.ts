import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, gradCheck, randomTensor } from '@tfjs-losses/test-utils';
import { withDenseGradients } from './dense-gradients';

// withDenseGradients is forced on every backend here (by default it is on
// only on wasm); PyTorch-fixture checks of the same path are in
// second-order-ops.test.ts and, through criticInputGradient, in every
// penalty test run on wasm.

const x = randomTensor([3, 4], 1, -1, 1);
const W = randomTensor([4, 5], 2, -0.5, 0.5);
const V = randomTensor([5, 2], 3, -0.5, 0.5);

/** sum over the input gradient of a two-layer tanh network, squared: a gradient penalty. */
function penalty(dense: boolean, flags = false) {
  return (w: tf.Tensor, v: tf.Tensor): tf.Scalar => {
    const net = (xx: tf.Tensor) => {
      const h = tf.tanh(flags ? tf.matMul(xx, tf.transpose(w), false, true) : tf.matMul(xx, w));
      return tf.sum(tf.mul(tf.matMul(h, v), tf.tensor2d([[1, -2]])));
    };
    return tf.sum(tf.square(withDenseGradients(() => tf.grad(net)(x), dense)));
  };
}

function kernelCount(names: string[], name: string): number {
  return names.filter((n) => n === name).length;
}

describe('withDenseGradients', () => {
  it('puts the previous BatchMatMul gradient back, also after a throw', () => {
    const before = tf.getGradient('BatchMatMul');
    withDenseGradients(() => expect(tf.getGradient('BatchMatMul')).not.toBe(before), true);
    expect(tf.getGradient('BatchMatMul')).toBe(before);
    expect(() =>
      withDenseGradients(() => {
        throw new Error('inside');
      }, true),
    ).toThrow('inside');
    expect(tf.getGradient('BatchMatMul')).toBe(before);
  });

  it('is on by default on wasm only', () => {
    const before = tf.getGradient('BatchMatMul');
    const inside = withDenseGradients(() => tf.getGradient('BatchMatMul'));
    expect(inside !== before).toBe(tf.getBackend() === 'wasm');
  });

  it('same values and second-order gradients as without it', async () => {
    const plain = tf.valueAndGrads(penalty(false))([W, V]);
    const dense = tf.valueAndGrads(penalty(true))([W, V]);
    await expectClose(dense.value, await plain.value.data(), { rtol: 1e-5, atol: 1e-6 });
    for (let i = 0; i < 2; i++) await expectClose(dense.grads[i], await plain.grads[i].data(), { rtol: 1e-5, atol: 1e-6 });
  });

  it('the second-order gradient agrees with finite differences', async () => {
    await gradCheck(penalty(true), [W, V], { samples: 6, eps: 1e-2 });
  });

  it('differentiates again: third-order gradients as without it', async () => {
    const third = (dense: boolean) => tf.grad((w: tf.Tensor) => tf.sum(tf.square(tf.grad((ww: tf.Tensor) => penalty(dense)(ww, V))(w))))(W);
    await expectClose(third(true), await third(false).data(), { rtol: 1e-4, atol: 1e-5 });
  });

  it('flagged products keep the given gradient', async () => {
    const plain = tf.valueAndGrads(penalty(false, true))([W, V]);
    const dense = tf.valueAndGrads(penalty(true, true))([W, V]);
    await expectClose(dense.value, await plain.value.data(), { rtol: 1e-5, atol: 1e-6 });
    for (let i = 0; i < 2; i++) await expectClose(dense.grads[i], await plain.grads[i].data(), { rtol: 1e-5, atol: 1e-6 });
  });

  it('differentiating the input gradient again transposes nothing back', async () => {
    const run = (dense: boolean) => () => tf.dispose(tf.grads(penalty(dense))([W, V]));
    const plain = (await tf.profile(run(false))).kernels.map((k) => k.name);
    const dense = (await tf.profile(run(true))).kernels.map((k) => k.name);
    // The same number of products (the fused one runs one inside), fewer transposes on wasm.
    expect(kernelCount(dense, 'TfjsLossesGanMatMulTransposedB')).toBe(2);
    expect(kernelCount(dense, 'BatchMatMul') + 2).toBe(kernelCount(plain, 'BatchMatMul'));
    if (tf.getBackend() === 'wasm') expect(kernelCount(dense, 'Transpose')).toBeLessThan(kernelCount(plain, 'Transpose'));
  });

  it('leaks no tensor', () => {
    expectNoLeak(() => tf.grads(penalty(true))([W, V]));
  });
});
