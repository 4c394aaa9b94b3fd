// cycle: two small maps between unpaired 2-D distributions, G: X -> Y and
// F: Y -> X, trained CycleGAN-style: least-squares adversarial losses from
// @tfjs-losses/gan plus cycleConsistencyLoss (lambda 10). Evidence: the
// cycle loss falling, and each map's output approaching the other
// distribution (sliced Wasserstein distance).
import * as tf from '@tensorflow/tfjs-core';
import { cycleConsistencyLoss } from '@tfjs-losses/cycle';
import { lsganDiscriminatorLoss, lsganGeneratorLoss } from '@tfjs-losses/gan';
import { Mlp, Trainer, fmt, startEnd } from './nn';
import { Rng } from './random';
import type { Demo, DemoContext, DemoResult, Picture } from './types';

const BATCH = 256;
const LAMBDA = 10;
const CENTRES = [
  [-1.5, 0],
  [1.5, 0],
  [0, 2],
];

/** X: three Gaussian blobs. */
function sampleX(rng: Rng, n: number): Float32Array {
  const v = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const [cx, cy] = CENTRES[rng.int(0, CENTRES.length - 1)];
    v[2 * i] = cx + 0.3 * rng.normal();
    v[2 * i + 1] = cy + 0.3 * rng.normal();
  }
  return v;
}

/** Y: X rotated by 90 degrees, stretched, shifted and bent (an invertible map of X, never shown as pairs). */
function sampleY(rng: Rng, n: number): Float32Array {
  const x = sampleX(rng, n);
  const v = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const a = -x[2 * i + 1] * 1.2 + 3;
    const b = x[2 * i] * 0.8;
    v[2 * i] = a;
    v[2 * i + 1] = b + 0.3 * a * a - 2;
  }
  return v;
}

/** Sliced Wasserstein-1 distance between two point sets of the same size (32 directions). */
function slicedWasserstein(a: Float32Array, b: Float32Array): number {
  const n = a.length / 2;
  let total = 0;
  const directions = 32;
  for (let k = 0; k < directions; k++) {
    const t = (Math.PI * k) / directions;
    const [c, s] = [Math.cos(t), Math.sin(t)];
    const pa = Float64Array.from({ length: n }, (_, i) => a[2 * i] * c + a[2 * i + 1] * s).sort();
    const pb = Float64Array.from({ length: n }, (_, i) => b[2 * i] * c + b[2 * i + 1] * s).sort();
    let d = 0;
    for (let i = 0; i < n; i++) d += Math.abs(pa[i] - pb[i]);
    total += d / n;
  }
  return total / directions;
}

async function run(ctx: DemoContext = {}): Promise<DemoResult> {
  const total = ctx.steps ?? cycleDemo.defaultSteps;
  const rng = new Rng(ctx.seed ?? 1);
  const g = new Mlp(rng.fork(1), [2, 32, 32, 2], 'tanh');
  const f = new Mlp(rng.fork(2), [2, 32, 32, 2], 'tanh');
  const dX = new Mlp(rng.fork(3), [2, 32, 32, 1], 'leakyRelu');
  const dY = new Mlp(rng.fork(4), [2, 32, 32, 1], 'leakyRelu');
  const genOpt = tf.train.adam(0.003, 0.5, 0.999);
  const discOpt = tf.train.adam(0.003, 0.5, 0.999);
  const evalRng = rng.fork(5);
  const evalXv = sampleX(evalRng, 1000);
  const evalYv = sampleY(evalRng, 1000);
  const evalX = tf.tensor2d(evalXv, [1000, 2]);
  const evalY = tf.tensor2d(evalYv, [1000, 2]);
  const measure = async (): Promise<{ cycle: number; swdY: number; swdX: number; gx: Float32Array }> => {
    const [gx, fy, cyc] = tf.tidy(() => {
      const gxT = g.apply(evalX);
      const fyT = f.apply(evalY);
      const c = cycleConsistencyLoss(evalX, f.apply(gxT), evalY, g.apply(fyT));
      return [gxT, fyT, c];
    });
    const [gxv, fyv, cv] = await Promise.all([gx.data(), fy.data(), cyc.data()]);
    tf.dispose([gx, fy, cyc]);
    return {
      cycle: cv[0],
      swdY: slicedWasserstein(gxv as Float32Array, evalYv),
      swdX: slicedWasserstein(fyv as Float32Array, evalXv),
      gx: gxv as Float32Array,
    };
  };
  const picture = async (): Promise<Picture> => {
    const { gx } = await measure();
    const pts = (v: Float32Array, group: number, n = 400): { x: number; y: number; group: number }[] =>
      Array.from({ length: n }, (_, i) => ({ x: v[2 * i], y: v[2 * i + 1], group }));
    return { kind: 'scatter', title: 'X, Y and G(X)', points: [...pts(evalXv, 0), ...pts(evalYv, 1), ...pts(gx, 2)], groups: ['X', 'Y', 'G(X)'] };
  };
  const before = await measure();
  const trainer = new Trainer(ctx, total, picture);
  const data = rng.fork(6);
  const curves = await trainer.runMany('CycleGAN', total, 2 * BATCH, () =>
    tf.tidy(() => {
      const x = tf.tensor2d(sampleX(data, BATCH), [BATCH, 2]);
      const y = tf.tensor2d(sampleY(data, BATCH), [BATCH, 2]);
      let cycle: tf.Tensor = tf.scalar(0);
      const genLoss = genOpt.minimize(
        () => {
          const gx = g.apply(x);
          const fy = f.apply(y);
          cycle = tf.keep(cycleConsistencyLoss(x, f.apply(gx), y, g.apply(fy), { lambdaX: LAMBDA, lambdaY: LAMBDA }));
          const adversarial = tf.add(lsganGeneratorLoss(dY.apply(gx)), lsganGeneratorLoss(dX.apply(fy)));
          return tf.add(adversarial, cycle) as tf.Scalar;
        },
        true,
        [...g.variables, ...f.variables],
      ) as tf.Scalar;
      const gx = g.apply(x);
      const fy = f.apply(y);
      const discLoss = discOpt.minimize(
        () =>
          tf.add(
            lsganDiscriminatorLoss(dY.apply(y), dY.apply(gx)),
            lsganDiscriminatorLoss(dX.apply(x), dX.apply(fy)),
          ) as tf.Scalar,
        true,
        [...dX.variables, ...dY.variables],
      ) as tf.Scalar;
      const losses = tf.stack([tf.div(cycle, LAMBDA), genLoss, discLoss]);
      cycle.dispose(); // kept out of the optimizer's tidy above
      return losses;
    }),
  );
  const after = await measure();
  const finalPicture = await trainer.finalPicture();
  for (const m of [g, f, dX, dY]) m.dispose();
  genOpt.dispose();
  discOpt.dispose();
  evalX.dispose();
  evalY.dispose();
  const [c0, c1] = startEnd(curves[0] ?? []);
  return {
    family: 'cycle',
    steps: trainer.done,
    curves: [
      { name: 'cycleConsistencyLoss (lambda 1)', values: curves[0] ?? [] },
      { name: 'G and F: LSGAN + 10 x cycle', values: curves[1] ?? [] },
      { name: 'discriminators: LSGAN', values: curves[2] ?? [] },
    ],
    details: [`training batches: cycle loss ${fmt(c0)} -> ${fmt(c1)} (|F(G(x)) - x| + |G(F(y)) - y|, means)`],
    evidence: `held-out cycle loss ${fmt(before.cycle)} -> ${fmt(after.cycle)}; sliced Wasserstein distance G(X) to Y ${fmt(before.swdY)} -> ${fmt(after.swdY)}, F(Y) to X ${fmt(before.swdX)} -> ${fmt(after.swdX)}`,
    picture: finalPicture,
    metrics: {
      cycleBefore: before.cycle,
      cycleAfter: after.cycle,
      swdGxToYBefore: before.swdY,
      swdGxToYAfter: after.swdY,
      swdFyToXBefore: before.swdX,
      swdFyToXAfter: after.swdX,
    },
  };
}

export const cycleDemo: Demo = {
  family: 'cycle',
  title: 'cycle: two maps between unpaired 2-D distributions',
  description:
    'X is three Gaussian blobs; Y is X rotated, stretched and bent, but no pairs are shown. G: X -> Y and F: Y -> X (2-32-32-2 MLPs) learn from least-squares discriminators plus 10 x cycleConsistencyLoss, as CycleGAN does. The cycle loss falls while each map carries its distribution onto the other.',
  defaultSteps: 400,
  minSteps: 1,
  run,
};
