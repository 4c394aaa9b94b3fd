export { smoothL1Loss, smoothL1LossKeras } from './smooth-l1-loss';
export type { SmoothL1LossOptions } from './smooth-l1-loss';
