export { cycleConsistencyLoss, cycleConsistencyLossKeras } from './cycle-consistency-loss';
export type { CycleConsistencyLossOptions } from './cycle-consistency-loss';
