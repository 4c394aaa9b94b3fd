#!/usr/bin/env node
// pnpm new-loss <name> [--fn camelCaseName] [--title "Human title"] [--no-install] [--root DIR]
//
// Writes packages/<name> from template/ (a package that builds, type-checks
// and tests on cpu, wasm and webgpu), wires it into @tfjs-losses/losses
// (dependency, `export *`, subpath), writes a minor changeset and runs
// `pnpm install` so the workspace links it. Plain Node, no dependencies.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const out = { install: true, root: path.resolve(here, '../..') };
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--fn') out.fn = argv[++i];
    else if (a === '--title') out.title = argv[++i];
    else if (a === '--root') out.root = path.resolve(argv[++i]);
    else if (a === '--no-install') out.install = false;
    else if (a === '--help' || a === '-h') out.help = true;
    else rest.push(a);
  }
  out.name = rest[0];
  return out;
}

const camel = (s) => s.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
const kebab = (s) => s.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

function fail(msg) {
  console.error(`new-loss: ${msg}`);
  process.exit(1);
}

function render(text, vars) {
  return text.replace(/\{\{(\w+)\}\}/g, (m, k) => (k in vars ? vars[k] : m));
}

function copyTemplate(dir, dest, vars) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const src = path.join(dir, entry.name);
    const name = render(entry.name.replace(/\.tmpl$/, ''), vars);
    const target = path.join(dest, name);
    if (entry.isDirectory()) {
      fs.mkdirSync(target, { recursive: true });
      copyTemplate(src, target, vars);
    } else {
      fs.writeFileSync(target, render(fs.readFileSync(src, 'utf8'), vars));
    }
  }
}

function wireIntoLosses(root, name) {
  const dir = path.join(root, 'packages', 'losses');
  if (!fs.existsSync(dir)) return false;
  const pkgPath = path.join(dir, 'package.json');
  const pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8'));
  const dep = `@tfjs-losses/${name}`;
  pkg.dependencies = { ...pkg.dependencies, [dep]: 'workspace:^' };
  pkg.dependencies = Object.fromEntries(Object.entries(pkg.dependencies).sort(([a], [b]) => a.localeCompare(b)));
  const sub = `./${name}`;
  const { './package.json': pj, ...rest } = pkg.exports;
  rest[sub] = {
    '@tfjs-losses/source': `./src/${name}.ts`,
    import: { types: `./dist/${name}.d.ts`, default: `./dist/${name}.js` },
    require: { types: `./dist/${name}.d.cts`, default: `./dist/${name}.cjs` },
  };
  pkg.exports = { ...rest, './package.json': pj };
  fs.writeFileSync(pkgPath, JSON.stringify(pkg, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, 'src', `${name}.ts`), `export * from '${dep}';\n`);
  const indexPath = path.join(dir, 'src', 'index.ts');
  const line = `export * from '${dep}';`;
  const index = fs.readFileSync(indexPath, 'utf8');
  if (!index.includes(line)) fs.writeFileSync(indexPath, index.trimEnd() + '\n' + line + '\n');
  return true;
}

const args = parseArgs(process.argv.slice(2));
if (args.help || !args.name) {
  console.log('usage: pnpm new-loss <kebab-name> [--fn camelCaseFunction] [--title "Title"] [--no-install]');
  process.exit(args.help ? 0 : 1);
}
if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(args.name)) fail(`name must be kebab-case (like "tversky" or "dice-loss"); got "${args.name}"`);
const fn = args.fn ?? (args.name.endsWith('loss') ? camel(args.name) : camel(args.name) + 'Loss');
if (!/^[a-z][A-Za-z0-9]*$/.test(fn)) fail(`--fn must be a camelCase identifier; got "${fn}"`);
const dest = path.join(args.root, 'packages', args.name);
if (fs.existsSync(dest)) fail(`packages/${args.name} already exists`);

const vars = {
  name: args.name,
  fn,
  Fn: fn[0].toUpperCase() + fn.slice(1),
  file: kebab(fn),
  title: args.title ?? args.name.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join(' ') + ' loss',
};
fs.mkdirSync(dest, { recursive: true });
copyTemplate(path.join(here, 'template'), dest, vars);
const wired = wireIntoLosses(args.root, args.name);

const changeset = path.join(args.root, '.changeset', `add-${args.name}.md`);
fs.writeFileSync(
  changeset,
  `---\n"@tfjs-losses/${args.name}": minor\n${wired ? '"@tfjs-losses/losses": minor\n' : ''}---\n\nNew package @tfjs-losses/${args.name} with \`${fn}\`.\n`,
);

console.log(`created packages/${args.name} (${fn})${wired ? ', added to @tfjs-losses/losses' : ''}, changeset ${path.relative(args.root, changeset)}`);
if (args.install) {
  // A new package changes the lockfile: never frozen (pnpm freezes it by default under CI=true).
  execFileSync('pnpm', ['install', '--no-frozen-lockfile', '--prefer-offline'], { cwd: args.root, stdio: 'inherit' });
}
console.log(`
next:
  pnpm --filter @tfjs-losses/${args.name} test        # runs on cpu, wasm and webgpu
  edit packages/${args.name}/src/${vars.file}.ts         # the loss itself
  /usr/bin/python3 packages/${args.name}/fixtures/generate.py   # the PyTorch reference
  edit packages/${args.name}/README.md and .changeset/add-${args.name}.md`);
