export { ctcLoss, ctcLossKeras } from './ctc-loss';
export type { CtcLossOptions, CtcLossKerasOptions } from './ctc-loss';
