export { ctcLoss, ctcLossKeras } from './ctc-loss';
export type { CtcLossOptions } from './ctc-loss';
