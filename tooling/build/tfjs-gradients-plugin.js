// esbuild plugin: inline tfjs-core's gradient configs without a second copy of tfjs-core.
//
// `@tensorflow/tfjs-core/dist/register_all_gradients.js` is ES module source with
// extensionless imports, so plain Node cannot load it. We bundle it and its
// `gradients/*` files; every other tfjs-core module they import (ops, kernel
// names, utilities) is replaced by a small module that takes the same names
// from the public `@tensorflow/tfjs-core` entry (or its `backend_util`, `util`,
// `slice_util` namespaces). The few helpers tfjs does not export publicly come
// from core's `src/gradients/internal-ops.ts`.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const NAMESPACES = ['backend_util', 'util', 'slice_util'];

function exportNames(file) {
  const src = fs.readFileSync(file, 'utf8');
  const names = new Set();
  for (const m of src.matchAll(/^export (?:const|let|var|function\*?|class|async function) ([A-Za-z_$][\w$]*)/gm)) names.add(m[1]);
  for (const m of src.matchAll(/^export \{([^}]*)\}(?! from)/gm)) {
    for (const part of m[1].split(',')) {
      const n = part.trim().split(/\s+as\s+/).pop();
      if (n) names.add(n);
    }
  }
  for (const m of src.matchAll(/^export \* from '([^']+)'/gm)) {
    let sub = path.resolve(path.dirname(file), m[1]);
    if (!sub.endsWith('.js')) sub += '.js';
    for (const n of exportNames(sub)) names.add(n);
  }
  return [...names];
}

/** @param {{ internalOps: string }} options absolute path of the module providing non-public helpers */
export function tfjsGradients({ internalOps }) {
  return {
    name: 'tfjs-gradients',
    setup(build) {
      const require = createRequire(path.join(process.cwd(), 'package.json'));
      const coreDist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-core/package.json')), 'dist');
      build.onResolve({ filter: /^@tensorflow\/tfjs-core\/dist\/register_all_gradients/ }, () => ({
        path: path.join(coreDist, 'register_all_gradients.js'),
      }));
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (!args.importer.startsWith(coreDist)) return undefined;
        let target = path.resolve(path.dirname(args.importer), args.path);
        if (!target.endsWith('.js')) target += '.js';
        const rel = path.relative(coreDist, target);
        if (rel.startsWith('gradients' + path.sep) || rel === 'register_all_gradients.js') return { path: target };
        return { path: target, namespace: 'tfjs-public' };
      });
      build.onLoad({ filter: /.*/, namespace: 'tfjs-public' }, (args) => {
        const names = exportNames(args.path);
        const lines = [
          `import * as tfc from '@tensorflow/tfjs-core';`,
          `import * as internal from ${JSON.stringify(internalOps)};`,
          `const pick = (n) => n in internal ? internal[n] : n in tfc ? tfc[n] : ${JSON.stringify(NAMESPACES)}.map((k) => tfc[k] && tfc[k][n]).find((v) => v !== undefined);`,
          ...names.map((n) => `export const ${n} = /* @__PURE__ */ pick(${JSON.stringify(n)});`),
        ];
        return { contents: lines.join('\n'), loader: 'js', resolveDir: path.dirname(internalOps) };
      });
    },
  };
}
