import * as tf from '@tensorflow/tfjs-core';
import { shareWasmIdentity } from './wasm-identity';

/** A tensor-level implementation of an op: the composed-ops fallback. */
export type ComposedImpl<A> = (inputs: tf.Tensor[], attrs: A) => tf.Tensor | tf.Tensor[];

/** Per-backend kernel functions for a fused op. */
export type BackendKernels = Partial<Record<'cpu' | 'wasm' | 'webgpu', () => tf.KernelFunc>>;

/** What {@link defineFusedOp} needs. */
export interface FusedOpSpec<A extends object> {
  /** Kernel name; starts with `TfjsLosses` (the registry is global). */
  kernelName: string;
  /** Input names, in the order the op receives its tensors. */
  inputNames: string[];
  /** Kernel factories per backend, called once on first use. */
  kernels: BackendKernels;
  /** The composed-ops form: fallback elsewhere and the fused kernels' oracle. */
  composed: ComposedImpl<A>;
  /**
   * Gradient of the fused kernel. Receives the upstream gradient(s), the
   * saved inputs (and outputs if `saveOutputs`), and the attrs. Return one
   * gradient per input name (`undefined` for a non-differentiable input).
   */
  gradient?: (dys: tf.Tensor[], saved: tf.Tensor[], attrs: A) => (tf.Tensor | undefined)[];
  /** Which outputs the gradient needs besides the inputs. */
  saveOutputs?: boolean[];
  /**
   * True when `gradient` is built from differentiable ops (ops with
   * gradients of their own, fused or not), so that a gradient of the
   * gradient is right: then the fused kernel also runs under nested
   * gradient tapes. By default it does not: there the composed ops run.
   */
  higherOrder?: boolean;
}

let fusedEnabled = true;

/**
 * True while a forward pass is recorded by two or more gradient tapes (a
 * gradient of a gradient is being built, as in a gradient penalty). A fused
 * kernel's gradient is a kernel of its own, not differentiable again, so
 * there the composed ops run. tfjs keeps the count in the engine's state
 * (`gradientDepth`, tfjs-core 4.22).
 */
export function nestedTape(): boolean {
  return (tf.engine().state as unknown as { gradientDepth: number }).gradientDepth > 1;
}

/**
 * Turns fused kernels off (or back on) everywhere; tests use it to compare
 * the fused path with the composed one. Returns the previous setting.
 */
export function setFusedKernelsEnabled(enabled: boolean): boolean {
  const prev = fusedEnabled;
  fusedEnabled = enabled;
  return prev;
}

/** Runs `fn` with fused kernels disabled. */
export function withComposedOps<T>(fn: () => T): T {
  const prev = setFusedKernelsEnabled(false);
  try {
    return fn();
  } finally {
    setFusedKernelsEnabled(prev);
  }
}

/** A callable fused op, see {@link defineFusedOp}. */
export interface FusedOp<A extends object> {
  (inputs: tf.Tensor[], attrs: A): tf.Tensor[];
  readonly kernelName: string;
  /** True when a fused kernel will run on the current backend (not under two gradient tapes). */
  isFused(): boolean;
}

/**
 * Defines an op with fused kernels for some backends and a composed-ops
 * fallback. Kernels and the gradient are registered on first call, never at
 * import. Where the current backend has a kernel (and fused kernels are
 * enabled) the op runs it through `tf.engine().runKernel` with the given
 * gradient; elsewhere it runs `composed`, differentiated by tfjs. Under
 * nested gradient tapes (a gradient that will itself be differentiated) it
 * also runs `composed`, so higher-order gradients are tfjs's own, unless
 * the spec declares `higherOrder`.
 */
export function defineFusedOp<A extends object>(spec: FusedOpSpec<A>): FusedOp<A> {
  const registered = new Set<string>();
  let gradientRegistered = false;

  function ensure(backendName: string): boolean {
    const factory = spec.kernels[backendName as keyof BackendKernels];
    if (!factory) return false;
    if (!registered.has(backendName)) {
      // The engine copies every saved input through Identity: share instead.
      if (backendName === 'wasm') shareWasmIdentity();
      if (!tf.getKernel(spec.kernelName, backendName)) {
        tf.registerKernel({ kernelName: spec.kernelName, backendName, kernelFunc: factory() });
      }
      registered.add(backendName);
    }
    if (!gradientRegistered && spec.gradient) {
      const gradient = spec.gradient;
      if (tf.getGradient(spec.kernelName)) tf.unregisterGradient(spec.kernelName);
      tf.registerGradient({
        kernelName: spec.kernelName,
        inputsToSave: spec.inputNames,
        outputsToSave: spec.saveOutputs,
        gradFunc: (dy, saved, attrs) => {
          const dys = Array.isArray(dy) ? dy : [dy];
          const grads = gradient(dys, saved, attrs as unknown as A);
          const out: Record<string, () => tf.Tensor> = {};
          spec.inputNames.forEach((n, i) => {
            const g = grads[i];
            const like = saved[i];
            out[n] = g ? () => g : () => tf.zerosLike(like);
          });
          return out;
        },
      });
      gradientRegistered = true;
    }
    return true;
  }

  const op = ((inputs: tf.Tensor[], attrs: A): tf.Tensor[] => {
    const backendName = tf.getBackend();
    if (fusedEnabled && (spec.higherOrder || !nestedTape()) && ensure(backendName)) {
      const named: Record<string, tf.Tensor> = {};
      spec.inputNames.forEach((n, i) => (named[n] = inputs[i]));
      const out = tf.engine().runKernel(spec.kernelName, named, attrs as unknown as tf.NamedAttrMap);
      return Array.isArray(out) ? (out as tf.Tensor[]) : [out as tf.Tensor];
    }
    const out = spec.composed(inputs, attrs);
    return Array.isArray(out) ? out : [out];
  }) as FusedOp<A>;
  Object.defineProperty(op, 'kernelName', { value: spec.kernelName });
  op.isFused = () => fusedEnabled && (spec.higherOrder === true || !nestedTape()) && spec.kernels[tf.getBackend() as keyof BackendKernels] !== undefined;
  return op;
}
