import { defineLossTestConfig } from '@tfjs-losses/vitest-config';

// `pnpm exec vitest run --config bench/vitest.config.ts` (from the package): the
// BENCH.md workloads of this package, timed on each backend in TFJS_BACKENDS.
export default defineLossTestConfig({ include: ['bench/**/*.bench.test.ts'], testTimeout: 1_200_000 });
