import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, expectNoLeak, gradCheck, randomTensor } from '@tfjs-losses/test-utils';
import { GEMM_KERNEL, gemm, restoreWasmMatMul, routeFlaggedWasmMatMul } from './index';
import { gemmSimd, gemmSimdModule, packedALength, packedLength, runGemm } from './kernels/wasm-gemm';

/** op(a) · op(b) in float64 from the values. */
async function reference(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): Promise<tf.Tensor> {
  const av = await a.data();
  const bv = await b.data();
  const [r0, c0] = a.shape as [number, number];
  const [m, k] = transposeA ? [c0, r0] : [r0, c0];
  const n = (transposeB ? b.shape[0] : b.shape[1]) as number;
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let kk = 0; kk < k; kk++) {
        s += av[transposeA ? kk * m + i : i * k + kk] * bv[transposeB ? j * k + kk : kk * n + j];
      }
      out[i * n + j] = s;
    }
  }
  return tf.tensor2d(out, [m, n]);
}

const operands = (m: number, k: number, n: number, transposeA: boolean, transposeB: boolean, seed: number) => ({
  a: randomTensor(transposeA ? [k, m] : [m, k], seed),
  b: randomTensor(transposeB ? [n, k] : [k, n], seed + 1),
});

const FLAGS: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];
const onWasm = tf.getBackend() === 'wasm';

describe(`gemm on ${tf.getBackend()}`, () => {
  // Row counts around the blocks of 4, column counts around the panels of 8
  // and the 128-column blocks, depths across the 256-deep K blocks.
  const shapes: [number, number, number][] = [
    [1, 1, 1], [3, 5, 7], [4, 8, 8], [5, 9, 9], [6, 17, 15], [7, 3, 13], [9, 256, 12],
    [12, 257, 136], [33, 300, 129], [64, 513, 200], [130, 40, 264],
  ];
  for (const [m, k, n] of shapes) {
    for (const [ta, tb] of FLAGS) {
      it(`matches a float64 product, m ${m} k ${k} n ${n}, transposeA ${ta}, transposeB ${tb}`, async () => {
        const { a, b } = operands(m, k, n, ta, tb, m * 1000 + k + n);
        const got = gemm(a, b, ta, tb);
        expect(got.shape).toEqual([m, n]);
        // float32 accumulation over k terms of size ~1
        await expectClose(got, await reference(a, b, ta, tb), { rtol: 1e-5, atol: 2e-6 * Math.sqrt(k) * 8 });
        tf.dispose([a, b, got]);
      });
    }
  }

  it('matches tf.matMul on webgpu and everywhere else', async () => {
    for (const [ta, tb] of FLAGS) {
      const { a, b } = operands(37, 70, 45, ta, tb, 5);
      await expectClose(gemm(a, b, ta, tb), tf.matMul(a, b, ta, tb), { rtol: 1e-4, atol: 1e-5 });
    }
  });

  it('gives zeros for an empty inner dimension and empty results for empty outer ones', async () => {
    await expectClose(gemm(tf.zeros([3, 0]), tf.zeros([0, 9])), tf.zeros([3, 9]));
    expect(gemm(tf.zeros([0, 4]), tf.ones([4, 9])).shape).toEqual([0, 9]);
    expect(gemm(tf.ones([5, 4]), tf.ones([4, 0])).shape).toEqual([5, 0]);
  });

  it('runs its own kernel on wasm and tf.matMul elsewhere', async () => {
    const a = randomTensor([8, 16], 1);
    const b = randomTensor([16, 8], 2);
    const { kernels } = await tf.profile(() => gemm(a, b, false, false));
    expect(kernels.map((x) => x.name)).toEqual([onWasm ? GEMM_KERNEL : 'BatchMatMul']);
  });

  it('rejects mismatched inner dimensions', () => {
    expect(() => gemm(tf.ones([2, 3]), tf.ones([4, 5]))).toThrow(/inner dimensions|must match/);
  });

  for (const [ta, tb] of FLAGS) {
    it(`has the gradients of tf.matMul, transposeA ${ta}, transposeB ${tb}`, async () => {
      const { a, b } = operands(11, 19, 13, ta, tb, 40);
      const w = randomTensor([11, 13], 41);
      const loss = (f: typeof gemm) => (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(f(x, y, ta, tb), w));
      const ours = tf.grads(loss(gemm))([a, b]);
      const stock = tf.grads(loss((x, y, p, q) => tf.matMul(x, y, p, q)))([a, b]);
      await expectClose(ours[0], stock[0]);
      await expectClose(ours[1], stock[1]);
    });
  }

  it('passes a finite-difference gradient check', async () => {
    const { a, b } = operands(5, 6, 9, true, false, 70);
    await gradCheck((x, y) => tf.sum(tf.square(gemm(x, y, true, false))), [a, b]);
  });

  it('differentiates twice: the gradient of a squared input-gradient norm, as a penalty takes it', async () => {
    // f(x) = sum(tanh(x W) v); penalty = |df/dx|^2; d penalty / dW against tf.matMul.
    const x = randomTensor([6, 10], 80);
    const w0 = randomTensor([10, 7], 81);
    const v = randomTensor([7, 1], 82);
    const penalty = (mm: (p: tf.Tensor, q: tf.Tensor) => tf.Tensor) => (wt: tf.Tensor) => {
      const dx = tf.grad((xx: tf.Tensor) => tf.sum(mm(tf.tanh(mm(xx, wt)), v)))(x);
      return tf.sum(tf.square(dx));
    };
    const ours = tf.grad(penalty((p, q) => gemm(p, q)))(w0);
    const stock = tf.grad(penalty((p, q) => tf.matMul(p, q)))(w0);
    await expectClose(ours, stock, { rtol: 2e-4, atol: 2e-5 });
  });

  it('leaks no tensor, forward or backward', () => {
    const { a, b } = operands(9, 20, 17, false, true, 90);
    expectNoLeak(() => gemm(a, b, false, true));
    expectNoLeak(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(gemm(x, y, false, true)))([a, b]));
  });

  it('gives the BatchMatMul gradient of a 2-D tf.matMul through gemm products on wasm', async () => {
    const a = randomTensor([12, 9], 100);
    const b = randomTensor([9, 14], 101);
    const { kernels } = await tf.profile(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x, y)))([a, b]));
    const products = kernels.map((x) => x.name).filter((k) => k === GEMM_KERNEL || k === 'BatchMatMul');
    expect(products).toEqual(onWasm ? ['BatchMatMul', GEMM_KERNEL, GEMM_KERNEL] : ['BatchMatMul', 'BatchMatMul', 'BatchMatMul']);
  });
});

describe(`tf.matMul with transpose flags on ${tf.getBackend()}`, () => {
  it('matches a float64 product for 2-D and single-batch 3-D operands, every flag', async () => {
    expect(routeFlaggedWasmMatMul()).toBe(tf.getKernel('BatchMatMul', 'wasm') !== undefined);
    for (const [ta, tb] of FLAGS) {
      const { a, b } = operands(13, 21, 11, ta, tb, 300);
      await expectClose(tf.matMul(a, b, ta, tb), await reference(a, b, ta, tb), { rtol: 1e-5, atol: 1e-5 });
      const a3 = tf.expandDims(a, 0);
      const b3 = tf.expandDims(b, 0);
      const got = tf.matMul(a3, b3, ta, tb);
      expect(got.shape).toEqual([1, 13, 11]);
      await expectClose(tf.reshape(got, [13, 11]), await reference(a, b, ta, tb), { rtol: 1e-5, atol: 1e-5 });
    }
  });

  it('leaves batches of several matrices to the backend (same values as without the route)', async () => {
    const a = randomTensor([3, 7, 5], 310);
    const b = randomTensor([3, 6, 5], 311);
    const routed = tf.matMul(a, b, false, true);
    restoreWasmMatMul();
    try {
      await expectClose(routed, tf.matMul(a, b, false, true), { rtol: 0, atol: 0 });
    } finally {
      routeFlaggedWasmMatMul();
    }
  });

  it('is the wasm backend kernel where that backend is loaded, and agrees with the stock kernel it replaces', async () => {
    if (!tf.getKernel('BatchMatMul', 'wasm')) {
      expect(routeFlaggedWasmMatMul()).toBe(false);
      return;
    }
    expect(routeFlaggedWasmMatMul()).toBe(true);
    const a = randomTensor([40, 30], 320);
    const b = randomTensor([50, 30], 321);
    const routed = tf.matMul(a, b, false, true);
    const before = tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc;
    restoreWasmMatMul();
    try {
      expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc).not.toBe(before);
      await expectClose(routed, tf.matMul(a, b, false, true), { rtol: 1e-5, atol: 1e-6 });
    } finally {
      expect(routeFlaggedWasmMatMul()).toBe(true);
    }
    expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc).toBe(before);
  });

  it("differentiates tfjs's fused matMul (a dense layer's product) to the same gradients as tf.matMul", async () => {
    const x = randomTensor([9, 12], 330);
    const w = randomTensor([12, 5], 331);
    const bias = randomTensor([5], 332);
    const loss = (fused: boolean) => (xx: tf.Tensor, ww: tf.Tensor) =>
      tf.sum(tf.square(fused ? tf.fused.matMul({ a: xx as tf.Tensor2D, b: ww as tf.Tensor2D, bias, activation: 'relu' }) : tf.relu(tf.add(tf.matMul(xx, ww), bias))));
    const viaFused = tf.grads(loss(true))([x, w]);
    const plain = tf.grads(loss(false))([x, w]);
    await expectClose(viaFused[0], plain[0]);
    await expectClose(viaFused[1], plain[1]);
  });
});

describe('the SIMD product on a memory of its own (any backend)', () => {
  for (const transposeA of [false, true]) {
    it(`compiles and writes every element of C over garbage left in the buffers, transposeA ${transposeA}`, () => {
      expect(WebAssembly.validate(gemmSimdModule())).toBe(true);
      const memory = new WebAssembly.Memory({ initial: 4 });
      const m = 10;
      const k = 300;
      const n = 21;
      // Layout in floats: a, b, c, packed B, tail, packed A.
      const sizes = [m * k, k * n, m * n, packedLength(k, n), 8 * m, packedALength(m, k)];
      const offsets = sizes.reduce<number[]>((acc, s, i) => [...acc, (acc[i] ?? 0) + s], [0]);
      const g = gemmSimd({ wasm: { asm: { memory } } });
      expect(g).not.toBeNull();
      const view = (i: number) => new Float32Array(memory.buffer, 4 * offsets[i], sizes[i]);
      const [a, b, c, packed, tail, packedA] = [0, 1, 2, 3, 4, 5].map(view);
      a.forEach((_, i) => (a[i] = Math.sin(i)));
      b.forEach((_, i) => (b[i] = Math.cos(0.3 * i)));
      for (const v of [c, packed, tail, packedA]) v.fill(NaN);
      runGemm(g!, { a, b, c, packed, packedA, tail, m, k, n, transposeA, transposeB: false });
      let worst = 0;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let kk = 0; kk < k; kk++) s += a[transposeA ? kk * m + i : i * k + kk] * b[kk * n + j];
          worst = Math.max(worst, Math.abs(c[i * n + j] - s));
        }
      }
      expect(worst).toBeLessThan(1e-4);
    });
  }
});
