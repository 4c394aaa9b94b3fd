// tfjs-core registers no gradients by itself (the @tensorflow/tfjs union does).
// This import registers its gradient configs. In source (Vitest, bundlers) it
// resolves normally; in dist, tooling/build's `tfjsGradients` plugin inlines
// only the gradient configs and routes their helper imports to the public
// @tensorflow/tfjs-core API, so plain Node ESM and CJS work and one engine is used.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
