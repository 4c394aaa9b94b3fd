// Every demo, in the order `pnpm demo` runs them.
import { contrastiveDemo } from './contrastive';
import { ctcDemo } from './ctc';
import { cycleDemo } from './cycle';
import { focalDemo } from './focal';
import { ganDemo } from './gan';
import { lovaszDemo } from './lovasz';
import { smoothL1Demo } from './smooth-l1';
import type { Demo, Family } from './types';

export const DEMOS: Demo[] = [ctcDemo, focalDemo, contrastiveDemo, ganDemo, lovaszDemo, smoothL1Demo, cycleDemo];

/** Every loss family (each has a demo in DEMOS). */
export const FAMILIES: Family[] = ['ctc', 'focal', 'contrastive', 'gan', 'lovasz', 'smooth-l1', 'cycle'];

export type { Demo, DemoContext, DemoResult, Family, Picture, Progress } from './types';
