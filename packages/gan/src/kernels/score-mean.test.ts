import * as tf from '@tensorflow/tfjs-core';
import { describe, it } from 'vitest';
import { withComposedOps } from '@tfjs-losses/core';
import { expectClose, expectNoLeak, randomTensor } from '@tfjs-losses/test-utils';
import { scoreMean, scoreTerm, type ScoreTerm } from './score-mean.kernel';

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

  it('large inputs (the composed form on wasm) give the same results', async () => {
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
