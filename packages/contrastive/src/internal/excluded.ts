/**
 * Added to an excluded logit (self-similarity, a dropped negative). Finite,
 * so WGSL and the reductions never meet an infinity, yet so far below any
 * real logit that `exp(excluded − rowMax)` is exactly 0 in float32: the entry
 * contributes nothing to the value and gets exactly 0 gradient. Nothing is
 * ever multiplied by it.
 */
export const EXCLUDED = -1e30;
