// Test support (not part of the package): the fixture case types.
export interface LossCase {
  name: string;
  fn: 'cycleConsistencyLoss' | 'identityLoss';
  options: Record<string, unknown>;
  realX: number[];
  otherX: number[];
  realY: number[];
  otherY: number[];
  value: number;
  grads: number[][];
}

export interface MappingCase {
  name: string;
  fn: 'cycleConsistency';
  options: Record<string, number>;
  x: number[];
  y: number[];
  params: Record<string, number[]>;
  value: number;
  grads: Record<string, number[]>;
}
