import * as tf from '@tensorflow/tfjs-core';
import { withComposedOps } from '@tfjs-losses/core';
import { describe, expect, it } from 'vitest';
import { expectClose, randomTensor, toArray } from '@tfjs-losses/test-utils';
import { EXCLUDED } from '../internal/excluded';
import { infoNCE, ntXent, supervisedContrastiveLoss } from '../index';
import { rowSoftmaxOp } from './row-softmax.kernel';
import { symmetrizeOp } from './symmetrize.kernel';

describe('fused kernels agree with their composed form', () => {
  const logits = tf.mul(randomTensor([5, 7], 1), 20);
  const biases: [string, tf.Tensor][] = [
    ['no bias', tf.scalar(0)],
    ['[m] bias', tf.tensor1d([0, EXCLUDED, 0, 0, EXCLUDED, 0, 0])],
    ['[n, m] bias', tf.mul(tf.cast(tf.greater(randomTensor([5, 7], 2), 0.3), 'float32'), EXCLUDED)],
  ];
  for (const [name, bias] of biases) {
    for (const excludeDiagonal of [false, true]) {
      it(`row softmax, ${name}, excludeDiagonal ${excludeDiagonal}`, async () => {
        const [lse, p] = rowSoftmaxOp([logits, bias], { excludeDiagonal });
        const [lse0, p0] = withComposedOps(() => rowSoftmaxOp([logits, bias], { excludeDiagonal }));
        await expectClose(lse, lse0);
        await expectClose(p, p0);
        // Dropped entries have probability exactly 0.
        const pv = await toArray(p);
        const bv = await toArray(tf.add(tf.zeros([5, 7]), bias));
        pv.forEach((v, k) => {
          if (bv[k] < 0 || (excludeDiagonal && k % 7 === Math.floor(k / 7))) expect(v).toBe(0);
        });
      });
    }
  }

  it('row softmax stays finite for logits of 1e4', async () => {
    const big = tf.mul(randomTensor([4, 4], 3), 1e4);
    const [lse, p] = rowSoftmaxOp([big, tf.scalar(0)], { excludeDiagonal: true });
    for (const v of [...(await toArray(lse)), ...(await toArray(p))]) expect(Number.isFinite(v)).toBe(true);
    const [lse0] = withComposedOps(() => rowSoftmaxOp([big, tf.scalar(0)], { excludeDiagonal: true }));
    await expectClose(lse, lse0);
  });

  it('symmetrize: g_i P_ij + g_j P_ji', async () => {
    const p = randomTensor([6, 6], 4);
    const g = randomTensor([6], 5);
    const k = symmetrizeOp([p, g], {})[0];
    await expectClose(k, withComposedOps(() => symmetrizeOp([p, g], {})[0]));
    const [pv, gv, kv] = [await toArray(p), await toArray(g), await toArray(k)];
    expect(kv[1 * 6 + 4]).toBeCloseTo(gv[1] * pv[1 * 6 + 4] + gv[4] * pv[4 * 6 + 1], 5);
  });

  it('the losses give the same values and gradients with and without fused kernels', async () => {
    const a = randomTensor([6, 4], 6);
    const b = randomTensor([6, 4], 7);
    const losses: [string, (x: tf.Tensor, y: tf.Tensor) => tf.Tensor][] = [
      ['ntXent', (x, y) => ntXent(x, y, { temperature: 0.2 })],
      ['infoNCE', (x, y) => infoNCE(x, y, null, { negativeMask: [1, 0, 1, 1, 1, 0] })],
      ['supcon all', (x, y) => supervisedContrastiveLoss(tf.stack([x, y], 1), [0, 1, 0, 2, 1, 0])],
      ['supcon one', (x, y) => supervisedContrastiveLoss(tf.stack([x, y], 1), [0, 1, 0, 2, 1, 0], { contrastMode: 'one' })],
    ];
    for (const [, f] of losses) {
      const fused = tf.valueAndGrads(f)([a, b]);
      const plain = withComposedOps(() => tf.valueAndGrads(f)([a, b]));
      await expectClose(fused.value, plain.value);
      await expectClose(fused.grads[0], plain.grads[0]);
      await expectClose(fused.grads[1], plain.grads[1]);
    }
  });
});
