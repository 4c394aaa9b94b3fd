import * as tf from '@tensorflow/tfjs-core';
import { absZeroGrad, defineFusedOp, hostKernelFunc, type HostKernel } from '@tfjs-losses/core';
import { lovaszExtension } from './extension';
import { lovaszSoftmaxHost } from './lovasz-softmax.cpu';

/** Attributes of the Lovasz-Softmax op (already validated). */
export interface LovaszSoftmaxAttrs {
  /** Class index of each averaged term (all classes for 'present' and 'all'). */
  classes: number[];
  /** Weight of each term. */
  weights: number[];
  /** Skip classes without a valid foreground pixel; average over the others. */
  present: boolean;
  /** One group per image (else the batch is one group). */
  perImage: boolean;
  /** probas is [B, C, S] instead of [B, S, C]. */
  channelsFirst: boolean;
  hasIgnore: boolean;
  ignoreIndex: number;
}

/**
 * Composed form: probas [B, S, C] (or [B, C, S]) and labels [B, S] to the
 * loss, with tfjs ops. All (group, class) rows are sorted at once.
 */
function composed([probas, labels]: tf.Tensor[], attrs: LovaszSoftmaxAttrs): tf.Tensor {
  const { classes, weights, present, perImage, channelsFirst, hasIgnore, ignoreIndex } = attrs;
  const [batch, d1, d2] = probas.shape;
  const numClasses = channelsFirst ? d1 : d2;
  const size = channelsFirst ? d2 : d1;
  const groups = perImage ? batch : 1;
  const n = (batch * size) / groups;
  const k = classes.length;
  // Probabilities as [groups, classes, pixels].
  let p: tf.Tensor;
  if (channelsFirst) {
    p = perImage ? probas : tf.reshape(tf.transpose(probas, [1, 0, 2]), [1, numClasses, n]);
  } else {
    p = tf.transpose(tf.reshape(probas, [groups, n, numClasses]), [0, 2, 1]);
  }
  const all = k === numClasses && classes.every((c, i) => c === i);
  if (!all) p = tf.gather(p, tf.tensor1d(classes, 'int32'), 1);

  // Ignored pixels get label −1 (no class) and error −1 (left out by the extension).
  const lab = tf.reshape(labels, [groups, 1, n]);
  const valid = hasIgnore ? tf.notEqual(lab, ignoreIndex) : undefined;
  const labEff = valid ? tf.where(valid, lab, tf.fill(lab.shape, -1, 'int32')) : lab;
  const fg = tf.cast(tf.equal(labEff, tf.reshape(tf.tensor1d(classes, 'int32'), [1, k, 1])), 'float32');
  let errors = absZeroGrad(tf.sub(fg, p));
  if (valid) errors = tf.where(tf.broadcastTo(valid, errors.shape), errors, tf.fill(errors.shape, -1));

  const perClass = tf.reshape(lovaszExtension(tf.reshape(errors, [groups * k, n]), tf.reshape(fg, [groups * k, n])), [groups, k]);
  let terms = weights.every((w) => w === 1) ? perClass : tf.mul(perClass, tf.tensor1d(weights));
  let count: tf.Tensor | number = k;
  if (present) {
    const isPresent = tf.cast(tf.greater(tf.sum(fg, 2), 0), 'float32');
    terms = tf.mul(terms, isPresent);
    count = tf.maximum(tf.sum(isPresent, 1), 1);
  }
  return tf.mean(tf.div(tf.sum(terms, 1), count));
}

const host = (backend: 'cpu' | 'wasm') => hostKernelFunc(backend, ['probas', 'labels'], lovaszSoftmaxHost as unknown as HostKernel);

const op = defineFusedOp<LovaszSoftmaxAttrs>({
  kernelName: 'TfjsLossesLovaszSoftmax',
  inputNames: ['probas', 'labels'],
  kernels: { cpu: () => host('cpu'), wasm: () => host('wasm') },
  composed,
  // The kernel returns d loss / d probas beside the loss: the backward pass is one product.
  saveOutputs: [false, true],
  gradient: (dys, saved) => [tf.mul(dys[0], saved[2]), undefined],
});

/**
 * Lovasz-Softmax from probabilities `probas` [B, S, C] (or [B, C, S] with
 * `channelsFirst`) and int32 `labels` [B, S]: a scalar. Fused kernel on cpu
 * and wasm, composed ops elsewhere.
 */
export function lovaszSoftmaxOp(probas: tf.Tensor, labels: tf.Tensor, attrs: LovaszSoftmaxAttrs): tf.Tensor {
  const [loss, ...rest] = op([probas, labels], attrs);
  // The fused kernel also returns the gradient; its backward pass keeps its own reference.
  tf.dispose(rest);
  return loss;
}

/** True when the fused kernel runs on the current backend. */
export function lovaszSoftmaxIsFused(): boolean {
  return op.isFused();
}
