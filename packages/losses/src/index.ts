export * from '@tfjs-losses/core';
