// One Vitest project per backend over the same test files.
// TFJS_BACKENDS=cpu,wasm narrows the list; a listed backend that cannot start
// fails the run (setup.js throws), nothing is skipped silently.
import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const TFJS = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-layers'];

// Every tfjs package resolved to its ES module build, so that the gradient
// sources tfjs-core ships (ESM only) and the rest share one copy of tfjs-core.
function tfjsAliases(root) {
  const require = createRequire(path.join(root, 'package.json'));
  const coreRequire = createRequire(fileURLToPath(import.meta.url));
  const aliases = [];
  for (const name of TFJS) {
    let pkgJson;
    for (const r of [require, coreRequire]) {
      try {
        pkgJson = r.resolve(`${name}/package.json`);
        break;
      } catch {
        /* not installed here */
      }
    }
    if (!pkgJson) continue;
    const pkg = JSON.parse(readFileSync(pkgJson, 'utf8'));
    const entry = path.join(path.dirname(pkgJson), pkg.module ?? pkg.main);
    if (existsSync(entry)) aliases.push({ find: new RegExp(`^${name.replace('/', '\\/')}$`), replacement: entry });
  }
  return aliases;
}

// The setup file imports @tfjs-losses/core: resolve it from the package under
// test (every loss package depends on core; core is itself), from source.
function coreAlias(root) {
  const own = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  let coreDir = own.name === '@tfjs-losses/core' ? root : undefined;
  if (!coreDir) {
    try {
      coreDir = path.dirname(createRequire(path.join(root, 'package.json')).resolve('@tfjs-losses/core/package.json'));
    } catch {
      coreDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../packages/core');
    }
  }
  return [{ find: /^@tfjs-losses\/core$/, replacement: path.join(coreDir, 'src/index.ts') }];
}

export const ALL_BACKENDS = ['cpu', 'wasm', 'webgpu'];

export function selectedBackends() {
  const env = process.env.TFJS_BACKENDS;
  if (!env) return ALL_BACKENDS;
  const list = env.split(',').map((s) => s.trim()).filter(Boolean);
  for (const b of list) {
    if (!ALL_BACKENDS.includes(b)) throw new Error(`TFJS_BACKENDS: unknown backend "${b}" (expected ${ALL_BACKENDS.join(', ')})`);
  }
  return list;
}

/**
 * @param {{ include?: string[], testTimeout?: number, backends?: string[] }} [options]
 */
export function defineLossTestConfig(options = {}) {
  const backends = options.backends ?? selectedBackends();
  const setup = fileURLToPath(new URL('./setup.js', import.meta.url));
  return defineConfig({
    resolve: { conditions: ['@tfjs-losses/source'], alias: [...tfjsAliases(process.cwd()), ...coreAlias(process.cwd())] },
    ssr: { resolve: { conditions: ['@tfjs-losses/source'] } },
    test: {
      pool: 'forks',
      // One copy of tfjs: Vitest transforms tfjs's ESM builds itself instead of
      // letting Node load the CJS bundles beside the ESM gradient sources.
      server: { deps: { inline: [/@tensorflow\//] } },
      testTimeout: options.testTimeout ?? 60_000,
      hookTimeout: 60_000,
      projects: backends.map((backend) => ({
        extends: true,
        test: {
          name: backend,
          include: options.include ?? ['src/**/*.test.ts'],
          env: { TFJS_BACKEND: backend, EGL_PLATFORM: process.env.EGL_PLATFORM ?? 'surfaceless' },
          setupFiles: [setup],
        },
      })),
    },
  });
}
