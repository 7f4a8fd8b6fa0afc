/**
 * Top-K intersection (Theiner et al. 2021; Quantus `TopKIntersection`): the share of the map's K highest
 * pixels (default 1000) that fall inside the ground-truth mask; with `conceptInfluence`, divided by the
 * mask's share of the image. NaN for an empty mask. Quantus defaults: no abs, normalise. Ties in the map are
 * ordered by pixel index (NumPy's argsort of −a, which the reference run agrees with on maps without ties).
 */
import { maskRows, prepareAttributions } from './prepare.js';

export function topKIntersection(a: ArrayLike<number>, s: ArrayLike<number>, n: number, opts: { k?: number; conceptInfluence?: boolean; abs?: boolean; normalise?: boolean } = {}): number[] {
  const k = opts.k ?? 1000;
  const rows = prepareAttributions(a, n, { abs: opts.abs ?? false, normalise: opts.normalise });
  const size = rows[0]!.length;
  if (!(Number.isInteger(k) && k >= 1 && k <= size)) throw new Error(`top-K intersection: k must be an integer in [1, ${size}] (the pixels of a map), got ${k}`);
  const masks = maskRows(s, n, size);
  return rows.map((row, i) => {
    const m = masks[i]!;
    const inside = m.reduce((t, v) => t + v, 0);
    if (inside === 0) return NaN;
    const order = Array.from({ length: size }, (_, p) => p).sort((p, q) => row[q]! - row[p]! || p - q);
    let hits = 0;
    for (let j = 0; j < k; j++) hits += m[order[j]!]!;
    const tki = hits / k;
    return opts.conceptInfluence ? (tki * size) / inside : tki;
  });
}
