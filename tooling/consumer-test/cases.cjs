// One small value-and-gradient case per published package, used by run.mjs
// from both ESM and CJS. Each returns { x, loss } with loss a scalar function
// of x. A package whose case is missing is reported by run.mjs.
const ramp = (tf, shape, scale = 1) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Array.from({ length: n }, (_, i) => scale * Math.sin(1.3 * i + 0.2)), shape);
};

module.exports = {
  '@tfjs-losses/core': (tf, m) => ({
    x: tf.tensor([0.3, 0.5, -2]),
    loss: (x) => m.reduce(tf.mul(m.absZeroGrad(x), tf.where(tf.less(x, 0), tf.onesLike(x), tf.tensor([2, 2, 2]))), 'mean'),
  }),
  '@tfjs-losses/focal': (tf, m) => ({
    x: ramp(tf, [4, 3], 2),
    loss: (x) => tf.add(m.sigmoidFocalLoss(x, tf.tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]])), m.softmaxFocalLoss(x, [0, 1, 2, 1])),
  }),
  '@tfjs-losses/smooth-l1': (tf, m) => ({
    x: ramp(tf, [3, 4]),
    loss: (x) => tf.add(m.smoothL1Loss(x, tf.zeros([3, 4]), { beta: 0.5 }), m.balancedL1Loss(x, tf.zeros([3, 4]))),
  }),
  '@tfjs-losses/contrastive': (tf, m) => ({
    x: ramp(tf, [4, 5]),
    loss: (x) => tf.add(m.ntXent(x, tf.reverse(x, 1)), m.infoNCE(x, tf.add(x, 0.1))),
  }),
  '@tfjs-losses/ctc': (tf, m) => ({
    x: ramp(tf, [2, 6, 4]),
    loss: (x) => m.ctcLoss(x, tf.tensor2d([[1, 2], [3, 0]], undefined, 'int32'), { labelLengths: [2, 1] }),
  }),
  '@tfjs-losses/gan': (tf, m) => ({
    // The penalty's gradient with respect to the critic's weights: second order
    // through tanh and matMul, from the published build.
    x: ramp(tf, [3, 1]),
    loss: (w) =>
      tf.add(
        m.gradientPenalty((v) => tf.tanh(tf.matMul(v, w)), ramp(tf, [2, 3], 0.5), ramp(tf, [2, 3], -0.7), { epsilon: [0.3, 0.8] }),
        m.lsganDiscriminatorLoss(tf.reshape(w, [3]), tf.reverse(tf.reshape(w, [3]))),
      ),
  }),
  '@tfjs-losses/cycle': (tf, m) => ({
    x: ramp(tf, [2, 3]),
    loss: (x) => m.cycleConsistencyLoss(tf.zeros([2, 3]), x, tf.ones([2, 3]), tf.mul(x, 2), { lambdaX: 10, lambdaY: 10 }),
  }),
  '@tfjs-losses/lovasz': (tf, m) => ({
    x: ramp(tf, [6, 3]),
    loss: (x) => tf.add(m.lovaszSoftmax(tf.softmax(x), [0, 1, 2, 1, 0, 2]), m.lovaszHinge(tf.reshape(x, [2, 3, 3]), tf.tensor([[[1, 0, 1], [0, 1, 1], [0, 0, 1]], [[1, 1, 0], [0, 1, 0], [1, 0, 0]]]))),
  }),
};
