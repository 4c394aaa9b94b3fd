// The small models and the training loop shared by the demos: plain
// tfjs-core variables and optimizers, initial weights drawn from a seeded
// JavaScript generator (the same on every backend).
import * as tf from '@tensorflow/tfjs-core';
import type { DemoContext, Picture } from './types';
import type { Rng } from './random';

/** A trainable variable holding `normalTensor(rng, shape, scale)`. */
export function normalVariable(rng: Rng, shape: number[], scale = 1): tf.Variable {
  return tf.tidy(() => tf.variable(normalTensor(rng, shape, scale)));
}

/** A tensor of the given shape filled from `rng` (normal, times `scale`). */
export function normalTensor(rng: Rng, shape: number[], scale = 1): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = rng.normal() * scale;
  return tf.tensor(values, shape);
}

export type Activation = 'relu' | 'tanh' | 'leakyRelu' | 'linear';

function activate(x: tf.Tensor2D, activation: Activation): tf.Tensor2D {
  switch (activation) {
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
    case 'leakyRelu':
      return tf.leakyRelu(x, 0.2);
    default:
      return x;
  }
}

/** A multi-layer perceptron: dense layers, `activation` between them, none after the last. */
export class Mlp {
  readonly weights: tf.Variable[] = [];
  readonly biases: tf.Variable[] = [];

  constructor(
    rng: Rng,
    readonly sizes: number[],
    readonly activation: Activation = 'relu',
    /** Scale of the last layer's initial weights (small outputs at the start). */
    lastScale = 1,
  ) {
    for (let i = 0; i + 1 < sizes.length; i++) {
      const fanIn = sizes[i];
      const gain = activation === 'relu' || activation === 'leakyRelu' ? 2 : 1;
      const last = i + 2 === sizes.length;
      const scale = Math.sqrt(gain / fanIn) * (last ? lastScale : 1);
      this.weights.push(tf.tidy(() => tf.variable(normalTensor(rng, [fanIn, sizes[i + 1]], scale))));
      this.biases.push(tf.tidy(() => tf.variable(tf.zeros([sizes[i + 1]]))));
    }
  }

  /** `x` is `[batch, sizes[0]]`; returns `[batch, sizes.at(-1)]`. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      let h = x;
      for (let i = 0; i < this.weights.length; i++) {
        h = tf.add(tf.matMul(h, this.weights[i]), this.biases[i]);
        if (i + 1 < this.weights.length) h = activate(h, this.activation);
      }
      return h;
    });
  }

  get variables(): tf.Variable[] {
    return [...this.weights, ...this.biases];
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

/** Drives the training steps of one demo: counts steps, reports progress, pictures, stops. */
export class Trainer {
  done = 0;
  private readonly pictureEvery: number;

  constructor(
    private readonly ctx: DemoContext,
    readonly total: number,
    private readonly makePicture?: () => Promise<Picture>,
  ) {
    this.pictureEvery = ctx.pictureEvery ?? 25;
  }

  get stopped(): boolean {
    return this.ctx.signal?.aborted ?? false;
  }

  /**
   * Runs `steps` steps of `step` (which returns the step's loss, a scalar it
   * owns) and returns the loss of each step.
   */
  async run(phase: string, steps: number, batch: number, step: (i: number) => tf.Scalar): Promise<number[]> {
    const losses: number[] = [];
    for (let i = 0; i < steps && !this.stopped; i++) {
      const lossTensor = step(i);
      const loss = (await lossTensor.data())[0];
      lossTensor.dispose();
      losses.push(loss);
      this.done++;
      await this.ctx.onProgress?.({ step: this.done, total: this.total, loss, phase, batch });
      if (this.ctx.onPicture && this.makePicture && this.done % this.pictureEvery === 0) {
        await this.ctx.onPicture(await this.makePicture());
      }
    }
    return losses;
  }

  /**
   * Like {@link run} for a step that trains several models at once and
   * returns one loss each (a 1-D tensor); returns one curve per model. The
   * progress bar shows the first.
   */
  async runMany(phase: string, steps: number, batch: number, step: (i: number) => tf.Tensor): Promise<number[][]> {
    const curves: number[][] = [];
    for (let i = 0; i < steps && !this.stopped; i++) {
      const lossTensor = step(i);
      const values = Array.from(await lossTensor.data());
      lossTensor.dispose();
      values.forEach((v, k) => (curves[k] ??= []).push(v));
      this.done++;
      await this.ctx.onProgress?.({ step: this.done, total: this.total, loss: values[0], phase, batch });
      if (this.ctx.onPicture && this.makePicture && this.done % this.pictureEvery === 0) {
        await this.ctx.onPicture(await this.makePicture());
      }
    }
    return curves;
  }

  /** Sends the final picture (when a picture is wanted) and returns it. */
  async finalPicture(): Promise<Picture | undefined> {
    if (!this.makePicture) return undefined;
    const picture = await this.makePicture();
    await this.ctx.onPicture?.(picture);
    return picture;
  }
}

/** Splits `total` steps over phases in proportion to `weights`, each phase at least one step. */
export function splitSteps(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const out = weights.map((w) => Math.max(1, Math.floor((total * w) / sum)));
  out[out.length - 1] = Math.max(1, total - out.slice(0, -1).reduce((a, b) => a + b, 0));
  return out;
}

/** Mean of the first and last `k` values of a curve (for "loss fell from a to b"). */
export function startEnd(values: number[], k = 10): [number, number] {
  const n = Math.max(1, Math.min(k, Math.floor(values.length / 2) || 1));
  const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
  return [mean(values.slice(0, n)), mean(values.slice(-n))];
}

/** Formats a number with `digits` significant decimals, for evidence lines. */
export function fmt(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(digits);
}

/** Formats a fraction as a percentage. */
export function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}
