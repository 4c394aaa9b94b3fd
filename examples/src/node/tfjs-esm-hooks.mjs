// Module hooks for running the examples from TypeScript source in plain Node
// with a single copy of TensorFlow.js (the same arrangement Vitest makes in
// tooling/vitest-config):
//  1. a bare `@tensorflow/tfjs-*` import loads the package's ES module build
//     (its `module` field), not the CommonJS Node bundle, because
//     @tfjs-losses/core imports tfjs-core's gradient sources, which exist
//     only as ES modules; both must see the same modules;
//  2. inside those builds, relative imports written without an extension or
//     pointing at a folder are completed with `.js` or `/index.js`;
//  3. the build's modules that call `require` get a `require` made with
//     createRequire, and `import * as x from 'seedrandom'` (CommonJS) turns
//     into a default import so its function is reachable.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { URL, fileURLToPath, pathToFileURL } from 'node:url';

const TFJS_PACKAGE = /^@tensorflow\/tfjs-[a-z0-9-]+$/;

function fileExists(p) {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function insideTfjs(url) {
  return typeof url === 'string' && url.startsWith('file:') && url.includes('/@tensorflow/tfjs-');
}

export async function resolve(specifier, context, nextResolve) {
  if (TFJS_PACKAGE.test(specifier)) {
    const manifest = await nextResolve(`${specifier}/package.json`, context);
    const manifestPath = fileURLToPath(manifest.url);
    const { module: esmEntry } = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const entry = esmEntry && path.join(path.dirname(manifestPath), esmEntry);
    if (entry && fileExists(entry)) return { url: pathToFileURL(entry).href, format: 'module', shortCircuit: true };
    return nextResolve(specifier, context);
  }
  if (/^\.\.?\//.test(specifier) && insideTfjs(context.parentURL)) {
    const target = fileURLToPath(new URL(specifier, context.parentURL));
    if (!fileExists(target)) {
      const found = [`${target}.js`, path.join(target, 'index.js')].find(fileExists);
      if (found) return { url: pathToFileURL(found).href, format: 'module', shortCircuit: true };
    }
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  const loaded = await nextLoad(url, context);
  if (!insideTfjs(url) || loaded.format !== 'module' || loaded.source == null) return loaded;
  let source = String(loaded.source).replace(
    /import \* as (\w+) from ['"]seedrandom['"]/g,
    "import $1 from 'seedrandom'",
  );
  if (/\brequire\(/.test(source)) {
    source = `import { createRequire as __examplesCreateRequire } from 'node:module';\nconst require = __examplesCreateRequire(import.meta.url);\n${source}`;
  }
  return { ...loaded, source };
}
