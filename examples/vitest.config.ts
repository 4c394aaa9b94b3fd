import { defineLossTestConfig } from '@tfjs-losses/vitest-config';

// The demos are tested on one backend (wasm: the fastest here); the loss
// packages themselves are tested on all three. The playground's browser test
// is `pnpm test:e2e` (needs Chromium), not part of this run.
export default defineLossTestConfig({ backends: ['wasm'], include: ['src/**/*.test.ts'], testTimeout: 120_000 });
