// Test support (not part of the package): runs a penalty fixture case with a
// plain-function or tfjs-layers critic and compares with the reference.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { expectClose } from '@tfjs-losses/test-utils';
import { gradientPenalty, r1Penalty, wganGpCriticLoss, type Critic } from '../index';
import { WEIGHT_ORDER, type CriticKind, type PenaltyCase } from './critics';

/** The fixture's function with its options (and its epsilon). */
export function lossOf(c: PenaltyCase, critic: Critic) {
  return (real: tf.Tensor, fake: tf.Tensor): tf.Tensor => {
    if (c.fn === 'r1Penalty') return r1Penalty(critic, real, c.options);
    const options = { ...c.options, epsilon: c.epsilon };
    return c.fn === 'wganGpCriticLoss' ? wganGpCriticLoss(critic, real, fake, options) : gradientPenalty(critic, real, fake, options);
  };
}

/** Value, gradients w.r.t. real and fake, and w.r.t. every weight variable. */
export function evaluate(c: PenaltyCase, critic: Critic, vars: tf.Variable[]) {
  const real = tf.tensor(c.real);
  const fake = tf.tensor(c.fake);
  const f = lossOf(c, critic);
  // Inputs the result does not use (fake for mode 'real' and R1, real for 'fake') get zeros, as in the reference.
  const mode = c.fn === 'r1Penalty' ? 'real' : c.fn === 'gradientPenalty' ? (c.options.mode ?? 'interpolated') : 'both';
  const usesReal = mode !== 'fake';
  const usesFake = mode !== 'real';
  let gradReal = tf.zerosLike(real);
  let gradFake = tf.zerosLike(fake);
  if (usesReal && usesFake) [gradReal, gradFake] = tf.grads(f)([real, fake]);
  else if (usesReal) gradReal = tf.grad((r: tf.Tensor) => f(r, fake))(real);
  else gradFake = tf.grad((q: tf.Tensor) => f(real, q))(fake);
  const wg = tf.variableGrads(() => f(real, fake) as tf.Scalar, vars);
  return { value: wg.value, gradReal, gradFake, weightGrads: vars.map((v) => wg.grads[v.name]) };
}

/** A tfjs-layers model equal to the fixture's critic. */
export function layersCritic(kind: CriticKind, weights: Record<string, number[]>): tfl.LayersModel {
  const leaky = () => tfl.layers.leakyReLU({ alpha: 0.2 });
  let layers: tfl.layers.Layer[];
  if (kind.startsWith('mlp')) {
    layers = [tfl.layers.dense({ units: 6, inputShape: [3], activation: kind === 'mlp-tanh' ? 'tanh' : 'linear' })];
    if (kind === 'mlp-layernorm') layers.push(tfl.layers.layerNormalization({ epsilon: 1e-3 }));
    if (kind !== 'mlp-tanh') layers.push(leaky());
    layers.push(tfl.layers.dense({ units: 1 }));
  } else {
    layers = [
      tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', inputShape: [8, 8, 2] }),
      leaky(),
      tfl.layers.averagePooling2d({ poolSize: 2 }),
      tfl.layers.conv2d({ filters: kind === 'conv' ? 4 : 1, kernelSize: 3, strides: 2, padding: 'same' }),
    ];
    if (kind === 'conv') layers.push(leaky(), tfl.layers.flatten(), tfl.layers.dense({ units: 1 }));
  }
  const model = tfl.sequential({ layers });
  model.setWeights(WEIGHT_ORDER[kind].map((n) => tf.tensor(weights[n])));
  return model;
}

export const modelVars = (m: tfl.LayersModel) => m.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);

export async function expectMatches(c: PenaltyCase, r: ReturnType<typeof evaluate>) {
  // Second-order results sum many products; float32 against the float64 reference.
  const tol = { rtol: 5e-4, atol: 5e-5 };
  await expectClose(r.value, c.value, tol);
  await expectClose(r.gradReal, c.gradReal, tol);
  await expectClose(r.gradFake, c.gradFake, tol);
  const names = WEIGHT_ORDER[c.critic];
  for (let i = 0; i < names.length; i++) {
    const want = c.gradWeights[names[i]];
    const got = r.weightGrads[i];
    // A weight the result does not depend on (the last bias, for a penalty) gets no gradient; the reference's is 0.
    if (got === undefined) await expectClose(tf.zeros(tf.tensor(want).shape), want, tol);
    else await expectClose(got, want, tol);
  }
}

