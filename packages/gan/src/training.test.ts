import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '@tfjs-losses/test-utils';
import { wassersteinGeneratorLoss, wganGpCriticLoss } from './index';

// A short, deterministic WGAN-GP run on a 2-D mixture of four Gaussians:
// the critic starts far from 1-Lipschitz (gradient norms near 4) and the
// penalty must pull its gradient norm at the interpolates toward 1.

const rand = seededRandom(2024);
const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
const matrix = (rows: number, cols: number, scale: number) =>
  tf.variable(tf.tensor2d(Array.from({ length: rows * cols }, () => normal() * scale), [rows, cols]));
const batch = 32;
const centres = [[2, 2], [2, -2], [-2, 2], [-2, -2]];
const realBatch = () => tf.tensor2d(Array.from({ length: batch }, () => {
  const [cx, cy] = centres[Math.floor(rand() * 4)];
  return [cx + 0.1 * normal(), cy + 0.1 * normal()];
}));
const noise = () => tf.tensor2d(Array.from({ length: batch * 2 }, normal), [batch, 2]);
const epsilon = () => Array.from({ length: batch }, rand);

describe('WGAN-GP training on a 2-D Gaussian mixture', () => {
  it('moves the critic\'s gradient norm toward 1 (deterministic, 40 critic steps)', async () => {
    // Critic 2-32-32-1 (tanh), weights scaled up so that norms start far above 1.
    const c = { W1: matrix(2, 32, 1.5), b1: tf.variable(tf.zeros([32])), W2: matrix(32, 32, 0.5), b2: tf.variable(tf.zeros([32])), W3: matrix(32, 1, 0.5) };
    const critic = (x: tf.Tensor) => tf.matMul(tf.tanh(tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(x, c.W1), c.b1)), c.W2), c.b2)), c.W3);
    // Generator: an affine map of Gaussian noise.
    const g = { A: matrix(2, 2, 0.5), b: tf.variable(tf.zeros([2])) };
    const generator = (z: tf.Tensor) => tf.add(tf.matMul(z, g.A), g.b);
    const criticOpt = tf.train.adam(1e-2, 0.5, 0.9);
    const generatorOpt = tf.train.adam(1e-2, 0.5, 0.9);

    const meanGap = async (real: tf.Tensor, fake: tf.Tensor, eps: number[]) => {
      const { gradNorms, criticLoss } = tf.tidy(() => wganGpCriticLoss(critic, real, fake, { epsilon: eps, returnGradNorms: true }));
      const norms = Array.from(await gradNorms.data());
      const w = -(await criticLoss.data())[0];
      tf.dispose([gradNorms, criticLoss]);
      return { gap: norms.reduce((s, n) => s + Math.abs(n - 1), 0) / norms.length, wasserstein: w };
    };
    const probeReal = realBatch();
    const probeFake = tf.tidy(() => generator(noise()));
    const probeEps = epsilon();
    const start = await meanGap(probeReal, probeFake, probeEps);

    for (let step = 0; step < 8; step++) {
      for (let k = 0; k < 5; k++) {
        const real = realBatch();
        const z = noise();
        const eps = epsilon();
        const fake = tf.tidy(() => generator(z));
        criticOpt.minimize(() => wganGpCriticLoss(critic, real, fake, { epsilon: eps }), true, Object.values(c))?.dispose();
        tf.dispose([real, z, fake]);
      }
      const z = noise();
      generatorOpt.minimize(() => wassersteinGeneratorLoss(critic(generator(z))) as tf.Scalar, true, Object.values(g))?.dispose();
      z.dispose();
    }
    const end = await meanGap(probeReal, probeFake, probeEps);
    console.log(`${tf.getBackend()}: mean |grad norm - 1| at fixed probe points ${start.gap.toFixed(3)} -> ${end.gap.toFixed(3)}`);
    expect(start.gap, 'initial mean |norm - 1|').toBeGreaterThan(1);
    expect(end.gap, 'final mean |norm - 1|').toBeLessThan(0.35);
    expect(end.gap).toBeLessThan(start.gap / 4);
    expect(Number.isFinite(end.wasserstein)).toBe(true);
    tf.dispose([probeReal, probeFake, ...Object.values(c), ...Object.values(g)]);
    criticOpt.dispose();
    generatorOpt.dispose();
  });
});
