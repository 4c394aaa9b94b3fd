import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { withComposedOps } from '@tfjs-losses/core';
import { expectClose, expectLossInputError, expectNoLeak, gradCheck, loadFixture, randomTensor, toArray } from '@tfjs-losses/test-utils';
import { softmaxFocalLoss, softmaxFocalLossKeras, type SoftmaxFocalLossOptions } from './index';

interface Case {
  name: string;
  options: SoftmaxFocalLossOptions;
  logits: number[];
  labels: number[];
  weights?: number[];
  upstream?: number[];
  value: number | number[];
  gradLogits: number[];
  gradWeights?: number[];
}

interface KerasCase {
  name: string;
  options: SoftmaxFocalLossOptions;
  yPred: number[][];
  yTrue: number[][];
  value: number;
  gradYPred: number[][];
  gradYTrue: number[][];
}

/** Each fixture runs on the default path (fused where a kernel is registered) and on composed ops. */
const PATHS: [string, <T>(f: () => T) => T][] = [
  ['default', (f) => f()],
  ['composed', withComposedOps],
];

const cases = loadFixture<Case>(import.meta.url, 'softmax-focal-loss.json');
const kerasCases = loadFixture<KerasCase>(import.meta.url, 'softmax-focal-keras.json');

function evaluate(c: Case) {
  const x = tf.tensor(c.logits);
  const w = c.weights ? tf.tensor(c.weights) : undefined;
  const f = (...xs: tf.Tensor[]) => {
    const loss = softmaxFocalLoss(xs[0], c.labels, { ...c.options, weights: xs[1] });
    return c.upstream ? tf.sum(tf.mul(loss, tf.tensor(c.upstream))) : loss;
  };
  const value = softmaxFocalLoss(x, c.labels, { ...c.options, weights: w });
  const grads = tf.grads(f)(w ? [x, w] : [x]);
  return { value, grads };
}

/** Softmax cross-entropy from tfjs ops (the gamma-0 identity). */
function crossEntropy(x: tf.Tensor, labels: number[], C: number): tf.Tensor {
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(x), tf.oneHot(labels, C)), -1)));
}

describe('softmaxFocalLoss', () => {
  for (const c of cases.filter((k) => !k.name.startsWith('saturated'))) {
    for (const [path, run] of PATHS) it(`matches the PyTorch reference: ${c.name} (${path})`, async () => {
      const { value, grads } = run(() => evaluate(c));
      await expectClose(value, c.value);
      await expectClose(grads[0], c.gradLogits);
      if (c.gradWeights) await expectClose(grads[1], c.gradWeights);
    });
  }

  for (const c of cases.filter((k) => k.name.startsWith('saturated'))) {
    for (const [path, run] of PATHS) it(`is finite and exact at logits of +-100 (mpmath reference): ${c.name} (${path})`, async () => {
      const { value, grads } = run(() => evaluate(c));
      for (const v of [value, grads[0]]) expect((await toArray(v)).every(Number.isFinite)).toBe(true);
      await expectClose(value, c.value);
      await expectClose(grads[0], c.gradLogits);
    });
  }

  it('has the documented shape per reduction', () => {
    const x = tf.zeros([2, 3, 4]);
    const y = [[0, 1, 2], [3, 0, 1]];
    expect(softmaxFocalLoss(x, y, { reduction: 'none' }).shape).toEqual([2, 3]);
    expect(softmaxFocalLoss(x, y, { reduction: 'sum' }).shape).toEqual([]);
    expect(softmaxFocalLoss(x, y).shape).toEqual([]);
    expect(softmaxFocalLoss(tf.zeros([4]), 2, { reduction: 'none' }).shape).toEqual([]);
  });

  it('agrees with finite differences (plain, alpha per class, ignoreIndex, label smoothing)', async () => {
    const x = randomTensor([4, 5], 11, -3, 3);
    const labels = [0, 3, 4, 1];
    for (const gamma of [0.5, 2]) {
      await gradCheck((a) => softmaxFocalLoss(a, labels, { gamma, reduction: 'sum' }), [x]);
    }
    await gradCheck((a) => softmaxFocalLoss(a, [0, -1, 4, 1], { alpha: [0.2, 0.4, 0.6, 0.8, 1], ignoreIndex: -1 }), [x]);
    await gradCheck((a) => softmaxFocalLoss(a, labels, { labelSmoothing: 0.2, gamma: 1.5, reduction: 'sum' }), [x]);
  });

  it('at gamma 0 without alpha is softmax cross-entropy', async () => {
    const x = randomTensor([6, 7], 12, -4, 4);
    const labels = [0, 6, 3, 2, 2, 5];
    const f = (a: tf.Tensor) => softmaxFocalLoss(a, labels, { gamma: 0 });
    await expectClose(f(x), crossEntropy(x, labels, 7));
    await expectClose(tf.grad(f)(x), tf.grad((a: tf.Tensor) => crossEntropy(a, labels, 7))(x));
  });

  it('a number alpha scales the loss; alpha of ones equals no alpha', async () => {
    const x = randomTensor([3, 4], 13, -2, 2);
    const labels = [1, 0, 3];
    const base = softmaxFocalLoss(x, labels, { reduction: 'none' });
    await expectClose(softmaxFocalLoss(x, labels, { alpha: 0.25, reduction: 'none' }), tf.mul(base, 0.25));
    await expectClose(softmaxFocalLoss(x, labels, { alpha: [1, 1, 1, 1], reduction: 'none' }), base);
  });

  it('ignoreIndex: zero value and gradient there, left out of the mean', async () => {
    const x = randomTensor([4, 3], 14, -2, 2);
    const labels = [2, 255, 0, 255];
    const none = softmaxFocalLoss(x, labels, { ignoreIndex: 255, reduction: 'none' });
    const v = await toArray(none);
    expect(v[1] === 0 && v[3] === 0, `loss ${v}`).toBe(true);
    await expectClose(softmaxFocalLoss(x, labels, { ignoreIndex: 255 }), (v[0] + v[2]) / 2);
    const g = await toArray(tf.grad((a: tf.Tensor) => softmaxFocalLoss(a, labels, { ignoreIndex: 255 }))(x));
    expect([3, 4, 5, 9, 10, 11].every((i) => g[i] === 0), `gradient ${g}`).toBe(true);
    // Everything ignored: 0, not NaN (PyTorch's cross_entropy returns NaN here).
    await expectClose(softmaxFocalLoss(x, [255, 255, 255, 255], { ignoreIndex: 255 }), 0);
  });

  it('stays finite with saturated logits for every gamma, including gradients', async () => {
    const x = tf.tensor([[100, -100, 0], [-100, 100, 0], [1e4, 0, -1e4], [0, 0, 0]]);
    const labels = [0, 0, 0, 2];
    for (const gamma of [0, 0.5, 1, 2, 5]) {
      for (const options of [{ gamma }, { gamma, labelSmoothing: 0.1 }]) {
        const v = softmaxFocalLoss(x, labels, { ...options, reduction: 'none' });
        const g = tf.grad((a: tf.Tensor) => softmaxFocalLoss(a, labels, options))(x);
        for (const arr of [await toArray(v), await toArray(g)]) expect(arr.every(Number.isFinite), JSON.stringify(options)).toBe(true);
      }
    }
  });

  it('one class: the loss is 0', async () => {
    await expectClose(softmaxFocalLoss([[3], [-2]], [0, 0]), 0);
    await expectClose(tf.grad((a: tf.Tensor) => softmaxFocalLoss(a, [0, 0]))(tf.tensor([[3], [-2]])), [[0], [0]]);
  });

  it('trains through tf.variableGrads (a linear layer in front)', async () => {
    const input = randomTensor([6, 3], 33);
    const W = tf.variable(randomTensor([3, 5], 34));
    const labels = [4, 0, 2, 2, 1, 3];
    const { value, grads } = tf.variableGrads(() => softmaxFocalLoss(tf.matMul(input, W), labels) as tf.Scalar, [W]);
    await expectClose(value, softmaxFocalLoss(tf.matMul(input, W), labels));
    await expectClose(grads[W.name], tf.grad((w: tf.Tensor) => softmaxFocalLoss(tf.matMul(input, w), labels))(W));
    W.dispose();
  });

  it('accepts plain arrays and float labels holding whole numbers', async () => {
    const x = [[0.5, -1, 2], [2, 0, 1]];
    const expected = softmaxFocalLoss(tf.tensor(x), tf.tensor([2, 0], undefined, 'int32'));
    await expectClose(softmaxFocalLoss(x, [2, 0]), expected);
    await expectClose(softmaxFocalLoss(x, tf.tensor([2, 0])), expected);
  });

  for (const c of kerasCases) {
    it(`Keras adapter with one-hot or soft yTrue matches PyTorch: ${c.name}`, async () => {
      const loss = softmaxFocalLossKeras(c.options);
      await expectClose(loss(tf.tensor(c.yTrue), tf.tensor(c.yPred)), c.value);
      const [gt, gp] = tf.grads((t: tf.Tensor, p: tf.Tensor) => loss(t, p))([tf.tensor(c.yTrue), tf.tensor(c.yPred)]);
      await expectClose(gp, c.gradYPred);
      await expectClose(gt, c.gradYTrue);
    });
  }

  it('Keras adapter: one-hot yTrue equals class-index labels; sparse [N] and [N, 1] work too', async () => {
    const x = randomTensor([5, 4], 15, -3, 3);
    const labels = [3, 0, 1, 1, 2];
    const options = { alpha: [0.5, 1, 1.5, 2], gamma: 1.5 };
    const expected = softmaxFocalLoss(x, labels, options);
    const loss = softmaxFocalLossKeras(options);
    await expectClose(loss(tf.cast(tf.oneHot(labels, 4), 'float32'), x), expected);
    await expectClose(loss(tf.tensor(labels), x), expected);
    await expectClose(loss(tf.tensor(labels, [5, 1]), x), expected);
    const g1 = tf.grad((a: tf.Tensor) => loss(tf.cast(tf.oneHot(labels, 4), 'float32'), a))(x);
    const g2 = tf.grad((a: tf.Tensor) => softmaxFocalLoss(a, labels, options))(x);
    await expectClose(g1, g2);
  });

  it('rejects bad input with LossInputError', () => {
    const x = tf.zeros([2, 3]);
    expectLossInputError(() => softmaxFocalLoss(x, [0, 1, 2]), 'softmaxFocalLoss: labels must have shape [2]; got [3].');
    expectLossInputError(() => softmaxFocalLoss(x, [0, 3]), 'softmaxFocalLoss: labels values must lie in [0, 2]; got 3 at flat index 1.');
    expectLossInputError(() => softmaxFocalLoss(x, [0, -100], { ignoreIndex: 255 }), 'labels values must lie in [0, 2] (or 255); got -100 at flat index 1.');
    expectLossInputError(() => softmaxFocalLoss(x, [0, 1.5]), 'softmaxFocalLoss: labels must hold whole numbers; got 1.5 at flat index 1.');
    expectLossInputError(() => softmaxFocalLoss(x, [0, 1], { gamma: -0.5 }), 'softmaxFocalLoss: gamma must be >= 0; got -0.5.');
    expectLossInputError(() => softmaxFocalLoss(x, [0, 1], { alpha: [0.5, 0.5] }), 'softmaxFocalLoss: alpha must have length 3; got length 2.');
    expectLossInputError(() => softmaxFocalLoss(x, [0, 1], { alpha: -0.25 }), 'softmaxFocalLoss: alpha must be >= 0; got -0.25.');
    expectLossInputError(() => softmaxFocalLoss(x, [0, 1], { alpha: [1, -1, 1] }), 'softmaxFocalLoss: alpha[1] must be >= 0; got -1.');
    expectLossInputError(() => softmaxFocalLoss(x, [0, 1], { ignoreIndex: 0.5 }), 'softmaxFocalLoss: ignoreIndex must be an integer; got 0.5.');
    expectLossInputError(() => softmaxFocalLoss(x, [0, 1], { labelSmoothing: -0.1 }), 'softmaxFocalLoss: labelSmoothing must be >= 0; got -0.1.');
    expectLossInputError(() => softmaxFocalLoss(x, [0, 1], { weights: [1, 2, 3] }), 'softmaxFocalLoss: weights must be broadcastable to the unreduced loss [2]; got [3].');
    expectLossInputError(() => softmaxFocalLoss(x, [0, 1], { avgFactor: -1 }), 'softmaxFocalLoss: avgFactor must be a number > 0; got -1.');
    expectLossInputError(() => softmaxFocalLoss(5, [0, 1]), 'softmaxFocalLoss: logits must have rank 1 or more; got rank 0');
    expectLossInputError(() => softmaxFocalLossKeras()(tf.zeros([2, 4]), x), 'softmaxFocalLossKeras: yTrue must have the shape of yPred [2, 3]; got [2, 4].');
  });

  if (tf.getBackend() !== 'webgpu') {
    it('range-checks label tensors too', () => {
      expectLossInputError(() => softmaxFocalLoss(tf.zeros([2, 3]), tf.tensor([0, 7], undefined, 'int32')), 'softmaxFocalLoss: labels values must lie in [0, 2]; got 7 at flat index 1.');
    });
  }

  it('leaks no tensors (label path, label smoothing, composed, Keras adapter)', () => {
    const x = randomTensor([4, 5], 16);
    const w = randomTensor([4], 17, 0, 1);
    const labels = [0, 4, -1, 2];
    const opts = { ignoreIndex: -1, alpha: [1, 2, 3, 4, 5] };
    expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => softmaxFocalLoss(a, labels, { ...opts, weights: b }))([x, w]));
    expectNoLeak(() => withComposedOps(() => tf.grad((a: tf.Tensor) => softmaxFocalLoss(a, labels, opts))(x)));
    expectNoLeak(() => tf.grad((a: tf.Tensor) => softmaxFocalLoss(a, labels, { ...opts, labelSmoothing: 0.1 }))(x));
    const y = tf.cast(tf.oneHot([0, 4, 1, 2], 5), 'float32');
    expectNoLeak(() => tf.grad((a: tf.Tensor) => softmaxFocalLossKeras()(y, a))(x));
  });
});
