// `pnpm playground`: the Vite page (index.html, src/playground) that runs the demos live in
// the browser. Workspace packages are read from source (the
// @tfjs-losses/source condition), tfjs from its ES module builds.
import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  resolve: { conditions: ['@tfjs-losses/source', ...defaultClientConditions] },
  // Pre-bundle tfjs up front, so that the first page load never triggers a
  // re-optimisation and reload (the end-to-end test relies on that).
  optimizeDeps: {
    include: [
      '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-core/dist/register_all_gradients',
      '@tensorflow/tfjs-backend-cpu',
      '@tensorflow/tfjs-backend-wasm',
      '@tensorflow/tfjs-backend-webgpu',
    ],
  },
  server: { port: 5173, strictPort: false },
});
