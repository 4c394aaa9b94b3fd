import type { Options } from 'tsup';
export declare function defineLossBuildConfig(overrides?: Partial<Options>): Options | Options[];
export declare function tfjsGradients(options: { internalOps: string }): NonNullable<Options['esbuildPlugins']>[number];
