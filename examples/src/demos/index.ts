// Every demo, in the order `pnpm demo` runs them.
import { missingExports } from './losses';
import { contrastiveDemo } from './contrastive';
import { ctcDemo } from './ctc';
import { cycleDemo } from './cycle';
import { focalDemo } from './focal';
import { ganDemo } from './gan';
import { lovaszDemo } from './lovasz';
import { smoothL1Demo } from './smooth-l1';
import type { Demo, Family } from './types';

export const DEMOS: Demo[] = [ctcDemo, focalDemo, contrastiveDemo, ganDemo, lovaszDemo, smoothL1Demo, cycleDemo];

/** Every loss family; those without an entry in DEMOS are reported as such by `pnpm demo`. */
export const FAMILIES: Family[] = ['ctc', 'focal', 'contrastive', 'gan', 'lovasz', 'smooth-l1', 'cycle'];

/** Why a family's demo cannot run yet (its package lacks a function), or undefined when it can. */
export function notReady(family: Family): string | undefined {
  const missing = missingExports(family);
  return missing.length ? `not landed yet: ${missing.join(', ')}` : undefined;
}

export { missingExports };
export type { Demo, DemoContext, DemoResult, Family, Picture, Progress } from './types';
