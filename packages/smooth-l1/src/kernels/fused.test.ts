import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { wasmBackendMemory, withComposedOps } from '@tfjs-losses/core';
import { expectClose, expectNoLeak, gradCheck, loadFixture, seededRandom, toArray } from '@tfjs-losses/test-utils';
import { balancedL1Loss, DynamicSmoothL1Loss, SelfAdjustingSmoothL1Loss, smoothL1Loss } from '../index';
import { balancedL1Op, balancedL1SumOp } from './balanced-l1.kernel';
import { packStats, selfAdjustingStatsOp } from './self-adjusting-stats.kernel';
import { balancedL1Sum } from './balanced-l1.cpu';
import { balancedL1Simd } from './balanced-l1.simd';
import { smoothL1Grad, smoothL1Sum } from './smooth-l1.cpu';
import { smoothL1CarriedSumOp, smoothL1GradOp, smoothL1Op, smoothL1SumOp } from './smooth-l1.kernel';
import { smoothL1Simd } from './smooth-l1.simd';

/** pred, target with exact ties (d = 0 and |d| = each beta) among random values. */
function inputs(rows: number, cols: number, seed: number, betas: number[]): [tf.Tensor, tf.Tensor] {
  const r = seededRandom(seed);
  const n = rows * cols;
  const p = new Float32Array(n);
  const t = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    t[i] = 4 * r() - 2;
    p[i] = 4 * r() - 2;
  }
  p[0] = t[0];
  betas.forEach((b, j) => {
    t[1 + 2 * j] = 0;
    p[1 + 2 * j] = b;
    t[2 + 2 * j] = 0;
    p[2 + 2 * j] = -b;
  });
  return [tf.tensor(p, [rows, cols]), tf.tensor(t, [rows, cols])];
}

type Loss = (p: tf.Tensor, t: tf.Tensor) => tf.Tensor;

/** Value, first-order gradients and a second-order gradient, fused vs composed. */
async function compare(f: Loss, p: tf.Tensor, t: tf.Tensor, secondOrder = true): Promise<void> {
  const run = () => {
    const { value, grads } = tf.valueAndGrads(f)([p, t]);
    // d/dpred of sum(dL/dpred · c) for a fixed c: exercises the gradient kernel's gradient.
    // Ties pred == target are masked out of it: there the composed ops give 0 and the
    // fused kernel PyTorch's value (tested separately below).
    const c = tf.mul(tf.reshape(tf.linspace(-1, 1, p.size), p.shape), tf.cast(tf.notEqual(p, t), 'float32'));
    const second = secondOrder ? tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.grad((y: tf.Tensor) => f(y, t))(x), c)))(p) : tf.zeros(p.shape);
    return [value, grads[0], grads[1], second];
  };
  const fused = run();
  const composed = withComposedOps(run);
  for (let i = 0; i < fused.length; i++) await expectClose(fused[i], composed[i]);
}

describe(`fused kernels on ${tf.getBackend()}`, () => {
  it('run on this backend', () => {
    expect(smoothL1Op.isFused()).toBe(true);
    expect(balancedL1Op.isFused()).toBe(true);
    expect(withComposedOps(() => smoothL1Op.isFused())).toBe(false);
    // The one-kernel sums exist for the host backends only; the statistics update on all three.
    const host = tf.getBackend() !== 'webgpu';
    expect(smoothL1SumOp.isFused()).toBe(host);
    expect(balancedL1SumOp.isFused()).toBe(host);
    expect(selfAdjustingStatsOp.isFused()).toBe(true);
  });

  it('self-adjusting statistics update: kernel, composed ops and a float64 computation agree', async () => {
    for (const [shape, momentum, betaMax] of [
      [[7, 4], 0.9, 0.11],
      [[2, 3, 2], 0.25, 2],
      [[2, 1], 0, 0.5],
      [[5, 3], 1, 1],
      [[6, 2], 0.5, 5e-4],
      [[7, 2], 0.6, 1],
      [[9, 1], 0.3, 0.2],
      [[33, 4], 0.9, 0.5],
      // more rows than the WebGPU kernel's 256 row chunks, with uneven chunks
      [[1000, 3], 0.9, 1],
      [[300, 2, 4], 0.5, 2],
    ] as [number[], number, number][]) {
      const c = shape[shape.length - 1];
      const [p, t] = inputs(shape.slice(0, -1).reduce((a, b) => a * b, 1), c, shape.length, []);
      const pr = tf.reshape(p, shape);
      const tr = tf.reshape(t, shape);
      const oldMean = Array.from({ length: c }, (_, j) => 0.2 + 0.3 * j);
      const oldVar = Array.from({ length: c }, (_, j) => 0.05 * j);
      const old = packStats(tf.tensor1d(oldMean), tf.tensor1d(oldVar), betaMax);
      const fused = selfAdjustingStatsOp([pr, tr, old], { momentum, betaMax })[0];
      const composed = withComposedOps(() => selfAdjustingStatsOp([pr, tr, old], { momentum, betaMax })[0]);
      expect(fused.shape).toEqual([3, c]);
      await expectClose(fused, composed);
      const pv = await toArray(pr);
      const tv = await toArray(tr);
      const rows = pv.length / c;
      const expected: number[][] = [[], [], []];
      for (let j = 0; j < c; j++) {
        const col = Array.from({ length: rows }, (_, i) => Math.abs(pv[i * c + j] - tv[i * c + j]));
        const m = col.reduce((a, b) => a + b, 0) / rows;
        const v = col.reduce((a, b) => a + (b - m) ** 2, 0) / (rows - 1);
        const mu = momentum * oldMean[j] + (1 - momentum) * m;
        const s2 = momentum * oldVar[j] + (1 - momentum) * v;
        expected[0].push(mu);
        expected[1].push(s2);
        expected[2].push(Math.min(Math.max(mu - s2, 1e-3), betaMax));
      }
      await expectClose(fused, expected);
    }
  });

  it('self-adjusting statistics update: a NaN batch variance leaves the statistics unchanged', async () => {
    const old = packStats(tf.tensor1d([0.3, 0.4]), tf.tensor1d([0.01, 0.02]), 0.11);
    const p = tf.tensor([[Infinity, 0], [1, 2], [0.5, 0.25]]);
    const fused = selfAdjustingStatsOp([p, tf.zerosLike(p), old], { momentum: 0.9, betaMax: 0.11 })[0];
    const composed = withComposedOps(() => selfAdjustingStatsOp([p, tf.zerosLike(p), old], { momentum: 0.9, betaMax: 0.11 })[0]);
    await expectClose(fused, old);
    await expectClose(composed, old);
  });

  if (tf.getBackend() === 'wasm') {
    it('wasm: the SIMD loops agree with the JavaScript loops (one beta, 2 and 4 columns, tails, ties, inf, NaN)', async () => {
      expect(smoothL1Simd(wasmBackendMemory())).not.toBeNull();
      for (const [rows, cols, betas] of [
        [37, 1, [0.5]],
        [19, 2, [0.25, 2]],
        [23, 4, [0.1, 1, 0.05, 3]],
        [9, 3, [1]],
        // every beta in [2^-62, 1]: the sum takes sumClamped
        [41, 4, [0.125, 1, 2 ** -60, 0.3]],
        [13, 2, [1, 0.0625]],
      ] as [number, number, number[]][]) {
        const [p, t] = inputs(rows, cols, 21 + cols, betas);
        const pv = new Float32Array(await p.data());
        pv[3] = Infinity;
        pv[17] = NaN; // inside the SIMD blocks: a NaN gradient, not a clamped one
        pv[18] = -0;
        const tv = new Float32Array(await t.data());
        const pi = tf.tensor(pv, [rows, cols]);
        const beta = tf.tensor1d(betas);
        const dy = tf.scalar(0.375);
        const sum = smoothL1SumOp([pi, t, beta], { divisor: 1 })[0];
        const [gp, gt] = smoothL1GradOp([dy, pi, t, beta], {});
        const refSum = new Float32Array(1);
        smoothL1Sum.fill([pv, tv, Float32Array.from(betas)], [refSum], { divisor: 1 }, []);
        const refP = new Float32Array(pv.length);
        const refT = new Float32Array(pv.length);
        smoothL1Grad.fill([Float32Array.of(0.375), pv, tv, Float32Array.from(betas)], [refP, refT], {}, []);
        await expectClose(sum, refSum[0]);
        await expectClose(tf.reshape(gp, [-1]), Array.from(refP));
        await expectClose(tf.reshape(gt, [-1]), Array.from(refT));
        // Finite part of the sum too (the inf above makes the total inf).
        const finite = smoothL1SumOp([p, t, beta], { divisor: 1 })[0];
        const refFinite = new Float32Array(1);
        smoothL1Sum.fill([new Float32Array(await p.data()), tv, Float32Array.from(betas)], [refFinite], { divisor: 1 }, []);
        await expectClose(finite, refFinite[0]);
      }
      // Balanced L1's gradient from stored slopes (SIMD scale loop), with a tail of 1 element.
      const [p3, t3] = inputs(7, 3, 31, [1]);
      await compare((a, b) => balancedL1Loss(a, b), p3, t3);
    });

    it('wasm: the clamped SIMD sum (betas up to 1) agrees with the JavaScript sum to float32 rounding, and its guards hold', async () => {
      const simd = smoothL1Simd(wasmBackendMemory());
      expect(simd).not.toBeNull();
      for (const [betas, spread] of [
        [[1], 3],
        [[0.5, 0.125], 0.6],
        [[0.11, 1, 0.3, 0.7], 2],
        [[2 ** -62], 1e-17],
      ] as [number[], number][]) {
        const rows = 4099;
        const cols = 4;
        const rand = seededRandom(7 + betas.length);
        const pv = Float32Array.from({ length: rows * cols }, () => (rand() * 2 - 1) * spread);
        const tv = Float32Array.from({ length: rows * cols }, () => (rand() * 2 - 1) * spread);
        const b = Float32Array.from(betas);
        const got = smoothL1SumOp([tf.tensor(pv, [rows, cols]), tf.tensor(tv, [rows, cols]), tf.tensor1d(betas)], { divisor: 1 })[0];
        const ref = new Float32Array(1);
        smoothL1Sum.fill([pv, tv, b], [ref], { divisor: 1 }, []);
        await expectClose(got, ref[0], { rtol: 2e-6, atol: 0 });
      }
      // Direct calls: for power-of-two betas each term is beta times PyTorch's
      // float32 loss, so the clamped sum equals the compare-and-select sum
      // (the same float32 terms in the same order) on these inputs.
      const n = 1 << 12;
      const p = tf.randomUniform([n], -3, 3, 'float32', 11);
      const t = tf.randomUniform([n], -3, 3, 'float32', 12);
      const be = tf.backend() as unknown as { typedArrayFromHeap(x: tf.Tensor): Float32Array };
      const [pa, ta] = [be.typedArrayFromHeap(p).byteOffset, be.typedArrayFromHeap(t).byteOffset];
      for (const beta of [1, 0.5, 0.0625]) {
        expect(simd!.sumClamped(pa, ta, n >> 4, beta, beta, beta, beta)).toBe(simd!.sum(pa, ta, n >> 4, beta, beta, beta, beta));
      }
      tf.dispose([p, t]);
    });

    it('wasm: the carried sum (one SIMD pass for the value and both gradients) agrees with the two-pass kernels', async () => {
      for (const [rows, cols, betas] of [
        [257, 4, [1]],
        [130, 4, [0.5, 0.125, 1, 0.0625]],
        [77, 2, [0.3, 0.11]],
        [61, 4, [1, 2, 0.5, 3]], // betas above 1: the two passes
        [5, 3, [1]], // three columns: the JavaScript loops
      ] as [number, number, number[]][]) {
        const [p0, t] = inputs(rows, cols, 50 + rows, betas);
        const pv = new Float32Array(await p0.data());
        if (pv.length > 40) {
          pv[33] = Infinity;
          pv[34] = NaN;
          pv[35] = -0;
        }
        const p = tf.tensor(pv, [rows, cols]);
        const beta = tf.tensor1d(betas);
        for (const divisor of [1, rows * cols, 3]) {
          const attrs = { divisor, betaLength: betas.length };
          // value and both gradients for dy = 1 (handed over) and dy = 2.5 (scaled)
          for (const dy of [1, 2.5]) {
            const f = (a: tf.Tensor, b: tf.Tensor) => tf.mul(smoothL1CarriedSumOp([a, b, beta], attrs)[0], dy) as tf.Scalar;
            const got = tf.valueAndGrads(f)([p, t]);
            const want = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => tf.mul(smoothL1SumOp([a, b, beta], { divisor })[0], dy) as tf.Scalar)([p, t]);
            await expectClose(got.value, want.value, { rtol: 2e-6, atol: 0 });
            await expectClose(got.grads[0], want.grads[0], { rtol: 1e-6, atol: 0 });
            await expectClose(got.grads[1], want.grads[1], { rtol: 1e-6, atol: 0 });
          }
        }
      }
      // The carried kernel runs, and no separate gradient kernel.
      const [p, t] = inputs(64, 4, 70, [1]);
      const { kernels } = await tf.profile(() => {
        const r = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => smoothL1Loss(a, b) as tf.Scalar)([p, t]);
        return [r.value, ...r.grads];
      });
      const names = kernels.map((k) => k.name);
      expect(names).toContain('TfjsLossesSmoothL1SumCarried');
      expect(names).not.toContain('TfjsLossesSmoothL1Grad');
      expectNoLeak(() => {
        const r = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => smoothL1Loss(a, b) as tf.Scalar)([p, t]);
        return [r.value, ...r.grads];
      });
    });

    it('wasm: Balanced L1 sum and slopes from the SIMD loops agree with the JavaScript loops (tiny and tied differences, tails, inf)', async () => {
      expect(balancedL1Simd(wasmBackendMemory())).not.toBeNull();
      for (const [n, alpha, gamma, beta] of [
        [1003, 0.5, 1.5, 1],
        [998, 0.25, 2, 0.3],
        [64, 1, 1, 2.5],
      ]) {
        const [p, t] = inputs(n, 1, 40 + n, [beta]);
        const pv = new Float32Array(await p.data());
        const tv = new Float32Array(await t.data());
        // differences from 1e-30 to 1e-3, where the loss is a difference of nearly equal terms
        for (let i = 10; i < 40; i++) pv[i] = tv[i] + 10 ** (-30 + i - 10) * (i % 2 ? 1 : -1);
        for (const withInf of [false, true]) {
          if (withInf) pv[20] = Infinity;
          const attrs = { alpha, gamma, beta, divisor: 1 };
          for (const withSlope of [true, false]) {
            const [sum, slope] = balancedL1SumOp([tf.tensor(pv), tf.tensor(tv)], { ...attrs, withSlope });
            const refSum = new Float32Array(1);
            const refSlope = new Float32Array(withSlope ? n : 0);
            balancedL1Sum.fill([pv, tv], [refSum, refSlope], { ...attrs, withSlope }, []);
            await expectClose(sum, refSum[0], { rtol: 1e-7 });
            await expectClose(slope, Array.from(refSlope), { rtol: 1e-7, atol: 0 });
          }
        }
      }
    });
  }

  it('non-finite differences: fused and composed agree (values and gradients)', async () => {
    // (NaN only in the values: tfjs's composed gradients at NaN differ between backends.)
    const p = tf.tensor([[Infinity, -Infinity, 0.5, 2], [1, 0, -0.25, 3]]);
    const t = tf.tensor([[0, 1, 0, 0], [0, 0, 0, Infinity]]);
    const withNaN = tf.tensor([[Infinity, -Infinity, 0.5, 2], [NaN, 0, -0.25, 3]]);
    for (const f of [
      (a: tf.Tensor, b: tf.Tensor) => smoothL1Loss(a, b, { reduction: 'none' }),
      (a: tf.Tensor, b: tf.Tensor) => balancedL1Loss(a, b, { reduction: 'none' }),
    ]) {
      const run = () => {
        const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => tf.sum(f(a, b)))([p, t]);
        return [f(withNaN, t), value, ...grads];
      };
      const fused = run();
      const composed = withComposedOps(run);
      for (let i = 0; i < fused.length; i++) await expectClose(fused[i], composed[i]);
    }
    // The one-kernel sums ('mean', 'sum') take a second, exact pass for a non-finite total.
    for (const f of [smoothL1Loss, balancedL1Loss]) {
      for (const [a, b] of [[p, t], [withNaN, t], [tf.tensor([Infinity, 1]), tf.tensor([0, 0])]]) {
        const fused = f(a, b, { reduction: 'sum' });
        await expectClose(fused, withComposedOps(() => f(a, b, { reduction: 'sum' })));
      }
    }
  });

  for (const beta of [0, 0.5, 1, 2]) {
    it(`smoothL1Loss: fused and composed agree (value, gradients, second order), beta ${beta}`, async () => {
      const [p, t] = inputs(9, 4, 1 + beta, beta > 0 ? [beta] : []);
      await compare((a, b) => smoothL1Loss(a, b, { beta }), p, t, beta > 0);
      await compare((a, b) => smoothL1Loss(a, b, { beta, reduction: 'sum', weights: [1, 0.5, 0, 2] }), p, t, false);
      await compare((a, b) => tf.sum(tf.mul(smoothL1Loss(a, b, { beta, reduction: 'none' }), tf.reshape(tf.linspace(0, 1, 36), [9, 4]))), p, t, false);
    });
  }

  it('smoothL1Loss fused: pred == target gives gradient 0 for beta 0 and 1', async () => {
    const x = tf.tensor([[1, -2, 0, 3]]);
    for (const beta of [0, 1]) {
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => smoothL1Loss(a, b, { beta }))([x, x]);
      expect(await toArray(g[0])).toEqual([0, 0, 0, 0]);
      expect(await toArray(g[1])).toEqual([0, 0, 0, 0]);
    }
  });

  it('second order at a tie follows PyTorch (smooth L1: 1 / beta; balanced L1: 0)', async () => {
    // torch 1.13, float64 on the float32 inputs: d²/dx² of sum(loss) at x = [0, 0.3, -2], target 0.
    const x = tf.tensor([0, 0.3, -2]);
    const t = tf.zeros([3]);
    const second = (f: Loss) => tf.grad((y: tf.Tensor) => tf.sum(tf.grad((z: tf.Tensor) => f(z, t))(y)))(x);
    await expectClose(second((a, b) => smoothL1Loss(a, b, { beta: 0.5, reduction: 'sum' })), [2, 2, 0]);
    await expectClose(second((a, b) => balancedL1Loss(a, b, { reduction: 'sum' })), [0, 1.4188595038596996, 0]);
  });

  for (const [alpha, gamma, beta] of [[0.5, 1.5, 1], [0.25, 1, 0.5], [1, 2, 2]]) {
    it(`balancedL1Loss: fused and composed agree (value, gradients, second order), alpha ${alpha}, gamma ${gamma}, beta ${beta}`, async () => {
      const [p, t] = inputs(9, 4, 3 + beta, [beta]);
      await compare((a, b) => balancedL1Loss(a, b, { alpha, gamma, beta }), p, t);
      await compare((a, b) => balancedL1Loss(a, b, { alpha, gamma, beta, reduction: 'sum', weights: tf.tensor([[1], [2], [0], [1], [1], [1], [3], [1], [0.5]]) }), p, t, false);
    });
  }

  it('the fixtures also hold on the composed path', async () => {
    for (const [file, f] of [
      ['smooth-l1-loss.json', smoothL1Loss],
      ['balanced-l1-loss.json', balancedL1Loss],
    ] as const) {
      for (const c of loadFixture(import.meta.url, file)) {
        const { value, grads } = withComposedOps(() =>
          tf.valueAndGrads((p: tf.Tensor, t: tf.Tensor) => f(p, t, c.options))([tf.tensor(c.pred), tf.tensor(c.target)]),
        );
        await expectClose(value, c.value);
        await expectClose(grads[0], c.gradPred);
        await expectClose(grads[1], c.gradTarget);
      }
    }
  });

  it('per-coordinate and device-side betas (the stateful classes) agree with the composed path', async () => {
    const [p, t] = inputs(6, 4, 7, []);
    const sa = new SelfAdjustingSmoothL1Loss({ momentum: 0.5, betaMax: 1 });
    const saState = sa.getState();
    const fusedSa = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => sa.call(a, b))([p, t]);
    sa.setState(saState);
    const composedSa = withComposedOps(() => tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => sa.call(a, b))([p, t]));
    await expectClose(fusedSa.value, composedSa.value);
    await expectClose(fusedSa.grads[0], composedSa.grads[0]);
    await expectClose(fusedSa.grads[1], composedSa.grads[1]);
    const dyn = new DynamicSmoothL1Loss({ kE: 1, iterationCount: 1 });
    dyn.update(tf.tensor1d([0.375, 0.5]));
    for (const f of [(a: tf.Tensor, b: tf.Tensor) => dyn.call(a, b, { reduction: 'sum' })]) {
      await compare(f, p, t);
    }
    sa.dispose();
    dyn.dispose();
  });

  it('the fused gradients agree with finite differences away from the kinks', async () => {
    const r = seededRandom(5);
    const t = tf.tensor(Array.from({ length: 16 }, () => r() - 0.5), [4, 4]);
    const off = Array.from({ length: 16 }, (_, i) => (i % 2 ? 1 : -1) * (i % 4 < 2 ? 0.2 + 0.5 * r() : 1.2 + r()));
    const p = tf.add(t, tf.tensor(off, [4, 4]));
    await gradCheck((a, b) => smoothL1Loss(a, b), [p, t], { samples: 16 });
    await gradCheck((a, b) => balancedL1Loss(a, b), [p, t], { samples: 16 });
  });

  it('leak nothing, first and second order', () => {
    const [p, t] = inputs(5, 4, 9, [1]);
    expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => smoothL1Loss(a, b))([p, t]));
    expectNoLeak(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => balancedL1Loss(a, b))([p, t]));
    expectNoLeak(() => tf.grad((x: tf.Tensor) => tf.sum(tf.grad((y: tf.Tensor) => smoothL1Loss(y, t, { beta: 0.5 }))(x)))(p));
    expectNoLeak(() => tf.grad((x: tf.Tensor) => tf.sum(tf.grad((y: tf.Tensor) => balancedL1Loss(y, t))(x)))(p));
  });
});
