export { infoNCE } from './info-nce';
export type { InfoNCEOptions } from './info-nce';
export { ntXent } from './nt-xent';
export type { NtXentOptions } from './nt-xent';
export { supervisedContrastiveLoss, supervisedContrastiveLossKeras } from './supervised-contrastive';
export type { SupervisedContrastiveLossOptions } from './supervised-contrastive';
export { NegativeQueue } from './negative-queue';
export type { ContrastiveTemperature } from './internal/temperature';
