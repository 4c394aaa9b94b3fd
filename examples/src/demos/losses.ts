// The loss functions the demos call, taken from the family packages by name.
//
// The demos are written against the signatures of design/API.md. Looking the
// functions up at run time (instead of named imports) lets a demo whose
// package does not export them yet be left out with a clear message, while
// the others still run.
import type * as tf from '@tensorflow/tfjs-core';
import * as contrastive from '@tfjs-losses/contrastive';
import * as ctc from '@tfjs-losses/ctc';
import * as cycle from '@tfjs-losses/cycle';
import * as focal from '@tfjs-losses/focal';
import * as gan from '@tfjs-losses/gan';
import * as lovasz from '@tfjs-losses/lovasz';
import * as smoothL1 from '@tfjs-losses/smooth-l1';
import type { Family } from './types';

type Reduction = 'none' | 'mean' | 'sum';
type Loss<O> = (a: tf.Tensor, b: tf.Tensor, options?: O) => tf.Tensor;
type Critic = (x: tf.Tensor) => tf.Tensor;
interface Decoded {
  sequences: number[][];
  scores: number[];
}

interface SmoothL1State {
  beta: number | number[];
  call(pred: tf.Tensor, target: tf.Tensor, options?: { reduction?: Reduction; training?: boolean }): tf.Tensor;
  /** Reads values kept on the device (WebGPU in Node), after which `beta` can be read. */
  sync(): Promise<void>;
  /** Frees the tensors the loss keeps between calls. */
  dispose(): void;
}
export interface DynamicSmoothL1 extends SmoothL1State {
  readonly beta: number;
  update(errors: tf.Tensor | number[]): void | Promise<void>;
}
export interface SelfAdjustingSmoothL1 extends SmoothL1State {
  readonly beta: number[];
}

/** The functions (and classes) the demos use, as API.md defines them. */
export interface LossApi {
  ctcLoss: (
    logits: tf.Tensor,
    labels: tf.Tensor,
    options?: { logitLengths?: tf.Tensor | number[]; labelLengths?: tf.Tensor | number[]; blank?: number; reduction?: Reduction },
  ) => tf.Tensor;
  ctcGreedyDecode: (logits: tf.Tensor, options?: { logitLengths?: tf.Tensor | number[]; blank?: number }) => Promise<Decoded>;
  ctcBeamSearchDecode: (
    logits: tf.Tensor,
    options?: { logitLengths?: tf.Tensor | number[]; blank?: number; beamWidth?: number; topPaths?: number },
  ) => Promise<Decoded>;
  ctcForcedAlign: (
    logits: tf.Tensor,
    labels: tf.Tensor,
    options?: { logitLengths?: tf.Tensor | number[]; labelLengths?: tf.Tensor | number[]; blank?: number },
  ) => Promise<{ spans: { token: number; index: number; start: number; end: number; logProb: number }[][]; paths: number[][]; scores: number[] }>;
  softmaxFocalLoss: Loss<{ gamma?: number; alpha?: number | number[]; reduction?: Reduction }>;
  ntXent: Loss<{ temperature?: number; reduction?: Reduction }>;
  supervisedContrastiveLoss: (
    features: tf.Tensor,
    labels?: tf.Tensor,
    options?: { temperature?: number; baseTemperature?: number; reduction?: Reduction },
  ) => tf.Tensor;
  wassersteinCriticLoss: Loss<never>;
  wassersteinGeneratorLoss: (fakeScores: tf.Tensor) => tf.Tensor;
  gradientPenalty: (
    critic: Critic,
    real: tf.Tensor,
    fake: tf.Tensor,
    options?: { lambda?: number; target?: number; epsilon?: tf.Tensor },
  ) => tf.Tensor;
  lsganDiscriminatorLoss: Loss<{ a?: number; b?: number }>;
  lsganGeneratorLoss: (fakeScores: tf.Tensor, options?: { c?: number }) => tf.Tensor;
  lovaszSoftmax: Loss<{ classes?: 'present' | 'all' | number[]; perImage?: boolean }>;
  smoothL1Loss: Loss<{ beta?: number; reduction?: Reduction }>;
  balancedL1Loss: Loss<{ alpha?: number; gamma?: number; beta?: number; reduction?: Reduction }>;
  DynamicSmoothL1Loss: new (options?: { beta?: number; kE?: number; iterationCount?: number }) => DynamicSmoothL1;
  SelfAdjustingSmoothL1Loss: new (options?: { momentum?: number; betaMax?: number }) => SelfAdjustingSmoothL1;
  cycleConsistencyLoss: (
    realX: tf.Tensor,
    reconstructedX: tf.Tensor,
    realY: tf.Tensor,
    reconstructedY: tf.Tensor,
    options?: { lambdaX?: number; lambdaY?: number },
  ) => tf.Tensor;
}

type Name = keyof LossApi;

const PACKAGES: Record<string, object> = {
  '@tfjs-losses/ctc': ctc,
  '@tfjs-losses/focal': focal,
  '@tfjs-losses/contrastive': contrastive,
  '@tfjs-losses/gan': gan,
  '@tfjs-losses/lovasz': lovasz,
  '@tfjs-losses/smooth-l1': smoothL1,
  '@tfjs-losses/cycle': cycle,
};

/** Which package exports each name. */
const HOME: Record<Name, string> = {
  ctcLoss: '@tfjs-losses/ctc',
  ctcGreedyDecode: '@tfjs-losses/ctc',
  ctcBeamSearchDecode: '@tfjs-losses/ctc',
  ctcForcedAlign: '@tfjs-losses/ctc',
  softmaxFocalLoss: '@tfjs-losses/focal',
  ntXent: '@tfjs-losses/contrastive',
  supervisedContrastiveLoss: '@tfjs-losses/contrastive',
  wassersteinCriticLoss: '@tfjs-losses/gan',
  wassersteinGeneratorLoss: '@tfjs-losses/gan',
  gradientPenalty: '@tfjs-losses/gan',
  lsganDiscriminatorLoss: '@tfjs-losses/gan',
  lsganGeneratorLoss: '@tfjs-losses/gan',
  lovaszSoftmax: '@tfjs-losses/lovasz',
  smoothL1Loss: '@tfjs-losses/smooth-l1',
  balancedL1Loss: '@tfjs-losses/smooth-l1',
  DynamicSmoothL1Loss: '@tfjs-losses/smooth-l1',
  SelfAdjustingSmoothL1Loss: '@tfjs-losses/smooth-l1',
  cycleConsistencyLoss: '@tfjs-losses/cycle',
};

/** The names each demo needs. */
export const NEEDS: Record<Family, Name[]> = {
  ctc: ['ctcLoss', 'ctcGreedyDecode', 'ctcBeamSearchDecode', 'ctcForcedAlign'],
  focal: ['softmaxFocalLoss'],
  contrastive: ['ntXent', 'supervisedContrastiveLoss'],
  gan: ['wassersteinCriticLoss', 'wassersteinGeneratorLoss', 'gradientPenalty'],
  lovasz: ['lovaszSoftmax'],
  'smooth-l1': ['smoothL1Loss', 'balancedL1Loss', 'DynamicSmoothL1Loss', 'SelfAdjustingSmoothL1Loss'],
  cycle: ['cycleConsistencyLoss', 'lsganDiscriminatorLoss', 'lsganGeneratorLoss'],
};

function lookup(name: Name): unknown {
  return (PACKAGES[HOME[name]] as Record<string, unknown>)[name];
}

/** Names a family's demo needs that its packages do not export (yet), as `package.name`. */
export function missingExports(family: Family): string[] {
  return NEEDS[family].filter((n) => typeof lookup(n) !== 'function').map((n) => `${HOME[n]} ${n}`);
}

/** The loss functions; a missing one throws when used, naming its package. */
export const L: LossApi = new Proxy({} as LossApi, {
  get(_target, prop: string) {
    const value = lookup(prop as Name);
    if (typeof value !== 'function') {
      throw new Error(`${HOME[prop as Name] ?? 'no package'} does not export ${prop} (yet)`);
    }
    return value;
  },
});
