// Node module hooks that let plain Node run the workspace from source with one
// copy of TensorFlow.js, as Vitest does (tooling/vitest-config):
// - `@tensorflow/tfjs-*` (bare) resolves to the package's ES module build
//   (`module` field) instead of its CommonJS Node bundle, so that
//   `@tfjs-losses/core`'s import of tfjs-core's gradient sources (ESM only)
//   shares one module graph with everything else;
// - inside those ES module builds, extensionless and directory imports
//   (`./base`, `./gradients`) get the `.js` / `/index.js` Node needs, and
//   the modules that call `require` (tfjs-core's Node platform) get one, and
//   `import * as seedrandom` (a CommonJS package whose named exports Node
//   cannot see) becomes a default import.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { URL, fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const BARE_TFJS = /^@tensorflow\/tfjs-[a-z0-9-]+$/;

function isFile(p) {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export async function resolve(specifier, context, nextResolve) {
  if (BARE_TFJS.test(specifier)) {
    const pkgJson = await nextResolve(`${specifier}/package.json`, context);
    const file = fileURLToPath(pkgJson.url);
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    if (pkg.module) {
      const entry = path.join(path.dirname(file), pkg.module);
      if (existsSync(entry)) return { url: pathToFileURL(entry).href, format: 'module', shortCircuit: true };
    }
    return nextResolve(specifier, context);
  }
  const parent = context.parentURL ?? '';
  if ((specifier.startsWith('./') || specifier.startsWith('../')) && parent.includes('/@tensorflow/') && parent.startsWith('file:')) {
    const base = fileURLToPath(new URL(specifier, parent));
    if (!isFile(base)) {
      for (const candidate of [`${base}.js`, path.join(base, 'index.js')]) {
        if (isFile(candidate)) return { url: pathToFileURL(candidate).href, shortCircuit: true };
      }
    }
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (result.format === 'module' && url.includes('/@tensorflow/') && result.source) {
    let source = String(result.source).replace(/import \* as (\w+) from 'seedrandom'/g, "import $1 from 'seedrandom'");
    if (/\brequire\(/.test(source)) {
      const shim = "import { createRequire as __tfjsLossesCreateRequire } from 'node:module'; const require = __tfjsLossesCreateRequire(import.meta.url);";
      source = `${shim}\n${source}`;
    }
    return { ...result, source };
  }
  return result;
}
