import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, gradCheck, randomTensor } from '@tfjs-losses/test-utils';
import { defineCarriedGradOp, fillKernelFunc, nestedTape, withComposedOps, type FillKernelSpec } from './index';

// A toy carried op: scale · Σ (a − b)², whose kernel also writes
// d/da = 2 · scale · (a − b) and d/db = −d/da while a tape records.
let gradientPasses = 0;
let kernelRuns = 0;
const spec: FillKernelSpec = {
  inputNames: ['a', 'b'],
  outputShapes: ([s], attrs) => (attrs.withGrad ? [[], s, s] : [[], [0], [0]]),
  fill: ([a, b], [out, da, db], attrs) => {
    kernelRuns++;
    const scale = attrs.scale as number;
    const withGrad = attrs.withGrad as boolean;
    if (withGrad) gradientPasses++;
    let s = 0;
    for (let i = 0; i < a.length; i++) {
      const d = a[i] - b[i];
      s += d * d;
      if (withGrad) {
        da[i] = 2 * scale * d;
        db[i] = -2 * scale * d;
      }
    }
    out[0] = s * scale;
  },
};

let composedRuns = 0;
const op = defineCarriedGradOp<{ scale: number }>({
  kernelName: 'TfjsLossesTestCarriedSquares',
  inputNames: ['a', 'b'],
  gradOutputs: [1, 2],
  kernels: { cpu: () => fillKernelFunc('cpu', spec), wasm: () => fillKernelFunc('wasm', spec) },
  composed: ([a, b], { scale }) => {
    composedRuns++;
    return tf.tidy(() => tf.mul(tf.sum(tf.squaredDifference(a, b)), scale));
  },
});

const f = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => op([a, b], { scale: 1.5 })[0];
const host = tf.getBackend() !== 'webgpu';

describe(`defineCarriedGradOp on ${tf.getBackend()}`, () => {
  const a = randomTensor([5, 7], 11);
  const b = randomTensor([5, 7], 12);

  it('runs the kernel on cpu and wasm, the composed form on webgpu and under withComposedOps', () => {
    expect(op.isFused()).toBe(host);
    expect(op.kernelName).toBe('TfjsLossesTestCarriedSquares');
    expect(withComposedOps(() => op.isFused())).toBe(false);
  });

  it('value and gradient agree with the composed form', async () => {
    const fused = tf.valueAndGrads(f)([a, b]);
    const composed = withComposedOps(() => tf.valueAndGrads(f)([a, b]));
    await expectClose(fused.value, composed.value);
    await expectClose(fused.grads[0], composed.grads[0]);
    await expectClose(fused.grads[1], composed.grads[1]);
    tf.dispose([fused.value, ...fused.grads, composed.value, ...composed.grads]);
  });

  it('scales the kept gradients by an upstream gradient other than 1', async () => {
    const g = (x: tf.Tensor, y: tf.Tensor) => tf.mul(f(x, y), -2.5);
    const fused = tf.grads(g)([a, b]);
    const composed = withComposedOps(() => tf.grads(g)([a, b]));
    await expectClose(fused[0], composed[0]);
    await expectClose(fused[1], composed[1]);
    await gradCheck(g, [a, b]);
    if (host) {
      const info = await tf.profile(() => tf.grads(g)([a, b]));
      expect(info.kernelNames).toContain('TfjsLossesCarriedScale');
    }
    tf.dispose([...fused, ...composed]);
  });

  it('hands the kept gradients over without a kernel when the upstream gradient is 1', async () => {
    const grads = tf.grads(f)([a, b]);
    const composed = withComposedOps(() => tf.grads(f)([a, b]));
    await expectClose(grads[0], composed[0]);
    if (host) {
      const info = await tf.profile(() => tf.grads(f)([a, b]));
      // The forward kernel, then reshapes (aliases; Identity keeps the outputs on wasm): no multiply, no scale kernel.
      expect(info.kernelNames.filter((k) => k !== 'Reshape' && k !== 'Identity')).toEqual(['TfjsLossesTestCarriedSquares']);
    }
    tf.dispose([...grads, ...composed]);
  });

  it('the gradient of a sum of two carried losses adds both', async () => {
    const c = randomTensor([5, 7], 13);
    const g = (x: tf.Tensor, y: tf.Tensor) => tf.add(f(x, y), op([x, c], { scale: 0.5 })[0]);
    const fused = tf.valueAndGrads(g)([a, b]);
    const composed = withComposedOps(() => tf.valueAndGrads(g)([a, b]));
    await expectClose(fused.value, composed.value);
    await expectClose(fused.grads[0], composed.grads[0]);
    await expectClose(fused.grads[1], composed.grads[1]);
    await gradCheck(g, [a, b]);
    tf.dispose([fused.value, ...fused.grads, composed.value, ...composed.grads, c]);
  });

  if (host) {
    it('the backward step makes no input-sized zero gradients for the kept outputs', () => {
      // tfjs fills the upstream gradient of every recorded output that leads
      // nowhere with zeros of its size; the kept gradients are recorded as empty.
      let recorded: number[] = [];
      const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) => {
        const value = f(x, y);
        const tape = (tf.engine().state as unknown as { activeTape: { outputs: { id: number; size: number }[] }[] }).activeTape;
        const node = tape.find((n) => n.outputs[0].id === value.id);
        recorded = node ? node.outputs.map((o) => o.size) : [];
        return value;
      })([a, b]);
      expect(recorded).toEqual([1, 0, 0]);
      tf.dispose(grads);
    });
  }

  it('writes gradients only while a tape records', () => {
    const passes = gradientPasses;
    const runs = kernelRuns;
    tf.dispose(f(a, b));
    expect(gradientPasses).toBe(passes);
    expect(kernelRuns).toBe(runs + (host ? 1 : 0));
    tf.dispose(tf.grads(f)([a, b]));
    expect(gradientPasses).toBe(passes + (host ? 1 : 0));
  });

  it('runs the composed form under nested tapes (second order)', async () => {
    let nested = false;
    const h = (x: tf.Tensor) => {
      const runs = composedRuns;
      const gx = tf.grad((y: tf.Tensor) => {
        nested = nestedTape();
        return f(y, b);
      })(x);
      expect(composedRuns).toBe(runs + 1);
      return tf.sum(tf.mul(gx, gx));
    };
    const second = tf.grad(h)(a);
    expect(nested).toBe(true);
    // h = Σ (3 (a − b))², dh/da = 18 (a − b)
    await expectClose(second, tf.mul(tf.sub(a, b), 18), { rtol: 1e-5, atol: 1e-5 });
    tf.dispose(second);
  });

  if (host) {
    it('gives zeros of the shape zeroShape names to an input without a kept gradient', async () => {
      const withWeight = defineCarriedGradOp<{ scale: number; weightLength: number }>({
        kernelName: 'TfjsLossesTestCarriedWeighted',
        inputNames: ['a', 'b', 'w'],
        gradOutputs: [1, 2, 0],
        kernels: { cpu: () => fillKernelFunc('cpu', { ...spec, inputNames: ['a', 'b', 'w'] }), wasm: () => fillKernelFunc('wasm', { ...spec, inputNames: ['a', 'b', 'w'] }) },
        zeroShape: (_i, _kept, { weightLength }) => [weightLength],
        composed: ([x, y], { scale }) => tf.mul(tf.sum(tf.squaredDifference(x, y)), scale),
      });
      const w = tf.tensor1d([1, 2, 3]);
      const grads = tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => withWeight([x, y, z], { scale: 1.5, weightLength: 3 })[0])([a, b, w]);
      const composed = withComposedOps(() => tf.grads(f)([a, b]));
      await expectClose(grads[0], composed[0]);
      await expectClose(grads[1], composed[1]);
      expect(grads[2].shape).toEqual([3]);
      expect(Array.from(await grads[2].data())).toEqual([0, 0, 0]);
      tf.dispose([...grads, ...composed, w]);
    });
  }

  it('leaks nothing', () => {
    expectNoLeak(() => f(a, b));
    expectNoLeak(() => tf.grads(f)([a, b]));
    expectNoLeak(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.mul(f(x, y), 3))([a, b]));
    expectNoLeak(() => withComposedOps(() => tf.grads(f)([a, b])));
  });
});
