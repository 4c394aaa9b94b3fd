import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { withComposedOps } from '@tfjs-losses/core';
import { expectClose, expectNoLeak, gradCheck, randomTensor } from '@tfjs-losses/test-utils';
import { scoreMean, scorePairMean, scoreTerm, type ScoreTerm, type TermAttrs } from './score-mean.kernel';

// The fused kernel (cpu, wasm) against the composed form (customGrad with the
// closed-form gradient), and both against tfjs differentiating the plain term.

const x = tf.concat([randomTensor([50], 1, -3, 3), tf.tensor([1, -1, 0.5, 2])]); // includes both hinges
const cases: [ScoreTerm, number, number][] = [['square', 0.7, 1], ['hingeBelow', 0, 1], ['hingeAbove', 0, 1], ['linear', 0, -1], ['linear', 0, 1]];

describe('scoreMean kernel', () => {
  for (const [term, target, coef] of cases) {
    for (const reduction of ['mean', 'sum'] as const) {
      it(`${term} (target ${target}, coef ${coef}), ${reduction}: fused, composed and plain tfjs agree`, async () => {
        const f = (v: tf.Tensor) => scoreMean(v, term, reduction, target, coef);
        const plain = (v: tf.Tensor) => (reduction === 'sum' ? tf.sum : tf.mean)(scoreTerm(v, { term, target, coef }));
        const fused = tf.valueAndGrad(f)(x);
        const composed = withComposedOps(() => tf.valueAndGrad(f)(x));
        const reference = tf.valueAndGrad(plain)(x);
        await expectClose(fused.value, reference.value);
        await expectClose(composed.value, reference.value);
        await expectClose(fused.grad, reference.grad);
        await expectClose(composed.grad, reference.grad);
      });
    }
  }

  it('differentiates twice on the fused path (the backward pass switches to tfjs ops)', async () => {
    // d/dx sum((d mean(0.5 (x - t)^2) / dx)^2) = 2 (x - t) / N^2
    const n = x.size;
    for (const run of [(g: () => tf.Tensor) => g(), withComposedOps]) {
      const g = run(() => tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.grad((w: tf.Tensor) => scoreMean(w, 'square', 'mean', 0.7))(v))))(x));
      await expectClose(g, tf.mul(tf.sub(x, 0.7), 2 / (n * n)));
    }
  });

  it('large inputs give the same results as the composed form', async () => {
    const big = randomTensor([70000], 3, -2, 2);
    const f = (v: tf.Tensor) => scoreMean(v, 'hingeBelow', 'mean');
    const a = tf.valueAndGrad(f)(big);
    const b = withComposedOps(() => tf.valueAndGrad(f)(big));
    await expectClose(a.value, b.value);
    await expectClose(a.grad, b.grad);
  });

  it('leaks no tensors', () => {
    expectNoLeak(() => tf.valueAndGrad((v: tf.Tensor) => scoreMean(v, 'hingeBelow', 'mean'))(x));
    expectNoLeak(() => withComposedOps(() => tf.valueAndGrad((v: tf.Tensor) => scoreMean(v, 'linear', 'sum', 0, -1))(x)));
  });
});

// The pair kernel (both terms and both gradients in one kernel each) against
// the composed form and against plain tfjs on each tensor separately.
const real = tf.reshape(tf.concat([randomTensor([19], 4, -3, 3), tf.tensor([1, -1])]), [3, 7]);
const fake = tf.concat([randomTensor([30], 5, -3, 3), tf.tensor([-1, 1, 0])]);
const pairs: [TermAttrs, TermAttrs][] = [
  [{ term: 'square', target: 1, coef: 1 }, { term: 'square', target: -0.5, coef: 1 }],
  [{ term: 'hingeBelow', target: 0, coef: 1 }, { term: 'hingeAbove', target: 0, coef: 1 }],
  [{ term: 'linear', target: 0, coef: -1 }, { term: 'linear', target: 0, coef: 1 }],
];

describe('scorePairMean kernel', () => {
  for (const [rt, ft] of pairs) {
    for (const reduction of ['mean', 'sum'] as const) {
      it(`${rt.term} + ${ft.term}, ${reduction}: fused, composed and plain tfjs agree`, async () => {
        const f = (r: tf.Tensor, q: tf.Tensor) => scorePairMean(r, q, rt, ft, reduction);
        const red = reduction === 'sum' ? tf.sum : tf.mean;
        const plain = (r: tf.Tensor, q: tf.Tensor) => tf.add(red(scoreTerm(r, rt)), red(scoreTerm(q, ft)));
        const fused = tf.valueAndGrads(f)([real, fake]);
        const composed = withComposedOps(() => tf.valueAndGrads(f)([real, fake]));
        const reference = tf.valueAndGrads(plain)([real, fake]);
        for (const got of [fused, composed]) {
          await expectClose(got.value, reference.value);
          await expectClose(got.grads[0], reference.grads[0]);
          await expectClose(got.grads[1], reference.grads[1]);
        }
      });
    }
  }

  it('passes a finite-difference check on both inputs (away from the hinges)', async () => {
    const r = randomTensor([6], 8, -0.8, 0.8);
    const q = randomTensor([5], 9, -0.8, 0.8);
    for (const [rt, ft] of pairs) await gradCheck((a, b) => scorePairMean(a, b, rt, ft, 'mean'), [r, q]);
  });

  it('differentiates twice (the backward pass switches to tfjs ops)', async () => {
    // d/dr sum((d mean(0.5 (r - 1)^2) / dr)^2) = 2 (r - 1) / N^2; fake: 2 (f + 0.5) / M^2
    const [rt, ft] = pairs[0];
    const inner = (a: tf.Tensor, b: tf.Tensor) => tf.grads((u: tf.Tensor, v: tf.Tensor) => scorePairMean(u, v, rt, ft, 'mean'))([a, b]);
    const outer = (a: tf.Tensor, b: tf.Tensor) => {
      const [ga, gb] = inner(a, b);
      return tf.add(tf.sum(tf.square(ga)), tf.sum(tf.square(gb)));
    };
    for (const run of [(g: () => tf.Tensor[]) => g(), withComposedOps]) {
      const [gr, gf] = run(() => tf.grads(outer)([real, fake]));
      await expectClose(gr, tf.mul(tf.sub(real, 1), 2 / (real.size * real.size)));
      await expectClose(gf, tf.mul(tf.add(fake, 0.5), 2 / (fake.size * fake.size)));
    }
  });

  // The fused kernels (cpu, wasm); tfjs-webgpu's Sum cannot reduce an empty tensor.
  if (tf.getBackend() !== 'webgpu') {
    it('handles an empty tensor (its mean is 0, as the composed form gives)', async () => {
      const empty = tf.tensor([], [0]);
      const [rt, ft] = pairs[1];
      const f = (r: tf.Tensor, q: tf.Tensor) => scorePairMean(r, q, rt, ft, 'mean');
      const fused = tf.valueAndGrads(f)([real, empty]);
      const composed = withComposedOps(() => tf.valueAndGrads(f)([real, empty]));
      await expectClose(fused.value, composed.value);
      await expectClose(fused.grads[0], composed.grads[0]);
      expect(fused.grads[1].shape).toEqual([0]);
    });
  }

  it('leaks no tensors', () => {
    const [rt, ft] = pairs[1];
    expectNoLeak(() => tf.valueAndGrads((r: tf.Tensor, q: tf.Tensor) => scorePairMean(r, q, rt, ft, 'mean'))([real, fake]));
    expectNoLeak(() => withComposedOps(() => tf.valueAndGrads((r: tf.Tensor, q: tf.Tensor) => scorePairMean(r, q, rt, ft, 'sum'))([real, fake])));
  });
});
