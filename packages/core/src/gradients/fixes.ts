import * as tf from '@tensorflow/tfjs-core';
import { secondOrderGradients } from './second-order';

const replaced = new Map<string, tf.GradConfig | null>();

/**
 * Replaces a gradient config without tfjs's "overriding" warning. The first
 * config replaced for a kernel (tfjs's own, or none) is kept for
 * {@link stockGradient}.
 */
export function setGradient(config: tf.GradConfig): void {
  const previous = tf.getGradient(config.kernelName);
  if (!replaced.has(config.kernelName)) replaced.set(config.kernelName, previous ?? null);
  if (previous) tf.unregisterGradient(config.kernelName);
  tf.registerGradient(config);
}

/**
 * The gradient config tfjs had for a kernel before core replaced it (`null`
 * if it had none; `undefined` if core did not touch the kernel). Tests use
 * it to show each repair fixes a real failure.
 */
export function stockGradient(kernelName: string): tf.GradConfig | null | undefined {
  return replaced.get(kernelName);
}

/** Runs `fn` with tfjs's own gradient (or none) for `kernelName`, then restores ours. */
export function withStockGradient<T>(kernelName: string, fn: () => T): T {
  const ours = tf.getGradient(kernelName);
  const stock = replaced.get(kernelName);
  if (ours) tf.unregisterGradient(kernelName);
  if (stock) tf.registerGradient(stock);
  try {
    return fn();
  } finally {
    if (tf.getGradient(kernelName)) tf.unregisterGradient(kernelName);
    if (ours) tf.registerGradient(ours);
  }
}

/** Kernels whose outputs are piecewise constant (or integer): their gradient is zero. */
export const ZERO_GRADIENT_KERNELS = [
  'Less', 'LessEqual', 'Greater', 'GreaterEqual', 'Equal', 'NotEqual',
  'LogicalAnd', 'LogicalOr', 'LogicalNot', 'LogicalXor',
  'IsNan', 'IsInf', 'IsFinite',
] as const;

function zeroGradients(): void {
  for (const kernelName of ZERO_GRADIENT_KERNELS) {
    const names = kernelName === 'LogicalNot' || kernelName.startsWith('Is') ? ['x'] : ['a', 'b'];
    setGradient({
      kernelName,
      inputsToSave: names,
      gradFunc: (_dy, saved) =>
        Object.fromEntries(names.map((n, i) => [n, () => tf.zeros(saved[i].shape, 'float32')])),
    });
  }
}

/**
 * Gradients rewritten to save their input and recompute the output.
 * tfjs 4.22 records the clone of a kernel's saved output on the tape before
 * the kernel itself, so backprop through a gradient that reads the saved
 * output silently drops that path: second-order gradients were wrong
 * (TFJS-GAPS.md). First-order values are unchanged.
 */
function recomputingGradients(): void {
  setGradient({
    kernelName: 'Tanh',
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy as tf.Tensor, tf.sub(1, tf.square(tf.tanh(x)))) }),
  });
  setGradient({
    kernelName: 'Sigmoid',
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({
      x: () => {
        const s = tf.sigmoid(x);
        return tf.mul(dy as tf.Tensor, tf.mul(s, tf.sub(1, s)));
      },
    }),
  });
  setGradient({
    kernelName: 'Exp',
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy as tf.Tensor, tf.exp(x)) }),
  });
  setGradient({
    kernelName: 'Elu',
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({
      x: () => tf.mul(dy as tf.Tensor, tf.where(tf.greater(x, 0), tf.onesLike(x), tf.exp(tf.minimum(x, 0)))),
    }),
  });
  setGradient({
    kernelName: 'Softmax',
    inputsToSave: ['logits'],
    gradFunc: (dy, [logits], attrs) => ({
      logits: () => {
        const dim = (attrs as { dim: number }).dim;
        const y = tf.softmax(logits, dim);
        const d = dy as tf.Tensor;
        return tf.mul(y, tf.sub(d, tf.sum(tf.mul(d, y), dim, true)));
      },
    }),
  });
  setGradient({
    kernelName: 'LogSoftmax',
    inputsToSave: ['logits'],
    gradFunc: (dy, [logits], attrs) => ({
      logits: () => {
        const axis = (attrs as { axis: number }).axis;
        const d = dy as tf.Tensor;
        return tf.sub(d, tf.mul(tf.sum(d, axis, true), tf.softmax(logits, axis)));
      },
    }),
  });
}

let reluMasksOffTape = false;

/**
 * Runs `fn` with the masks of ReLU gradients kept off the gradient tape.
 *
 * tfjs records the mask `step(x)` of a ReLU's gradient on the tape; when
 * that gradient is differentiated again (a gradient penalty through a ReLU
 * network), the mask's zero derivative is pushed back through every op
 * below it: for a dense layer, one whole matMul computing zeros. Off the
 * tape the result is the same wherever the mask is constant (everywhere but
 * x = 0), but anything that depends on the input only through masks is no
 * longer connected to it: a gradient of such a value is missing (tfjs) where
 * PyTorch returns zeros. Use it only where every input of interest also
 * reaches the result another way, as in a WGAN-GP critic loss, whose critic
 * scores depend on every critic variable directly.
 */
export function withReluMasksOffTape<T>(fn: () => T): T {
  const previous = reluMasksOffTape;
  reluMasksOffTape = true;
  try {
    return fn();
  } finally {
    reluMasksOffTape = previous;
  }
}

/** `fn` with the tape off: tfjs records a kernel only while `state.gradientDepth > 0` (tfjs-core 4.22 `Engine.isTapeOn`). */
function offTape<T>(fn: () => T): T {
  const state = tf.engine().state as unknown as { gradientDepth: number };
  const depth = state.gradientDepth;
  state.gradientDepth = 0;
  try {
    return fn();
  } finally {
    state.gradientDepth = depth;
  }
}

/** Relu: tfjs's gradient (dy times the step mask), the mask off the tape inside {@link withReluMasksOffTape}. */
function reluGradient(): void {
  setGradient({
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({
      x: () => {
        const mask = () => tf.cast(tf.step(x), 'float32');
        return tf.mul(dy as tf.Tensor, reluMasksOffTape ? offTape(mask) : mask());
      },
    }),
  });
}

/** TopK: the values' gradient flows back to the positions they came from. */
function topKGradient(): void {
  setGradient({
    kernelName: 'TopK',
    inputsToSave: ['x'],
    outputsToSave: [false, true],
    gradFunc: (dys, saved) => ({
      x: () => {
        const [x, indices] = saved;
        const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
        const n = x.shape[x.rank - 1];
        const k = indices.shape[indices.rank - 1];
        const rows = x.size / Math.max(n, 1);
        const offsets = tf.reshape(tf.range(0, rows * n, n, 'int32'), [rows, 1]);
        const flatIdx = tf.reshape(tf.add(tf.reshape(indices, [rows, k]), offsets), [-1]);
        const flat = tf.unsortedSegmentSum(tf.reshape(dy, [-1]), flatIdx as tf.Tensor1D, rows * n);
        return tf.reshape(flat, x.shape);
      },
    }),
  });
}

let applied = false;

/** Applies every gradient repair once (idempotent). */
export function applyGradientFixes(): void {
  if (applied) return;
  applied = true;
  zeroGradients();
  recomputingGradients();
  reluGradient();
  topKGradient();
  secondOrderGradients();
}
