export { infoNCE, infoNCEKeras } from './info-nce';
export type { InfoNCEOptions } from './info-nce';
