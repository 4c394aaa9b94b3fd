export { sigmoidFocalLoss, sigmoidFocalLossKeras } from './sigmoid-focal-loss';
export type { SigmoidFocalLossOptions } from './sigmoid-focal-loss';
export { softmaxFocalLoss, softmaxFocalLossKeras } from './softmax-focal-loss';
export type { SoftmaxFocalLossOptions } from './softmax-focal-loss';
