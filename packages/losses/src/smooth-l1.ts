export * from '@tfjs-losses/smooth-l1';
