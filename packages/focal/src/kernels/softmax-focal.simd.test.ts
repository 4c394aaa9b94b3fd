// The wasm backend's SIMD softmax focal kernel (softmax-focal.simd.ts and
// softmax-focal.wasm.ts): its exp against Math.exp, the summing kernel
// against the JavaScript kernel and a float64 reference on awkward rows, and
// that the wasm path really runs it. The float64 reference test runs on every
// backend.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { wasmBackendMemory } from '@tfjs-losses/core';
import { expectNoLeak, seededRandom } from '@tfjs-losses/test-utils';
import { softmaxFocalSumFill, type Rows } from './softmax-focal.cpu';
import { softmaxFocalSumOp } from './softmax-focal.kernel';
import { softmaxFocalSimd } from './softmax-focal.simd';
import { softmaxFocalSimdPasses, softmaxFocalSumWasm } from './softmax-focal.wasm';

/**
 * Random rows in [-8, 8] plus rows with logit gaps of 1000 either way, -inf
 * and very negative logits (never every other class at -inf), ignored labels
 * (-1 and C) and ties.
 */
function makeRows(N: number, C: number, seed: number): Rows {
  const r = seededRandom(seed);
  const z = new Float32Array(N * C);
  const labels = new Int32Array(N);
  const alpha = new Float32Array(C);
  for (let k = 0; k < C; k++) alpha[k] = 0.25 + r();
  for (let n = 0; n < N; n++) {
    const y = Math.min(C - 1, Math.floor(r() * C));
    labels[n] = y;
    const base = n * C;
    for (let k = 0; k < C; k++) z[base + k] = 16 * r() - 8;
    const other = (y + 1 + Math.floor(r() * (C - 1))) % C;
    switch (n % 10) {
      case 1: z[base + y] += 1000; break; // p_y = 1 to float64
      case 2: z[base + y] -= 1000; break; // p_y underflows
      case 3: z[base + other] = 500; break;
      case 4: // -inf and very negative logits
        for (let k = 0; k < C; k++) if (k !== other && k !== y && r() < 0.5) z[base + k] = r() < 0.5 ? -Infinity : -1e4;
        break;
      case 5: // a row close to one-hot with moderate gaps (|x| near the subnormal range)
        for (let k = 0; k < C; k++) z[base + k] = k === y ? 40 : -50 - 20 * r();
        break;
      case 6: labels[n] = n % 20 === 6 ? -1 : C; break;
      case 7: z.fill(0.5, base, base + C); break;
      case 8: for (let k = 0; k < C; k++) z[base + k] = 1e-3 * r() + 30; break; // tiny differences of large logits
      default: break;
    }
  }
  return { z, labels, alpha, N, C };
}

/** Float64 reference: the loss sum and its gradient (scaled by 1 / divisor). */
function reference({ z, labels, alpha, N, C }: Rows, gamma: number, divisor: number): { value: number; grad: Float64Array } {
  const grad = new Float64Array(N * C);
  let value = 0;
  for (let n = 0; n < N; n++) {
    const y = labels[n];
    if (!(y >= 0 && y < C)) continue;
    const base = n * C;
    let m = -Infinity;
    for (let k = 0; k < C; k++) m = Math.max(m, z[base + k]);
    const e = new Float64Array(C);
    let so = 0;
    for (let k = 0; k < C; k++) {
      e[k] = Math.exp(z[base + k] - m);
      if (k !== y) so += e[k];
    }
    const S = so + e[y];
    const logpt = z[base + y] - m - Math.log(S);
    const oneMinusP = so / S;
    const w = gamma === 0 ? 1 : Math.pow(oneMinusP, gamma);
    value += -alpha[y] * w * logpt;
    // dL/dz_k = -alpha w (gamma log p_y (s'_k - s_k) + [k = y] - s_k)
    for (let k = 0; k < C; k++) {
      const s = e[k] / S;
      const sOther = k === y ? 0 : e[k] / so;
      // at k = y, 1 - s_y is oneMinusP (no cancellation)
      const direct = k === y ? oneMinusP : -s;
      grad[base + k] = (-alpha[y] * w * (gamma * logpt * (sOther - s) + direct)) / divisor;
    }
  }
  return { value: value / divisor, grad };
}

/** |a - b| <= atol + rtol |b| elementwise, with the worst index in the message. */
function expectNear(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  expect(actual.length).toBe(expected.length);
  let worst = -1;
  let worstRatio = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const b = expected[i];
    if (Object.is(a, b) || (a === 0 && b === 0)) continue;
    const ratio = Math.abs(a - b) / (atol + rtol * Math.abs(b));
    if (!(ratio <= worstRatio)) {
      worstRatio = ratio;
      worst = i;
    }
  }
  expect(worstRatio <= 1, `${what}: index ${worst}, got ${actual[worst]}, expected ${expected[worst]}`).toBe(true);
}

/** Value and gradient of softmaxFocalSumOp on the current backend. */
async function runOp(rows: Rows, gamma: number, divisor: number): Promise<{ value: number; grad: Float32Array }> {
  const { z, labels, alpha, N, C } = rows;
  const x = tf.tensor2d(z, [N, C]);
  const y = tf.tensor1d(labels, 'int32');
  const a = tf.tensor1d(alpha);
  const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => softmaxFocalSumOp([t, y, a], { gamma, divisor })[0])(x);
  const out = { value: (await value.data())[0], grad: new Float32Array(await grad.data()) };
  tf.dispose([x, y, a, value, grad]);
  return out;
}

/** The JavaScript kernel on plain arrays. */
function runJs({ z, labels, alpha, N, C }: Rows, gamma: number, divisor: number): { value: number; grad: Float32Array } {
  const out = new Float32Array(1);
  const grad = new Float32Array(N * C);
  softmaxFocalSumFill([z, labels, alpha], [out, grad], { gamma, divisor, withGrad: true }, [[N, C], [N], [C]]);
  return { value: out[0], grad };
}

/** Largest |gradient| of each row, spread over the row's elements (the absolute scale of a row's errors). */
interface GradTolerance {
  rtol: number;
  rowFrac: number;
  abs: number;
}

/** float32 rounding (a few ulp) and two subnormal steps. */
const F32_TOLERANCE: GradTolerance = { rtol: 1e-6, rowFrac: 1e-12, abs: 2 ** -148 };

function rowScale(grad: ArrayLike<number>, N: number, C: number): Float64Array {
  const scale = new Float64Array(N * C);
  for (let n = 0; n < N; n++) {
    let m = 0;
    for (let k = 0; k < C; k++) m = Math.max(m, Math.abs(grad[n * C + k]));
    scale.fill(m, n * C, (n + 1) * C);
  }
  return scale;
}

/**
 * Gradient check: per element |a - e| <= rtol |e| + rowFrac (the row's
 * largest |gradient|) + abs. The last two cover elements far below the
 * row's scale and subnormals.
 */
function expectGradNear(actual: ArrayLike<number>, expected: ArrayLike<number>, N: number, C: number, tol: GradTolerance, what: string): void {
  const { rtol, rowFrac, abs } = tol;
  const scale = rowScale(expected, N, C);
  const diffs = new Float64Array(actual.length);
  const zeros = new Float64Array(actual.length);
  for (let i = 0; i < actual.length; i++) {
    diffs[i] = Math.abs(actual[i] - expected[i]) / (rtol * Math.abs(expected[i]) + rowFrac * scale[i] + abs);
  }
  expectNear(diffs, zeros, 0, 1, what);
}

// odd row counts too: the wasm module works on rows in pairs
const SHAPES: [number, number][] = [
  [30, 2],
  [31, 3],
  [1, 5],
  [20, 4],
  [21, 7],
  [20, 81],
  [11, 81],
  [10, 1000],
];

describe('softmax focal SIMD kernel', () => {
  it('the summing op agrees with a float64 reference (gaps of 1000, -inf, ignored rows, C = 2 to 1000)', async () => {
    // float32 rounding on cpu and wasm; webgpu runs the composed ops (1 - p
    // cancels, subnormals flush to 0)
    const tol = tf.getBackend() === 'webgpu' ? { rtol: 2e-4, rowFrac: 1e-6, abs: 1e-30 } : F32_TOLERANCE;
    for (const [N, C] of SHAPES) {
      for (const gamma of [0, 1.5, 2]) {
        const rows = makeRows(N, C, 100 + C);
        const divisor = 7;
        const ref = reference(rows, gamma, divisor);
        const got = await runOp(rows, gamma, divisor);
        expectNear([got.value], [ref.value], tol.rtol, 0, `value C=${C} gamma=${gamma}`);
        expectGradNear(got.grad, ref.grad, N, C, tol, `gradient C=${C} gamma=${gamma}`);
      }
    }
  });

  it('without SIMD loops the wasm kernel spec is the JavaScript one', () => {
    const base = { inputNames: ['logits', 'labels', 'alpha'], outputShapes: () => [[]], fill: softmaxFocalSumFill };
    expect(softmaxFocalSumWasm(base, null)).toBe(base);
  });

  if (tf.getBackend() === 'wasm') {
    const simd = softmaxFocalSimd(wasmBackendMemory());
    const heap = tf.backend() as unknown as { typedArrayFromHeap(t: tf.TensorInfo): Float32Array };

    it('wasm: the SIMD module instantiates on the backend memory and the op runs it', async () => {
      expect(simd).not.toBeNull();
      const before = softmaxFocalSimdPasses();
      await runOp(makeRows(8, 81, 3), 2, 8);
      expect(softmaxFocalSimdPasses()).toBe(before + 1);
    });

    it('wasm: exp within 1.5 ulp of Math.exp over [-104, 0], 0 below and at -inf', () => {
      const n = 1 << 17;
      const xs = new Float32Array(n);
      const r = seededRandom(5);
      for (let i = 0; i < n - 16; i++) xs[i] = Math.fround(-104 * (i / (n - 16)) - 1e-3 * r());
      // edges: 0, tiny, the ends of the normal and subnormal ranges, below -104, -inf, NaN
      xs.set([0, -0, -1e-30, -1e-7, -87.33654, -87.33655, -88.72284, -103.2789, -103.972, -103.98, -104, -104.5, -200, -Infinity, NaN, -0.34657], n - 16);
      const src = tf.tensor1d(xs);
      const dst = tf.zeros([n]);
      simd!.exp(heap.typedArrayFromHeap(src).byteOffset, heap.typedArrayFromHeap(dst).byteOffset, n);
      const got = heap.typedArrayFromHeap(dst).slice();
      tf.dispose([src, dst]);
      let worst = 0;
      let worstX = 0;
      for (let i = 0; i < n; i++) {
        const x = xs[i];
        if (Number.isNaN(x)) {
          expect(got[i]).toBeNaN();
          continue;
        }
        const exact = Math.exp(x);
        const rounded = Math.fround(exact);
        // the float32 spacing at the exact value (2^-149 among subnormals)
        const ulp = rounded < 2 ** -126 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(rounded)) - 23);
        const err = Math.abs(got[i] - exact) / ulp;
        if (!(err <= worst)) {
          worst = err;
          worstX = x;
        }
      }
      expect(worst, `worst at x = ${worstX}`).toBeLessThanOrEqual(1.5);
      expect(got[n - 4]).toBe(0); // -200
      expect(got[n - 3]).toBe(0); // -inf
      expect(got[n - 2]).toBeNaN();
    });

    it('wasm: the float64 exp64 and log64 of the row terms agree with Math.exp and Math.log to a few float64 ulp', () => {
      const r = seededRandom(17);
      let worstExp = 0;
      let worstLog = 0;
      for (let i = 0; i < 20000; i++) {
        // exp64 on [-708, 0] (wider near 0), log64 on [1, 2^12] (and [1, 2] for the log1p form)
        const x = i % 2 === 0 ? -708 * r() ** 3 : -r();
        const u = i % 2 === 0 ? 2 ** (12 * r()) : 1 + r();
        worstExp = Math.max(worstExp, Math.abs(simd!.exp64(x) - Math.exp(x)) / Math.exp(x));
        worstLog = Math.max(worstLog, Math.abs(simd!.log64(u) - Math.log(u)) / Math.max(Math.abs(Math.log(u)), 1e-300));
      }
      expect(worstExp).toBeLessThan(1e-14);
      expect(worstLog).toBeLessThan(1e-14);
      expect(simd!.exp64(0)).toBe(1);
      expect(simd!.log64(1)).toBe(0);
      expect(simd!.exp64(NaN)).toBeNaN();
      expect(simd!.exp64(-Infinity)).toBeLessThan(1e-300);
    });

    it('wasm: the SIMD kernel agrees with the JavaScript kernel (C = 2 to 1000, gamma 0, 1.5, 2)', async () => {
      for (const [N, C] of SHAPES) {
        for (const gamma of [0, 1.5, 2]) {
          const rows = makeRows(N, C, 200 + C);
          const got = await runOp(rows, gamma, 3);
          const js = runJs(rows, gamma, 3);
          expectNear([got.value], [js.value], 5e-7, 0, `value C=${C} gamma=${gamma}`);
          expectGradNear(got.grad, js.grad, N, C, F32_TOLERANCE, `gradient C=${C} gamma=${gamma}`);
        }
      }
    });

    it('wasm: NaN and +inf logits give NaN as in the JavaScript kernel', async () => {
      const rows = makeRows(4, 9, 9);
      rows.z[3] = NaN;
      rows.z[9 + 4] = Infinity;
      rows.labels[1] = 2;
      const got = await runOp(rows, 2, 1);
      const js = runJs(rows, 2, 1);
      expect(got.value).toBeNaN();
      expect(js.value).toBeNaN();
      for (let i = 0; i < 18; i++) expect(Number.isNaN(got.grad[i])).toBe(Number.isNaN(js.grad[i]));
    });

    it('wasm: the SIMD path leaks no tensors', () => {
      const x = tf.tensor2d(makeRows(6, 13, 4).z, [6, 13]);
      const y = tf.tensor1d([0, 3, 12, 5, 13, -1], 'int32');
      const a = tf.ones([13]);
      const before = softmaxFocalSimdPasses();
      expectNoLeak(() => tf.valueAndGrad((t: tf.Tensor) => softmaxFocalSumOp([t, y, a], { gamma: 2, divisor: 6 })[0])(x));
      expectNoLeak(() => softmaxFocalSumOp([x, y, a], { gamma: 2, divisor: 6 }));
      expect(softmaxFocalSimdPasses()).toBeGreaterThan(before);
      tf.dispose([x, y, a]);
    });
  }
});
