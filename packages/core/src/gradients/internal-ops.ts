// Helpers tfjs-core's gradient configs import that its public API does not
// export. Used only by the build (tooling/build tfjs-gradients plugin); each
// runs the same kernel with the same attributes as tfjs's internal op.
import * as tf from '@tensorflow/tfjs-core';

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

/** tfjs's engine (`ENGINE`). */
export const ENGINE = tf.engine();

function to4D(t: tf.Tensor): [tf.Tensor, boolean] {
  return t.rank === 3 ? [tf.reshape(t, [1, ...t.shape]), true] : [t, false];
}

export function conv2DBackpropFilter(x: tf.Tensor, dy: tf.Tensor, filterShape: number[], strides: number | [number, number], pad: Pad, dataFormat = 'NHWC', dimRoundingMode?: Rounding): tf.Tensor {
  const [x4] = to4D(x);
  const [dy4] = to4D(dy);
  return tf.engine().runKernel('Conv2DBackpropFilter', { x: x4, dy: dy4 }, { strides, pad, dataFormat, dimRoundingMode, filterShape } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

export function conv2DBackpropInput(xShape: number[], dy: tf.Tensor, filter: tf.Tensor, strides: number | [number, number], pad: Pad, dataFormat = 'NHWC', dimRoundingMode?: Rounding): tf.Tensor {
  const [dy4, reshaped] = to4D(dy);
  const inputShape = reshaped ? [1, ...xShape] : xShape;
  const res = tf.engine().runKernel('Conv2DBackpropInput', { dy: dy4, filter }, { strides, pad, dataFormat, dimRoundingMode, inputShape } as unknown as tf.NamedAttrMap) as tf.Tensor;
  return reshaped ? tf.reshape(res, res.shape.slice(1)) : res;
}

export function conv3DBackpropFilter(x: tf.Tensor, dy: tf.Tensor, filterShape: number[], strides: number | number[], pad: Pad): tf.Tensor {
  const x5 = x.rank === 4 ? tf.reshape(x, [1, ...x.shape]) : x;
  const dy5 = dy.rank === 4 ? tf.reshape(dy, [1, ...dy.shape]) : dy;
  return tf.engine().runKernel('Conv3DBackpropFilterV2', { x: x5, dy: dy5 }, { strides, pad, filterShape } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

export function conv3DBackpropInput(xShape: number[], dy: tf.Tensor, filter: tf.Tensor, strides: number | number[], pad: Pad): tf.Tensor {
  const reshaped = dy.rank === 4;
  const dy5 = reshaped ? tf.reshape(dy, [1, ...dy.shape]) : dy;
  const inputShape = reshaped ? [1, ...xShape] : xShape;
  const res = tf.engine().runKernel('Conv3DBackpropInputV2', { dy: dy5, filter }, { pad, strides, inputShape } as unknown as tf.NamedAttrMap) as tf.Tensor;
  return reshaped ? tf.reshape(res, res.shape.slice(1)) : res;
}

export function depthwiseConv2dNativeBackpropFilter(x: tf.Tensor, dy: tf.Tensor, filterShape: number[], strides: number | [number, number], pad: Pad, dilations: number | [number, number] = [1, 1], dimRoundingMode?: Rounding): tf.Tensor {
  const [x4] = to4D(x);
  const [dy4] = to4D(dy);
  return tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: x4, dy: dy4 }, { strides, pad, dimRoundingMode, dilations, filterShape } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

export function depthwiseConv2dNativeBackpropInput(xShape: number[], dy: tf.Tensor, filter: tf.Tensor, strides: number | [number, number], pad: Pad, dilations: number | [number, number] = [1, 1], dimRoundingMode?: Rounding): tf.Tensor {
  const [dy4, reshaped] = to4D(dy);
  const res = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dy4, filter }, { strides, pad, dimRoundingMode, dilations, inputShape: xShape } as unknown as tf.NamedAttrMap) as tf.Tensor;
  return reshaped ? tf.reshape(res, res.shape.slice(1)) : res;
}

export function localResponseNormalizationBackprop(x: tf.Tensor, y: tf.Tensor, dy: tf.Tensor, depthRadius = 5, bias = 1, alpha = 1, beta = 0.5): tf.Tensor {
  return tf.engine().runKernel('LRNGrad', { x, y, dy }, { depthRadius, bias, alpha, beta }) as tf.Tensor;
}
