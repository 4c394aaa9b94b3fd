import { fileURLToPath } from 'node:url';
import { defineLossBuildConfig, tfjsGradients } from '@tfjs-losses/build';

export default defineLossBuildConfig({
  esbuildPlugins: [tfjsGradients({ internalOps: fileURLToPath(new URL('./src/gradients/internal-ops.ts', import.meta.url)) })],
});
