/**
 * The benchmark inputs' hash, shared by `pnpm bench` (tooling/bench, whose
 * Python side implements the same function for PyTorch) and ctc's own
 * fused-versus-composed timing harness: a 32-bit mix of (seed, index)
 * (golden-ratio multiply, then the murmur3 finalizer), and its top 24 bits as
 * u in [0, 1), exact in float32. No imports, so a plain Node script can use it.
 */
export function hashUnit(seed: number, index: number): number {
  let x = (Math.imul(index >>> 0, 0x9e3779b1) + Math.imul(seed >>> 0, 0x85ebca77)) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  x ^= x >>> 16;
  return (x >>> 8) / 16777216;
}
