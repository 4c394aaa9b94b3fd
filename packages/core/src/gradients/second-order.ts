// Gradient configs that make second-order gradients (a gradient penalty's
// gradient with respect to a critic's weights) exact for the kernels a critic
// is made of. See TFJS-GAPS.md and the gan package's README for the list of
// covered ops and how each was checked.
import * as tf from '@tensorflow/tfjs-core';
import { setGradient } from './fixes';
import { conv2DBackpropInput } from './internal-ops';
import { gemmGradients } from '../gemm';

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: Pad;
  dimRoundingMode?: Rounding;
}

interface ConvBackpropFilterAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: Rounding;
  filterShape: [number, number, number, number];
}

function poolInfo(xShape: number[], attrs: PoolAttrs): tf.backend_util.Conv2DInfo {
  const { filterSize, strides, pad, dimRoundingMode } = attrs;
  return tf.backend_util.computePool2DInfo(xShape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
}

function isPadded(info: tf.backend_util.Conv2DInfo): boolean {
  const { top, bottom, left, right } = info.padInfo;
  return top > 0 || bottom > 0 || left > 0 || right > 0;
}

/**
 * Per output position of an average pool, (window size) / (number of window
 * cells inside the input), shape `[1, outHeight, outWidth, 1]`. Computed from
 * shapes only.
 */
function partialWindowScale(info: tf.backend_util.Conv2DInfo): tf.Tensor {
  const { outHeight, outWidth, inHeight, inWidth, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  const values = new Float32Array(outHeight * outWidth);
  const cells = (start: number, size: number, extent: number) => Math.min(start + size, extent) - Math.max(start, 0);
  for (let r = 0; r < outHeight; r++) {
    const rows = cells(r * strideHeight - top, filterHeight, inHeight);
    for (let c = 0; c < outWidth; c++) {
      const cols = cells(c * strideWidth - left, filterWidth, inWidth);
      values[r * outWidth + c] = (filterHeight * filterWidth) / Math.max(rows * cols, 1);
    }
  }
  return tf.tensor4d(values, [1, outHeight, outWidth, 1]);
}

function avgPoolGradKernel(dy: tf.Tensor, x: tf.Tensor, attrs: PoolAttrs): tf.Tensor {
  const { filterSize, strides, pad, dimRoundingMode } = attrs;
  return tf.engine().runKernel('AvgPoolGrad', { dy, input: x }, { filterSize, strides, pad, dimRoundingMode } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/**
 * The adjoint of the AvgPoolGrad kernel: each output cell is the sum of the
 * window's cells inside the input divided by the full window size, i.e. an
 * average pool over the input padded with zeros (padding counted).
 */
function avgPoolCountingPadding(g: tf.Tensor, info: tf.backend_util.Conv2DInfo): tf.Tensor {
  const { outHeight, outWidth, inHeight, inWidth, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  const needH = (outHeight - 1) * strideHeight + filterHeight;
  const needW = (outWidth - 1) * strideWidth + filterWidth;
  let t = g;
  // Rows or columns past the last window never contribute: drop them first.
  const keepH = Math.min(inHeight, needH - top);
  const keepW = Math.min(inWidth, needW - left);
  if (keepH < inHeight || keepW < inWidth) t = tf.slice(t, [0, 0, 0, 0], [-1, keepH, keepW, -1]);
  const bottom = needH - top - keepH;
  const right = needW - left - keepW;
  if (top > 0 || bottom > 0 || left > 0 || right > 0) t = tf.pad(t, [[0, 0], [top, bottom], [left, right], [0, 0]]);
  return tf.avgPool(t as tf.Tensor4D, [filterHeight, filterWidth], [strideHeight, strideWidth], 'valid');
}

/**
 * AvgPool: stock tfjs 4.22 divides every window's gradient by the full window
 * size, while the forward pass divides windows that overlap the padding
 * ('same') by the number of cells inside the input, so border gradients were
 * wrong (they did not match finite differences). Windows without padding keep
 * tfjs's exact result. The gradient goes through AvgPoolGrad, whose own
 * gradient is registered below, so it differentiates again.
 */
function avgPoolGradients(): void {
  setGradient({
    kernelName: 'AvgPool',
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => ({
      x: () => {
        const a = attrs as unknown as PoolAttrs;
        const info = poolInfo(x.shape, a);
        const d = dy as tf.Tensor;
        return avgPoolGradKernel(isPadded(info) ? tf.mul(d, partialWindowScale(info)) : d, x, a);
      },
    }),
  });
  setGradient({
    kernelName: 'AvgPoolGrad',
    inputsToSave: ['input'],
    gradFunc: (ddx, [x], attrs) => ({
      dy: () => avgPoolCountingPadding(ddx as tf.Tensor, poolInfo(x.shape, attrs as unknown as PoolAttrs)),
      input: () => tf.zerosLike(x),
    }),
  });
}

/**
 * Conv2DBackpropFilter had no gradient. It is linear in each input:
 * dW = BPF(x, dy), so for an upstream gradient G of dW,
 * d/dx = conv2DBackpropInput(x.shape, dy, G) and d/ddy = conv2d(x, G).
 */
function conv2DBackpropFilterGradient(): void {
  setGradient({
    kernelName: 'Conv2DBackpropFilter',
    inputsToSave: ['x', 'dy'],
    gradFunc: (g, [x, dy], attrs) => {
      const { strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as ConvBackpropFilterAttrs;
      const G = g as tf.Tensor4D;
      return {
        x: () => conv2DBackpropInput(x.shape, dy, G, strides, pad, dataFormat, dimRoundingMode),
        dy: () => tf.conv2d(x as tf.Tensor4D, G, strides, pad as 'valid', dataFormat === 'NCHW' ? 'NCHW' : 'NHWC', 1, dimRoundingMode),
      };
    },
  });
}

/**
 * Pow: the exponent's gradient read the saved output, which tfjs 4.22 does
 * not connect on the tape (TFJS-GAPS.md); it now recomputes the power.
 */
function powGradient(): void {
  setGradient({
    kernelName: 'Pow',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b]) => {
      const d = dy as tf.Tensor;
      const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
      const reduceToShape = (t: tf.Tensor, shape: number[]) => {
        const axes = tf.backend_util.getReductionAxes(shape, outShape);
        return tf.reshape(axes.length > 0 ? tf.sum(t, axes) : t, shape);
      };
      return {
        a: () => {
          const e = tf.cast(b, 'float32');
          return reduceToShape(tf.mul(d, tf.mul(e, tf.pow(a, tf.sub(e, 1)))), a.shape);
        },
        b: () => {
          const logA = tf.where(tf.greater(a, 0), tf.log(a), tf.zerosLike(a));
          return reduceToShape(tf.mul(d, tf.mul(tf.pow(a, b), logA)), b.shape);
        },
      };
    },
  });
}

/** The last two axes swapped. */
function swapLast(t: tf.Tensor): tf.Tensor {
  const perm = t.shape.map((_, i) => i);
  perm[t.rank - 2] = t.rank - 1;
  perm[t.rank - 1] = t.rank - 2;
  return tf.transpose(t, perm);
}

/**
 * `matMul(a, b, transposeA, transposeB)`. tfjs-backend-wasm 4.22 runs a
 * matMul with a transpose flag through a plain loop, 8 to 15 times slower
 * than its XNNPACK path for dense-layer sizes (measured: x^T dy for x
 * [256, 784], dy [256, 256], 243 ms flagged against 30 ms with the
 * transpose done first). On wasm the operands are transposed first.
 */
function matMulFast(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor {
  if (tf.getBackend() !== 'wasm' || (!transposeA && !transposeB)) return tf.matMul(a, b, transposeA, transposeB);
  return tf.matMul(transposeA ? swapLast(a) : a, transposeB ? swapLast(b) : b);
}

/**
 * BatchMatMul: tfjs's gradient (the same products and transposes; it is
 * twice differentiable as it is), except on wasm. There a 2-D product's
 * gradients are `gemm` products, which take the transpose flags at no
 * cost, and other ranks have their transposed operands materialised so that
 * every product takes XNNPACK's fast path. The gradients of every dense
 * layer, and the second-order terms of a penalty, are such products.
 */
function batchMatMulGradient(): void {
  setGradient({
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b], attrs) => {
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const d = dy as tf.Tensor;
      if (a.rank === 2 && b.rank === 2) return gemmGradients(d, a, b, transposeA, transposeB);
      if (!transposeA && !transposeB) return { a: () => matMulFast(d, b, false, true), b: () => matMulFast(a, d, true, false) };
      if (!transposeA && transposeB) return { a: () => matMulFast(d, b, false, false), b: () => matMulFast(d, a, true, false) };
      if (transposeA && !transposeB) return { a: () => matMulFast(b, d, false, true), b: () => matMulFast(a, d, false, false) };
      return { a: () => matMulFast(b, d, true, true), b: () => matMulFast(d, a, true, true) };
    },
  });
}

/** Kernels whose gradient configs {@link secondOrderGradients} replaces or adds. */
export const SECOND_ORDER_KERNELS = ['AvgPool', 'AvgPoolGrad', 'BatchMatMul', 'Conv2DBackpropFilter', 'Pow'] as const;

/** Registers the configs above (called once by `applyGradientFixes`). */
export function secondOrderGradients(): void {
  avgPoolGradients();
  batchMatMulGradient();
  conv2DBackpropFilterGradient();
  powGradient();
}
