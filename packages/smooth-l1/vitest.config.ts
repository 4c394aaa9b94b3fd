import { defineLossTestConfig } from '@tfjs-losses/vitest-config';

export default defineLossTestConfig();
