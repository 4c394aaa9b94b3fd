// One small value-and-gradient case per published package, used by run.mjs
// from both ESM and CJS. Each returns { x, loss } with loss a scalar function of x.
// Packages add their case here when their real API lands.
module.exports = {
  '@tfjs-losses/core': (tf, m) => ({
    x: tf.tensor([0, 0.5, -2]),
    loss: (x) => m.reduce(tf.mul(m.absZeroGrad(x), tf.where(tf.less(x, 0), tf.onesLike(x), tf.tensor([2, 2, 2]))), 'mean'),
  }),
};
