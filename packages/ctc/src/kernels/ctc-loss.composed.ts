import * as tf from '@tensorflow/tfjs-core';
import type { CtcKernelAttrs } from './ctc-loss.kernel';

/** An int32 scalar (a plain number would make int32 arithmetic float32). */
function int(n: number): tf.Tensor {
  return tf.scalar(n, 'int32');
}

/** `a` moved right by `k` along axis 1, the first `k` columns set to `fill`. */
function shiftRight(a: tf.Tensor, k: number, fill: number): tf.Tensor {
  const [rows, cols] = a.shape;
  if (k >= cols) return tf.fill([rows, cols], fill, a.dtype);
  return tf.concat([tf.fill([rows, k], fill, a.dtype), tf.slice(a, [0, 0], [rows, cols - k])], 1);
}

/** `a` moved left by `k` along axis 1, the last `k` columns set to `fill`. */
function shiftLeft(a: tf.Tensor, k: number, fill: number): tf.Tensor {
  const [rows, cols] = a.shape;
  if (k >= cols) return tf.fill([rows, cols], fill, a.dtype);
  return tf.concat([tf.slice(a, [0, k], [rows, cols - k]), tf.fill([rows, k], fill, a.dtype)], 1);
}

/**
 * One-hot float32 `[B, Sp, C]` of the int32 `[B, Sp]` states' classes
 * (built with equal: wasm's OneHot writes int32 bits into float32 outputs).
 */
function classOf(ext: tf.Tensor, C: number): tf.Tensor {
  const [B, Sp] = ext.shape;
  return tf.cast(tf.equal(tf.reshape(ext, [B, Sp, 1]), tf.reshape(tf.range(0, C, 1, 'int32'), [1, 1, C])), 'float32');
}

/** Elementwise log(exp(a) + exp(b) + exp(c)), -Infinity where all three are. */
function logSumExp3(a: tf.Tensor, b: tf.Tensor, c: tf.Tensor): tf.Tensor {
  const m = tf.maximum(tf.maximum(a, b), c);
  const safe = tf.where(tf.equal(m, -Infinity), tf.zerosLike(m), m);
  const sum = tf.addN([tf.exp(tf.sub(a, safe)), tf.exp(tf.sub(b, safe)), tf.exp(tf.sub(c, safe))]);
  return tf.add(safe, tf.log(sum));
}

/** Elementwise log(exp(a) + exp(b)), -Infinity where both are. */
function logSumExp2(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const m = tf.maximum(a, b);
  const safe = tf.where(tf.equal(m, -Infinity), tf.zerosLike(m), m);
  return tf.add(safe, tf.log(tf.add(tf.exp(tf.sub(a, safe)), tf.exp(tf.sub(b, safe)))));
}

/**
 * CTC with tensor ops: the fallback on backends without a fused kernel, and
 * the oracle the fused kernels are tested against. Same inputs, attrs and
 * first output as the kernel (per-sample negative log-likelihood `[B]`).
 *
 * The forward variables alpha are computed one frame at a time for the
 * whole batch (`[B, 2S + 1]` per frame). The gradient is not left to
 * autodiff through that loop: a `tf.customGrad` runs the backward variables
 * beta and returns softmax minus the normalized occupation of each class
 * (summed over the states of that class by a batched matMul with the one-hot
 * extended labels), the same exact gradient the fused kernels compute.
 */
export function ctcComposed(inputs: tf.Tensor[], attrs: CtcKernelAttrs): tf.Tensor[] {
  const [logitsIn, labels, logitLengths, labelLengths] = inputs;
  const { blank, timeMajor, zeroInfinity } = attrs;
  const logits = timeMajor ? tf.transpose(logitsIn, [1, 0, 2]) : logitsIn;
  const [B, T, C] = logits.shape as number[];
  const S = labels.shape[1] as number;
  const Sp = 2 * S + 1;

  // Extended labels [B, Sp]: blank, l1, blank, l2, ..., blank. Entries past a
  // label's length become the blank (they are never used).
  const sIdx = tf.reshape(tf.range(0, S, 1, 'int32'), [1, S]);
  const labelLen = tf.reshape(labelLengths, [B, 1]);
  const cleaned = tf.where(tf.less(sIdx, labelLen), labels, tf.fill([B, S], blank, 'int32'));
  const blanks = tf.fill([B, S], blank, 'int32');
  const ext = tf.concat([tf.reshape(tf.stack([blanks, cleaned], 2), [B, 2 * S]), tf.fill([B, 1], blank, 'int32')], 1);
  const states = tf.reshape(tf.range(0, Sp, 1, 'int32'), [1, Sp]);
  const odd = tf.equal(tf.mod(states, int(2)), 1);
  // A label state may be entered from two states back unless it repeats that label.
  const skip = tf.logicalAnd(
    tf.logicalAnd(odd, tf.greaterEqual(states, 3)),
    tf.notEqual(ext, shiftRight(ext, 2, -1)),
  );
  const spB = tf.add(tf.mul(labelLen, int(2)), int(1)); // [B, 1] number of states per sample
  const endStates = tf.logicalAnd(
    tf.greaterEqual(states, tf.sub(spB, int(2))),
    tf.logicalAnd(tf.less(states, spB), tf.logicalOr(tf.greater(labelLen, 0), tf.equal(states, tf.sub(spB, int(1))))),
  );
  const startStates = tf.logicalAnd(tf.less(states, 2), tf.less(states, spB));
  const logitLen = tf.reshape(logitLengths, [B]);
  // Flat index of lp[b, t, ext[b, s]] for each [t, b, s]: a plain 1-D gather
  // (wasm's gather with batchDims returns wrong rows in tfjs 4.22).
  const frameBase = tf.add(
    tf.mul(tf.reshape(tf.range(0, T, 1, 'int32'), [T, 1, 1]), int(C)),
    tf.mul(tf.reshape(tf.range(0, B, 1, 'int32'), [1, B, 1]), int(T * C)),
  );
  const emitIndex = tf.add(frameBase, tf.reshape(ext, [1, B, Sp]));

  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const lp = tf.logSoftmax(x); // [B, T, C]
    const emit = tf.gather(tf.reshape(lp, [B * T * C]), emitIndex); // [T, B, Sp]
    const emits = tf.unstack(emit);
    const negInf = tf.fill([B, Sp], -Infinity);
    const alphas: tf.Tensor[] = [tf.where(startStates, emits[0], negInf)];
    for (let t = 1; t < T; t++) {
      const prev = alphas[t - 1];
      const fromSkip = tf.where(skip, shiftRight(prev, 2, -Infinity), negInf);
      alphas.push(tf.add(emits[t], logSumExp3(prev, shiftRight(prev, 1, -Infinity), fromSkip)));
    }
    const alpha = tf.stack(alphas); // [T, B, Sp]
    // log p = logsumexp of the last two states at frame T_b - 1.
    const lastT = tf.maximum(tf.sub(logitLen, int(1)), int(0));
    const bIdx = tf.range(0, B, 1, 'int32');
    const spFlat = tf.reshape(spB, [B]);
    const at = (state: tf.Tensor) => tf.gatherND(alpha, tf.stack([lastT, bIdx, tf.maximum(state, int(0))], 1));
    const hasLabel = tf.greater(tf.reshape(labelLen, [B]), 0);
    const last = at(tf.sub(spFlat, int(1)));
    const beforeLast = tf.where(hasLabel, at(tf.sub(spFlat, int(2))), tf.fill([B], -Infinity));
    const noFrames = tf.equal(logitLen, 0);
    const logp = tf.where(
      noFrames,
      tf.where(hasLabel, tf.fill([B], -Infinity), tf.zeros([B])),
      logSumExp2(last, beforeLast),
    );
    const nll = tf.neg(logp);
    const impossible = tf.equal(logp, -Infinity);
    const value = zeroInfinity ? tf.where(impossible, tf.zeros([B]), nll) : nll;
    save([lp, emit, alpha, nll, ext, skip, endStates, logitLen, impossible]);

    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor => {
      const [sLp, sEmit, sAlpha, sNll, sExt, sSkip, sEnd, sLogitLen, sImpossible] = saved;
      const emitRows = tf.unstack(sEmit);
      const inf = tf.fill([B, Sp], -Infinity);
      const skipNext = tf.cast(shiftLeft(sSkip, 2, 0), 'bool');
      const lastFrame = tf.reshape(tf.sub(sLogitLen, int(1)), [B, 1]);
      const betas: tf.Tensor[] = new Array(T);
      let next = inf;
      for (let t = T - 1; t >= 0; t--) {
        const fromSkip = tf.where(skipNext, shiftLeft(next, 2, -Infinity), inf);
        const rec = tf.add(emitRows[t], logSumExp3(next, shiftLeft(next, 1, -Infinity), fromSkip));
        const init = tf.where(sEnd, emitRows[t], inf);
        const isLast = tf.equal(lastFrame, t);
        const before = tf.greater(lastFrame, t);
        next = tf.where(isLast, init, tf.where(before, rec, inf));
        betas[t] = next;
      }
      const beta = tf.stack(betas); // [T, B, Sp]
      const logOcc = tf.add(tf.sub(tf.add(sAlpha, beta), sEmit), tf.reshape(sNll, [1, B, 1]));
      const occ = tf.transpose(tf.exp(logOcc), [1, 0, 2]); // [B, T, Sp]
      const perClass = tf.matMul(occ, classOf(sExt, C)); // [B, T, C]
      let g = tf.sub(tf.exp(sLp), perClass);
      const frames = tf.less(tf.reshape(tf.range(0, T, 1, 'int32'), [1, T, 1]), tf.reshape(sLogitLen, [B, 1, 1]));
      g = tf.where(tf.broadcastTo(frames, [B, T, C]), g, tf.zerosLike(g));
      if (zeroInfinity) g = tf.where(tf.broadcastTo(tf.reshape(sImpossible, [B, 1, 1]), [B, T, C]), tf.zerosLike(g), g);
      return tf.mul(g, tf.reshape(dy, [B, 1, 1]));
    };
    return { value, gradFunc };
  });
  return [run(logits) as tf.Tensor];
}
