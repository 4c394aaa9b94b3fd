export { cycleConsistencyLoss, cycleConsistencyLossKeras } from './cycle-consistency-loss';
export type { CycleConsistencyLossOptions, CycleConsistencyLossKerasOptions } from './cycle-consistency-loss';
export { cycleConsistency } from './cycle-consistency';
export type { CycleConsistencyOptions, CycleConsistencyResult, CycleMapping } from './cycle-consistency';
export { identityLoss, identityLossKeras } from './identity-loss';
export type { IdentityLossOptions, IdentityLossKerasOptions } from './identity-loss';
export type { CycleDistance, CycleDistanceOptions } from './internal/distance';
