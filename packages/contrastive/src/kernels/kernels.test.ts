import * as tf from '@tensorflow/tfjs-core';
import { withComposedOps } from '@tfjs-losses/core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, gradCheck, randomTensor, toArray } from '@tfjs-losses/test-utils';
import { EXCLUDED } from '../internal/excluded';
import { infoNCE, ntXent, supervisedContrastiveLoss } from '../index';
import { rowSoftmaxOp } from './row-softmax.kernel';
import { symmetrizeOp } from './symmetrize.kernel';
import { pairedLogitsBackwardOp, pairedLogitsForwardOp } from './paired-logits.kernel';
import { l2NormalizeGradOp, l2NormalizeOp } from './l2-normalize.kernel';
import { l2NormalizeGradHost, l2NormalizeHost } from './l2-normalize.host';

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

  it('row softmax: a row with every entry dropped gives p = 0 and lse = EXCLUDED (fused kernels)', async () => {
    const x = randomTensor([3, 4], 21);
    const bias = tf.tensor2d([[0, 0, EXCLUDED, 0], [EXCLUDED, EXCLUDED, EXCLUDED, EXCLUDED], [0, EXCLUDED, 0, 0]]);
    const [lse, p] = rowSoftmaxOp([x, bias], { excludeDiagonal: true });
    const [lse0, p0] = withComposedOps(() => rowSoftmaxOp([x, bias], { excludeDiagonal: true }));
    const [lv, pv, l0, q0] = [await toArray(lse), await toArray(p), await toArray(lse0), await toArray(p0)];
    if (rowSoftmaxOp.isFused()) {
      expect(lv[1]).toBe(Math.fround(EXCLUDED));
      expect(pv.slice(4, 8)).toEqual([0, 0, 0, 0]);
    }
    // The kept rows agree with the composed form.
    await expectClose([lv[0], lv[2]], [l0[0], l0[2]]);
    await expectClose([...pv.slice(0, 4), ...pv.slice(8)], [...q0.slice(0, 4), ...q0.slice(8)]);
  });

  it('l2 normalize with a scale, forward and backward, with a zero (clamped) row', async () => {
    const x = tf.concat([randomTensor([3, 5], 31), tf.zeros([1, 5]), tf.mul(randomTensor([2, 5], 32), 1e-3)], 0);
    const dy = randomTensor([6, 5], 33);
    for (const scale of [1, 2.5]) {
      const f = (t: tf.Tensor) => tf.sum(tf.mul(l2NormalizeOp([t], { scale })[0], dy));
      const fused = tf.valueAndGrad(f)(x);
      const plain = withComposedOps(() => tf.valueAndGrad(f)(x));
      await expectClose(l2NormalizeOp([x], { scale })[0], withComposedOps(() => l2NormalizeOp([x], { scale })[0]));
      await expectClose(fused.value, plain.value);
      await expectClose(fused.grad, plain.grad);
      // The zero row: value 0, gradient s·dy/1e-12 is huge but finite.
      for (const v of await toArray(fused.grad)) expect(Number.isFinite(v)).toBe(true);
    }
    const y = randomTensor([4, 3, 5], 34);
    await gradCheck((t) => tf.sum(tf.mul(l2NormalizeOp([t], { scale: 3 })[0], randomTensor([4, 3, 5], 35))), [y], { eps: 1e-3 });
    expectNoLeak(() => tf.grad((t: tf.Tensor) => tf.sum(l2NormalizeOp([t], { scale: 2 })[0]))(y));
  });

  it('l2 normalize with rows of 8 and 128 (the SIMD loops on wasm): a zero row, a tiny row, against the composed form and the JavaScript loops', async () => {
    for (const d of [8, 128]) {
      const x = tf.concat([randomTensor([5, d], 40 + d), tf.zeros([1, d]), tf.mul(randomTensor([2, d], 41), 1e-7)], 0);
      const dy = randomTensor([8, d], 42);
      for (const scale of [1, 1 / 0.07]) {
        const f = (t: tf.Tensor) => tf.sum(tf.mul(l2NormalizeOp([t], { scale })[0], dy));
        const fused = tf.valueAndGrad(f)(x);
        const plain = withComposedOps(() => tf.valueAndGrad(f)(x));
        const y = l2NormalizeOp([x], { scale })[0];
        await expectClose(y, withComposedOps(() => l2NormalizeOp([x], { scale })[0]));
        await expectClose(fused.value, plain.value);
        await expectClose(fused.grad, plain.grad, { rtol: 1e-4, atol: 1e-4 * scale });
        // The JavaScript loops on the same values (what cpu runs), to float32
        // rounding, where a kernel runs (webgpu runs the composed form, float32
        // throughout, compared above).
        if (tf.getBackend() === 'webgpu') continue;
        const xv = new Float32Array(await x.data());
        const yRef = new Float32Array(xv.length);
        l2NormalizeHost.fill([xv], [yRef], { scale }, [x.shape]);
        await expectClose(tf.reshape(y, [-1]), Array.from(yRef), { rtol: 1e-6, atol: 1e-6 });
        const gRef = new Float32Array(xv.length);
        l2NormalizeGradHost.fill([new Float32Array(await dy.data()), xv], [gRef], { scale }, [dy.shape, x.shape]);
        const g = l2NormalizeGradOp([dy, x], { scale })[0];
        await expectClose(tf.reshape(g, [-1]), Array.from(gRef), { rtol: 1e-5, atol: 1e-5 * scale });
      }
    }
  });

  it('paired logits, forward and backward, with a zero (clamped) negative', async () => {
    const q = randomTensor([3, 5], 11);
    const n = tf.concat([tf.zeros([3, 1, 5]), randomTensor([3, 3, 5], 14)], 1);
    const fused = pairedLogitsForwardOp([q, n], {});
    const plain = withComposedOps(() => pairedLogitsForwardOp([q, n], {}));
    expect(fused.map((t) => t.shape)).toEqual([[3, 4], [3, 4], [3, 4]]);
    for (let i = 0; i < 3; i++) await expectClose(fused[i], plain[i]);
    expect((await toArray(fused[2]))[0]).toBe(0);
    const ds = randomTensor([3, 4], 15);
    const [dq, dn] = pairedLogitsBackwardOp([ds, q, n, ...fused], {});
    const [dq0, dn0] = withComposedOps(() => pairedLogitsBackwardOp([ds, q, n, ...plain], {}));
    await expectClose(dq, dq0);
    await expectClose(dn, dn0);
  });

  it('symmetrize with n a multiple of 4 (the SIMD loop on wasm), with and without a target', async () => {
    const p = randomTensor([68, 68], 12);
    const g = randomTensor([68], 13);
    for (const targetShift of [undefined, 0, 5]) {
      const attrs = targetShift === undefined ? {} : { targetShift };
      await expectClose(symmetrizeOp([p, g], attrs)[0], withComposedOps(() => symmetrizeOp([p, g], attrs)[0]));
    }
  });

  it('symmetrize: g_i P_ij + g_j P_ji (across tile edges)', async () => {
    const big = randomTensor([67, 67], 9);
    const gBig = randomTensor([67], 10);
    await expectClose(symmetrizeOp([big, gBig], {})[0], withComposedOps(() => symmetrizeOp([big, gBig], {})[0]));
    const p = randomTensor([6, 6], 4);
    const g = randomTensor([6], 5);
    const k = symmetrizeOp([p, g], {})[0];
    await expectClose(k, withComposedOps(() => symmetrizeOp([p, g], {})[0]));
    const [pv, gv, kv] = [await toArray(p), await toArray(g), await toArray(k)];
    expect(kv[1 * 6 + 4]).toBeCloseTo(gv[1] * pv[1 * 6 + 4] + gv[4] * pv[4 * 6 + 1], 5);
  });

  it('SupCon (all views, labels) in D-space per class agrees with the composed path', async () => {
    // A class of one sample (label 7: its views' only positives are each other), three views, unnormalized.
    const f = tf.mul(randomTensor([7, 3, 5], 41), 2);
    const labels = [3, 1, 3, 7, -2, 1, 3];
    for (const options of [{ temperature: 0.3, baseTemperature: 0.2 }, { reduction: 'none' as const }]) {
      const loss = (x: tf.Tensor) => supervisedContrastiveLoss(x, labels, options);
      const fused = tf.valueAndGrad((x: tf.Tensor) => tf.sum(loss(x)))(f);
      const plain = withComposedOps(() => tf.valueAndGrad((x: tf.Tensor) => tf.sum(loss(x)))(f));
      await expectClose(loss(f), withComposedOps(() => loss(f)));
      await expectClose(fused.value, plain.value);
      await expectClose(fused.grad, plain.grad);
    }
    // No labels (each sample its own class): the SimCLR loss.
    const simclr = (x: tf.Tensor) => supervisedContrastiveLoss(x, null, { reduction: 'none' });
    await expectClose(simclr(f), withComposedOps(() => simclr(f)));
    await expectClose(tf.grad((x: tf.Tensor) => tf.sum(simclr(x)))(f), withComposedOps(() => tf.grad((x: tf.Tensor) => tf.sum(simclr(x)))(f)));
    // Single view: an anchor alone in its class contributes 0.
    const one = randomTensor([5, 1, 4], 42);
    const single = (x: tf.Tensor) => supervisedContrastiveLoss(x, [0, 1, 0, 2, 1], { reduction: 'none' });
    await expectClose(single(one), withComposedOps(() => single(one)));
    await expectClose(tf.grad((x: tf.Tensor) => tf.sum(single(x)))(one), withComposedOps(() => tf.grad((x: tf.Tensor) => tf.sum(single(x)))(one)));
    await gradCheck((x) => supervisedContrastiveLoss(x, labels, { temperature: 0.5 }), [f], { eps: 1e-3 });
    expectNoLeak(() => tf.grad((x: tf.Tensor) => supervisedContrastiveLoss(x, labels))(f));
  });

  it('the losses give the same values and gradients with and without fused kernels', async () => {
    const a = randomTensor([6, 4], 6);
    const b = randomTensor([6, 4], 7);
    const losses: [string, (x: tf.Tensor, y: tf.Tensor) => tf.Tensor][] = [
      ['ntXent', (x, y) => ntXent(x, y, { temperature: 0.2 })],
      ['infoNCE', (x, y) => infoNCE(x, y, null, { negativeMask: [1, 0, 1, 1, 1, 0] })],
      ['infoNCE unpaired', (x, y) => infoNCE(x, y, tf.reverse(y, 0))],
      ['infoNCE paired', (x, y) => infoNCE(x, y, tf.stack([tf.reverse(x, 0), tf.reverse(y, 0)], 1), { negativeMode: 'paired' })],
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
