import * as tf from '@tensorflow/tfjs-core';

type MatMulAttrs = { transposeA: boolean; transposeB: boolean };
type Disposer = { disposeData(dataId: tf.DataId): void };
type Backend = Parameters<tf.KernelFunc>[0]['backend'];

/** `d w^T` as one kernel: {@link productWithTransposed}. */
const KERNEL = 'TfjsLossesGanMatMulTransposedB';

/**
 * `d w^T` from the backend's own kernels. On wasm the transposes are
 * materialised (tfjs-backend-wasm 4.22 runs flagged products through a
 * plain loop, many times slower than XNNPACK): `d transpose(w)`, or
 * `transpose(w transpose(d))` when w has more rows than d. Elsewhere it is
 * the BatchMatMul kernel with `transposeB`.
 */
function productKernel(backendName: string): tf.KernelFunc {
  const matMul = tf.getKernel('BatchMatMul', backendName)?.kernelFunc;
  if (!matMul) throw new Error(`${KERNEL}: no BatchMatMul kernel for backend ${backendName}`);
  if (backendName !== 'wasm') {
    return ({ inputs, backend }) => matMul({ inputs: { a: inputs.d, b: inputs.w }, backend, attrs: { transposeA: false, transposeB: true } });
  }
  const transpose = tf.getKernel('Transpose', backendName)?.kernelFunc;
  if (!transpose) throw new Error(`${KERNEL}: no Transpose kernel for backend ${backendName}`);
  const dispose = (backend: Backend, t: tf.TensorInfo) => (backend as unknown as Disposer).disposeData(t.dataId);
  const transposed = (x: tf.TensorInfo, backend: Backend) => transpose({ inputs: { x }, backend, attrs: { perm: [1, 0] } }) as tf.TensorInfo;
  const product = (a: tf.TensorInfo, b: tf.TensorInfo, backend: Backend) =>
    matMul({ inputs: { a, b }, backend, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo;
  return ({ inputs, backend }) => {
    const { d, w } = inputs as { d: tf.TensorInfo; w: tf.TensorInfo };
    if (w.shape[0] > d.shape[0]) {
      // More rows in w than in d (a dense layer wider than the batch):
      // (w d^T)^T packs the smaller operand for XNNPACK (measured: 10% to 2x
      // faster there, slower the other way round).
      const dT = transposed(d, backend);
      const wd = product(w, dT, backend);
      dispose(backend, dT);
      const out = transposed(wd, backend);
      dispose(backend, wd);
      return out;
    }
    const wT = transposed(w, backend);
    const out = product(d, wT, backend);
    dispose(backend, wT);
    return out;
  };
}

let gradientRegistered = false;

function ensureKernel(): void {
  const backendName = tf.getBackend();
  if (!tf.getKernel(KERNEL, backendName)) tf.registerKernel({ kernelName: KERNEL, backendName, kernelFunc: productKernel(backendName) });
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: KERNEL,
    inputsToSave: ['d', 'w'],
    // Two products without transposed-back operands; tfjs ops, so this
    // differentiates again. Only the gradients a backward pass asks for run.
    gradFunc: (dy, [d, w]) => ({
      d: () => tf.matMul(dy as tf.Tensor, w),
      w: () => (tf.getBackend() === 'wasm' ? tf.matMul(tf.transpose(dy as tf.Tensor), d) : tf.matMul(dy as tf.Tensor, d, true, false)),
    }),
  });
}

/**
 * `d w^T` for 2-D `d` [m, k] and `w` [n, k], as one op whose gradient is
 * dd = G w and dw = G^T d.
 *
 * Composed from tfjs ops on wasm, `d w^T` is `matMul(d, transpose(w))`, and
 * differentiating that again transposes the transpose back (for dd) and
 * transposes twice more for dw. Here dd multiplies by `w` itself: for a
 * dense layer the weight tensor that the forward pass already multiplied by
 * (tfjs-backend-wasm keeps XNNPACK's packed copy of a right-hand operand
 * while that tensor lives, so it is not packed again). Same products, so
 * the same values.
 */
export function productWithTransposed(d: tf.Tensor, w: tf.Tensor): tf.Tensor {
  ensureKernel();
  return tf.engine().runKernel(KERNEL, { d, w }) as tf.Tensor;
}

/**
 * The given BatchMatMul gradient config, with the input-side gradient of a
 * plain 2-D product, `dy b^T`, as {@link productWithTransposed}. Every
 * other case, and the weight-side gradient, are the given config's.
 */
function denseGradient(base: tf.GradConfig): tf.GradConfig {
  return {
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const grads = base.gradFunc(dy, saved, attrs);
      const [a, b] = saved;
      const { transposeA, transposeB } = attrs as unknown as MatMulAttrs;
      if (a.rank === 2 && b.rank === 2 && !transposeA && !transposeB) {
        grads.a = () => productWithTransposed(dy as tf.Tensor, b);
      }
      return grads;
    },
  };
}

let active = false;

/**
 * Runs `fn` with {@link denseGradient} as BatchMatMul's gradient, then puts
 * the previous config (core's) back. tfjs binds a kernel's gradient when
 * the kernel runs (its tape node keeps it), so every product recorded inside
 * `fn` keeps this gradient for later backward passes, and nothing recorded
 * outside is affected. Used around a critic's input gradient: the saving is
 * in that gradient's own gradient (with respect to the critic's variables),
 * on wasm two transposes and one operand packing fewer per dense layer.
 *
 * `enabled` defaults to the wasm backend only (elsewhere flagged products
 * are fast and tfjs's form has no extra transposes); tests force it.
 */
export function withDenseGradients<T>(fn: () => T, enabled: boolean = tf.getBackend() === 'wasm'): T {
  const base = tf.getGradient('BatchMatMul');
  if (!enabled || active || !base) return fn();
  active = true;
  tf.unregisterGradient('BatchMatMul');
  tf.registerGradient(denseGradient(base));
  try {
    return fn();
  } finally {
    tf.unregisterGradient('BatchMatMul');
    tf.registerGradient(base);
    active = false;
  }
}
