import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { wasmBackendMemory, withComposedOps } from '@tfjs-losses/core';
import { expectClose, expectNoLeak, gradCheck, randomTensor, seededRandom } from '@tfjs-losses/test-utils';
import { meanDistanceFill, meanDistanceGradFill } from './distance.cpu';
import { simdDistance, type DistanceKind } from './distance.simd';
import { meanDistance, meanDistance2, type CycleDistance } from './mean-distance.kernel';

const OPTIONS: [CycleDistance, number][] = [['l1', 1], ['l2', 1], ['smoothL1', 0.5], ['smoothL1', 0]];

/** float64 references of the sum and of the gradient's element for d = a - b (float32). */
function refTerm(kind: DistanceKind, d: number, beta: number): number {
  const ad = Math.abs(d);
  if (kind === 'l1') return ad;
  if (kind === 'l2') return d * d;
  return ad < beta ? (0.5 * ad * ad) / beta : ad - 0.5 * beta;
}
function refSlope(kind: DistanceKind, d: number, beta: number): number {
  if (kind === 'l1') return Math.sign(d);
  if (kind === 'l2') return 2 * d;
  return Math.min(Math.max(d / beta, -1), 1);
}

describe('SIMD distance loops (a module of its own memory)', () => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const simd = simdDistance(memory);

  it('instantiate where WebAssembly SIMD exists (Node 20 has it)', () => {
    expect(simd).not.toBeNull();
  });

  for (const kind of ['l1', 'l2', 'smooth'] as DistanceKind[]) {
    it(`${kind}: sums and gradients equal float64 references for every remainder of n / 4`, () => {
      const rand = seededRandom(kind.length);
      const beta = 0.4;
      for (const n of [0, 1, 3, 4, 5, 8, 11, 257]) {
        const a = new Float32Array(memory.buffer, 0, n);
        const b = new Float32Array(memory.buffer, 4096, n);
        const da = new Float32Array(memory.buffer, 8192, n);
        const db = new Float32Array(memory.buffer, 12288, n);
        for (let i = 0; i < n; i++) {
          a[i] = rand() * 4 - 2;
          b[i] = i % 5 === 0 ? a[i] : i % 7 === 0 ? a[i] + beta : rand() * 4 - 2; // exact matches and |d| = beta
        }
        const n4 = n >> 2;
        let sum = 0;
        for (let i = 0; i < 4 * n4; i++) sum += refTerm(kind, Math.fround(a[i] - b[i]), beta);
        const got = simd!.sum(kind, a.byteOffset, b.byteOffset, n4, beta);
        expect(Math.abs(got - sum)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(sum)));
        da.fill(7);
        db.fill(7);
        simd!.grad(kind, a.byteOffset, b.byteOffset, da.byteOffset, db.byteOffset, n4, 0.3, beta);
        for (let i = 0; i < n; i++) {
          const want = i < 4 * n4 ? Math.fround(0.3 * refSlope(kind, Math.fround(a[i] - b[i]), beta)) : 7;
          // float32 rounding (2^-23 relative) of a product computed in another order
          const tol = 2.4e-7 * Math.max(1, Math.abs(want));
          expect(Math.abs(da[i] - want)).toBeLessThanOrEqual(tol);
          expect(Math.abs(db[i] - (i < 4 * n4 ? -want : 7))).toBeLessThanOrEqual(tol);
        }
      }
    });
  }

  it('the fills give the same results with and without the SIMD loops (tails in JavaScript)', () => {
    for (const [distance, beta] of OPTIONS) {
      const attrs = { distance, beta, weights: [2, 0.5] } as unknown as tf.NamedAttrMap;
      const sizes = [13, 6];
      const views = (base: number, n: number) => new Float32Array(memory.buffer, base, n);
      const ins = [views(0, 13), views(256, 13), views(512, 6), views(768, 6)];
      const rand = seededRandom(3);
      ins.forEach((v) => v.forEach((_, i) => (v[i] = rand() * 2 - 1)));
      const outs = [views(1024, 13), views(1280, 13), views(1536, 6), views(1792, 6)];
      const plainIns = ins.map((v) => Float32Array.from(v));
      const plainOuts = sizes.flatMap((n) => [new Float32Array(n), new Float32Array(n)]);
      const v1 = new Float32Array(1);
      const v2 = new Float32Array(1);
      meanDistanceFill(simd)(ins, [v1], attrs);
      meanDistanceFill(null)(plainIns, [v2], attrs);
      expect(Math.abs(v1[0] - v2[0])).toBeLessThanOrEqual(1e-6 * Math.abs(v2[0]));
      meanDistanceGradFill(simd)([...ins, Float32Array.of(1.5)], outs, attrs);
      meanDistanceGradFill(null)([...plainIns, Float32Array.of(1.5)], plainOuts, attrs);
      outs.forEach((o, k) => o.forEach((x, i) => expect(Math.abs(x - plainOuts[k][i])).toBeLessThanOrEqual(2.4e-7 * Math.max(1, Math.abs(x)))));
    }
  });
});

describe('mean-distance ops', () => {
  if (tf.getBackend() === 'wasm') {
    it('wasm runs the SIMD loops in the backend heap', () => {
      const memory = wasmBackendMemory();
      expect(memory).not.toBeNull();
      expect(simdDistance(memory!)).not.toBeNull();
    });
  }

  // Sizes with remainders mod 4, exact matches and |d| = beta.
  const a = tf.concat([randomTensor([37], 21, -2, 2), tf.tensor([0.5, 1, -1])]);
  const b = tf.concat([randomTensor([37], 22, -2, 2), tf.tensor([0.5, 1.5, -0.5])]);
  const c = randomTensor([2, 3, 3], 23);
  const d = randomTensor([2, 3, 3], 24);

  for (const [distance, beta] of OPTIONS) {
    it(`${distance} (beta ${beta}): one and two pairs, fused and composed agree on values and gradients`, async () => {
      const one = (x: tf.Tensor, y: tf.Tensor) => meanDistance(x, y, distance, beta, 2.5);
      const two = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor, w: tf.Tensor) => meanDistance2(x, y, z, w, distance, beta, 3, 0.5);
      for (const [f, xs] of [[one, [a, b]], [two, [a, b, c, d]]] as [(...t: tf.Tensor[]) => tf.Tensor, tf.Tensor[]][]) {
        const fused = tf.valueAndGrads(f)(xs);
        const composed = withComposedOps(() => tf.valueAndGrads(f)(xs));
        await expectClose(fused.value, composed.value);
        for (let i = 0; i < xs.length; i++) await expectClose(fused.grads[i], composed.grads[i]);
      }
    });
  }

  it('passes a finite-difference check on all four inputs', async () => {
    const xs = [randomTensor([5], 31), randomTensor([5], 32), randomTensor([2, 3], 33), randomTensor([2, 3], 34)];
    for (const [distance, beta] of OPTIONS) await gradCheck((x, y, z, w) => meanDistance2(x, y, z, w, distance, beta, 2, 0.5), xs);
  });

  it('differentiates twice with weights (the backward pass switches to tfjs ops)', async () => {
    // L = 3 mean((a - b)^2) + 0.5 mean((c - d)^2); dL/da = 6 (a - b) / N; d/da sum((dL/da)^2) = 72 (a - b) / N^2.
    const n = a.size;
    for (const run of [(g: () => tf.Tensor) => g(), withComposedOps]) {
      const g = run(() => tf.grad((x: tf.Tensor) => tf.sum(tf.square(tf.grad((q: tf.Tensor) => meanDistance2(q, b, c, d, 'l2', 1, 3, 0.5))(x))))(a));
      await expectClose(g, tf.mul(tf.sub(a, b), 72 / (n * n)));
    }
  });

  // The fused kernels (cpu, wasm); tfjs-webgpu's Sum cannot reduce an empty tensor.
  if (tf.getBackend() !== 'webgpu') {
    it('an empty pair adds 0 and gets empty gradients', async () => {
      const e = tf.tensor([], [0]);
      const f = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor, w: tf.Tensor) => meanDistance2(x, y, z, w, 'l1', 1, 1, 1);
      const fused = tf.valueAndGrads(f)([a, b, e, e]);
      const composed = withComposedOps(() => tf.valueAndGrads(f)([a, b, e, e]));
      await expectClose(fused.value, composed.value);
      await expectClose(fused.grads[0], composed.grads[0]);
      expect(fused.grads[2].shape).toEqual([0]);
    });
  }

  it('leaks no tensors', () => {
    const f = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor, w: tf.Tensor) => meanDistance2(x, y, z, w, 'smoothL1', 0.5, 1, 2);
    expectNoLeak(() => tf.valueAndGrads(f)([a, b, c, d]));
    expectNoLeak(() => withComposedOps(() => tf.valueAndGrads(f)([a, b, c, d])));
    expectNoLeak(() => tf.valueAndGrads((x: tf.Tensor, y: tf.Tensor) => meanDistance(x, y, 'l1', 1, 2))([a, b]));
  });
});
