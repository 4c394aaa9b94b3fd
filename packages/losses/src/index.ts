export * from '@tfjs-losses/core';
export * from '@tfjs-losses/focal';
export * from '@tfjs-losses/smooth-l1';
export * from '@tfjs-losses/gan';
export * from '@tfjs-losses/cycle';
export * from '@tfjs-losses/contrastive';
export * from '@tfjs-losses/ctc';
export * from '@tfjs-losses/lovasz';
