import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectLossInputError, expectNoLeak, gradCheck, loadFixture, seededRandom, toArray } from '@tfjs-losses/test-utils';
import { smoothL1Loss, smoothL1LossKeras } from './index';

/** pred, target whose differences keep at least `gap` away from 0 and from ±beta. */
function awayFromKinks(shape: number[], seed: number, beta: number, gap = 0.1): [tf.Tensor, tf.Tensor] {
  const r = seededRandom(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const t = new Float32Array(n);
  const p = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    t[i] = 2 * r() - 1;
    // Alternate inside (gap, beta - gap) and outside (beta + gap, beta + 1), random sign.
    const inside = beta > 2 * gap && i % 2 === 0;
    const mag = inside ? gap + (beta - 2 * gap) * r() : beta + gap + r();
    p[i] = t[i] + (r() < 0.5 ? -mag : mag);
  }
  return [tf.tensor(p, shape), tf.tensor(t, shape)];
}

describe(`smoothL1Loss on ${tf.getBackend()}`, () => {
  for (const c of loadFixture(import.meta.url, 'smooth-l1-loss.json')) {
    it(`matches PyTorch in value and gradients: ${c.name}`, async () => {
      const f = (p: tf.Tensor, t: tf.Tensor) => smoothL1Loss(p, t, c.options);
      const { value, grads } = tf.valueAndGrads(f)([tf.tensor(c.pred), tf.tensor(c.target)]);
      await expectClose(value, c.value);
      await expectClose(grads[0], c.gradPred);
      await expectClose(grads[1], c.gradTarget);
    });
  }

  it('has the documented shape per reduction', () => {
    const p = tf.zeros([2, 3, 4]);
    expect(smoothL1Loss(p, p, { reduction: 'none' }).shape).toEqual([2, 3, 4]);
    expect(smoothL1Loss(p, p, { reduction: 'none', weights: tf.ones([3, 1]) }).shape).toEqual([2, 3, 4]);
    expect(smoothL1Loss(p, p, { reduction: 'sum' }).shape).toEqual([]);
    expect(smoothL1Loss(p, p).shape).toEqual([]);
    expect(smoothL1Loss(tf.zeros([0, 4]), tf.zeros([0, 4]), { reduction: 'none' }).shape).toEqual([0, 4]);
  });

  for (const beta of [1, 0.5, 2]) {
    it(`agrees with finite differences away from the kinks (beta ${beta})`, async () => {
      const [p, t] = awayFromKinks([4, 4], 11 + beta * 10, beta);
      await gradCheck((a, b) => smoothL1Loss(a, b, { beta }), [p, t], { samples: 16 });
      await gradCheck((a, b) => smoothL1Loss(a, b, { beta, reduction: 'sum', weights: tf.tensor([0.5, 1, 2, 0]) }), [p, t], { samples: 16 });
    });
  }

  it('beta = 0 is exactly L1, with sign(d) gradients and no NaN', async () => {
    const p = tf.tensor([[0.5, -1.25, 3], [2, 0, -0.75]]);
    const t = tf.tensor([[0, 0.25, 1], [2, 1, -0.5]]);
    const d = [0.5, -1.5, 2, 0, -1, -0.25];
    const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => smoothL1Loss(a, b, { beta: 0 }))([p, t]);
    await expectClose(value, d.reduce((s, x) => s + Math.abs(x), 0) / 6);
    await expectClose(grads[0], [d.slice(0, 3).map((x) => Math.sign(x) / 6), d.slice(3).map((x) => Math.sign(x) / 6)]);
    await expectClose(grads[1], [d.slice(0, 3).map((x) => -Math.sign(x) / 6), d.slice(3).map((x) => -Math.sign(x) / 6)]);
    await gradCheck((a, b) => smoothL1Loss(a, b, { beta: 0 }), [p, t], { check: [0] });
  });

  for (const beta of [0, 1e-6, 1]) {
    it(`pred == target gives loss 0 and gradient exactly 0 (beta ${beta}), as PyTorch`, async () => {
      const x = tf.tensor([[-2, 0, 1e-3], [5, -1e-20, 7]]);
      const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => smoothL1Loss(a, b, { beta }))([x, x]);
      expect(await toArray(value)).toEqual([0]);
      expect((await toArray(grads[0])).every((g) => g === 0)).toBe(true);
      expect((await toArray(grads[1])).every((g) => g === 0)).toBe(true);
    });
  }

  it('the gradient at |d| == beta is ±1 (the linear side, as PyTorch)', async () => {
    const g = tf.grad((a: tf.Tensor) => smoothL1Loss(a, tf.zeros([2]), { beta: 0.5, reduction: 'sum' }))(tf.tensor([0.5, -0.5]));
    expect(await toArray(g)).toEqual([1, -1]);
  });

  it('equals tfjs huberLoss / beta (identity)', async () => {
    const [p, t] = awayFromKinks([3, 5], 5, 0.7);
    for (const beta of [0.7, 2]) {
      const ours = smoothL1Loss(p, t, { beta, reduction: 'none' });
      const huber = tf.div(tf.losses.huberLoss(t, p, undefined, beta, tf.Reduction.NONE), beta);
      await expectClose(ours, huber);
    }
  });

  it('weights scale the loss; avgFactor replaces the mean denominator', async () => {
    const [p, t] = awayFromKinks([3, 4], 9, 1);
    const w = tf.tensor([[1], [0], [2]]);
    const none = smoothL1Loss(p, t, { reduction: 'none' });
    const weighted = tf.mul(none, w);
    await expectClose(smoothL1Loss(p, t, { weights: w }), tf.div(tf.sum(weighted), 12));
    await expectClose(smoothL1Loss(p, t, { weights: w, avgFactor: 5 }), tf.div(tf.sum(weighted), 5));
    await expectClose(smoothL1Loss(p, t, { weights: w, reduction: 'sum' }), tf.sum(weighted));
  });

  it('stays finite on extreme inputs', async () => {
    const p = tf.tensor([1e30, -1e30, 1e-30, 3e38, 0]);
    const t = tf.tensor([0, 0, 0, -3e38, 1e-38]);
    for (const beta of [0, 1e-20, 1, 1e20]) {
      const { value, grads } = tf.valueAndGrads((a: tf.Tensor) => smoothL1Loss(a, t, { beta, reduction: 'none' }))([p]);
      const v = await toArray(value);
      // 3e38 - (-3e38) overflows float32 to Infinity in d itself; every other entry is finite.
      expect(v.filter((x, i) => i !== 3 && !Number.isFinite(x))).toEqual([]);
      expect((await toArray(grads[0])).every((g) => Number.isFinite(g))).toBe(true);
    }
  });

  it('accepts plain and typed arrays, and int32 tensors', async () => {
    await expectClose(smoothL1Loss([1, 2], [0, 0], { reduction: 'sum' }), 0.5 + 1.5);
    await expectClose(smoothL1Loss(new Float32Array([0.5, -3]), [[0, 0]].flat(), { beta: 2 }), (0.0625 + 2) / 2);
    await expectClose(smoothL1Loss(tf.tensor([3, 0], [2], 'int32'), [1, 0], { reduction: 'sum' }), 1.5);
  });

  it('the Keras adapter takes (yTrue, yPred) and differentiates yPred', async () => {
    const c = loadFixture(import.meta.url, 'smooth-l1-loss.json').find((x) => x.name === 'beta 1, mean');
    const keras = smoothL1LossKeras();
    const { value, grads } = tf.valueAndGrads((yTrue: tf.Tensor, yPred: tf.Tensor) => keras(yTrue, yPred))([tf.tensor(c.target), tf.tensor(c.pred)]);
    await expectClose(value, c.value);
    await expectClose(grads[1], c.gradPred);
    await expectClose(grads[0], c.gradTarget);
    await expectClose(smoothL1LossKeras({ beta: 0.5, reduction: 'sum' })(tf.tensor([0, 0]), tf.tensor([1, 0.25])), 0.75 + 0.0625);
  });

  it('works with tf.variableGrads', async () => {
    const v = tf.variable(tf.tensor([0.3, -2]));
    const { value, grads } = tf.variableGrads(() => smoothL1Loss(v, [0, 0], { reduction: 'sum' }) as tf.Scalar, [v]);
    await expectClose(value, 0.045 + 1.5);
    await expectClose(grads[v.name], [0.3, -1]);
    v.dispose();
  });

  it('throws LossInputError for bad input', () => {
    const p = tf.zeros([2, 3]);
    expectLossInputError(() => smoothL1Loss(p, tf.zeros([2, 4])), 'smoothL1Loss: target must have the shape of pred [2, 3]; got [2, 4].');
    expectLossInputError(() => smoothL1Loss(p, p, { beta: -1 }), 'smoothL1Loss: beta must be >= 0; got -1.');
    expectLossInputError(() => smoothL1Loss(p, p, { beta: NaN }), 'smoothL1Loss: beta must be a number; got NaN.');
    expectLossInputError(() => smoothL1Loss(p, p, { beta: Infinity }), 'smoothL1Loss: beta must be a finite number >= 0; got Infinity.');
    expectLossInputError(() => smoothL1Loss(p, p, { beta: '1' as unknown as number }), 'smoothL1Loss: beta must be a number; got "1".');
    expectLossInputError(() => smoothL1Loss(p, p, { weights: tf.ones([3, 3]) }), 'smoothL1Loss: weights must be broadcastable to the unreduced loss [2, 3]; got [3, 3].');
    expectLossInputError(() => smoothL1Loss(p, p, { avgFactor: 0 }), 'smoothL1Loss: avgFactor must be a number > 0; got 0.');
    expectLossInputError(() => smoothL1Loss(p, p, { avgFactor: 2, reduction: 'sum' }), 'smoothL1Loss: avgFactor only applies to reduction "mean"');
    expectLossInputError(() => smoothL1Loss(p, p, { reduction: 'avg' as 'mean' }), 'smoothL1Loss: reduction must be one of "none", "mean", "sum"; got "avg".');
    expectLossInputError(() => smoothL1Loss('x' as unknown as number[], p), 'smoothL1Loss: pred must be a tensor');
    expectLossInputError(() => smoothL1Loss(p, tf.tensor(['a', 'b'])), 'smoothL1Loss: target must hold numbers');
  });

  it('leaks no tensors, also on failure', () => {
    const [p, t] = awayFromKinks([4, 4], 3, 1);
    expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => smoothL1Loss(a, b))([p, t]));
    expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => smoothL1Loss(a, b, { beta: 0, weights: [1, 2, 3, 4], avgFactor: 3 }))([p, t]));
    expectNoLeak(() => smoothL1Loss([[1, 2]], [[0, 1]], { reduction: 'none' }));
    expectNoLeak(() => {
      try {
        smoothL1Loss(p, [1, 2, 3]);
      } catch {
        /* expected */
      }
    });
  });
});
