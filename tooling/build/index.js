// Shared tsup configuration: ESM + CJS with declarations, dependencies external.
import { defineConfig } from 'tsup';
export { tfjsGradients } from './tfjs-gradients-plugin.js';

/** @param {Partial<import('tsup').Options>} [overrides] */
export function defineLossBuildConfig(overrides = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    platform: 'neutral',
    splitting: false,
    treeshake: true,
    external: [/^@tensorflow\/[^/]+$/, /^@tfjs-losses\/[^/]+$/, 'webgpu'],
    noExternal: [/register_all_gradients/],
    ...overrides,
  });
}
