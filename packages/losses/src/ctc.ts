export * from '@tfjs-losses/ctc';
