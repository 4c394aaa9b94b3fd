/** eps² of `F.normalize(x, eps = 1e-12)`: the squared norm is clamped here. */
export const EPS_SQ = 1e-24;
