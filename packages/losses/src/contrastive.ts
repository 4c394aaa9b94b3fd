export * from '@tfjs-losses/contrastive';
