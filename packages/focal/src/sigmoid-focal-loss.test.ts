import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { withComposedOps } from '@tfjs-losses/core';
import { expectClose, expectLossInputError, expectNoLeak, gradCheck, loadFixture, randomTensor, toArray } from '@tfjs-losses/test-utils';
import { sigmoidFocalLoss, sigmoidFocalLossKeras, type SigmoidFocalLossOptions } from './index';

interface Case {
  name: string;
  options: SigmoidFocalLossOptions;
  logits: number[];
  targets: number[];
  weights?: number[];
  upstream?: number[];
  value: number | number[];
  gradLogits: number[];
  gradTargets: number[];
  gradWeights?: number[];
}

/** Each fixture runs on the default path (fused where a kernel is registered) and on composed ops. */
const PATHS: [string, <T>(f: () => T) => T][] = [
  ['default', (f) => f()],
  ['composed', withComposedOps],
];

const cases = loadFixture<Case>(import.meta.url, 'sigmoid-focal-loss.json');

/** Value, and gradients of sum(loss * upstream) with respect to logits, targets and weights. */
function evaluate(c: Case) {
  const x = tf.tensor(c.logits);
  const t = tf.tensor(c.targets);
  const w = c.weights ? tf.tensor(c.weights) : undefined;
  const f = (...xs: tf.Tensor[]) => {
    const loss = sigmoidFocalLoss(xs[0], xs[1], { ...c.options, weights: xs[2] });
    return c.upstream ? tf.sum(tf.mul(loss, tf.tensor(c.upstream))) : loss;
  };
  const value = sigmoidFocalLoss(x, t, { ...c.options, weights: w });
  const grads = tf.grads(f)(w ? [x, t, w] : [x, t]);
  return { value, grads };
}

describe('sigmoidFocalLoss', () => {
  for (const c of cases.filter((k) => !k.name.startsWith('saturated'))) {
    for (const [path, run] of PATHS) it(`matches torchvision.ops.sigmoid_focal_loss: ${c.name} (${path})`, async () => {
      const { value, grads } = run(() => evaluate(c));
      await expectClose(value, c.value);
      await expectClose(grads[0], c.gradLogits);
      await expectClose(grads[1], c.gradTargets);
      if (c.gradWeights) await expectClose(grads[2], c.gradWeights);
    });
  }

  for (const c of cases.filter((k) => k.name.startsWith('saturated'))) {
    for (const [path, run] of PATHS) it(`is finite and exact at |logits| up to 100 (mpmath reference): ${c.name} (${path})`, async () => {
      const { value, grads } = run(() => evaluate(c));
      for (const v of [value, ...grads]) expect((await toArray(v)).every(Number.isFinite)).toBe(true);
      // Values of order 100 in the reference: relative float32 accuracy, 1e-5 absolute below.
      await expectClose(value, c.value);
      await expectClose(grads[0], c.gradLogits);
      await expectClose(grads[1], c.gradTargets);
    });
  }

  it('has the documented shape per reduction', () => {
    const x = tf.zeros([2, 3]);
    expect(sigmoidFocalLoss(x, x, { reduction: 'none' }).shape).toEqual([2, 3]);
    expect(sigmoidFocalLoss(x, x, { reduction: 'sum' }).shape).toEqual([]);
    expect(sigmoidFocalLoss(x, x).shape).toEqual([]);
    expect(sigmoidFocalLoss(tf.zeros([2, 3, 4]), tf.zeros([2, 3, 4]), { reduction: 'none' }).shape).toEqual([2, 3, 4]);
  });

  it('agrees with finite differences (hard and soft targets, several gammas, label smoothing)', async () => {
    const x = randomTensor([3, 4], 1, -3, 3);
    const soft = randomTensor([3, 4], 2, 0.05, 0.95);
    const hard = tf.tensor([[0, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 1]]);
    for (const gamma of [0, 0.5, 2]) {
      await gradCheck((a, b) => sigmoidFocalLoss(a, b, { gamma, reduction: 'sum' }), [x, soft]);
      await gradCheck((a) => sigmoidFocalLoss(a, hard, { gamma, alpha: 0.3, reduction: 'sum' }), [x]);
    }
    await gradCheck((a, b) => sigmoidFocalLoss(a, b, { labelSmoothing: 0.2, alpha: -1, reduction: 'sum' }), [x, soft]);
  });

  it('at gamma 0 without alpha is binary cross-entropy with logits', async () => {
    const x = randomTensor([4, 5], 3, -4, 4);
    const t = randomTensor([4, 5], 4, 0, 1);
    // BCE with logits from tfjs ops: max(x, 0) - x t + log(1 + exp(-|x|))
    const bce = (a: tf.Tensor, b: tf.Tensor) => tf.mean(tf.add(tf.sub(tf.relu(a), tf.mul(a, b)), tf.log1p(tf.exp(tf.neg(tf.abs(a))))));
    await expectClose(sigmoidFocalLoss(x, t, { gamma: 0, alpha: -1 }), bce(x, t));
    const [gx, gt] = tf.grads((a: tf.Tensor, b: tf.Tensor) => sigmoidFocalLoss(a, b, { gamma: 0, alpha: -1 }))([x, t]);
    const [ex, et] = tf.grads(bce)([x, t]);
    await expectClose(gx, ex);
    await expectClose(gt, et);
  });

  it('the alpha term at gamma 0 is a per-class weight on BCE', async () => {
    const x = randomTensor([3, 4], 5, -2, 2);
    const t = tf.tensor([[0, 1, 1, 0], [1, 0, 0, 0], [0, 0, 1, 1]]);
    const plain = sigmoidFocalLoss(x, t, { gamma: 0, alpha: -1, reduction: 'none' });
    const weighted = sigmoidFocalLoss(x, t, { gamma: 0, alpha: 0.25, reduction: 'none' });
    await expectClose(weighted, tf.mul(plain, tf.add(tf.mul(t, 0.25), tf.mul(tf.sub(1, t), 0.75))));
  });

  it('stays finite with saturated logits and hard targets for every gamma, including gradients', async () => {
    const x = tf.tensor([-100, -100, 100, 100, -1e4, 1e4]);
    const t = tf.tensor([0, 1, 0, 1, 1, 1]);
    for (const gamma of [0, 0.5, 1, 2, 5]) {
      const [gx, gt] = tf.grads((a: tf.Tensor, b: tf.Tensor) => sigmoidFocalLoss(a, b, { gamma, reduction: 'sum' }))([x, t]);
      const v = sigmoidFocalLoss(x, t, { gamma, reduction: 'none' });
      for (const arr of [await toArray(v), await toArray(gx), await toArray(gt)]) expect(arr.every(Number.isFinite), `gamma ${gamma}`).toBe(true);
      // Confidently wrong: loss ~ alpha_t |x|, d/dx = -alpha (t = 1) or 1 - alpha (t = 0).
      const vals = await toArray(v);
      await expectClose(vals[1], 25);
      await expectClose(vals[2], 75);
      await expectClose((await toArray(gx))[1], -0.25);
    }
  });

  it('gives zero-weight elements a zero gradient', async () => {
    const x = randomTensor([2, 3], 6, -2, 2);
    const t = tf.tensor([[0, 1, 0], [1, 0, 1]]);
    const w = tf.tensor([[1, 0, 1], [0, 1, 1]]);
    const g = tf.grad((a: tf.Tensor) => sigmoidFocalLoss(a, t, { weights: w }))(x);
    const arr = await toArray(g);
    expect(arr[1] === 0 && arr[3] === 0, `gradient ${arr}`).toBe(true);
    expect(arr[0]).not.toBe(0);
  });

  it('trains through tf.variableGrads (a linear layer in front)', async () => {
    const input = randomTensor([5, 3], 31);
    const W = tf.variable(randomTensor([3, 4], 32));
    const t = tf.tensor([[0, 1, 0, 0], [1, 0, 0, 1], [0, 0, 0, 0], [0, 1, 1, 0], [1, 0, 0, 0]]);
    const { value, grads } = tf.variableGrads(() => sigmoidFocalLoss(tf.matMul(input, W), t) as tf.Scalar, [W]);
    await expectClose(value, sigmoidFocalLoss(tf.matMul(input, W), t));
    await expectClose(grads[W.name], tf.grad((w: tf.Tensor) => sigmoidFocalLoss(tf.matMul(input, w), t))(W));
    W.dispose();
  });

  it('accepts plain arrays and typed arrays', async () => {
    const x = [[0.5, -1], [2, 0]];
    const t = [[1, 0], [0, 1]];
    const expected = sigmoidFocalLoss(tf.tensor(x), tf.tensor(t), { reduction: 'sum' });
    await expectClose(sigmoidFocalLoss(x, t, { reduction: 'sum' }), expected);
    await expectClose(sigmoidFocalLoss(new Float32Array([0.5, -1, 2, 0]), new Float32Array([1, 0, 0, 1]), { reduction: 'sum' }), expected);
  });

  it('Keras adapter: (yTrue, yPred) with yPred as logits', async () => {
    const c = cases[0];
    const loss = sigmoidFocalLossKeras(c.options)(tf.tensor(c.targets), tf.tensor(c.logits));
    await expectClose(loss, c.value);
    const g = tf.grad((p: tf.Tensor) => sigmoidFocalLossKeras({ gamma: 1 })(tf.tensor(c.targets), p))(tf.tensor(c.logits));
    const e = tf.grad((p: tf.Tensor) => sigmoidFocalLoss(p, c.targets, { gamma: 1 }))(tf.tensor(c.logits));
    await expectClose(g, e);
  });

  it('rejects bad input with LossInputError', () => {
    const x = tf.zeros([2, 3]);
    expectLossInputError(() => sigmoidFocalLoss(x, tf.zeros([2, 4])), 'sigmoidFocalLoss: targets must have the shape of logits [2, 3]; got [2, 4].');
    expectLossInputError(() => sigmoidFocalLoss(x, [[0, 1, 1.5], [0, 0, 0]]), 'sigmoidFocalLoss: targets values must lie in [0, 1]; got 1.5 at flat index 2.');
    expectLossInputError(() => sigmoidFocalLoss(x, x, { gamma: -1 }), 'sigmoidFocalLoss: gamma must be >= 0; got -1.');
    expectLossInputError(() => sigmoidFocalLoss(x, x, { alpha: 1.5 }), 'sigmoidFocalLoss: alpha must be <= 1; got 1.5.');
    expectLossInputError(() => sigmoidFocalLoss(x, x, { labelSmoothing: 2 }), 'sigmoidFocalLoss: labelSmoothing must be <= 1; got 2.');
    expectLossInputError(() => sigmoidFocalLoss(x, x, { reduction: 'avg' as never }), 'sigmoidFocalLoss: reduction must be one of', '"avg"');
    expectLossInputError(() => sigmoidFocalLoss(x, x, { weights: tf.ones([3, 3]) }), 'sigmoidFocalLoss: weights must be broadcastable to the unreduced loss [2, 3]; got [3, 3].');
    expectLossInputError(() => sigmoidFocalLoss(x, x, { avgFactor: 0 }), 'sigmoidFocalLoss: avgFactor must be a number > 0; got 0.');
    expectLossInputError(() => sigmoidFocalLoss(x, x, { avgFactor: 2, reduction: 'sum' }), 'sigmoidFocalLoss: avgFactor only applies to reduction "mean"');
    expectLossInputError(() => sigmoidFocalLoss('abc' as never, x), 'sigmoidFocalLoss: logits must be a tensor');
  });

  // Tensors on webgpu in Node cannot be read synchronously, so there only plain arrays are range-checked.
  if (tf.getBackend() !== 'webgpu') {
    it('range-checks target tensors too', () => {
      expectLossInputError(() => sigmoidFocalLoss(tf.zeros([3]), tf.tensor([0, -0.5, 1])), 'sigmoidFocalLoss: targets values must lie in [0, 1]; got -0.5 at flat index 1.');
      expectLossInputError(() => sigmoidFocalLoss(tf.zeros([2]), tf.tensor([0, NaN])), 'got NaN at flat index 1.');
    });
  }

  it('leaks no tensors (forward and gradient, composed and default paths)', () => {
    const x = randomTensor([4, 4], 3);
    const t = randomTensor([4, 4], 4, 0, 1);
    const w = randomTensor([4], 5, 0, 1);
    const run = () => tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => sigmoidFocalLoss(a, b, { weights: c, labelSmoothing: 0.1 }))([x, t, w]);
    expectNoLeak(run);
    expectNoLeak(() => withComposedOps(run));
    expectNoLeak(() => sigmoidFocalLoss(x, t, { reduction: 'none' }));
  });
});
