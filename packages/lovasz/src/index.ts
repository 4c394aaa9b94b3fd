export { lovaszSoftmax, lovaszSoftmaxKeras } from './lovasz-softmax';
export type { LovaszSoftmaxOptions } from './lovasz-softmax';
