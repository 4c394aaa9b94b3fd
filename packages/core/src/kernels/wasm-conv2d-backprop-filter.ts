import * as tf from '@tensorflow/tfjs-core';
import { hostKernelFunc } from './typed-array-kernel';

interface Attrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/**
 * tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter, so the filter gradient
 * of `tf.conv2d` (and of tfjs-layers' Conv2D) fails there. This typed-array
 * kernel fills the gap: dW[r, c, i, o] = sum over batch and output positions
 * of x[b, y*sh + r - top, x*sw + c - left, i] * dy[b, y, x, o]. It runs in
 * JavaScript (about 1 multiply-add per nanosecond), so it suits small
 * convolutional critics; registered only when the wasm backend has none.
 */
export function registerWasmConv2DBackpropFilter(): void {
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: hostKernelFunc('wasm', ['x', 'dy'], ([x, dy], attrs) => {
      const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Attrs;
      const format = tf.backend_util.convertConv2DDataFormat(dataFormat ?? 'NHWC');
      const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, format);
      const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info;
      const { top, left } = info.padInfo;
      const last = format === 'channelsLast';
      // Strides of x and dy in memory, as (batch, row, col, channel).
      const xs = last
        ? [inHeight * inWidth * inChannels, inWidth * inChannels, inChannels, 1]
        : [inChannels * inHeight * inWidth, inWidth, 1, inHeight * inWidth];
      const ys = last
        ? [outHeight * outWidth * outChannels, outWidth * outChannels, outChannels, 1]
        : [outChannels * outHeight * outWidth, outWidth, 1, outHeight * outWidth];
      const xv = x.values;
      const yv = dy.values;
      const dw = new Float32Array(filterHeight * filterWidth * inChannels * outChannels);
      for (let b = 0; b < batchSize; b++) {
        for (let oy = 0; oy < outHeight; oy++) {
          for (let ox = 0; ox < outWidth; ox++) {
            const yBase = b * ys[0] + oy * ys[1] + ox * ys[2];
            for (let r = 0; r < filterHeight; r++) {
              const iy = oy * strideHeight + r - top;
              if (iy < 0 || iy >= inHeight) continue;
              for (let c = 0; c < filterWidth; c++) {
                const ix = ox * strideWidth + c - left;
                if (ix < 0 || ix >= inWidth) continue;
                const xBase = b * xs[0] + iy * xs[1] + ix * xs[2];
                const wBase = (r * filterWidth + c) * inChannels * outChannels;
                for (let i = 0; i < inChannels; i++) {
                  const xval = xv[xBase + i * xs[3]];
                  if (xval === 0) continue;
                  const w = wBase + i * outChannels;
                  for (let o = 0; o < outChannels; o++) dw[w + o] += xval * yv[yBase + o * ys[3]];
                }
              }
            }
          }
        }
      }
      return [{ values: dw, shape: [filterHeight, filterWidth, inChannels, outChannels], dtype: 'float32' }];
    }),
  });
}
