#!/usr/bin/env node
// Consumer test: what a user who installs only what they need gets.
//
// Packs every publishable package (`pnpm pack`, which rewrites workspace:
// ranges), installs the tarballs with plain npm into a scratch project
// outside the workspace that has only @tensorflow/tfjs-core and the cpu
// backend, and computes a value and a gradient from Node ESM and from CJS.
// A workspace-only test would hide broken `exports`, missing `files` and
// missing gradient registration.
//
// usage: node tooling/consumer-test/run.mjs [--keep]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const keep = process.argv.includes('--keep');
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

const packages = fs
  .readdirSync(path.join(root, 'packages'))
  .map((d) => path.join(root, 'packages', d))
  .filter((d) => fs.existsSync(path.join(d, 'package.json')))
  .map((dir) => ({ dir, pkg: JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) }))
  .filter(({ pkg }) => !pkg.private);

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-losses-consumer-'));
const tarballs = path.join(scratch, 'tarballs');
fs.mkdirSync(tarballs);
console.log(`consumer test in ${scratch}`);

console.log('building packages (turbo run build)');
run('pnpm', ['turbo', 'run', 'build', '--output-logs=errors-only'], root);

const packed = {};
for (const { dir, pkg } of packages) {
  const out = run('pnpm', ['pack', '--pack-destination', tarballs], dir).trim().split('\n').pop();
  const file = path.isAbsolute(out) ? out : path.join(tarballs, path.basename(out));
  packed[pkg.name] = file;
  const listing = run('tar', ['-tzf', file], root).split('\n');
  for (const required of ['package/dist/index.js', 'package/dist/index.cjs', 'package/dist/index.d.ts', 'package/dist/index.d.cts', 'package/README.md']) {
    if (!listing.includes(required)) throw new Error(`${pkg.name}: tarball lacks ${required}`);
  }
  if (listing.some((f) => f.endsWith('.test.ts'))) throw new Error(`${pkg.name}: tarball ships test files`);
  console.log(`packed ${pkg.name} (${listing.filter(Boolean).length} files)`);
}

const app = path.join(scratch, 'app');
fs.mkdirSync(app);
fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer-app', version: '1.0.0', private: true }, null, 2));
console.log('npm install of the tarballs with @tensorflow/tfjs-core and @tensorflow/tfjs-backend-cpu only');
run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '@tensorflow/tfjs-core@4.22.0', '@tensorflow/tfjs-backend-cpu@4.22.0', ...Object.values(packed)], app);

// Each entry: package, a function of (tf, mod) returning a scalar loss of x.
const caseNames = Object.keys((await import('./cases.cjs')).default);
const uncovered = Object.keys(packed).filter((n) => n !== '@tfjs-losses/losses' && !caseNames.includes(n));
if (uncovered.length) console.log(`no consumer case yet for: ${uncovered.join(', ')}`);
const cases = fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'cases.cjs'), 'utf8');
fs.writeFileSync(path.join(app, 'cases.cjs'), cases);
const body = (load) => `
${load}
const names = Object.keys(cases);
(async () => {
  await tf.setBackend('cpu');
  for (const name of names) {
    const mod = await loadPkg(name);
    const { x, loss } = cases[name](tf, mod);
    const { value, grad } = tf.valueAndGrad(loss)(x);
    const v = value.dataSync()[0];
    const g = grad.dataSync();
    if (!Number.isFinite(v) || !Array.from(g).every(Number.isFinite)) throw new Error(name + ': non-finite value or gradient');
    if (!Array.from(g).some((e) => e !== 0)) throw new Error(name + ': gradient is all zero');
    // The gradient from the published build agrees with a central difference
    // along a fixed direction.
    const d = tf.tensor(Array.from({ length: x.size }, (_, i) => Math.cos(0.7 * i + 0.1)), x.shape);
    const eps = 1e-3;
    const at = (s) => loss(tf.add(x, tf.mul(d, s))).dataSync()[0];
    const numeric = (at(eps) - at(-eps)) / (2 * eps);
    const analytic = tf.sum(tf.mul(grad, d)).dataSync()[0];
    if (!(Math.abs(numeric - analytic) <= 2e-3 + 2e-2 * Math.abs(numeric))) throw new Error(name + ': directional derivative ' + analytic + ' differs from central difference ' + numeric);
    console.log(MODE + ' ' + name + ': value ' + v.toFixed(6) + ', |grad|_1 ' + Array.from(g).reduce((a, b) => a + Math.abs(b), 0).toFixed(6));
  }
  const core = await loadPkg('@tfjs-losses/core');
  try { core.reduce(tf.ones([2]), 'avg'); throw new Error('no error'); } catch (e) { if (e.name !== 'LossInputError') throw e; console.log(MODE + ' LossInputError: ' + e.message); }
})().catch((e) => { console.error(e); process.exit(1); });
`;
fs.writeFileSync(
  path.join(app, 'esm.mjs'),
  body(`import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createRequire } from 'node:module';
const cases = createRequire(import.meta.url)('./cases.cjs');
const MODE = 'esm';
const loadPkg = (n) => import(n);`),
);
fs.writeFileSync(
  path.join(app, 'cjs.cjs'),
  body(`const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const cases = require('./cases.cjs');
const MODE = 'cjs';
const loadPkg = async (n) => require(n);`),
);
for (const f of ['esm.mjs', 'cjs.cjs']) process.stdout.write(run('node', [f], app));

// The types resolve for a TypeScript user too (exports map "types" conditions).
if (!fs.existsSync(path.join(app, 'node_modules/@tfjs-losses/core/dist/index.d.ts'))) throw new Error('core types missing');
console.log('consumer test passed');
if (!keep) fs.rmSync(scratch, { recursive: true, force: true });
