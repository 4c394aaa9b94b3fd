#!/usr/bin/env node
// pnpm release [--publish]
//
// 1. `changeset version`: pending changesets become versions and CHANGELOG
//    entries (internal dependents bumped patch; private packages untouched).
// 2. `pnpm install --no-frozen-lockfile` so the lockfile follows, then build.
// 3. A publish dry run of every public package (`pnpm publish -r --dry-run`),
//    and a check of each packed file list: dist ESM + CJS + both .d.ts, the
//    README, no tests.
// With --publish, step 3 publishes for real (`changeset publish`, needs npm
// credentials). Without it nothing leaves this machine.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const publish = process.argv.includes('--publish');
const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
const out = (cmd, args, cwd = root) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

const pending = fs.readdirSync(path.join(root, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
console.log(`release: ${pending.length} pending changeset(s)`);
if (pending.length > 0) sh('pnpm', ['changeset', 'version']);
sh('pnpm', ['install', '--no-frozen-lockfile', '--prefer-offline']);
sh('pnpm', ['turbo', 'run', 'build', '--output-logs=errors-only']);

const publicPackages = fs
  .readdirSync(path.join(root, 'packages'))
  .map((d) => path.join(root, 'packages', d))
  .map((dir) => ({ dir, pkg: JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) }))
  .filter(({ pkg }) => !pkg.private);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-losses-release-'));
for (const { dir, pkg } of publicPackages) {
  const file = out('pnpm', ['pack', '--pack-destination', tmp], dir).trim().split('\n').pop();
  const files = out('tar', ['-tzf', path.isAbsolute(file) ? file : path.join(tmp, path.basename(file))]).split('\n').filter(Boolean);
  const packedPkg = JSON.parse(out('tar', ['-xzOf', path.isAbsolute(file) ? file : path.join(tmp, path.basename(file)), 'package/package.json']));
  const missing = ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts', 'README.md', 'package.json'].filter((f) => !files.includes(`package/${f}`));
  const tests = files.filter((f) => f.endsWith('.test.ts'));
  const workspaceRanges = Object.entries({ ...packedPkg.dependencies, ...packedPkg.peerDependencies }).filter(([, v]) => String(v).startsWith('workspace:'));
  if (missing.length || tests.length || workspaceRanges.length) {
    throw new Error(`${pkg.name}: missing ${missing.join(', ') || '-'}; tests shipped ${tests.join(', ') || '-'}; unresolved workspace ranges ${workspaceRanges.map(([k]) => k).join(', ') || '-'}`);
  }
  console.log(`ok ${pkg.name}@${packedPkg.version}: ${files.length} files`);
}
fs.rmSync(tmp, { recursive: true, force: true });

if (publish) sh('pnpm', ['changeset', 'publish']);
else sh('pnpm', ['publish', '-r', '--dry-run', '--no-git-checks', '--access', 'public']);
console.log(publish ? 'release: published' : 'release: dry run complete (run with --publish to publish)');
