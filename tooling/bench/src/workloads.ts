// The workloads of shared/design/BENCH.md: shapes, inputs and how our side
// calls the loss. python/torch_bench.py implements the PyTorch side of each id
// (same inputs, generated from the specs below).
import * as tf from '@tensorflow/tfjs-core';
import type { InputSpec } from './inputs';

/** A loaded loss package: its exports by name. */
export type LossModule = Record<string, unknown>;

/** One forward plus backward: the loss value and every gradient. */
export interface StepResult {
  value: tf.Tensor;
  grads: tf.Tensor[];
}

/** A workload made ready on the current backend. */
export interface Prepared {
  step(): StepResult;
  /** Frees what `prepare` made besides the input tensors (variables). */
  dispose(): void;
}

/** Goal of issue 9 for the ratio (ours on the faster of cpu and wasm / PyTorch with one thread). */
export type Group = 'elementwise' | 'matmul';

export interface Workload {
  id: string;
  /** As BENCH.md names it. */
  fn: string;
  pkg: string;
  /** The export the workload needs; `Class.method` for classes. */
  exportName: string;
  shapes: string;
  group: Group;
  inputs: InputSpec[];
  prepare(mod: LossModule, t: Record<string, tf.Tensor>): Prepared;
}

export const GOAL: Record<Group, number> = { elementwise: 1.0, matmul: 3.0 };

type LossFn = (...args: unknown[]) => tf.Tensor;

function fnOf(mod: LossModule, name: string): LossFn {
  const f = mod[name];
  if (typeof f !== 'function') throw new Error(`${name} is not exported`);
  return f as LossFn;
}

/** Forward plus backward of `f` with respect to `diff` (the floating inputs). */
function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, diff: tf.Tensor[]): StepResult {
  const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => f(...xs) as tf.Scalar)(diff);
  return { value, grads };
}

function plain(f: (...xs: tf.Tensor[]) => tf.Tensor, diff: () => tf.Tensor[]): Prepared {
  return { step: () => valueAndGrads(f, diff()), dispose: () => undefined };
}

const f32 = (name: string, shape: number[], seed: number, lo: number, hi: number): InputSpec => ({
  name,
  shape,
  dtype: 'float32',
  seed,
  gen: { kind: 'uniform', lo, hi },
  grad: true,
});
const i32 = (name: string, shape: number[], seed: number, lo: number, hi: number): InputSpec => ({
  name,
  shape,
  dtype: 'int32',
  seed,
  gen: { kind: 'int', lo, hi },
  grad: false,
});

const BOX = [262144, 4];

function boxes(seed: number): InputSpec[] {
  return [f32('pred', BOX, seed, -1.5, 1.5), f32('target', BOX, seed + 1, -1.5, 1.5)];
}

/** A class-based loss: one instance per backend run; `call` is timed (training updates included). */
function classWorkload(mod: LossModule, className: string, t: Record<string, tf.Tensor>): Prepared {
  const Ctor = mod[className];
  if (typeof Ctor !== 'function') throw new Error(`${className} is not exported`);
  const loss = new (Ctor as new () => { call(p: tf.Tensor, q: tf.Tensor): tf.Tensor; dispose?: () => void })();
  if (typeof loss.call !== 'function') throw new Error(`${className}.call is not a method`);
  return {
    step: () => valueAndGrads((p, q) => loss.call(p, q), [t.pred, t.target]),
    dispose: () => loss.dispose?.(),
  };
}

export const WORKLOADS: Workload[] = [
  {
    id: 'focal-sigmoid',
    fn: 'sigmoidFocalLoss',
    pkg: '@tfjs-losses/focal',
    exportName: 'sigmoidFocalLoss',
    shapes: 'logits, targets [65536, 80]',
    group: 'elementwise',
    inputs: [
      f32('logits', [65536, 80], 101, -4, 4),
      { name: 'targets', shape: [65536, 80], dtype: 'float32', seed: 102, gen: { kind: 'bernoulli', p: 0.05 }, grad: true },
    ],
    prepare: (mod, t) => plain((x, y) => fnOf(mod, 'sigmoidFocalLoss')(x, y), () => [t.logits, t.targets]),
  },
  {
    id: 'focal-softmax',
    fn: 'softmaxFocalLoss',
    pkg: '@tfjs-losses/focal',
    exportName: 'softmaxFocalLoss',
    shapes: 'logits [65536, 81], labels [65536]',
    group: 'elementwise',
    inputs: [f32('logits', [65536, 81], 111, -4, 4), i32('labels', [65536], 112, 0, 80)],
    prepare: (mod, t) => plain((x) => fnOf(mod, 'softmaxFocalLoss')(x, t.labels), () => [t.logits]),
  },
  {
    id: 'smooth-l1',
    fn: 'smoothL1Loss',
    pkg: '@tfjs-losses/smooth-l1',
    exportName: 'smoothL1Loss',
    shapes: 'pred, target [262144, 4]',
    group: 'elementwise',
    inputs: boxes(121),
    prepare: (mod, t) => plain((p, q) => fnOf(mod, 'smoothL1Loss')(p, q), () => [t.pred, t.target]),
  },
  {
    id: 'balanced-l1',
    fn: 'balancedL1Loss',
    pkg: '@tfjs-losses/smooth-l1',
    exportName: 'balancedL1Loss',
    shapes: 'pred, target [262144, 4]',
    group: 'elementwise',
    inputs: boxes(131),
    prepare: (mod, t) => plain((p, q) => fnOf(mod, 'balancedL1Loss')(p, q), () => [t.pred, t.target]),
  },
  {
    id: 'dynamic-smooth-l1',
    fn: 'DynamicSmoothL1Loss.call',
    pkg: '@tfjs-losses/smooth-l1',
    exportName: 'DynamicSmoothL1Loss',
    shapes: 'pred, target [262144, 4]',
    group: 'elementwise',
    inputs: boxes(141),
    prepare: (mod, t) => classWorkload(mod, 'DynamicSmoothL1Loss', t),
  },
  {
    id: 'self-adjusting-smooth-l1',
    fn: 'SelfAdjustingSmoothL1Loss.call',
    pkg: '@tfjs-losses/smooth-l1',
    exportName: 'SelfAdjustingSmoothL1Loss',
    shapes: 'pred, target [262144, 4]',
    group: 'elementwise',
    inputs: boxes(151),
    prepare: (mod, t) => classWorkload(mod, 'SelfAdjustingSmoothL1Loss', t),
  },
  {
    id: 'lsgan',
    fn: 'lsganDiscriminatorLoss',
    pkg: '@tfjs-losses/gan',
    exportName: 'lsganDiscriminatorLoss',
    shapes: 'real, fake scores [4096]',
    group: 'elementwise',
    inputs: [f32('real', [4096], 161, -2, 2), f32('fake', [4096], 162, -2, 2)],
    prepare: (mod, t) => plain((r, f) => fnOf(mod, 'lsganDiscriminatorLoss')(r, f), () => [t.real, t.fake]),
  },
  {
    id: 'hinge',
    fn: 'hingeDiscriminatorLoss',
    pkg: '@tfjs-losses/gan',
    exportName: 'hingeDiscriminatorLoss',
    shapes: 'real, fake scores [4096]',
    group: 'elementwise',
    inputs: [f32('real', [4096], 171, -2, 2), f32('fake', [4096], 172, -2, 2)],
    prepare: (mod, t) => plain((r, f) => fnOf(mod, 'hingeDiscriminatorLoss')(r, f), () => [t.real, t.fake]),
  },
  {
    id: 'wgan-gp',
    fn: 'wganGpCriticLoss',
    pkg: '@tfjs-losses/gan',
    exportName: 'wganGpCriticLoss',
    shapes: 'MLP critic 784-256-1, real, fake [256, 784]',
    group: 'matmul',
    inputs: [
      { ...f32('real', [256, 784], 181, -1, 1), grad: false },
      { ...f32('fake', [256, 784], 182, -1, 1), grad: false },
      { ...f32('epsilon', [256], 183, 0, 1), grad: false },
      // The critic's variables: relu(x W1 + b1) W2 + b2, PyTorch Linear's init range.
      f32('w1', [784, 256], 184, -1 / 28, 1 / 28),
      f32('b1', [256], 185, -1 / 28, 1 / 28),
      f32('w2', [256, 1], 186, -1 / 16, 1 / 16),
      f32('b2', [1], 187, -1 / 16, 1 / 16),
    ],
    prepare: (mod, t) => {
      const loss = fnOf(mod, 'wganGpCriticLoss');
      const vars = [tf.variable(t.w1, true, 'bench_w1'), tf.variable(t.b1, true, 'bench_b1'), tf.variable(t.w2, true, 'bench_w2'), tf.variable(t.b2, true, 'bench_b2')];
      const [w1, b1, w2, b2] = vars;
      const critic = (x: tf.Tensor): tf.Tensor =>
        tf.tidy(() => tf.reshape(tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, w1), b1)), w2), b2), [-1]));
      return {
        step: () => {
          const { value, grads } = tf.variableGrads(() => loss(critic, t.real, t.fake, { epsilon: t.epsilon }) as tf.Scalar, vars);
          return { value, grads: vars.map((v) => grads[v.name]) };
        },
        dispose: () => vars.forEach((v) => v.dispose()),
      };
    },
  },
  {
    id: 'cycle',
    fn: 'cycleConsistencyLoss',
    pkg: '@tfjs-losses/cycle',
    exportName: 'cycleConsistencyLoss',
    shapes: 'four images [8, 128, 128, 3]',
    group: 'elementwise',
    inputs: ['realX', 'reconstructedX', 'realY', 'reconstructedY'].map((n, i) => f32(n, [8, 128, 128, 3], 191 + i, -1, 1)),
    prepare: (mod, t) =>
      plain((a, b, c, d) => fnOf(mod, 'cycleConsistencyLoss')(a, b, c, d), () => [t.realX, t.reconstructedX, t.realY, t.reconstructedY]),
  },
  {
    id: 'infonce',
    fn: 'infoNCE',
    pkg: '@tfjs-losses/contrastive',
    exportName: 'infoNCE',
    shapes: 'query, positive [1024, 128]',
    group: 'matmul',
    inputs: [f32('query', [1024, 128], 201, -1, 1), f32('positive', [1024, 128], 202, -1, 1)],
    prepare: (mod, t) => plain((q, p) => fnOf(mod, 'infoNCE')(q, p), () => [t.query, t.positive]),
  },
  {
    id: 'infonce-paired',
    fn: 'infoNCE (paired)',
    pkg: '@tfjs-losses/contrastive',
    exportName: 'infoNCE',
    shapes: 'query, positive [256, 128], negatives [256, 64, 128]',
    group: 'matmul',
    inputs: [f32('query', [256, 128], 211, -1, 1), f32('positive', [256, 128], 212, -1, 1), f32('negatives', [256, 64, 128], 213, -1, 1)],
    prepare: (mod, t) =>
      plain((q, p, n) => fnOf(mod, 'infoNCE')(q, p, n, { negativeMode: 'paired' }), () => [t.query, t.positive, t.negatives]),
  },
  {
    id: 'nt-xent',
    fn: 'ntXent',
    pkg: '@tfjs-losses/contrastive',
    exportName: 'ntXent',
    shapes: 'z1, z2 [1024, 128]',
    group: 'matmul',
    inputs: [f32('z1', [1024, 128], 221, -1, 1), f32('z2', [1024, 128], 222, -1, 1)],
    prepare: (mod, t) => plain((a, b) => fnOf(mod, 'ntXent')(a, b), () => [t.z1, t.z2]),
  },
  {
    id: 'supcon',
    fn: 'supervisedContrastiveLoss',
    pkg: '@tfjs-losses/contrastive',
    exportName: 'supervisedContrastiveLoss',
    shapes: 'features [512, 2, 128] (unit length), labels [512] of 10 classes',
    group: 'matmul',
    inputs: [
      { name: 'features', shape: [512, 2, 128], dtype: 'float32', seed: 231, gen: { kind: 'unit', lo: -1, hi: 1 }, grad: true },
      i32('labels', [512], 232, 0, 9),
    ],
    prepare: (mod, t) => plain((f) => fnOf(mod, 'supervisedContrastiveLoss')(f, t.labels), () => [t.features]),
  },
  {
    id: 'ctc',
    fn: 'ctcLoss',
    pkg: '@tfjs-losses/ctc',
    exportName: 'ctcLoss',
    shapes: 'logits [32, 200, 64], labels [32, 50], label lengths 20 to 50',
    group: 'elementwise',
    inputs: [f32('logits', [32, 200, 64], 241, -3, 3), i32('labels', [32, 50], 242, 1, 63), i32('labelLengths', [32], 243, 20, 50)],
    prepare: (mod, t) => plain((x) => fnOf(mod, 'ctcLoss')(x, t.labels, { labelLengths: t.labelLengths }), () => [t.logits]),
  },
  {
    id: 'ctc-long',
    fn: 'ctcLoss',
    pkg: '@tfjs-losses/ctc',
    exportName: 'ctcLoss',
    shapes: 'logits [16, 800, 32], labels [16, 200]',
    group: 'elementwise',
    inputs: [f32('logits', [16, 800, 32], 251, -3, 3), i32('labels', [16, 200], 252, 1, 31)],
    prepare: (mod, t) => plain((x) => fnOf(mod, 'ctcLoss')(x, t.labels), () => [t.logits]),
  },
  {
    id: 'lovasz-softmax',
    fn: 'lovaszSoftmax',
    pkg: '@tfjs-losses/lovasz',
    exportName: 'lovaszSoftmax',
    shapes: 'probas [8, 128, 128, 21], labels [8, 128, 128]',
    group: 'elementwise',
    inputs: [
      { name: 'probas', shape: [8, 128, 128, 21], dtype: 'float32', seed: 261, gen: { kind: 'simplex', lo: 0.01, hi: 1 }, grad: true },
      i32('labels', [8, 128, 128], 262, 0, 20),
    ],
    prepare: (mod, t) => plain((p) => fnOf(mod, 'lovaszSoftmax')(p, t.labels), () => [t.probas]),
  },
  {
    id: 'lovasz-hinge',
    fn: 'lovaszHinge',
    pkg: '@tfjs-losses/lovasz',
    exportName: 'lovaszHinge',
    shapes: 'logits, labels [8, 256, 256]',
    group: 'elementwise',
    inputs: [
      f32('logits', [8, 256, 256], 271, -3, 3),
      { name: 'labels', shape: [8, 256, 256], dtype: 'int32', seed: 272, gen: { kind: 'bernoulli', p: 0.5 }, grad: false },
    ],
    prepare: (mod, t) => plain((x) => fnOf(mod, 'lovaszHinge')(x, t.labels), () => [t.logits]),
  },
];

/** The workloads `--ci` runs: small, from two packages. */
export const CI_WORKLOADS = ['lsgan', 'smooth-l1'];
