import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, gradCheck, randomTensor } from '@tfjs-losses/test-utils';
import { defineFusedOp, hostKernelFunc, withComposedOps, type HostKernel } from './index';

// A toy fused op: y = (a - b)^2 * scale, with kernels for cpu and wasm.
const squaredDiff: HostKernel = ([a, b], attrs) => {
  const scale = (attrs as { scale: number }).scale;
  const out = new Float32Array(a.values.length);
  for (let i = 0; i < out.length; i++) {
    const d = a.values[i] - b.values[i];
    out[i] = d * d * scale;
  }
  return [{ values: out, shape: a.shape, dtype: 'float32' }];
};

const op = defineFusedOp<{ scale: number }>({
  kernelName: 'TfjsLossesTestSquaredDiff',
  inputNames: ['a', 'b'],
  kernels: {
    cpu: () => hostKernelFunc('cpu', ['a', 'b'], squaredDiff),
    wasm: () => hostKernelFunc('wasm', ['a', 'b'], squaredDiff),
  },
  composed: ([a, b], { scale }) => tf.mul(tf.squaredDifference(a, b), scale),
  gradient: ([dy], [a, b], { scale }) => {
    const g = tf.mul(tf.mul(dy, tf.sub(a, b)), 2 * scale);
    return [g, tf.neg(g)];
  },
});

const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(op([a, b], { scale: 1.5 })[0]);

describe(`defineFusedOp on ${tf.getBackend()}`, () => {
  const a = randomTensor([5, 7], 1);
  const b = randomTensor([5, 7], 2);

  it('runs the fused kernel where one is registered and composed ops elsewhere', () => {
    expect(op.isFused()).toBe(tf.getBackend() !== 'webgpu');
    expect(withComposedOps(() => op.isFused())).toBe(false);
  });

  it('fused and composed paths agree in value and gradient', async () => {
    const fused = tf.valueAndGrads(f)([a, b]);
    const composed = withComposedOps(() => tf.valueAndGrads(f)([a, b]));
    await expectClose(fused.value, composed.value);
    await expectClose(fused.grads[0], composed.grads[0]);
    await expectClose(fused.grads[1], composed.grads[1]);
  });

  it('the registered gradient matches finite differences', async () => {
    await gradCheck(f, [a, b]);
  });

  it('leaks nothing on either path', () => {
    expectNoLeak(() => tf.grads(f)([a, b]));
    expectNoLeak(() => withComposedOps(() => tf.grads(f)([a, b])));
  });
});
