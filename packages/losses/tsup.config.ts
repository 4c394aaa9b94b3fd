import { defineLossBuildConfig } from '@tfjs-losses/build';

// One entry per family: every file of src/ is a subpath.
export default defineLossBuildConfig({ entry: ['src/*.ts', '!src/**/*.test.ts'] });
