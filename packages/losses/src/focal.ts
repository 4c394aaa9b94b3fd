export * from '@tfjs-losses/focal';
