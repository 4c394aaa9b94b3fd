import { defineLossTestConfig } from '@tfjs-losses/vitest-config';

// Timing runs, kept out of `pnpm test`: `pnpm exec vitest run -c bench/vitest.config.ts`.
// eslint-disable-next-line no-restricted-syntax -- Vitest reads the default export.
export default defineLossTestConfig({ include: ['bench/**/*.bench.test.ts'], testTimeout: 3_600_000 });
