// lovasz: a tiny segmentation net on synthetic shapes, trained twice from the
// same start with the same budget: with cross-entropy and with lovaszSoftmax.
// Evidence: mean IoU on held-out images.
import * as tf from '@tensorflow/tfjs-core';
import { lovaszSoftmax } from '@tfjs-losses/lovasz';
import { iouPerClass } from './metrics';
import { Mlp, Trainer, fmt, splitSteps, startEnd } from './nn';
import { Rng } from './random';
import type { Demo, DemoContext, DemoResult, Picture } from './types';

const SIZE = 16;
const CLASSES = ['background', 'disc', 'square', 'bar'];
const C = CLASSES.length;
const CHANNELS = 3;
const PATCH = 5; // the net sees a 5x5 window around each pixel
const BATCH = 8; // images per step (2048 pixels)

interface Images {
  x: Float32Array; // [n, SIZE, SIZE, CHANNELS]
  y: Int32Array; // [n, SIZE, SIZE]
  n: number;
}

// Each class has a colour; objects are small, the noise is strong, so a pixel
// alone is ambiguous and the window has to be used.
const COLOURS = [
  [0, 0, 0],
  [0.8, 0.3, 0],
  [0.3, 0.8, 0],
  [0.5, 0.5, 0.6],
];

function makeImages(rng: Rng, n: number): Images {
  const x = new Float32Array(n * SIZE * SIZE * CHANNELS);
  const y = new Int32Array(n * SIZE * SIZE);
  for (let k = 0; k < n; k++) {
    const objects = rng.int(1, 3);
    for (let o = 0; o < objects; o++) {
      const cls = rng.int(1, C - 1);
      const cx = rng.uniform(2, SIZE - 2);
      const cy = rng.uniform(2, SIZE - 2);
      const r = rng.uniform(1.5, 3);
      const vertical = rng.next() < 0.5;
      for (let i = 0; i < SIZE; i++) {
        for (let j = 0; j < SIZE; j++) {
          const dx = j + 0.5 - cx;
          const dy = i + 0.5 - cy;
          const inside =
            cls === 1
              ? dx * dx + dy * dy <= r * r
              : cls === 2
                ? Math.abs(dx) <= r * 0.8 && Math.abs(dy) <= r * 0.8
                : vertical
                  ? Math.abs(dx) <= 0.8 && Math.abs(dy) <= 2 * r
                  : Math.abs(dy) <= 0.8 && Math.abs(dx) <= 2 * r;
          if (inside) y[(k * SIZE + i) * SIZE + j] = cls;
        }
      }
    }
    for (let p = 0; p < SIZE * SIZE; p++) {
      const cls = y[k * SIZE * SIZE + p];
      for (let c = 0; c < CHANNELS; c++) x[(k * SIZE * SIZE + p) * CHANNELS + c] = COLOURS[cls][c] + 0.45 * rng.normal();
    }
  }
  return { x, y, n };
}

/** The window around every pixel, `[n * SIZE * SIZE, PATCH * PATCH * CHANNELS]` (zero padding). */
function patches(data: Images): tf.Tensor2D {
  return tf.tidy(() => {
    const images = tf.tensor4d(data.x, [data.n, SIZE, SIZE, CHANNELS]);
    const pad = (PATCH - 1) / 2;
    const padded = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]]);
    const parts: tf.Tensor[] = [];
    for (let di = 0; di < PATCH; di++) {
      for (let dj = 0; dj < PATCH; dj++) parts.push(tf.slice(padded, [0, di, dj, 0], [-1, SIZE, SIZE, CHANNELS]));
    }
    const n = data.n;
    return tf.reshape(tf.concat(parts, 3), [n * SIZE * SIZE, PATCH * PATCH * CHANNELS]);
  });
}

async function predict(model: Mlp, feats: tf.Tensor2D): Promise<Int32Array> {
  const pred = tf.tidy(() => tf.argMax(model.apply(feats), 1));
  const out = new Int32Array(await pred.data());
  pred.dispose();
  return out;
}

function meanIou(pred: Int32Array, truth: Int32Array): { mean: number; perClass: number[] } {
  const perClass = iouPerClass(pred, truth, C);
  const present = perClass.filter((v) => !Number.isNaN(v));
  return { mean: present.reduce((a, b) => a + b, 0) / present.length, perClass };
}

async function run(ctx: DemoContext = {}): Promise<DemoResult> {
  const total = ctx.steps ?? lovaszDemo.defaultSteps;
  const rng = new Rng(ctx.seed ?? 1);
  const train = makeImages(rng.fork(1), 256);
  const test = makeImages(rng.fork(2), 64);
  const trainFeats = patches(train);
  const trainLabels = tf.tensor1d(train.y, 'int32');
  const testFeats = patches(test);
  const shown = 4;
  const shownFeats = tf.slice(testFeats, [0, 0], [shown * SIZE * SIZE, -1]);
  const initSeed = rng.int(0, 2 ** 31);
  const batchSeed = rng.int(0, 2 ** 31);
  const pixels = SIZE * SIZE;
  const split = (a: Int32Array): Int32Array[] => Array.from({ length: shown }, (_, k) => a.slice(k * pixels, (k + 1) * pixels));

  const runs = [
    { name: 'cross-entropy', lovasz: false },
    { name: 'lovaszSoftmax', lovasz: true },
  ].map((r) => ({ ...r, model: new Mlp(new Rng(initSeed), [PATCH * PATCH * CHANNELS, 32, C], 'relu') }));
  const picture = async (): Promise<Picture> => ({
    kind: 'masks',
    title: 'held-out images: truth and each model’s mask',
    width: SIZE,
    height: SIZE,
    classes: CLASSES,
    rows: [
      { label: 'truth', images: split(test.y) },
      ...(await Promise.all(runs.map(async (r) => ({ label: r.name, images: split(await predict(r.model, shownFeats as tf.Tensor2D)) })))),
    ],
  });
  const trainer = new Trainer(ctx, total, picture);
  const [perRun] = splitSteps(total, [1, 1]);
  const curves: number[][] = [];
  const scores: { mean: number; perClass: number[] }[] = [];
  for (const r of runs) {
    const batches = new Rng(batchSeed);
    const optimizer = tf.train.adam(0.01);
    curves.push(
      await trainer.run(r.name, perRun, BATCH * pixels, () =>
        tf.tidy(() => {
          // A batch of whole images: their pixel rows are contiguous.
          const starts = batches.indices(BATCH, train.n);
          const rows = new Int32Array(BATCH * pixels);
          starts.forEach((img, b) => {
            for (let p = 0; p < pixels; p++) rows[b * pixels + p] = img * pixels + p;
          });
          const idx = tf.tensor1d(rows, 'int32');
          const labels = tf.gather(trainLabels, idx);
          const feats = tf.gather(trainFeats, idx) as tf.Tensor2D;
          return optimizer.minimize(
            () => {
              const logits = r.model.apply(feats);
              if (!r.lovasz) return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, C), logits) as tf.Scalar;
              const probas = tf.reshape(tf.softmax(logits), [BATCH, SIZE, SIZE, C]);
              return lovaszSoftmax(probas, tf.reshape(labels, [BATCH, SIZE, SIZE])) as tf.Scalar;
            },
            true,
            r.model.variables,
          ) as tf.Scalar;
        }),
      ),
    );
    optimizer.dispose();
    scores.push(meanIou(await predict(r.model, testFeats), test.y));
  }
  const finalPicture = await trainer.finalPicture();
  for (const r of runs) r.model.dispose();
  for (const t of [trainFeats, trainLabels, testFeats, shownFeats]) t.dispose();
  const [ce, lz] = scores;
  const perClass = (s: { perClass: number[] }): string => s.perClass.map((v, c) => `${CLASSES[c]} ${fmt(v, 2)}`).join(', ');
  return {
    family: 'lovasz',
    steps: trainer.done,
    curves: runs.map((r, k) => ({ name: r.name, values: curves[k] })),
    details: runs.map((r, k) => {
      const [a, b] = startEnd(curves[k]);
      return `${r.name}: loss ${fmt(a)} -> ${fmt(b)}; IoU per class: ${perClass(scores[k])}`;
    }),
    evidence: `mean IoU on ${test.n} held-out ${SIZE}x${SIZE} images (${C} classes): lovaszSoftmax ${fmt(lz.mean)} vs cross-entropy ${fmt(ce.mean)} after the same ${perRun} steps of ${BATCH} images`,
    picture: finalPicture,
    metrics: { meanIouLovasz: lz.mean, meanIouCrossEntropy: ce.mean, iouPerClassLovasz: lz.perClass, iouPerClassCrossEntropy: ce.perClass, stepsPerRun: perRun },
  };
}

export const lovaszDemo: Demo = {
  family: 'lovasz',
  title: 'lovasz: a tiny segmentation net on synthetic shapes',
  description:
    'Small discs, squares and bars on 16x16 noisy colour images (mostly background). A per-pixel net over the 5x5 window (75-32-4, a convolution written as a matrix product) is trained twice from the same start and batches: with cross-entropy and with lovaszSoftmax on its softmax. Mean IoU on held-out images compares what each optimised.',
  defaultSteps: 300,
  minSteps: 2,
  run,
};
