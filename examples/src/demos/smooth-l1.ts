// smooth-l1: box regression on synthetic boxes with the four regressors of
// @tfjs-losses/smooth-l1 (smoothL1Loss, balancedL1Loss, DynamicSmoothL1Loss,
// SelfAdjustingSmoothL1Loss), one model each from the same start. Evidence:
// held-out box IoU of each, and the Dynamic and Self-Adjusting betas moving.
import * as tf from '@tensorflow/tfjs-core';
import { DynamicSmoothL1Loss, SelfAdjustingSmoothL1Loss, balancedL1Loss, smoothL1Loss } from '@tfjs-losses/smooth-l1';
import { Mlp, Trainer, fmt, splitSteps, startEnd } from './nn';
import { Rng } from './random';
import type { Demo, DemoContext, DemoResult, Picture } from './types';

const BINS = 12; // the input: a noisy occupancy profile of the box along x and along y
const FEATURES = 2 * BINS;
const BATCH = 256;
const OUTLIERS = 0.1; // fraction of training targets replaced by a wrong box
const BETA_EVERY = 5;

interface Boxes {
  x: Float32Array; // [n, FEATURES]
  y: Float32Array; // [n, 4]: x1, y1, x2, y2 in [0, 1]
  n: number;
}

function profile(lo: number, hi: number, out: Float32Array, offset: number, rng: Rng): void {
  for (let b = 0; b < BINS; b++) {
    const a = b / BINS;
    const c = (b + 1) / BINS;
    const covered = Math.max(0, Math.min(hi, c) - Math.max(lo, a)) * BINS;
    out[offset + b] = covered + 0.1 * rng.normal();
  }
}

function makeBoxes(rng: Rng, n: number, outliers = 0): Boxes {
  const x = new Float32Array(n * FEATURES);
  const y = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const w = rng.uniform(0.15, 0.5);
    const h = rng.uniform(0.15, 0.5);
    const x1 = rng.uniform(0, 1 - w);
    const y1 = rng.uniform(0, 1 - h);
    profile(x1, x1 + w, x, i * FEATURES, rng);
    profile(y1, y1 + h, x, i * FEATURES + BINS, rng);
    const box = rng.next() < outliers ? [rng.uniform(0, 0.5), rng.uniform(0, 0.5), rng.uniform(0.5, 1), rng.uniform(0.5, 1)] : [x1, y1, x1 + w, y1 + h];
    y.set(box, i * 4);
  }
  return { x, y, n };
}

function iou(a: ArrayLike<number>, b: ArrayLike<number>, i: number): number {
  const ix = Math.max(0, Math.min(a[4 * i + 2], b[4 * i + 2]) - Math.max(a[4 * i], b[4 * i]));
  const iy = Math.max(0, Math.min(a[4 * i + 3], b[4 * i + 3]) - Math.max(a[4 * i + 1], b[4 * i + 1]));
  const area = (t: ArrayLike<number>): number => Math.max(0, t[4 * i + 2] - t[4 * i]) * Math.max(0, t[4 * i + 3] - t[4 * i + 1]);
  const inter = ix * iy;
  return inter / Math.max(1e-9, area(a) + area(b) - inter);
}

async function run(ctx: DemoContext = {}): Promise<DemoResult> {
  const total = ctx.steps ?? smoothL1Demo.defaultSteps;
  const rng = new Rng(ctx.seed ?? 1);
  const train = makeBoxes(rng.fork(1), 4000, OUTLIERS);
  const test = makeBoxes(rng.fork(2), 1000);
  const xTrain = tf.tensor2d(train.x, [train.n, FEATURES]);
  const yTrain = tf.tensor2d(train.y, [train.n, 4]);
  const xTest = tf.tensor2d(test.x, [test.n, FEATURES]);
  const initSeed = rng.int(0, 2 ** 31);
  const dynamic = new DynamicSmoothL1Loss({ beta: 1, kE: 10, iterationCount: 10 });
  const selfAdjusting = new SelfAdjustingSmoothL1Loss({ momentum: 0.9, betaMax: 0.11 });
  const regressors = [
    { name: 'smoothL1Loss (beta 1)', loss: (p: tf.Tensor, t: tf.Tensor) => smoothL1Loss(p, t, { beta: 1 }) },
    { name: 'balancedL1Loss', loss: (p: tf.Tensor, t: tf.Tensor) => balancedL1Loss(p, t) },
    { name: 'DynamicSmoothL1Loss', loss: (p: tf.Tensor, t: tf.Tensor) => dynamic.call(p, t), recordsErrors: true },
    { name: 'SelfAdjustingSmoothL1Loss', loss: (p: tf.Tensor, t: tf.Tensor) => selfAdjusting.call(p, t) },
  ].map((r) => ({ ...r, model: new Mlp(new Rng(initSeed), [FEATURES, 64, 64, 4], 'relu'), optimizer: tf.train.adam(0.003) }));

  const betas = { dynamic: [] as number[], selfAdjusting: [] as number[][] };
  const readBetas = async (): Promise<void> => {
    await dynamic.sync();
    await selfAdjusting.sync();
    betas.dynamic.push(dynamic.beta);
    betas.selfAdjusting.push(selfAdjusting.beta.length ? selfAdjusting.beta : [0.11, 0.11, 0.11, 0.11]);
  };
  const picture = async (): Promise<Picture> => ({
    kind: 'series',
    title: `beta every ${BETA_EVERY} steps: Dynamic (one) and Self-Adjusting (x1, y1, x2, y2)`,
    series: [
      { name: 'Dynamic', values: betas.dynamic },
      ...['x1', 'y1', 'x2', 'y2'].map((c, k) => ({ name: `Self-Adjusting ${c}`, values: betas.selfAdjusting.map((b) => b[k]) })),
    ],
  });
  await readBetas();
  const trainer = new Trainer(ctx, total, picture);
  const batches = rng.fork(3);
  const [steps] = splitSteps(total, [1]);
  const curves: number[][] = [[], [], [], []];
  while (trainer.done < steps && !trainer.stopped) {
    const chunk = Math.min(BETA_EVERY, steps - trainer.done);
    const part = await trainer.runMany('4 regressors', chunk, 4 * BATCH, () =>
      tf.tidy(() => {
        const idx = tf.tensor1d(batches.indices(BATCH, train.n), 'int32');
        const x = tf.gather(xTrain, idx) as tf.Tensor2D;
        const y = tf.gather(yTrain, idx);
        const losses = regressors.map((r) => {
          let errors: tf.Tensor | undefined;
          const loss = r.optimizer.minimize(
            () => {
              const pred = r.model.apply(x);
              if ('recordsErrors' in r) errors = tf.keep(tf.mean(tf.abs(tf.sub(pred, y)), 1));
              return r.loss(pred, y) as tf.Scalar;
            },
            true,
            r.model.variables,
          ) as tf.Scalar;
          // Dynamic R-CNN: record this iteration's regression errors (outside the gradient).
          if (errors) {
            dynamic.update(errors);
            errors.dispose();
          }
          return loss;
        });
        return tf.stack(losses);
      }),
    );
    part.forEach((c, k) => curves[k].push(...c));
    await readBetas();
  }
  const ious: number[] = [];
  for (const r of regressors) {
    const pred = tf.tidy(() => r.model.apply(xTest));
    const p = await pred.data();
    pred.dispose();
    let s = 0;
    for (let i = 0; i < test.n; i++) s += iou(p, test.y, i);
    ious.push(s / test.n);
  }
  const finalPicture = await trainer.finalPicture();
  for (const r of regressors) {
    r.model.dispose();
    r.optimizer.dispose();
  }
  for (const t of [xTrain, yTrain, xTest]) t.dispose();
  dynamic.dispose();
  selfAdjusting.dispose();
  const sa0 = betas.selfAdjusting[0];
  const sa1 = betas.selfAdjusting.at(-1) ?? sa0;
  const list = (b: number[]): string => `[${b.map((v) => fmt(v, 2)).join(', ')}]`;
  return {
    family: 'smooth-l1',
    steps: trainer.done,
    curves: regressors.map((r, k) => ({ name: r.name, values: curves[k] })),
    details: regressors.map((r, k) => {
      const [a, b] = startEnd(curves[k]);
      return `${r.name.padEnd(26)} loss ${fmt(a)} -> ${fmt(b)}, held-out mean IoU ${fmt(ious[k])}`;
    }),
    evidence: `held-out box IoU (${Math.round(OUTLIERS * 100)}% outlier targets in training): ${regressors.map((r, k) => `${r.name.split(' ')[0]} ${fmt(ious[k])}`).join(', ')}; Dynamic beta ${fmt(betas.dynamic[0], 2)} -> ${fmt(betas.dynamic.at(-1) ?? 1, 2)}, Self-Adjusting beta ${list(sa0)} (betaMax, before the first call) -> ${list(sa1)}`,
    picture: finalPicture,
    metrics: {
      iouSmoothL1: ious[0],
      iouBalancedL1: ious[1],
      iouDynamic: ious[2],
      iouSelfAdjusting: ious[3],
      dynamicBetas: betas.dynamic,
      selfAdjustingBetaFirst: sa0,
      selfAdjustingBetaLast: sa1,
    },
  };
}

export const smoothL1Demo: Demo = {
  family: 'smooth-l1',
  title: 'smooth-l1: box regression with four regressors',
  description:
    'Boxes are seen through noisy occupancy profiles along x and y; a 24-64-64-4 MLP regresses (x1, y1, x2, y2). Four copies from the same start learn with smoothL1Loss, balancedL1Loss, DynamicSmoothL1Loss (beta follows the errors, updated every 10 steps) and SelfAdjustingSmoothL1Loss (beta per coordinate from running statistics); 10% of training targets are wrong boxes. Watch the betas shrink as the errors do.',
  defaultSteps: 150,
  minSteps: 1,
  run,
};
