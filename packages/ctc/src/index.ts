export { ctcLoss, ctcLossKeras } from './ctc-loss';
export type { CtcLossOptions, CtcLossKerasOptions } from './ctc-loss';
export { ctcGreedyDecode } from './ctc-greedy-decode';
export type { CtcGreedyDecodeOptions, CtcDecodeResult } from './ctc-greedy-decode';
export { ctcBeamSearchDecode } from './ctc-beam-search-decode';
export type { CtcBeamSearchDecodeOptions, CtcTopPathsResult } from './ctc-beam-search-decode';
export { ctcForcedAlign } from './ctc-forced-align';
export type { CtcForcedAlignOptions, CtcAlignment, CtcTokenSpan } from './ctc-forced-align';
