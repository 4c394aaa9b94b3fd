import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, gradCheck, randomTensor } from '@tfjs-losses/test-utils';
import { productWithTransposed, withDenseGradients } from './dense-gradients';

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

describe('productWithTransposed (d w^T)', () => {
  // Both wasm forms: w with fewer rows than d, and with more.
  for (const [m, k, n] of [[6, 4, 3], [3, 4, 6]]) {
    const d = randomTensor([m, k], 4, -1, 1);
    const w = randomTensor([n, k], 5, -1, 1);
    const C = randomTensor([m, n], 6, -1, 1);
    const viaTfjs = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(C, tf.matMul(a, b, false, true)));
    const viaOp = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(C, productWithTransposed(a, b)));

    it(`d [${m}, ${k}], w [${n}, ${k}]: value and gradients as tfjs's matMul`, async () => {
      await expectClose(productWithTransposed(d, w), await tf.matMul(d, w, false, true).data(), { rtol: 1e-6, atol: 1e-6 });
      const want = tf.grads(viaTfjs)([d, w]);
      const got = tf.grads(viaOp)([d, w]);
      for (let i = 0; i < 2; i++) await expectClose(got[i], await want[i].data(), { rtol: 1e-6, atol: 1e-6 });
    });

    it(`d [${m}, ${k}], w [${n}, ${k}]: second-order gradients as tfjs's`, async () => {
      const second = (f: typeof viaTfjs) => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.grad((aa: tf.Tensor) => f(tf.tanh(aa), b))(a))))([d, w]);
      const want = second(viaTfjs);
      const got = second(viaOp);
      for (let i = 0; i < 2; i++) await expectClose(got[i], await want[i].data(), { rtol: 1e-5, atol: 1e-6 });
    });
  }

  it('leaks no tensor', () => {
    const d = randomTensor([3, 4], 7, -1, 1);
    const w = randomTensor([6, 4], 8, -1, 1);
    expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(productWithTransposed(a, b)))([d, w]));
    expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(productWithTransposed(b, a)))([d, w]));
  });
});

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
