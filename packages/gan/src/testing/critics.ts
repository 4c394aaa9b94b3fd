// Test support (not part of the package): the critics of fixtures/generate.py
// written with tfjs ops, and the fixture case types.
import * as tf from '@tensorflow/tfjs-core';

export type CriticKind = 'mlp-tanh' | 'mlp-leaky' | 'mlp-layernorm' | 'conv' | 'patch';

export interface PenaltyCase {
  name: string;
  fn: 'gradientPenalty' | 'wganGpCriticLoss' | 'r1Penalty';
  critic: CriticKind;
  options: Record<string, unknown>;
  real: number[];
  fake: number[];
  epsilon: number[];
  weights: Record<string, number[]>;
  value: number;
  gradNorms: number[];
  gradReal: number[];
  gradFake: number[];
  gradWeights: Record<string, number[]>;
}

/** The order of each critic's weights (as tfjs-layers' getWeights lists them). */
export const WEIGHT_ORDER: Record<CriticKind, string[]> = {
  'mlp-tanh': ['W1', 'b1', 'W2', 'b2'],
  'mlp-leaky': ['W1', 'b1', 'W2', 'b2'],
  'mlp-layernorm': ['W1', 'b1', 'gamma', 'beta', 'W2', 'b2'],
  conv: ['K1', 'c1', 'K2', 'c2', 'W3', 'b3'],
  patch: ['K1', 'c1', 'K2', 'c2'],
};

/** A plain-function critic over variables holding the fixture's weights. */
export function functionCritic(kind: CriticKind, weights: Record<string, number[]>): { critic: (x: tf.Tensor) => tf.Tensor; vars: Record<string, tf.Variable> } {
  const vars: Record<string, tf.Variable> = {};
  for (const name of WEIGHT_ORDER[kind]) vars[name] = tf.variable(tf.tensor(weights[name]), true, `${kind}-${name}-${Math.random().toString(36).slice(2)}`);
  const v = vars;
  const leaky = (t: tf.Tensor) => tf.leakyRelu(t, 0.2);
  const critic = (x: tf.Tensor): tf.Tensor => {
    switch (kind) {
      case 'mlp-tanh':
        return tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(x, v.W1), v.b1)), v.W2), v.b2);
      case 'mlp-leaky':
        return tf.add(tf.matMul(leaky(tf.add(tf.matMul(x, v.W1), v.b1)), v.W2), v.b2);
      case 'mlp-layernorm': {
        const h = tf.add(tf.matMul(x, v.W1), v.b1);
        const { mean, variance } = tf.moments(h, -1, true);
        const n = tf.add(tf.mul(tf.mul(tf.sub(h, mean), tf.rsqrt(tf.add(variance, 1e-3))), v.gamma), v.beta);
        return tf.add(tf.matMul(leaky(n), v.W2), v.b2);
      }
      default: {
        let h = leaky(tf.add(tf.conv2d(x as tf.Tensor4D, v.K1 as tf.Tensor4D, 1, 'same'), v.c1));
        h = tf.avgPool(h as tf.Tensor4D, 2, 2, 'valid');
        h = tf.add(tf.conv2d(h as tf.Tensor4D, v.K2 as tf.Tensor4D, 2, 'same'), v.c2);
        if (kind === 'patch') return h;
        return tf.add(tf.matMul(tf.reshape(leaky(h), [x.shape[0], -1]), v.W3), v.b3);
      }
    }
  };
  return { critic, vars };
}
