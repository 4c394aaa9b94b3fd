// End-to-end test of the playground (pnpm test:e2e): serves the page with
// Vite, opens it in Debian's Chromium (headless, WebGPU on SwiftShader, the
// flags of design/WEBGPU.md; Playwright gives each launch a fresh profile
// folder) through playwright-core, and checks that the
// page runs on the webgpu backend and that a short training run lowers the
// loss. Saves a screenshot to out/e2e/playground.png (and, with --docs, to
// docs/playground.png, the picture of the root README).
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { createServer } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const family = process.env.E2E_FAMILY ?? 'cycle';
const steps = Number(process.env.E2E_STEPS ?? 12);

interface PageState {
  backend?: { backend: string; adapter?: { vendor: string; architecture: string; description: string } };
  state: string;
  losses: number[];
  evidence?: string;
  error?: string;
}

const results: { name: string; ok: boolean; detail?: string }[] = [];
async function check(name: string, fn: () => void | Promise<void>): Promise<void> {
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`  ok   ${name}`);
  } catch (e) {
    results.push({ name, ok: false, detail: (e as Error).message });
    console.log(`  FAIL ${name}: ${(e as Error).message}`);
  }
}

const readState = (page: Page): Promise<PageState> =>
  page.evaluate(() => JSON.parse(JSON.stringify((globalThis as unknown as { playground: unknown }).playground)) as PageState);

if (!existsSync(chromiumPath)) {
  console.error(`Chromium not found at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH)`);
  process.exit(1);
}

const server = await createServer({ configFile: path.join(root, 'vite.config.ts'), root, logLevel: 'warn', server: { port: 5273, strictPort: false } });
await server.listen();
const base = server.resolvedUrls?.local[0];
assert.ok(base, 'Vite did not report a local URL');
const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: [
    '--no-sandbox',
    '--enable-unsafe-webgpu',
    '--enable-features=Vulkan',
    '--use-webgpu-adapter=swiftshader',
    ...(process.env.E2E_EXTRA_FLAGS ?? '').split(' ').filter(Boolean),
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-quic',
    '--no-first-run',
  ],
});
let exitCode = 0;
try {
  const page = await browser.newPage({ viewport: { width: 1180, height: 900 } });
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  const url = `${base}?family=${family}&steps=${steps}&autorun=1${process.env.E2E_QUERY ?? ''}`;
  console.log(`playground e2e: ${url} in ${chromiumPath}`);
  const t0 = performance.now();
  await page.goto(url);
  await page.waitForFunction(
    () => ['done', 'error'].includes((globalThis as unknown as { playground?: { state: string } }).playground?.state ?? ''),
    undefined,
    { timeout: 300_000, polling: 500 },
  );
  const s = await readState(page);
  console.log(`  ${family}: ${s.losses.length} steps in ${((performance.now() - t0) / 1000).toFixed(1)} s (page load included)`);
  console.log(`  backend report: ${JSON.stringify(s.backend)}`);
  console.log(`  losses: ${s.losses.map((v) => v.toPrecision(4)).join(' ')}`);
  if (s.evidence) console.log(`  evidence: ${s.evidence}`);

  await check('the page reports the webgpu backend', () => {
    assert.equal(s.backend?.backend, 'webgpu');
  });
  await check('the backend line names the adapter', async () => {
    const text = (await page.locator('#backend').textContent()) ?? '';
    assert.match(text, /backend: webgpu/);
    assert.match(text, /adapter: /);
    assert.equal(await page.locator('#backend').getAttribute('data-backend'), 'webgpu');
  });
  await check(`training ${steps} steps finishes without error`, () => {
    assert.equal(s.state, 'done', s.error);
    assert.equal(s.losses.length, steps);
    assert.ok(s.losses.every(Number.isFinite), 'non-finite loss');
  });
  await check('the loss falls', () => {
    const k = Math.max(1, Math.floor(steps / 5));
    const mean = (a: number[]): number => a.reduce((x, y) => x + y, 0) / a.length;
    const first = mean(s.losses.slice(0, k));
    const last = mean(s.losses.slice(-k));
    assert.ok(last < 0.9 * first, `first ${k} steps average ${first}, last ${k} average ${last}`);
  });
  await check('the loss curve and the picture are drawn', async () => {
    assert.equal(await page.locator('#chart svg polyline').count() > 0, true);
    assert.equal(await page.locator('#picture svg').count(), 1);
    assert.match((await page.locator('#evidence').textContent()) ?? '', /evidence: /);
  });
  await check('no error in the console', () => {
    assert.deepEqual(consoleErrors, []);
  });
  const outDir = path.join(root, 'out', 'e2e');
  mkdirSync(outDir, { recursive: true });
  const shot = path.join(outDir, 'playground.png');
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`  screenshot: ${shot}`);
  if (process.argv.includes('--docs')) {
    mkdirSync(path.join(root, 'docs'), { recursive: true });
    copyFileSync(shot, path.join(root, 'docs', 'playground.png'));
    console.log('  copied to docs/playground.png');
  }
} catch (e) {
  console.error(e);
  exitCode = 1;
} finally {
  await browser.close();
  await server.close();
}
const failed = results.filter((r) => !r.ok).length;
if (failed > 0 || results.length === 0) exitCode = 1;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(exitCode);
