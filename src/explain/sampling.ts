/**
 * Sampling methods to a standard-error target (SmoothGrad, GradientSHAP): Welford running means per image
 * and the relative standard error that decides when an image's map has converged.
 */

/** Welford's update of one image's running mean and m2 (and Σ a²) with its k-th sample a(p). */
export function addSample(acc: { mean: Float64Array; m2: Float64Array; sq: Float64Array }, off: number, k: number, size: number, a: (p: number) => number): void {
  for (let p = 0; p < size; p++) {
    const v = a(p);
    const d = v - acc.mean[off + p]!;
    acc.mean[off + p]! += d / k;
    acc.m2[off + p]! += d * (v - acc.mean[off + p]!);
    acc.sq[off + p]! += v * v;
  }
}

/** Samples drawn per image per round of the early-stopping mode (and the fewest it takes). */
export const ROUND = 8;

/**
 * ‖SE of the mean map‖₂ / ‖mean map − its average‖₂ for one image (Welford's m2 over k samples): how large
 * the sampling noise is against the map's own variation. Near 1 or above, the map's pattern is noise.
 */
export function relativeStandardError(mean: Float64Array, m2: Float64Array, k: number, off: number, size: number): number {
  if (k < 2) return Infinity;
  let se2 = 0;
  let avg = 0;
  for (let p = off; p < off + size; p++) {
    se2 += m2[p]! / (k - 1) / k;
    avg += mean[p]! / size;
  }
  let spread2 = 0;
  for (let p = off; p < off + size; p++) spread2 += (mean[p]! - avg) ** 2;
  // A flat map with sampling noise is all noise (∞); a flat map without any (e.g. all-zero gradients) is settled.
  return spread2 > 0 ? Math.sqrt(se2 / spread2) : se2 > 0 ? Infinity : 0;
}

/**
 * The early-stopping loop of a sampling method: rounds of up to ROUND samples for every image not yet
 * converged; `round(active, first, rows)` draws samples first[j] … first[j] + rows − 1 of image active[j]
 * and adds them to `acc` (Welford, addSample); an image stops once its relative standard error is
 * ≤ `tol` or it has `cap` samples. Returns the samples used per image. `method` names the caller in errors.
 */
export async function untilStandardError(
  method: string,
  n: number,
  size: number,
  acc: { mean: Float64Array; m2: Float64Array },
  tol: number,
  cap: number,
  round: (active: number[], first: number[], rows: number) => Promise<void>,
): Promise<number[]> {
  if (!(tol > 0 && Number.isFinite(tol))) throw new Error(`${method}: tolerance must be a positive number, got ${tol}`);
  if (!(Number.isInteger(cap) && cap >= ROUND)) throw new Error(`${method}: samples (the cap with a tolerance) must be an integer ≥ ${ROUND}, got ${cap}`);
  const used = new Array<number>(n).fill(0);
  const done = new Array<boolean>(n).fill(false);
  for (;;) {
    const active = Array.from({ length: n }, (_, i) => i).filter((i) => !done[i]);
    if (!active.length) return used;
    const rows = Math.min(ROUND, ...active.map((i) => cap - used[i]!));
    await round(active, active.map((i) => used[i]!), rows);
    for (const i of active) {
      const k = (used[i]! += rows);
      if (k >= cap || relativeStandardError(acc.mean, acc.m2, k, i * size, size) <= tol) done[i] = true;
    }
  }
}
