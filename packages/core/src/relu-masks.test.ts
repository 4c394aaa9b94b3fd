import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, randomTensor } from '@tfjs-losses/test-utils';
import { GEMM_KERNEL, withReluMasksOffTape, withStockGradient } from './index';

// A WGAN-GP-shaped objective: critic scores plus the squared input-gradient
// norm of a ReLU MLP, differentiated with respect to the weights.
function objective(x: tf.Tensor2D, w1: tf.Variable, w2: tf.Variable, offTape: boolean): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const critic = (v: tf.Tensor): tf.Tensor => tf.sum(tf.matMul(tf.relu(tf.matMul(v, w1)), w2));
  const penalty = () => tf.sum(tf.square(tf.grad(critic)(x)));
  return tf.variableGrads(() => tf.add(critic(x), offTape ? withReluMasksOffTape(penalty) : penalty()) as tf.Scalar, [w1, w2]);
}

// Products: tfjs's kernel, or core's gemm kernel (the gradients' products on wasm).
async function profiled(fn: () => { value: tf.Scalar; grads: tf.NamedTensorMap }) {
  let out = { value: tf.scalar(0), grads: {} as tf.NamedTensorMap };
  const info = await tf.profile(() => {
    out.value.dispose();
    out = fn();
    return [out.value, ...Object.values(out.grads)];
  });
  return { ...out, matMuls: info.kernels.filter((k) => k.name === 'BatchMatMul' || k.name === GEMM_KERNEL).length };
}

describe(`ReLU gradient masks on ${tf.getBackend()}`, () => {
  const x = randomTensor([6, 5], 21) as tf.Tensor2D;
  const w1 = tf.variable(randomTensor([5, 7], 22), true, 'reluMaskW1');
  const w2 = tf.variable(randomTensor([7, 1], 23), true, 'reluMaskW2');

  it("by default the gradient is tfjs's own (same values, same kernels)", async () => {
    const ours = await profiled(() => objective(x, w1, w2, false));
    const stock = await profiled(() => withStockGradient('Relu', () => objective(x, w1, w2, false)));
    await expectClose(ours.value, stock.value);
    await expectClose(ours.grads[w1.name], stock.grads[w1.name]);
    await expectClose(ours.grads[w2.name], stock.grads[w2.name]);
    expect(ours.matMuls).toBe(stock.matMuls);
    tf.dispose([ours.value, stock.value, ...Object.values(ours.grads), ...Object.values(stock.grads)]);
  });

  it('withReluMasksOffTape: same values and gradients, one matMul fewer', async () => {
    const off = await profiled(() => objective(x, w1, w2, true));
    const on = await profiled(() => objective(x, w1, w2, false));
    await expectClose(off.value, on.value);
    await expectClose(off.grads[w1.name], on.grads[w1.name]);
    await expectClose(off.grads[w2.name], on.grads[w2.name]);
    expect(off.matMuls).toBe(on.matMuls - 1);
    tf.dispose([off.value, on.value, ...Object.values(off.grads), ...Object.values(on.grads)]);
    expectNoLeak(() => {
      const r = objective(x, w1, w2, true);
      return [r.value, ...Object.values(r.grads)];
    });
  });

  it('a second derivative through a lone ReLU is zero by default, as in PyTorch', async () => {
    const v = tf.tensor1d([-1.5, 0.5, 2]);
    const second = tf.grad((u: tf.Tensor) => tf.sum(tf.grad((z: tf.Tensor) => tf.sum(tf.relu(z)))(u)))(v);
    expect(await second.data()).toEqual(new Float32Array([0, 0, 0]));
    second.dispose();
  });
});
