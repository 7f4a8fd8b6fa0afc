/**
 * Localisation AUC (Fawcett 2006; Quantus `AUC`): the area under the ROC curve of the map's values as a
 * score for "inside the mask", per image — scikit-learn's roc_curve + auc, i.e. the Mann–Whitney statistic
 * with ties counted half. NaN for an empty mask (and for a mask covering everything). Quantus defaults: no
 * abs, normalise (which does not change a rank statistic).
 */
import { maskRows, prepareAttributions } from './prepare.js';

export function localisationAuc(a: ArrayLike<number>, s: ArrayLike<number>, n: number, opts: { abs?: boolean; normalise?: boolean } = {}): number[] {
  const rows = prepareAttributions(a, n, { abs: opts.abs ?? false, normalise: opts.normalise });
  const size = rows[0]!.length;
  const masks = maskRows(s, n, size);
  return rows.map((row, i) => {
    const m = masks[i]!;
    const order = Array.from({ length: size }, (_, p) => p).sort((p, q) => row[p]! - row[q]!);
    // Mid-ranks (ties share the average rank), then U = Σ ranks of positives − P(P+1)/2.
    let pos = 0;
    let rankSum = 0;
    for (let j = 0; j < size; ) {
      let e = j;
      while (e + 1 < size && row[order[e + 1]!] === row[order[j]!]) e++;
      const mid = (j + e) / 2 + 1;
      for (let t = j; t <= e; t++) if (m[order[t]!]) {
        pos++;
        rankSum += mid;
      }
      j = e + 1;
    }
    const neg = size - pos;
    if (pos === 0 || neg === 0) return NaN;
    return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
  });
}
