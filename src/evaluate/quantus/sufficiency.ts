/**
 * Sufficiency (Dasgupta, Frost & Moshkovitz 2022; Quantus `Sufficiency`, 0.6): a map is sufficient when the
 * images with similar maps get the same prediction. Per batch of `batchSize` images (Quantus' default 64: the
 * score depends on the batch), with the maps prepared as Quantus does (normalised by the batch maximum, then
 * |·| by default):
 *   d_ij = standardised Euclidean distance between maps i and j (SciPy `seuclidean`: each element's
 *          variance over the batch, ddof 1), divided by the largest d in the batch;
 *   similar_ij = [d_ij ≤ threshold], i ≠ j;
 *   score_i = Σ_j similar_ij · [pred_i = pred_j] / Σ_j similar_ij   (0 when no map is similar).
 * Predictions are the model's argmax. Divergence from Quantus: an element whose value is the same in every
 * map of the batch (variance 0) is left out of the distance — SciPy divides 0 by 0 there, every distance is
 * NaN and Quantus scores every image 0. Quantus defaults: threshold 0.6, abs, normalise.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { prepareAttributions } from './prepare.js';

export interface SufficiencyOptions {
  threshold?: number;
  abs?: boolean;
  normalise?: boolean;
  /** Images per batch (the score is computed within each; Quantus' default 64). */
  batchSize?: number;
}

export async function sufficiency(model: Model, x: Tensor, a: ArrayLike<number>, opts: SufficiencyOptions = {}): Promise<number[]> {
  const threshold = opts.threshold ?? 0.6;
  const bs = opts.batchSize ?? 64;
  if (!(threshold >= 0)) throw new Error(`sufficiency: threshold must be ≥ 0, got ${threshold}`);
  if (!(Number.isInteger(bs) && bs >= 2)) throw new Error(`sufficiency: batchSize must be an integer ≥ 2, got ${bs}`);
  const n = x.shape[0]!;
  const logits = await model.forward(x);
  const k = model.numClasses;
  const pred = Array.from({ length: n }, (_, i) => {
    let best = 0;
    for (let j = 1; j < k; j++) if (logits.data[i * k + j]! > logits.data[i * k + best]!) best = j;
    return best;
  });
  const size = a.length / n;
  const out: number[] = [];
  for (let b0 = 0; b0 < n; b0 += bs) {
    const m = Math.min(bs, n - b0);
    const rows = prepareAttributions(Array.prototype.slice.call(a, b0 * size, (b0 + m) * size) as number[], m, { abs: opts.abs ?? true, normalise: opts.normalise });
    // per-element variance over the batch (ddof 1)
    const inv = new Float64Array(size);
    for (let p = 0; p < size; p++) {
      let mean = 0;
      for (const r of rows) mean += r[p]!;
      mean /= m;
      let v = 0;
      for (const r of rows) v += (r[p]! - mean) ** 2;
      v /= m - 1;
      inv[p] = v > 0 ? 1 / v : 0;
    }
    const d = new Float64Array(m * m);
    let dmax = 0;
    for (let i = 0; i < m; i++) {
      for (let j = i + 1; j < m; j++) {
        let s = 0;
        for (let p = 0; p < size; p++) s += (rows[i]![p]! - rows[j]![p]!) ** 2 * inv[p]!;
        d[i * m + j] = d[j * m + i] = Math.sqrt(s);
        dmax = Math.max(dmax, d[i * m + j]!);
      }
    }
    for (let i = 0; i < m; i++) {
      let similar = 0;
      let same = 0;
      for (let j = 0; j < m; j++) {
        if (j === i || !((dmax > 0 ? d[i * m + j]! / dmax : 0) <= threshold)) continue;
        similar++;
        if (pred[b0 + i] === pred[b0 + j]) same++;
      }
      out.push(similar ? same / similar : 0);
    }
  }
  return out;
}
