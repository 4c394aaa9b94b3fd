/** Attributes of the Balanced L1 kernels (already checked: all finite and > 0). */
export interface BalancedL1Attrs {
  alpha: number;
  gamma: number;
  beta: number;
}

/** b = e^(γ/α) − 1, 1/b, and the loss at x = β (where the linear part starts), in float64. */
export function balancedL1Constants(alpha: number, gamma: number, beta: number): { b: number; invB: number; atBeta: number } {
  const b = Math.expm1(gamma / alpha);
  const invB = 1 / b;
  return { b, invB, atBeta: alpha * ((beta + invB) * Math.log1p(b) - beta) };
}
