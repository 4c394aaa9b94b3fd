// Test support (not part of the package): the score-loss fixture cases.
export interface ScoreCase {
  name: string;
  fn: string;
  options: Record<string, unknown>;
  real?: number[];
  fake: number[];
  value: number | number[];
  gradReal?: number[];
  gradFake: number[];
}
