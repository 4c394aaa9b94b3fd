export { lovaszSoftmax, lovaszSoftmaxKeras } from './lovasz-softmax';
export type { LovaszSoftmaxOptions } from './lovasz-softmax';
export { lovaszHinge, lovaszHingeKeras } from './lovasz-hinge';
export type { LovaszHingeOptions } from './lovasz-hinge';
