/**
 * Attribution localisation (Kohlbrenner et al. 2020; Quantus `AttributionLocalisation`): the share of the
 * map's total attribution inside the mask, Σ_{mask} a / (Σ a + 1e-9); with `positiveAttributions` negative
 * values are set to 0 first; `weighted` multiplies by the mask's share of the map. NaN for an empty mask or a
 * share above 1 (negative attributions outside). Quantus defaults: abs, normalise.
 */
import { maskRows, prepareAttributions } from './prepare.js';

export function attributionLocalisation(a: ArrayLike<number>, s: ArrayLike<number>, n: number, opts: { weighted?: boolean; positiveAttributions?: boolean; abs?: boolean; normalise?: boolean } = {}): number[] {
  const rows = prepareAttributions(a, n, { abs: opts.abs ?? true, normalise: opts.normalise });
  const size = rows[0]!.length;
  const masks = maskRows(s, n, size);
  return rows.map((row, i) => {
    const m = masks[i]!;
    let inside = 0;
    let total = 0;
    let area = 0;
    for (let p = 0; p < size; p++) {
      const v = opts.positiveAttributions ? Math.max(0, row[p]!) : row[p]!;
      total += v;
      if (m[p]) {
        inside += v;
        area++;
      }
    }
    if (area === 0) return NaN;
    const r = inside / (total + 1e-9);
    if (r > 1) return NaN;
    return opts.weighted ? (r * area) / size : r;
  });
}
