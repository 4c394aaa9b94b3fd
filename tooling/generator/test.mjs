#!/usr/bin/env node
// Generator test: scaffold a package in a scratch copy of the repository and
// check that it type-checks, lints and passes its tests on every backend
// without edits, and that @tfjs-losses/losses re-exports it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-losses-generator-'));
const sh = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: 'inherit', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } });

// Tracked files only (what a clone has), then a workspace install from the local store.
const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
for (const f of files) {
  const dest = path.join(scratch, f);
  if (!fs.existsSync(path.join(root, f))) continue;
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.copyFileSync(path.join(root, f), dest);
}
console.log(`generator test in ${scratch}`);
sh('pnpm', ['install', '--prefer-offline', '--frozen-lockfile'], scratch);
sh('pnpm', ['new-loss', 'example-loss'], scratch);

const pkgDir = path.join(scratch, 'packages', 'example-loss');
for (const f of ['package.json', 'README.md', 'src/index.ts', 'src/example-loss.ts', 'src/example-loss.test.ts', 'fixtures/example-loss.json', 'fixtures/generate.py']) {
  if (!fs.existsSync(path.join(pkgDir, f))) throw new Error(`generated package lacks ${f}`);
}
if (!fs.readFileSync(path.join(scratch, 'packages/losses/src/index.ts'), 'utf8').includes("export * from '@tfjs-losses/example-loss';")) {
  throw new Error('@tfjs-losses/losses does not re-export the new package');
}
if (!fs.existsSync(path.join(scratch, '.changeset/add-example-loss.md'))) throw new Error('no changeset written');
sh('pnpm', ['exec', 'tsc', '--noEmit'], pkgDir);
sh('pnpm', ['exec', 'eslint', 'src'], pkgDir);
sh('pnpm', ['exec', 'vitest', 'run'], pkgDir);
sh('pnpm', ['exec', 'tsup'], pkgDir);
fs.rmSync(scratch, { recursive: true, force: true });
console.log('generator test passed');
