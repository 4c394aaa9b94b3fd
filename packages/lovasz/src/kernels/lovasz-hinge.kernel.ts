import * as tf from '@tensorflow/tfjs-core';
import { defineFusedOp, hostKernelFunc, type HostKernel } from '@tfjs-losses/core';
import { lovaszExtension } from './extension';
import { lovaszHingeHost } from './lovasz-hinge.cpu';

/** Attributes of the Lovasz hinge op (already validated). */
export interface LovaszHingeAttrs {
  /** Also the hinge on (−x, 1 − y), averaged with the plain one. */
  symmetric: boolean;
  hasIgnore: boolean;
  ignoreIndex: number;
}

/** Composed form: logits and labels [G, N] (one row per group) to the mean loss over groups. */
function composed([logits, labels]: tf.Tensor[], attrs: LovaszHingeAttrs): tf.Tensor {
  const { symmetric, hasIgnore, ignoreIndex } = attrs;
  const groups = logits.shape[0];
  const isFg = tf.equal(labels, 1);
  const valid = hasIgnore ? tf.notEqual(labels, ignoreIndex) : undefined;
  // s = 2y − 1 from the label itself; an ignored pixel's error is replaced below.
  const signs = tf.sub(tf.mul(tf.cast(isFg, 'float32'), 2), 1);
  let errors = tf.sub(1, tf.mul(logits, signs));
  let fg = tf.cast(valid ? tf.logicalAnd(isFg, valid) : isFg, 'float32');
  if (valid) errors = tf.where(valid, errors, tf.fill(errors.shape, -1));
  let rows = groups;
  if (symmetric) {
    // The mirrored pair (−x, 1 − y) has the same errors: only the foreground flips.
    const other = valid ? tf.sub(tf.cast(valid, 'float32'), fg) : tf.sub(1, fg);
    errors = tf.concat([errors, errors], 0);
    fg = tf.concat([fg, other], 0);
    rows = 2 * groups;
  }
  return tf.div(tf.sum(lovaszExtension(errors, fg)), rows);
}

const host = (backend: 'cpu' | 'wasm') => hostKernelFunc(backend, ['logits', 'labels'], lovaszHingeHost as unknown as HostKernel);

const op = defineFusedOp<LovaszHingeAttrs>({
  kernelName: 'TfjsLossesLovaszHinge',
  inputNames: ['logits', 'labels'],
  kernels: { cpu: () => host('cpu'), wasm: () => host('wasm') },
  composed,
  // The kernel returns d loss / d logits beside the loss: the backward pass is one product.
  saveOutputs: [false, true],
  gradient: (dys, saved) => [tf.mul(dys[0], saved[2]), undefined],
});

/**
 * Lovasz hinge from `logits` [G, N] and int32 `labels` [G, N], averaged over
 * the G groups: a scalar. Fused kernel on cpu and wasm, composed ops elsewhere.
 */
export function lovaszHingeOp(logits: tf.Tensor, labels: tf.Tensor, attrs: LovaszHingeAttrs): tf.Tensor {
  const [loss, ...rest] = op([logits, labels], attrs);
  // The fused kernel also returns the gradient; its backward pass keeps its own reference.
  tf.dispose(rest);
  return loss;
}

/** True when the fused kernel runs on the current backend. */
export function lovaszHingeIsFused(): boolean {
  return op.isFused();
}
