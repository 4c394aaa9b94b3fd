// The wasm backend's SIMD sigmoid focal kernel (sigmoid-focal.simd.ts and
// sigmoid-focal.wasm.ts) against the JavaScript kernel: hard and soft
// targets, both alpha conventions, logits up to |x| = 1000, tails, and the
// fallbacks (infinite logits, a bad target, gamma other than 2).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { wasmBackendMemory } from '@tfjs-losses/core';
import { expectClose, seededRandom } from '@tfjs-losses/test-utils';
import { sigmoidFocalSumFill } from './sigmoid-focal.cpu';
import { sigmoidFocalSumOp } from './sigmoid-focal.kernel';
import { sigmoidFocalSimd } from './sigmoid-focal.simd';

/** Logits in [-12, 12] with some far out (±40, ±800), targets mostly 0 or 1 with some soft ones. */
function inputs(n: number, seed: number): [Float32Array, Float32Array] {
  const r = seededRandom(seed);
  const x = new Float32Array(n);
  const t = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = 24 * r() - 12;
    const kind = r();
    t[i] = kind < 0.7 ? 0 : kind < 0.9 ? 1 : r();
    if (i % 17 === 3) x[i] = i % 2 ? 40 : -40;
    if (i % 29 === 5) x[i] = i % 2 ? 800 : -800;
  }
  x[0] = 0;
  return [x, t];
}

/** The kernel's outputs on the current backend: sum, bad index, d/dx, d/dt (with the gradient). */
async function kernel(x: Float32Array, t: Float32Array, alpha: number, gamma: number): Promise<[number, number | null, Float32Array, Float32Array]> {
  const divisor = 7;
  const xs = tf.tensor(x);
  const ts = tf.tensor(t);
  const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => sigmoidFocalSumOp([a, b], { alpha, gamma, divisor })[0] as tf.Scalar)([xs, ts]);
  // Where no kernel runs (webgpu) the op returns the value alone: no bad-target index.
  const [, bad] = sigmoidFocalSumOp([xs, ts], { alpha, gamma, divisor });
  const out: [number, number | null, Float32Array, Float32Array] = [
    (await value.data())[0],
    bad === undefined ? null : (await bad.data())[0],
    (await grads[0].data()) as Float32Array,
    (await grads[1].data()) as Float32Array,
  ];
  tf.dispose([xs, ts, value, bad, ...grads]);
  return out;
}

/** The JavaScript kernel's outputs on plain arrays. */
function reference(x: Float32Array, t: Float32Array, alpha: number, gamma: number): [number, number, Float32Array, Float32Array] {
  const outs: [Float32Array, Int32Array, Float32Array, Float32Array] = [new Float32Array(1), new Int32Array(1), new Float32Array(x.length), new Float32Array(x.length)];
  sigmoidFocalSumFill([x, t], outs, { alpha, gamma, divisor: 7, withGrad: true });
  return [outs[0][0], outs[1][0], outs[2], outs[3]];
}

// On wasm these compare the SIMD kernel with the JavaScript one; on the other
// backends their own kernels (the same JavaScript on cpu, WGSL on webgpu).
const wasm = tf.getBackend() === 'wasm';
const rtol = wasm ? 1e-6 : 1e-4;
const atol = wasm ? 1e-12 : 1e-9;
/** The kernel reports the first bad target's index on cpu and wasm; elsewhere the loss checks targets itself. */
const reportsBadIndex = tf.getBackend() === 'cpu' || wasm;

describe(`sigmoid focal summing kernel on ${tf.getBackend()} against the JavaScript kernel`, () => {
  if (wasm) {
    it('assembles on the wasm backend memory', () => {
      expect(sigmoidFocalSimd(wasmBackendMemory())).not.toBeNull();
    });
  }

  it.each([
    [1001, 0.25, 2],
    [64, -1, 2],
    [19, 0.6, 2],
    [40, 0.25, 1.5],
  ])('agrees with the JavaScript kernel: %i elements, alpha %f, gamma %f', async (n, alpha, gamma) => {
    const [x, t] = inputs(n, n);
    const [sum, bad, dx, dt] = await kernel(x, t, alpha, gamma);
    const [rSum, rBad, rDx, rDt] = reference(x, t, alpha, gamma);
    expect(bad).toBe(reportsBadIndex ? rBad : null);
    await expectClose(tf.scalar(sum), rSum, { rtol });
    await expectClose(tf.tensor(dx), Array.from(rDx), { rtol, atol });
    await expectClose(tf.tensor(dt), Array.from(rDt), { rtol, atol });
  });

  // (The composed ops of webgpu give other limits at infinite logits: this is about the cpu and wasm kernels.)
  if (reportsBadIndex) it('falls back to the JavaScript kernel for infinite logits and reports a bad target', async () => {
    const [x, t] = inputs(48, 3);
    x[9] = Infinity;
    x[10] = -Infinity;
    const [sum, , dx, dt] = await kernel(x, t, 0.25, 2);
    const [rSum, , rDx, rDt] = reference(x, t, 0.25, 2);
    await expectClose(tf.scalar(sum), rSum);
    await expectClose(tf.tensor(dx), Array.from(rDx));
    await expectClose(tf.tensor(dt), Array.from(rDt));
    const [x2, t2] = inputs(48, 4);
    t2[21] = 1.5;
    expect((await kernel(x2, t2, 0.25, 2))[1]).toBe(reportsBadIndex ? 21 : null);
  });
});
