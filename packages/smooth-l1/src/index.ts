export { smoothL1Loss, smoothL1LossKeras } from './smooth-l1-loss';
export type { SmoothL1LossOptions } from './smooth-l1-loss';
export { balancedL1Loss, balancedL1LossKeras } from './balanced-l1-loss';
export type { BalancedL1LossOptions } from './balanced-l1-loss';
export { DynamicSmoothL1Loss } from './dynamic-smooth-l1';
export type { DynamicSmoothL1LossOptions, DynamicSmoothL1LossCallOptions, DynamicSmoothL1LossState } from './dynamic-smooth-l1';
export { SelfAdjustingSmoothL1Loss } from './self-adjusting-smooth-l1';
export type {
  SelfAdjustingSmoothL1LossOptions,
  SelfAdjustingSmoothL1LossCallOptions,
  SelfAdjustingSmoothL1LossState,
} from './self-adjusting-smooth-l1';
