import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Reads `<package>/fixtures/<file>` for a test at `importMetaUrl` (a file in
 * `<package>/src`). Fixture files are JSON written by `fixtures/generate.py`:
 * `{ "torch": version, "cases": [...] }`; this returns the cases.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function loadFixture<T = any>(importMetaUrl: string, file: string): T[] {
  const here = fileURLToPath(importMetaUrl);
  const pkgRoot = here.slice(0, here.lastIndexOf('/src/'));
  const data = JSON.parse(readFileSync(`${pkgRoot}/fixtures/${file}`, 'utf8')) as { cases?: T[] };
  if (!Array.isArray(data.cases) || data.cases.length === 0) throw new Error(`fixture ${file} has no cases`);
  return data.cases;
}
