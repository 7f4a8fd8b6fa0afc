/**
 * Complexity (Bhatt et al. 2020; Quantus `Complexity`): the entropy of the map's fractional contributions,
 *   H = −Σ_i p_i ln(p_i + 1e-12),  p_i = a_i / Σ_j |a_j|,
 * low when a few pixels hold the attribution. Quantus defaults: abs, normalise.
 */
import { prepareAttributions } from './prepare.js';

export function complexity(a: ArrayLike<number>, n: number, opts: { abs?: boolean; normalise?: boolean } = {}): number[] {
  return prepareAttributions(a, n, { abs: opts.abs ?? true, normalise: opts.normalise }).map((row) => {
    let total = 0;
    for (const v of row) total += Math.abs(v);
    let h = 0;
    for (const v of row) {
      const p = v / total;
      h -= p * Math.log(p + 1e-12);
    }
    return h;
  });
}
