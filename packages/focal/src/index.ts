export { sigmoidFocalLoss, sigmoidFocalLossKeras } from './sigmoid-focal-loss';
export type { SigmoidFocalLossOptions } from './sigmoid-focal-loss';
