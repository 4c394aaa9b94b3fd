import { defineLossBuildConfig } from '@tfjs-losses/build';

export default defineLossBuildConfig();
