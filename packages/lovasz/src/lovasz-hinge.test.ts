import * as tf from '@tensorflow/tfjs-core';
import { withComposedOps } from '@tfjs-losses/core';
import { expectClose, expectLossInputError, expectNoLeak, gradCheck, loadFixture, seededRandom } from '@tfjs-losses/test-utils';
import { describe, expect, it } from 'vitest';
import { lovaszHinge, lovaszHingeKeras, type LovaszHingeOptions } from './index';
import { lovaszHingeIsFused } from './kernels/lovasz-hinge.kernel';

/** 1 − IoU of the foreground (1) for hard predictions; 0 when both masks are empty. */
function oneMinusIoU(labels: number[], preds: number[], ignore?: number): number {
  let inter = 0;
  let union = 0;
  labels.forEach((l, i) => {
    if (l === ignore) return;
    if (l === 1 && preds[i] === 1) inter++;
    if (l === 1 || preds[i] === 1) union++;
  });
  return union === 0 ? 0 : 1 - inter / union;
}

describe('lovaszHinge', () => {
  const fixtures = loadFixture(import.meta.url, 'lovasz-hinge.json');
  const paths: [string, <T>(fn: () => T) => T][] = [
    ['', (fn) => fn()],
    [' (composed ops)', withComposedOps],
  ];
  for (const [label, run] of paths) {
    for (const c of fixtures) {
      it(`matches the PyTorch reference${label}: ${c.name}`, async () => {
        const f = (x: tf.Tensor) => lovaszHinge(x, c.labels, c.options as LovaszHingeOptions);
        const { value, grads } = run(() => tf.valueAndGrads(f)([tf.tensor(c.logits)]));
        await expectClose(value, c.value);
        await expectClose(grads[0], c.gradLogits);
      });
    }
  }

  it('runs the fused kernel on cpu and wasm, composed ops on webgpu', () => {
    expect(lovaszHingeIsFused()).toBe(tf.getBackend() !== 'webgpu');
    expect(withComposedOps(lovaszHingeIsFused)).toBe(false);
  });

  it('fused kernel and composed ops agree on inputs full of ties (value and gradient, every option)', async () => {
    // Scores on a grid of quarters: many equal errors (and errors of exactly 0), resolved by position on both paths.
    const rand = seededRandom(43);
    const [b, h, w] = [3, 6, 5];
    const x = tf.tensor(Array.from({ length: b * h * w }, () => Math.floor(rand() * 13) / 4 - 1.5), [b, h, w]);
    const labels = tf.tensor(Array.from({ length: b * h * w }, (_, i) => (i < h * w ? 7 : rand() < 0.2 ? 7 : rand() < 0.4 ? 1 : 0)), [b, h, w], 'int32');
    const options: LovaszHingeOptions[] = [
      { ignoreIndex: 7 },
      { ignoreIndex: 7, perImage: false },
      { ignoreIndex: 7, symmetric: true },
      { ignoreIndex: 7, symmetric: true, perImage: false },
    ];
    for (const o of options) {
      const f = (t: tf.Tensor) => lovaszHinge(t, labels, o);
      const fused = tf.valueAndGrads(f)([x]);
      const comp = withComposedOps(() => tf.valueAndGrads(f)([x]));
      await expectClose(fused.value, await comp.value.data());
      await expectClose(fused.grads[0], await comp.grads[0].array() as number[]);
    }
  });

  it('equals 2 (1 − IoU) on hard scores ±1 (Lovasz extension property), over random masks', async () => {
    const rand = seededRandom(17);
    for (let trial = 0; trial < 8; trial++) {
      const [b, h, w] = [3, 4, 4];
      const n = h * w;
      const ignore = trial % 2 === 1 ? 255 : undefined;
      const density = [0.05, 0.3, 0.6][trial % 3];
      const labels = Array.from({ length: b * n }, () => (ignore !== undefined && rand() < 0.2 ? ignore : rand() < density ? 1 : 0));
      const preds = labels.map((l) => (l !== ignore && rand() < 0.6 ? l : rand() < density ? 1 : 0));
      // Errors are 0 where the sign is right and 2 where it is wrong: the extension is 2 (1 − IoU).
      const logits = tf.tensor(preds.map((p) => (p === 1 ? 1 : -1)), [b, h, w]);
      const lab = tf.tensor(labels, [b, h, w], 'int32');
      const images = [0, 1, 2].map((i) => 2 * oneMinusIoU(labels.slice(i * n, (i + 1) * n), preds.slice(i * n, (i + 1) * n), ignore));
      await expectClose(lovaszHinge(logits, lab, { ignoreIndex: ignore }), images.reduce((a, v) => a + v, 0) / b);
      await expectClose(lovaszHinge(logits, lab, { ignoreIndex: ignore, perImage: false }), 2 * oneMinusIoU(labels, preds, ignore));
      // Symmetric: also the background's IoU.
      const flip = (v: number[]) => v.map((l) => (l === ignore ? l : 1 - l));
      const sym = (oneMinusIoU(labels, preds, ignore) + oneMinusIoU(flip(labels), flip(preds), ignore));
      await expectClose(lovaszHinge(logits, lab, { ignoreIndex: ignore, perImage: false, symmetric: true }), sym);
    }
  });

  it('agrees with finite differences away from ties and from the hinge kink', async () => {
    // Distinct errors at least 0.035 apart over the whole batch, a few below 0
    // (inactive hinge), none within 0.01 of 0.
    const rand = seededRandom(6);
    const [b, h, w] = [2, 3, 4];
    const n = h * w;
    const labels = Array.from({ length: b * n }, () => (rand() < 0.4 ? 1 : 0));
    const x = new Float32Array(b * n);
    for (let i = 0; i < b; i++) {
      const errs = Array.from({ length: n }, (_, j) => -0.3 + 0.07 * j + 0.035 * i + (j >= 5 ? 0.05 : 0));
      for (let j = n - 1; j > 0; j--) {
        const k = Math.floor(rand() * (j + 1));
        [errs[j], errs[k]] = [errs[k], errs[j]];
      }
      errs.forEach((e, j) => (x[i * n + j] = (labels[i * n + j] === 1 ? 1 : -1) * (1 - e)));
    }
    const lab = tf.tensor(labels, [b, h, w], 'int32');
    const logits = tf.tensor(x, [b, h, w]);
    await gradCheck((t) => lovaszHinge(t, lab), [logits], { eps: 1e-3, samples: 24 });
    await gradCheck((t) => lovaszHinge(t, lab, { perImage: false, symmetric: true }), [logits], { eps: 1e-3, samples: 24 });
  });

  it('gives 0 and zero gradients without NaN when every pixel is ignored', async () => {
    const x = tf.tensor([[[0.3, -2], [1.5, 0.1]]]);
    for (const perImage of [true, false]) {
      for (const symmetric of [false, true]) {
        const { value, grads } = tf.valueAndGrads((t: tf.Tensor) => lovaszHinge(t, [[[9, 9], [9, 9]]], { ignoreIndex: 9, perImage, symmetric }))([x]);
        await expectClose(value, 0);
        await expectClose(grads[0], [[[0, 0], [0, 0]]]);
      }
    }
  });

  it('stays finite for huge logits and ignores non-finite ignored pixels', async () => {
    const x = tf.tensor([[[1e30, -1e30], [Infinity, 0.5]]]);
    const { value, grads } = tf.valueAndGrads((t: tf.Tensor) => lovaszHinge(t, [[[1, 1], [255, 0]]], { ignoreIndex: 255 }))([x]);
    const v = (await value.data())[0];
    expect(Number.isFinite(v)).toBe(true);
    const g = Array.from(await grads[0].data());
    expect(g[2]).toBe(0);
    expect(g.every(Number.isFinite)).toBe(true);
  });

  it('returns a scalar and accepts plain arrays and float labels', async () => {
    const v = lovaszHinge([[0.5, -1.5, 2]], tf.tensor([[1, 0, 0]], [1, 3], 'float32'));
    expect(v.shape).toEqual([]);
    // Errors 0.5 (fg), -0.5 (bg), 3 (bg): sorted 3, 0.5, -0.5 give J = 1, 1, 0.5... with F = 1.
    // J_1 = 1 − 1/2 = 0.5, J_2 = 1 − 0/2 = 1: loss = 3·0.5 + 0.5·0.5 = 1.75.
    await expectClose(v, 1.75);
  });

  it('rejects bad input with LossInputError', () => {
    expectLossInputError(() => lovaszHinge(tf.zeros([2, 3, 3]), tf.zeros([2, 3, 4], 'int32')), 'lovaszHinge: labels must have the shape of logits [2, 3, 3]; got [2, 3, 4].');
    expectLossInputError(() => lovaszHinge(tf.zeros([1, 4]), [[0, 1, 2, 1]]), 'lovaszHinge: labels values must lie in [0, 1]; got 2 at flat index 2.');
    expectLossInputError(() => lovaszHinge(tf.zeros([1, 4]), [[0, 1, 254, 1]], { ignoreIndex: 255 }), 'labels values must lie in [0, 1] (or 255); got 254');
    expectLossInputError(() => lovaszHinge(tf.zeros([4]), [0, 1, 1, 0]), 'lovaszHinge: logits must have rank 2 or more; got rank 1');
    expectLossInputError(() => lovaszHinge(tf.zeros([0, 4]), tf.zeros([0, 4], 'int32')), 'lovaszHinge: logits must hold at least one pixel; got shape [0, 4].');
    expectLossInputError(() => lovaszHinge(tf.zeros([1, 2]), [[0, 1]], { symmetric: 'yes' as unknown as boolean }), 'lovaszHinge: symmetric must be one of true, false; got "yes".');
    expectLossInputError(() => lovaszHinge(tf.zeros([1, 2]), [[0, 1]], { ignoreIndex: NaN }), 'lovaszHinge: ignoreIndex must be a number; got NaN.');
  });

  it('flat input works with perImage false', async () => {
    await expectClose(lovaszHinge([0.5, -1.5, 2], [1, 0, 0], { perImage: false }), 1.75);
  });

  it('leaks no tensors (value and gradient, every option)', () => {
    const rand = seededRandom(2);
    const x = tf.tensor(Array.from({ length: 2 * 3 * 3 }, () => 4 * rand() - 2), [2, 3, 3]);
    const labels = tf.tensor(Array.from({ length: 18 }, (_, i) => (i % 7 === 0 ? 255 : i % 2)), [2, 3, 3], 'int32');
    const options: LovaszHingeOptions[] = [{ ignoreIndex: 255 }, { perImage: false, ignoreIndex: 255, symmetric: true }];
    for (const o of options) {
      expectNoLeak(() => tf.valueAndGrads((t: tf.Tensor) => lovaszHinge(t, labels, o))([x]));
      expectNoLeak(() => withComposedOps(() => tf.valueAndGrads((t: tf.Tensor) => lovaszHinge(t, labels, o))([x])));
    }
  });

  it('Keras adapter: (yTrue, yPred), a one-channel axis dropped', async () => {
    const yPred = tf.tensor([[[1.2, -0.3], [0.4, -2.2]], [[-0.7, 0.9], [2.5, 0.05]]]);
    const yTrue = tf.tensor([[[1, 0], [0, 0]], [[1, 1], [0, 1]]]);
    const want = (await lovaszHinge(yPred, yTrue).data())[0];
    await expectClose(lovaszHingeKeras()(yTrue, yPred), want);
    await expectClose(lovaszHingeKeras()(tf.expandDims(yTrue, 3), tf.expandDims(yPred, 3)), want);
  });
});
