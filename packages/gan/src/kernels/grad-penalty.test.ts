import * as tf from '@tensorflow/tfjs-core';
import { describe, it } from 'vitest';
import { withComposedOps } from '@tfjs-losses/core';
import { expectClose, expectNoLeak, gradCheck, randomTensor } from '@tfjs-losses/test-utils';
import { reducedPenalty } from './grad-penalty.kernel';

// The fused penalty kernel (cpu, wasm) against the composed form (tfjs ops
// differentiated by tfjs), on gradients g of shape [B, ...].

// Row 1 is all zeros (norm floored, zero gradient); rows have norms below and above 1.
const g = tf.concat([randomTensor([1, 2, 3], 1, -0.2, 0.2), tf.zeros([1, 2, 3]), randomTensor([3, 2, 3], 2, -1, 1)]);
const settings = [
  { lambda: 10, target: 1, oneSided: false, reduction: 'mean' as const },
  { lambda: 10, target: 1, oneSided: true, reduction: 'mean' as const },
  { lambda: 2.5, target: 0.5, oneSided: false, reduction: 'sum' as const },
];

describe('reducedPenalty kernel', () => {
  for (const { lambda, target, oneSided, reduction } of settings) {
    it(`lambda ${lambda}, target ${target}, oneSided ${oneSided}, ${reduction}: fused and composed agree (value, norms, gradients)`, async () => {
      // Uses both outputs, so the gradient kernel sees both upstream gradients.
      const f = (x: tf.Tensor) => {
        const [p, n] = reducedPenalty(x, lambda, target, oneSided, reduction);
        return tf.add(p, tf.mul(tf.sum(n), 0.3));
      };
      const only = (x: tf.Tensor) => reducedPenalty(x, lambda, target, oneSided, reduction)[0];
      for (const fn of [f, only]) {
        const fused = tf.valueAndGrad(fn)(g);
        const composed = withComposedOps(() => tf.valueAndGrad(fn)(g));
        await expectClose(fused.value, composed.value);
        await expectClose(fused.grad, composed.grad);
      }
      const [fp, fn] = reducedPenalty(g, lambda, target, oneSided, reduction);
      const [cp, cn] = withComposedOps(() => reducedPenalty(g, lambda, target, oneSided, reduction));
      await expectClose(fp, cp);
      await expectClose(fn, cn);
    });
  }

  it('rows of several 4-float groups, with and without a tail (the SIMD loops on wasm): fused and composed agree', async () => {
    for (const shape of [[3, 37], [2, 4, 10], [4, 3]]) {
      const x = randomTensor(shape, 8, -0.3, 0.3);
      const f = (v: tf.Tensor) => {
        const [p, n] = reducedPenalty(v, 10, 1, false, 'mean');
        return tf.add(p, tf.mul(tf.sum(n), 0.3));
      };
      const fused = tf.valueAndGrad(f)(x);
      const composed = withComposedOps(() => tf.valueAndGrad(f)(x));
      await expectClose(fused.value, composed.value);
      await expectClose(fused.grad, composed.grad);
      await expectClose(reducedPenalty(x, 10, 1, false, 'sum')[1], withComposedOps(() => reducedPenalty(x, 10, 1, false, 'sum')[1]));
    }
  });

  it('passes a finite-difference check (norms away from 0)', async () => {
    const x = randomTensor([3, 4], 5, -1, 1);
    for (const { lambda, target, oneSided, reduction } of settings) {
      await gradCheck((v) => reducedPenalty(v, lambda, target, oneSided, reduction)[0], [x]);
    }
  });

  it('differentiates twice (the backward pass switches to tfjs ops) as the composed form does', async () => {
    const x = randomTensor([3, 4], 6, -1, 1);
    const w = randomTensor([3, 4], 7, -1, 1);
    // d/dx sum(w * d penalty / dx): a Hessian-vector product.
    const hvp = (v: tf.Tensor) => tf.sum(tf.mul(w, tf.grad((u: tf.Tensor) => reducedPenalty(u, 10, 1, false, 'mean')[0])(v)));
    const fused = tf.grad(hvp)(x);
    const composed = withComposedOps(() => tf.grad(hvp)(x));
    await expectClose(fused, composed, { rtol: 1e-4, atol: 1e-5 });
  });

  it('leaks no tensors', () => {
    expectNoLeak(() => tf.valueAndGrad((x: tf.Tensor) => reducedPenalty(x, 10, 1, false, 'mean')[0])(g));
    expectNoLeak(() => tf.valueAndGrad((x: tf.Tensor) => tf.sum(reducedPenalty(x, 10, 1, true, 'sum')[1]))(g));
    expectNoLeak(() => withComposedOps(() => tf.valueAndGrad((x: tf.Tensor) => reducedPenalty(x, 10, 1, false, 'mean')[0])(g)));
  });
});
