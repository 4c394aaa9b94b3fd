export * from '@tfjs-losses/cycle';
