export * from '@tfjs-losses/lovasz';
