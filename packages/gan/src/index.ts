export { lsganDiscriminatorLoss, lsganDiscriminatorLossKeras } from './lsgan-discriminator-loss';
export type { LsganDiscriminatorLossOptions } from './lsgan-discriminator-loss';
