/**
 * Focus (Arias-Duart et al. 2022; Quantus `Focus`): on a mosaic of four images in a 2×2 grid, where `quadrants`
 * says per mosaic which of its quadrants (top-left, top-right, bottom-left, bottom-right) hold the target class,
 * Focus is the share of the map's positive relevance that falls in those quadrants:
 *   Σ_{target quadrants} max(a, 0) / (Σ max(a, 0) + 1e-9).
 * Maps [N, ...C, H, W] (the quadrants split the last two axes at H/2, W/2, floor); Quantus defaults: normalise
 * true (by the batch's largest |a|), abs false.
 */
import { prepareAttributions } from './prepare.js';

export function focus(a: ArrayLike<number>, shape: readonly number[], quadrants: readonly (readonly [number, number, number, number])[], opts: { normalise?: boolean; abs?: boolean } = {}): number[] {
  const n = shape[0]!;
  const h = shape[shape.length - 2]!;
  const w = shape[shape.length - 1]!;
  if (shape.length < 3) throw new Error(`focus: maps must be [N, H, W] or [N, C, H, W], got [${shape.join(', ')}]`);
  if (quadrants.length !== n) throw new Error(`focus: ${quadrants.length} quadrant labels for ${n} mosaics`);
  const rows = prepareAttributions(a, n, { abs: opts.abs ?? false, normalise: opts.normalise ?? true });
  const hh = Math.floor(h / 2);
  const hw = Math.floor(w / 2);
  return rows.map((r, i) => {
    const q = quadrants[i]!;
    let total = 0;
    let inTarget = 0;
    for (let p = 0; p < r.length; p++) {
      const v = Math.max(r[p]!, 0);
      const y = Math.floor(p / w) % h;
      const x = p % w;
      total += v;
      if (q[(y < hh ? 0 : 2) + (x < hw ? 0 : 1)]) inTarget += v;
    }
    return inTarget / (total + 1e-9);
  });
}
