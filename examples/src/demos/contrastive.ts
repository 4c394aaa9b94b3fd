// contrastive: SimCLR-style training of an encoder on augmented synthetic
// clusters with ntXent (no labels), then supervisedContrastiveLoss (labels).
// Evidence: k-NN accuracy of the embeddings before and after each phase.
import * as tf from '@tensorflow/tfjs-core';
import { ntXent, supervisedContrastiveLoss } from '@tfjs-losses/contrastive';
import { knnAccuracy, pca2 } from './metrics';
import { Mlp, Trainer, fmt, normalTensor, pct, splitSteps, startEnd } from './nn';
import { Rng } from './random';
import type { Demo, DemoContext, DemoResult, Picture } from './types';

const CLASSES = 8;
const CONTENT = 8; // dimensions that carry the class
const NUISANCE = 24; // dimensions an augmentation redraws
const DIM = CONTENT + NUISANCE;
const EMBED = 16;
const BATCH = 128;

/**
 * The synthetic world: each class is a prototype in the content space; an
 * instance is its prototype plus noise; a view of an instance adds small
 * jitter and fresh, larger nuisance values, then everything is mixed by one
 * fixed random matrix (so no coordinate is the answer by itself).
 */
class World {
  readonly prototypes: Float32Array;
  readonly mix: tf.Tensor2D;

  constructor(rng: Rng) {
    this.prototypes = new Float32Array(CLASSES * CONTENT).map(() => 1.2 * rng.normal());
    this.mix = normalTensor(rng, [DIM, DIM], 1 / Math.sqrt(DIM)) as tf.Tensor2D;
  }

  /** `n` instances: labels and content points. */
  instances(rng: Rng, n: number): { labels: Int32Array; content: Float32Array } {
    const labels = new Int32Array(n);
    const content = new Float32Array(n * CONTENT);
    for (let i = 0; i < n; i++) {
      labels[i] = rng.int(0, CLASSES - 1);
      for (let j = 0; j < CONTENT; j++) content[i * CONTENT + j] = this.prototypes[labels[i] * CONTENT + j] + 0.5 * rng.normal();
    }
    return { labels, content };
  }

  /** One augmented view of each instance, `[n, DIM]` (mixed). */
  view(rng: Rng, content: Float32Array): tf.Tensor2D {
    const n = content.length / CONTENT;
    const raw = new Float32Array(n * DIM);
    for (let i = 0; i < n; i++) {
      const scale = rng.uniform(0.8, 1.2);
      for (let j = 0; j < CONTENT; j++) raw[i * DIM + j] = scale * (content[i * CONTENT + j] + 0.1 * rng.normal());
      for (let j = CONTENT; j < DIM; j++) raw[i * DIM + j] = 2 * rng.normal();
    }
    return tf.tidy(() => tf.matMul(tf.tensor2d(raw, [n, DIM]), this.mix));
  }
}

async function run(ctx: DemoContext = {}): Promise<DemoResult> {
  const total = ctx.steps ?? contrastiveDemo.defaultSteps;
  const rng = new Rng(ctx.seed ?? 1);
  const world = new World(rng.fork(1));
  const encoder = new Mlp(rng.fork(2), [DIM, 64, 64, EMBED], 'relu');
  const unit = (z: tf.Tensor2D): tf.Tensor2D => tf.div(z, tf.add(tf.norm(z, 2, 1, true), 1e-12));
  const embed = (x: tf.Tensor2D): tf.Tensor2D => tf.tidy(() => unit(encoder.apply(x)));
  // Reference and query sets for k-NN, each seen through one fixed view.
  const evalRng = rng.fork(3);
  const refSet = world.instances(evalRng, 800);
  const querySet = world.instances(evalRng, 400);
  const refX = world.view(evalRng, refSet.content);
  const queryX = world.view(evalRng, querySet.content);
  const knn = async (): Promise<number> => {
    const [r, q] = [embed(refX), embed(queryX)];
    const acc = knnAccuracy(await r.data() as Float32Array, refSet.labels, await q.data() as Float32Array, querySet.labels, EMBED);
    r.dispose();
    q.dispose();
    return acc;
  };
  const rawKnn = knnAccuracy(await refX.data() as Float32Array, refSet.labels, await queryX.data() as Float32Array, querySet.labels, DIM);
  const picture = async (): Promise<Picture> => {
    const q = embed(queryX);
    const [px, py] = pca2(await q.data() as Float32Array, EMBED);
    q.dispose();
    return {
      kind: 'scatter',
      title: 'embeddings of held-out points (PCA), coloured by class',
      points: Array.from(px, (x, i) => ({ x, y: py[i], group: querySet.labels[i] })),
      groups: Array.from({ length: CLASSES }, (_, c) => `class ${c}`),
    };
  };
  const trainer = new Trainer(ctx, total, picture);
  const before = await knn();
  const [stepsSimclr, stepsSupcon] = splitSteps(total, [3, 2]);
  const batchRng = rng.fork(4);
  const optimizer = tf.train.adam(0.003);
  const step = (supervised: boolean) => (): tf.Scalar =>
    tf.tidy(() => {
      const { labels, content } = world.instances(batchRng, BATCH);
      const v1 = world.view(batchRng, content);
      const v2 = world.view(batchRng, content);
      return optimizer.minimize(
        () => {
          const z1 = encoder.apply(v1);
          const z2 = encoder.apply(v2);
          if (!supervised) return ntXent(z1, z2, { temperature: 0.5 }) as tf.Scalar;
          const features = tf.stack([unit(z1), unit(z2)], 1); // [N, 2 views, D]
          return supervisedContrastiveLoss(features, tf.tensor1d(labels, 'int32'), { temperature: 0.1, baseTemperature: 0.1 }) as tf.Scalar;
        },
        true,
        encoder.variables,
      ) as tf.Scalar;
    });
  const simclrCurve = await trainer.run('ntXent', stepsSimclr, 2 * BATCH, step(false));
  const afterSimclr = await knn();
  const supconCurve = await trainer.run('supervisedContrastiveLoss', stepsSupcon, 2 * BATCH, step(true));
  const after = await knn();
  const finalPicture = await trainer.finalPicture();
  optimizer.dispose();
  encoder.dispose();
  for (const t of [refX, queryX, world.mix]) t.dispose();
  const [s0, s1] = startEnd(simclrCurve);
  const [u0, u1] = startEnd(supconCurve);
  return {
    family: 'contrastive',
    steps: trainer.done,
    curves: [
      { name: 'ntXent (SimCLR, no labels)', values: simclrCurve },
      { name: 'supervisedContrastiveLoss', values: supconCurve },
    ],
    details: [
      `ntXent: loss ${fmt(s0)} -> ${fmt(s1)} in ${stepsSimclr} steps; supervisedContrastiveLoss: ${fmt(u0)} -> ${fmt(u1)} in ${stepsSupcon} steps`,
      `5-NN accuracy on the raw ${DIM}-D inputs: ${pct(rawKnn)} (chance ${pct(1 / CLASSES)})`,
    ],
    evidence: `5-NN accuracy of the ${EMBED}-D embeddings (400 held-out points, ${CLASSES} classes): ${pct(before)} untrained -> ${pct(afterSimclr)} after ntXent (no labels) -> ${pct(after)} after supervisedContrastiveLoss`,
    picture: finalPicture,
    metrics: { knnRaw: rawKnn, knnBefore: before, knnAfterNtXent: afterSimclr, knnAfterSupCon: after, classes: CLASSES },
  };
}

export const contrastiveDemo: Demo = {
  family: 'contrastive',
  title: 'contrastive: SimCLR, then supervised contrastive, on augmented clusters',
  description:
    `Eight classes hidden in 8 of 32 mixed dimensions; an augmentation redraws the other 24 (larger) dimensions, so raw distances mostly measure noise. A 32-64-64-16 MLP encoder learns from pairs of views with ntXent (no labels), then with supervisedContrastiveLoss (labels). The k-nearest-neighbour accuracy of the embeddings shows what the encoder learned.`,
  defaultSteps: 250,
  minSteps: 2,
  run,
};
