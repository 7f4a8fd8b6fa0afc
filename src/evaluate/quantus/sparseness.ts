/**
 * Sparseness (Chalasani et al. 2020; Quantus `Sparseness`): the Gini index of the map,
 *   G = Σ_i (2i − d − 1) a_(i) / (d Σ_i a_(i)),  a_(1) ≤ … ≤ a_(d) the sorted values of |a| + 1e-7,
 * 0 for a uniform map, towards 1 when one pixel holds everything. Quantus defaults: abs, normalise.
 */
import { prepareAttributions } from './prepare.js';

export function sparseness(a: ArrayLike<number>, n: number, opts: { abs?: boolean; normalise?: boolean } = {}): number[] {
  return prepareAttributions(a, n, { abs: opts.abs ?? true, normalise: opts.normalise }).map((row) => {
    const d = row.length;
    const s = Float64Array.from(row, (v) => v + 1e-7).sort();
    let num = 0;
    let sum = 0;
    for (let i = 0; i < d; i++) {
      num += (2 * (i + 1) - d - 1) * s[i]!;
      sum += s[i]!;
    }
    return num / (d * sum);
  });
}
