export { currentBackend, tolerance, expectClose, toArray } from './close';
export type { Tolerance } from './close';
export { expectNoLeak, expectNoLeakAsync } from './leak';
export { gradCheck } from './grad-check';
export type { GradCheckOptions } from './grad-check';
export { loadFixture } from './fixture';
export { expectLossInputError } from './errors';
export { seededRandom, randomTensor } from './random';
export { hashUnit } from './hash';
