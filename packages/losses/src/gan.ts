export * from '@tfjs-losses/gan';
