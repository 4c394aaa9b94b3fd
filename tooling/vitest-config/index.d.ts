import type { UserConfig } from 'vitest/config';
export declare const ALL_BACKENDS: readonly ['cpu', 'wasm', 'webgpu'];
export declare function selectedBackends(): string[];
export declare function defineLossTestConfig(options?: { include?: string[]; testTimeout?: number; backends?: string[] }): UserConfig;
