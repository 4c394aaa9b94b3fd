import * as tf from '@tensorflow/tfjs-core';
import { canReadSync, describeValue, type ArgChecker } from '@tfjs-losses/core';

/**
 * A temperature: a plain number, or a scalar tensor (a `tf.Variable` to learn
 * it, CLIP style). Tensors must hold one positive value.
 */
export type ContrastiveTemperature = number | tf.Tensor;

/**
 * Checks a temperature and returns `1 / T`: a number for a number, a scalar
 * tensor (differentiable with respect to `T`) for a tensor. A tensor's value
 * is checked where the backend reads synchronously (`cpu`, `wasm`); on
 * `webgpu` in Node only its shape is.
 */
export function inverseTemperature(arg: ArgChecker, value: unknown, name = 'temperature'): number | tf.Tensor {
  if (typeof value === 'number') {
    if (!(value > 0) || !Number.isFinite(value)) arg.fail(name, `must be a finite number > 0; got ${describeValue(value)}.`);
    return 1 / value;
  }
  if (!(value instanceof tf.Tensor)) {
    arg.fail(name, `must be a number or a scalar tensor; got ${describeValue(value)}.`);
  }
  const t = arg.float(name, value);
  if (t.size !== 1) arg.fail(name, `must be a number or a tensor holding one value; got a tensor of shape [${t.shape.join(', ')}].`);
  if (canReadSync()) {
    const v = t.dataSync()[0];
    if (!(v > 0) || !Number.isFinite(v)) arg.fail(name, `must be > 0 and finite; got a tensor holding ${v}.`);
  }
  return tf.reciprocal(tf.reshape(t, []));
}

/** `T / baseT` as a number or a scalar tensor, for SupCon's loss scale. */
export function temperatureRatio(inverse: number | tf.Tensor, baseTemperature: number): number | tf.Tensor {
  if (typeof inverse === 'number') return 1 / (inverse * baseTemperature);
  return tf.reciprocal(tf.mul(inverse, baseTemperature));
}
