import * as tf from '@tensorflow/tfjs-core';
import { withComposedOps } from '@tfjs-losses/core';
import { describe, expect, it } from 'vitest';
import {
  expectClose,
  expectLossInputError,
  expectNoLeak,
  gradCheck,
  loadFixture,
  randomTensor,
  seededRandom,
} from '@tfjs-losses/test-utils';
import { ctcLoss, ctcLossKeras } from './index';
import { ctcOp, ctcReducedOp } from './kernels/ctc-loss.kernel';
import { setCtcScratchLimitForTests } from './kernels/ctc-loss.webgpu';
import { referenceCtc } from '../test/helpers';

/** Fixture values with "inf" / "-inf" / "nan" strings as numbers, at any depth. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function num(v: any): any {
  if (Array.isArray(v)) return v.map(num);
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  if (v === 'nan') return NaN;
  return v;
}

/** Runs `fn` on the fused kernel or on the composed ops. */
function onPath<T>(path: 'fused' | 'composed', fn: () => T): T {
  return path === 'fused' ? fn() : withComposedOps(fn);
}

/** Repeats merged, then blanks removed. */
function collapse(path: number[], blank: number): number[] {
  const out: number[] = [];
  let prev = -1;
  for (const c of path) {
    if (c !== prev && c !== blank) out.push(c);
    prev = c;
  }
  return out;
}

/**
 * -log p(label | logits) by enumerating all C^T frame-by-frame paths: the
 * definition of CTC, without any recursion. logits [T, C] as nested arrays.
 */
function bruteForceNll(logits: number[][], label: number[], blank: number): number {
  const T = logits.length;
  const C = logits[0].length;
  const logp = logits.map((row) => {
    const m = Math.max(...row);
    const z = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    return row.map((v) => v - z);
  });
  let total = 0;
  const path = new Array<number>(T).fill(0);
  for (let k = 0; k < C ** T; k++) {
    let r = k;
    let lp = 0;
    for (let t = 0; t < T; t++) {
      path[t] = r % C;
      r = Math.floor(r / C);
      lp += logp[t][path[t]];
    }
    const seq = collapse(path, blank);
    if (seq.length === label.length && seq.every((v, i) => v === label[i])) total += Math.exp(lp);
  }
  return -Math.log(total);
}

function randomLogits(B: number, T: number, C: number, seed: number, scale = 2): number[][][] {
  const r = seededRandom(seed);
  return Array.from({ length: B }, () =>
    Array.from({ length: T }, () => Array.from({ length: C }, () => (r() * 2 - 1) * scale)),
  );
}

describe('ctcLoss', () => {
  for (const path of ['fused', 'composed'] as const) {
    for (const c of loadFixture(import.meta.url, 'ctc-loss.json')) {
      it(`matches PyTorch (${path}): ${c.name}`, async () => {
        const { value, grad } = onPath(path, () => {
          const f = (x: tf.Tensor) => {
            const l = ctcLoss(x, c.labels, c.options);
            return c.noneWeights ? tf.sum(tf.mul(l, c.noneWeights)) : l;
          };
          return { value: ctcLoss(c.logits, c.labels, c.options), grad: tf.grad(f)(tf.tensor(c.logits)) };
        });
        await expectClose(value, num(c.value));
        await expectClose(grad, num(c.gradLogits));
      });
    }
  }

  it('equals the brute-force sum over all alignments (tiny cases, both paths)', async () => {
    const cases: { T: number; C: number; label: number[]; blank: number; seed: number }[] = [
      { T: 5, C: 3, label: [1, 2], blank: 0, seed: 1 },
      { T: 5, C: 3, label: [1, 1], blank: 0, seed: 2 },
      { T: 6, C: 3, label: [2, 2, 2], blank: 0, seed: 3 },
      { T: 4, C: 3, label: [], blank: 0, seed: 4 },
      { T: 5, C: 4, label: [0, 1, 0], blank: 3, seed: 5 },
      { T: 3, C: 3, label: [1, 2, 1], blank: 0, seed: 6 },
    ];
    for (const k of cases) {
      const logits = randomLogits(1, k.T, k.C, k.seed, 3)[0];
      const expected = bruteForceNll(logits, k.label, k.blank);
      for (const path of ['fused', 'composed'] as const) {
        const got = onPath(path, () => ctcLoss(logits, k.label, { blank: k.blank, reduction: 'none' }));
        await expectClose(got, expected);
        got.dispose();
      }
    }
  });

  it('gives Infinity exactly when no alignment fits, as brute force', async () => {
    // 1 1 needs three frames (1, blank, 1): two frames have no alignment.
    const logits = randomLogits(1, 2, 3, 7)[0];
    expect(bruteForceNll(logits, [1, 1], 0)).toBe(Infinity);
    await expectClose(ctcLoss(logits, [1, 1], { reduction: 'none' }), Infinity);
    await expectClose(ctcLoss(logits, [1, 1], { reduction: 'none', zeroInfinity: true }), 0);
  });

  it('has the documented shape per reduction', () => {
    const x = tf.zeros([3, 5, 4]);
    const y = [[1, 2], [3, 3], [1, 2]];
    expect(ctcLoss(x, y, { reduction: 'none' }).shape).toEqual([3]);
    expect(ctcLoss(x, y, { reduction: 'sum' }).shape).toEqual([]);
    expect(ctcLoss(x, y).shape).toEqual([]);
    expect(ctcLoss(tf.zeros([5, 4]), [1, 2], { reduction: 'none' }).shape).toEqual([]);
  });

  for (const path of ['fused', 'composed'] as const) {
    it(`agrees with finite differences (${path})`, async () => {
      const x = randomTensor([2, 6, 4], 11, -1, 1);
      const labels = [[1, 2, 2], [3, 1, 0]];
      await onPath(path, () =>
        gradCheck((v) => ctcLoss(v, labels, { labelLengths: [3, 2], logitLengths: [6, 5] }), [x], { samples: 16 }),
      );
    });
  }

  it('fused kernel and composed ops agree on random batches (value and gradient)', async () => {
    const B = 4;
    const T = 9;
    const C = 5;
    const x = tf.tensor(randomLogits(B, T, C, 21, 3));
    const r = seededRandom(22);
    const labels = Array.from({ length: B }, () => Array.from({ length: 4 }, () => 1 + Math.floor(r() * (C - 1))));
    const opts = { labelLengths: [4, 0, 2, 3], logitLengths: [9, 4, 1, 6], reduction: 'sum' as const };
    const run = () => tf.valueAndGrad((v: tf.Tensor) => ctcLoss(v, labels, opts))(x);
    const fused = run();
    const composed = withComposedOps(run);
    await expectClose(fused.value, composed.value);
    await expectClose(fused.grad, composed.grad);
  });

  it("reduced kernel ('mean', 'sum') and per-sample kernel agree with composed ops, any upstream gradient", async () => {
    // Edge cases in one batch: an impossible sample (label 2 2 2 in 4 frames
    // fits; 3 labels with a repeat in 3 frames does not), an empty label,
    // one frame, and time-major layout; upstream gradients 1 (shared memory)
    // and 2.5 or per-sample weights (multiplied).
    const B = 5;
    const T = 8;
    const C = 5;
    const logits = randomLogits(B, T, C, 41, 4);
    const labels = [[1, 2, 2, 3], [2, 2, 2, 0], [4, 0, 0, 0], [1, 1, 0, 0], [3, 1, 4, 2]];
    const base = { labelLengths: [4, 3, 0, 2, 4], logitLengths: [8, 4, 1, 2, 7] };
    for (const timeMajor of [false, true]) {
      const x = timeMajor ? tf.transpose(tf.tensor(logits), [1, 0, 2]) : tf.tensor(logits);
      for (const zeroInfinity of [false, true]) {
        const opts = { ...base, timeMajor, zeroInfinity };
        const fns: ((v: tf.Tensor) => tf.Tensor)[] = [
          (v) => ctcLoss(v, labels, opts),
          (v) => ctcLoss(v, labels, { ...opts, reduction: 'sum' }),
          (v) => tf.mul(ctcLoss(v, labels, opts), 2.5),
          (v) => tf.sum(tf.mul(ctcLoss(v, labels, { ...opts, reduction: 'none' }), [0.5, 1, 2, -1, 3])),
          (v) => tf.sum(ctcLoss(v, labels, { ...opts, reduction: 'none' })),
        ];
        for (const f of fns) {
          const fused = tf.valueAndGrad(f)(x);
          const composed = withComposedOps(() => tf.valueAndGrad(f)(x));
          await expectClose(fused.value, composed.value);
          await expectClose(fused.grad, composed.grad);
        }
      }
    }
  });

  it('time-major input equals batch-major input transposed', async () => {
    const x = tf.tensor(randomLogits(3, 7, 4, 31));
    const labels = [[1, 2], [3, 3], [2, 1]];
    const opts = { labelLengths: [2, 2, 1], logitLengths: [7, 6, 3], reduction: 'none' as const };
    const xt = tf.transpose(x, [1, 0, 2]);
    await expectClose(ctcLoss(xt, labels, { ...opts, timeMajor: true }), ctcLoss(x, labels, opts));
    const g = tf.grad((v: tf.Tensor) => tf.sum(ctcLoss(v, labels, opts)))(x);
    const gt = tf.grad((v: tf.Tensor) => tf.sum(ctcLoss(v, labels, { ...opts, timeMajor: true })))(xt);
    await expectClose(tf.transpose(gt, [1, 0, 2]), g);
  });

  it('takes log-probabilities unchanged (log-softmax inside is idempotent)', async () => {
    const x = tf.tensor(randomLogits(2, 6, 5, 41));
    const labels = [[1, 2, 3], [4, 4, 1]];
    await expectClose(ctcLoss(tf.logSoftmax(x), labels), ctcLoss(x, labels));
  });

  it('with empty labels is minus the sum of the blank log-probabilities', async () => {
    const x = tf.tensor(randomLogits(2, 5, 3, 51));
    const expected = tf.neg(tf.sum(tf.slice(tf.logSoftmax(x), [0, 0, 1], [2, 5, 1]), [1, 2]));
    await expectClose(ctcLoss(x, [[0], [0]], { labelLengths: [0, 0], blank: 1, reduction: 'none' }), expected);
  });

  it('takes labels with no columns ([B, 0]): minus the blank log-probabilities', async () => {
    const x = tf.tensor(randomLogits(2, 4, 3, 56));
    const expected = tf.neg(tf.sum(tf.slice(tf.logSoftmax(x), [0, 0, 0], [2, 4, 1]), [1, 2]));
    for (const path of ['fused', 'composed'] as const) {
      const { value, grad } = onPath(path, () =>
        tf.valueAndGrad((v: tf.Tensor) => ctcLoss(v, tf.zeros([2, 0], 'int32'), { reduction: 'none' }))(x),
      );
      await expectClose(value, expected);
      // d/dx of -sum_t lp[t, blank] is softmax - onehot(blank) on every frame.
      await expectClose(grad, tf.sub(tf.softmax(x), tf.oneHot(tf.zeros([2, 4], 'int32'), 3)));
    }
  });

  it('handles zero logit lengths: 0 for an empty label, Infinity otherwise, zero gradient', async () => {
    for (const path of ['fused', 'composed'] as const) {
      const x = tf.tensor(randomLogits(2, 3, 3, 61));
      const opts = { logitLengths: [0, 0], labelLengths: [0, 1], reduction: 'none' as const };
      const value = onPath(path, () => ctcLoss(x, [[1], [1]], opts));
      await expectClose(value, [0, Infinity]);
      const g = onPath(path, () => tf.grad((v: tf.Tensor) => tf.sum(ctcLoss(v, [[1], [1]], { ...opts, zeroInfinity: true })))(x));
      await expectClose(g, tf.zeros([2, 3, 3]));
    }
  });

  it('stays finite and exact on very large logits (log-space throughout)', async () => {
    // Peaked frames: the path 1 blank 2 2 dominates completely.
    const big = 1000;
    const frames = [1, 0, 2, 2];
    const logits = frames.map((k) => [0, 1, 2].map((c) => (c === k ? big : -big)));
    const x = tf.tensor([logits]);
    const { value, grad } = tf.valueAndGrad((v: tf.Tensor) => ctcLoss(v, [[1, 2]], { reduction: 'sum' }))(x);
    const v = (await value.data())[0];
    expect(Number.isFinite(v)).toBe(true);
    expect(Math.abs(v)).toBeLessThan(1e-3);
    const g = await grad.data();
    expect(Array.from(g).every(Number.isFinite)).toBe(true);
    // 1 2 1 fits only through frames of probability e^-2000 each: far
    // below float underflow in probability space, finite in log space, and
    // the fused and composed paths agree.
    const unlikely = ctcLoss(logits, [1, 2, 1], { reduction: 'none' });
    const u = (await unlikely.data())[0];
    expect(u).toBeGreaterThan(1999);
    expect(Number.isFinite(u)).toBe(true);
    await expectClose(withComposedOps(() => ctcLoss(logits, [1, 2, 1], { reduction: 'none' })), u);
  });

  it('equals a plain float64 log-space recursion at extreme logit scales (fused kernel)', async () => {
    // cpu and wasm compute in float64, so the float64 oracle can be tight
    // even where the loss is in the tens of thousands. The WGSL kernel is
    // float32: its loss stays within 1e-6 relative at every scale, while a
    // gradient entry, exp(alpha + beta - lp - log p) with terms of size
    // |loss|, carries an absolute error near |loss| * 1e-7, so its gradient
    // is compared up to scale 30 (loss ~ 350) with atol 1e-4.
    const f64 = tf.getBackend() !== 'webgpu';
    for (const [scale, seed] of [[3, 0], [30, 1], [300, 2], [3000, 3]]) {
      const B = 3;
      const T = 24;
      const C = 6;
      const x = randomLogits(B, T, C, 160 + seed, scale);
      const r = seededRandom(170 + seed);
      const labels = Array.from({ length: B }, () => Array.from({ length: 9 }, () => 1 + Math.floor(r() * (C - 1))));
      const lengths = [9, 6, 3];
      const { value, grad } = tf.valueAndGrad((v: tf.Tensor) =>
        ctcLoss(v, labels, { labelLengths: lengths, reduction: 'none' }),
      )(tf.tensor(x));
      const refs = x.map((l, b) => referenceCtc(l, labels[b].slice(0, lengths[b]), 0));
      await expectClose(value, refs.map((f) => f.loss), { rtol: 1e-6, atol: 0 });
      if (f64) await expectClose(grad, refs.map((f) => f.grad), { rtol: 1e-5, atol: 1e-6 });
      else if (scale <= 30) await expectClose(grad, refs.map((f) => f.grad), { rtol: 0, atol: 1e-4 });
    }
  });

  it('padValue, labelLengths and concatenated labels give the same loss', async () => {
    const x = tf.tensor(randomLogits(3, 6, 5, 71));
    const byLengths = ctcLoss(x, [[1, 2, 3], [4, 0, 0], [2, 2, 0]], { labelLengths: [3, 1, 2], reduction: 'none' });
    const byPad = ctcLoss(x, [[1, 2, 3], [4, -1, -1], [2, 2, -1]], { padValue: -1, reduction: 'none' });
    const concat = ctcLoss(x, [1, 2, 3, 4, 2, 2], { labelLengths: [3, 1, 2], reduction: 'none' });
    await expectClose(byPad, byLengths);
    await expectClose(concat, byLengths);
  });

  it('never reads labels past their length', async () => {
    const x = tf.tensor(randomLogits(2, 5, 4, 81));
    const a = ctcLoss(x, [[1, 2, 99], [3, -5, 7]], { labelLengths: [2, 1], reduction: 'none' });
    const b = ctcLoss(x, [[1, 2, 0], [3, 0, 0]], { labelLengths: [2, 1], reduction: 'none' });
    await expectClose(a, b);
  });

  it("'mean' divides each loss by max(label length, 1) before averaging", async () => {
    const x = tf.tensor(randomLogits(3, 6, 4, 91));
    const labels = [[1, 2, 3], [1, 1, 1], [2, 0, 0]];
    const opts = { labelLengths: [3, 0, 1] };
    const none = await ctcLoss(x, labels, { ...opts, reduction: 'none' }).data();
    const expected = (none[0] / 3 + none[1] / 1 + none[2] / 1) / 3;
    await expectClose(ctcLoss(x, labels, opts), expected);
    await expectClose(ctcLoss(x, labels, { ...opts, reduction: 'sum' }), none[0] + none[1] + none[2]);
  });

  it('computes the same gradient when the forward ran without a tape', async () => {
    // The op's gradient recomputes the per-sample gradient if the forward
    // kernel was asked for the loss only.
    const x = tf.tensor(randomLogits(2, 5, 4, 101));
    const labels = tf.tensor2d([[1, 2], [3, 0]], [2, 2], 'int32');
    const lens = [tf.tensor1d([5, 4], 'int32'), tf.tensor1d([2, 1], 'int32')];
    const attrs = { blank: 0, timeMajor: false, zeroInfinity: false };
    const g = (withGrad: boolean) =>
      tf.grad((v: tf.Tensor) => tf.sum(ctcOp([v, labels, lens[0], lens[1]], { ...attrs, withGrad })[0]))(x);
    await expectClose(g(false), g(true));
    await expectClose(g(true), tf.grad((v: tf.Tensor) => ctcLoss(v, labels, { labelLengths: [2, 1], logitLengths: [5, 4], reduction: 'sum' }))(x));
  });

  it('reduced op: the same gradient when the forward ran without a tape', async () => {
    const x = tf.tensor(randomLogits(2, 5, 4, 111));
    const labels = tf.tensor2d([[1, 2], [3, 0]], [2, 2], 'int32');
    const lens = [tf.tensor1d([5, 4], 'int32'), tf.tensor1d([2, 1], 'int32')];
    for (const reduction of ['mean', 'sum'] as const) {
      const attrs = { blank: 0, timeMajor: false, zeroInfinity: false, reduction };
      const g = (withGrad: boolean) =>
        tf.grad((v: tf.Tensor) => tf.mul(ctcReducedOp([v, labels, lens[0], lens[1]], { ...attrs, withGrad })[0], 3))(x);
      const direct = tf.grad((v: tf.Tensor) =>
        tf.mul(ctcLoss(v, labels, { labelLengths: [2, 1], logitLengths: [5, 4], reduction }), 3),
      )(x);
      await expectClose(g(false), g(true));
      await expectClose(g(true), direct);
    }
  });

  it('refuses second-order gradients (as PyTorch) instead of returning wrong ones', () => {
    const x = tf.tensor(randomLogits(1, 4, 3, 171));
    const outer = (path: 'fused' | 'composed') =>
      onPath(path, () => tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.grad((w: tf.Tensor) => ctcLoss(w, [[1, 2]]))(v))))(x));
    expect(() => outer('fused')).toThrow();
    expect(() => outer('composed')).toThrow();
  });

  it('accepts plain arrays and typed arrays', async () => {
    const logits = randomLogits(1, 4, 3, 111);
    const expected = ctcLoss(tf.tensor(logits), tf.tensor2d([[1, 2]], [1, 2], 'int32'));
    await expectClose(ctcLoss(logits, [[1, 2]]), expected);
    await expectClose(ctcLoss(logits, [new Int32Array([1, 2])], { labelLengths: new Int32Array([2]) }), expected);
    // Whole numbers stored as floats are accepted as labels.
    await expectClose(ctcLoss(logits, tf.tensor2d([[1, 2]])), expected);
  });

  it('Keras adapter: (yTrue padded with -1, yPred logits) => mean loss', async () => {
    const x = tf.tensor(randomLogits(2, 6, 4, 121));
    const yTrue = tf.tensor2d([[1, 2, -1], [3, 3, 1]]);
    const expected = ctcLoss(x, [[1, 2, 0], [3, 3, 1]], { labelLengths: [2, 3] });
    await expectClose(ctcLossKeras()(yTrue, x), expected);
    await expectClose(ctcLossKeras({ padValue: 0, blank: 3 })(tf.tensor2d([[1, 2, 0]]), tf.slice(x, [0], [1])),
      ctcLoss(tf.slice(x, [0], [1]), [[1, 2]], { blank: 3 }));
  });

  it('leaks no tensors (value, gradient, both paths)', () => {
    const x = randomTensor([2, 5, 4], 131);
    const labels = [[1, 2], [3, 0]];
    const opts = { labelLengths: [2, 1] };
    expectNoLeak(() => ctcLoss(x, labels, opts));
    expectNoLeak(() => tf.grad((v: tf.Tensor) => ctcLoss(v, labels, opts))(x));
    expectNoLeak(() => withComposedOps(() => tf.grad((v: tf.Tensor) => ctcLoss(v, labels, opts))(x)));
    expectNoLeak(() => tf.grad((v: tf.Tensor) => tf.mul(ctcLoss(v, labels, { ...opts, reduction: 'sum' }), 2))(x));
    expectNoLeak(() => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(ctcLoss(v, labels, { ...opts, reduction: 'none' }), [2, 1])))(x));
    expectNoLeak(() => ctcLoss(x, [1, 2, 3], { labelLengths: [2, 1], reduction: 'none' }));
    expectNoLeak(() => ctcLoss(x, [[1, -1], [3, -1]], { padValue: -1 }));
  });

  it('runs a number of kernels independent of T (forward plus backward)', async () => {
    const count = async (T: number) => {
      const x = tf.tensor(randomLogits(2, T, 4, 141));
      const labels = [[1, 2], [3, 3]];
      const info = await tf.profile(() => tf.grad((v: tf.Tensor) => ctcLoss(v, labels))(x));
      x.dispose();
      return info.kernels.length;
    };
    const short = await count(4);
    expect(await count(16)).toBe(short);
    expect(await count(40)).toBe(short);
  });

  if (tf.getBackend() === 'webgpu') {
    it('dispatches a constant number of WebGPU programs, whatever T is', async () => {
      type Runner = { runWebGPUProgram: (...a: unknown[]) => unknown };
      const backend = tf.backend() as unknown as Runner;
      const dispatches = async (T: number, withGrad: boolean) => {
        const x = tf.tensor(randomLogits(2, T, 4, 151));
        const labels = tf.tensor2d([[1, 2], [3, 3]], [2, 2], 'int32');
        const lens = [tf.tensor1d([T, T - 1], 'int32'), tf.tensor1d([2, 2], 'int32')];
        const original = backend.runWebGPUProgram;
        const names: string[] = [];
        backend.runWebGPUProgram = function (this: unknown, ...args: unknown[]) {
          names.push((args[0] as { shaderKey: string }).shaderKey);
          return original.apply(this, args);
        };
        try {
          const [loss, grad] = ctcOp([x, labels, lens[0], lens[1]], { blank: 0, timeMajor: false, zeroInfinity: false, withGrad });
          await loss.data();
          tf.dispose([loss, grad]);
        } finally {
          backend.runWebGPUProgram = original;
          tf.dispose([x, labels, ...lens]);
        }
        return names;
      };
      expect(await dispatches(4, false)).toHaveLength(2);
      expect(await dispatches(64, false)).toHaveLength(2);
      expect(await dispatches(4, true)).toHaveLength(3);
      expect(await dispatches(64, true)).toHaveLength(3);
    });
  }

  if (tf.getBackend() === 'webgpu') {
    it('splits a batch whose scratch exceeds the storage limit into chunks, same results', async () => {
      const x = tf.tensor(randomLogits(3, 6, 4, 161));
      const labels = [[1, 2, 3], [3, 3, 0], [2, 0, 0]];
      const opts = { labelLengths: [3, 2, 1], logitLengths: [6, 5, 4], reduction: 'none' as const };
      const run = () => tf.valueAndGrad((v: tf.Tensor) => tf.sum(tf.mul(ctcLoss(v, labels, opts), [1, 2, 3])))(x);
      const runMean = () => tf.valueAndGrad((v: tf.Tensor) => tf.mul(ctcLoss(v, labels, { ...opts, reduction: 'mean' }), 2))(x);
      const whole = run();
      const wholeMean = runMean();
      // Scratch per sequence here: 2 * 6 * 7 + 6 + 1 + 7 + 4 = 102 words; allow one sequence per chunk.
      setCtcScratchLimitForTests(110);
      try {
        const chunked = run();
        await expectClose(chunked.value, whole.value);
        await expectClose(chunked.grad, whole.grad);
        const chunkedMean = runMean();
        await expectClose(chunkedMean.value, wholeMean.value);
        await expectClose(chunkedMean.grad, wholeMean.grad);
        const composedMean = withComposedOps(runMean);
        await expectClose(chunkedMean.value, composedMean.value);
        await expectClose(chunkedMean.grad, composedMean.grad);
        // Three chunks of one sequence, three programs each.
        type Runner = { runWebGPUProgram: (...a: unknown[]) => unknown };
        const backend = tf.backend() as unknown as Runner;
        const original = backend.runWebGPUProgram;
        let programs = 0;
        backend.runWebGPUProgram = function (this: unknown, ...args: unknown[]) {
          programs += 1;
          return original.apply(this, args);
        };
        const ins = [x, tf.tensor2d(labels, [3, 3], 'int32'), tf.tensor1d([6, 5, 4], 'int32'), tf.tensor1d([3, 2, 1], 'int32')];
        try {
          const outs = ctcOp(ins, { blank: 0, timeMajor: false, zeroInfinity: false, withGrad: true });
          await outs[0].data();
          tf.dispose(outs);
        } finally {
          backend.runWebGPUProgram = original;
          tf.dispose(ins.slice(1));
        }
        expect(programs).toBe(9);
      } finally {
        setCtcScratchLimitForTests(undefined);
      }
    });
  }

  it('rejects bad input with LossInputError', () => {
    const x = tf.zeros([2, 5, 4]);
    const y = [[1, 2], [3, 1]];
    expectLossInputError(() => ctcLoss(tf.zeros([5]), [1]), 'ctcLoss: logits must have rank 2 or 3; got rank 1');
    expectLossInputError(() => ctcLoss(x, [[1, 2]]), 'ctcLoss: labels must have shape [2, S]', 'got [1, 2]');
    expectLossInputError(() => ctcLoss(x, [[[1]]]), 'ctcLoss: labels must have rank 1 or 2; got rank 3');
    expectLossInputError(() => ctcLoss(x, [[1, 4], [3, 1]]), 'ctcLoss: labels must be class indices in [0, 3] other than the blank (0)', 'got 4 at [0, 1]');
    expectLossInputError(() => ctcLoss(x, [[1, 0], [3, 1]]), 'labels must be class indices', 'got 0 at [0, 1]');
    expectLossInputError(() => ctcLoss(x, [[1, 2], [3, 1]], { blank: 1 }), 'other than the blank (1)', 'got 1 at [0, 0]');
    expectLossInputError(() => ctcLoss(x, [[1.5, 2], [3, 1]]), 'ctcLoss: labels must hold whole numbers; got 1.5');
    expectLossInputError(() => ctcLoss(x, y, { blank: 4 }), 'ctcLoss: blank must be <= 3; got 4');
    expectLossInputError(() => ctcLoss(x, y, { blank: 0.5 }), 'ctcLoss: blank must be an integer; got 0.5');
    expectLossInputError(() => ctcLoss(x, y, { logitLengths: [5, 6] }), 'ctcLoss: logitLengths values must lie in [0, 5]; got 6');
    expectLossInputError(() => ctcLoss(x, y, { logitLengths: [5] }), 'ctcLoss: logitLengths must have shape [2]', 'got [1]');
    expectLossInputError(() => ctcLoss(x, y, { labelLengths: [2, 3] }), 'ctcLoss: labelLengths values must lie in [0, 2]; got 3');
    expectLossInputError(() => ctcLoss(x, y, { labelLengths: [-1, 2] }), 'labelLengths values must lie in [0, 2]; got -1');
    expectLossInputError(() => ctcLoss(x, [1, 2, 3]), 'ctcLoss: labelLengths is required with 1-D (concatenated) labels');
    expectLossInputError(() => ctcLoss(x, [1, 2, 3], { labelLengths: [2, 2] }), 'ctcLoss: labelLengths must sum to at most the number of concatenated labels (3); got a sum of 4');
    expectLossInputError(() => ctcLoss(x, y, { labelLengths: [2, 2], padValue: -1 }), 'ctcLoss: padValue cannot be combined with labelLengths');
    expectLossInputError(() => ctcLoss(x, [[1, -1], [-1, 2]], { padValue: -1 }), 'ctcLoss: labels must hold padValue -1 only after the labels; got 2 at [1, 1]');
    expectLossInputError(() => ctcLoss(x, y, { reduction: 'avg' as never }), 'ctcLoss: reduction must be one of "none", "mean", "sum"; got "avg"');
    expectLossInputError(() => ctcLoss(x, y, { timeMajor: 1 as never }), 'ctcLoss: timeMajor must be one of true, false; got 1');
    expectLossInputError(() => ctcLoss(tf.zeros([2, 0, 4]), y), 'ctcLoss: logits must have [B, T, C] with every size at least 1; got [2, 0, 4]');
    expectLossInputError(() => ctcLoss(x, 'abc' as never), 'ctcLoss: labels must be a tensor');
    expectLossInputError(() => ctcLoss(tf.zeros([5, 4]), [[1]]), 'ctcLoss: labels must have rank 1; got rank 2');
  });
});
