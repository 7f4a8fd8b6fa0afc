/**
 * A ground-truth localisation benchmark (issue 17, item 3): does each map point at the lesion? The measures of
 * Saporta et al. 2022 (CheXlocalize, Nature Machine Intelligence) and Arun et al. 2021 (Radiology: AI), per
 * image with a non-empty mask, on the map's magnitude |a| (signed maps: evidence of either sign) scaled to
 * [0, 1] per image (min–max, as CheXlocalize normalises its saliency maps):
 *   - IoU after Otsu's threshold: the map binarised where it exceeds scikit-image's `threshold_otsu` (256-bin
 *     histogram over the map's range, the bin centre maximising the between-class variance), IoU with the mask;
 *   - IoU after a tuned threshold: the threshold on the [0, 1] map, from 0.05 to 0.95 in steps of 0.05, that
 *     maximises the mean IoU — chosen on the other half of the images and applied to this half (2-fold
 *     cross-fitting, so the tuned number is not scored on the images it was tuned on; halves by a seeded
 *     permutation); CheXlocalize tunes on a validation split;
 *   - hit (pointing game): the map's maximum (the first, in array order, on ties) lies inside the mask;
 *   - AUPRC: the map's values as scores for the mask's pixels, scikit-learn's `average_precision_score`
 *     (Σ (R_k − R_{k−1}) P_k over distinct thresholds), against the mask's share of the image (the AUPRC of a
 *     map that knows nothing).
 * Images whose mask is empty are left out (counted in `empty`). Any spatial rank.
 */
import { Rng } from '../tensor/rng.js';

/** scikit-image's `threshold_otsu(values, nbins)` for real values. */
export function otsuThreshold(values: ArrayLike<number>, bins = 256): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]!);
    hi = Math.max(hi, values[i]!);
  }
  if (!(hi > lo)) return lo;
  // np.histogram(values, bins, range=(lo, hi)): edges by linspace, indices by (a − lo)·bins/(hi − lo) corrected
  // against the edges; scikit-image's bin centres are the edges' midpoints
  const step = (hi - lo) / bins;
  const edges = Float64Array.from({ length: bins + 1 }, (_, k) => (k === bins ? hi : k * step + lo));
  const norm = bins / (hi - lo);
  const hist = new Float64Array(bins);
  for (let i = 0; i < values.length; i++) {
    const a = values[i]!;
    let k = Math.trunc((a - lo) * norm);
    if (k === bins) k--;
    if (a < edges[k]!) k--;
    if (a >= edges[k + 1]! && k !== bins - 1) k++;
    hist[k]! += 1;
  }
  const centres = Float64Array.from({ length: bins }, (_, k) => (edges[k]! + edges[k + 1]!) / 2);
  const w1 = new Float64Array(bins);
  const m1 = new Float64Array(bins);
  let cw = 0;
  let cm = 0;
  for (let k = 0; k < bins; k++) {
    cw += hist[k]!;
    cm += hist[k]! * centres[k]!;
    w1[k] = cw;
    m1[k] = cm / cw;
  }
  const w2 = new Float64Array(bins);
  const m2 = new Float64Array(bins);
  cw = 0;
  cm = 0;
  for (let k = bins - 1; k >= 0; k--) {
    cw += hist[k]!;
    cm += hist[k]! * centres[k]!;
    w2[k] = cw;
    m2[k] = cm / cw;
  }
  let best = 0;
  let bestVar = -Infinity;
  for (let k = 0; k < bins - 1; k++) {
    const v = w1[k]! * w2[k + 1]! * (m1[k]! - m2[k + 1]!) ** 2;
    if (v > bestVar) {
      bestVar = v;
      best = k;
    }
  }
  return centres[best]!;
}

/** scikit-learn's `average_precision_score(labels, scores)`. NaN when no label is positive. */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]) positives++;
  if (!positives) return NaN;
  let tp = 0;
  let fp = 0;
  let ap = 0;
  let prevRecall = 0;
  for (let j = 0; j < order.length; j++) {
    const i = order[j]!;
    if (labels[i]) tp++;
    else fp++;
    // a threshold ends where the next score differs
    if (j + 1 < order.length && scores[order[j + 1]!] === scores[i]) continue;
    const recall = tp / positives;
    ap += (recall - prevRecall) * (tp / (tp + fp));
    prevRecall = recall;
  }
  return ap;
}

function iou(scaled: Float64Array, mask: ArrayLike<number>, offset: number, t: number): number {
  let inter = 0;
  let union = 0;
  for (let p = 0; p < scaled.length; p++) {
    const a = scaled[p]! > t;
    const b = mask[offset + p] !== 0;
    if (a && b) inter++;
    if (a || b) union++;
  }
  return union ? inter / union : 0;
}

export interface LocalisationScores {
  /** Per image (NaN where the mask is empty). */
  iouOtsu: number[];
  iouTuned: number[];
  hit: number[];
  auprc: number[];
  /** AUPRC of a map that knows nothing: the mask's share of the image, per image. */
  auprcChance: number[];
  /** The tuned threshold applied to each image (chosen on the other half). */
  tunedThreshold: number[];
  /** Images with an empty mask, left out. */
  empty: number;
}

export const TUNING_GRID: readonly number[] = Array.from({ length: 19 }, (_, i) => Number((0.05 * (i + 1)).toFixed(2)));

/** Maps and masks [N, ...spatial] (masks: non-zero = lesion). */
export function localisationScores(maps: { data: ArrayLike<number>; shape: readonly number[] }, masks: { data: ArrayLike<number>; shape: readonly number[] }, opts: { seed?: number } = {}): LocalisationScores {
  const n = maps.shape[0]!;
  if (masks.shape[0] !== n || masks.data.length !== maps.data.length) throw new Error(`localisation: maps [${maps.shape.join(', ')}] and masks [${masks.shape.join(', ')}] differ`);
  const v = maps.data.length / n;
  const out: LocalisationScores = { iouOtsu: [], iouTuned: [], hit: [], auprc: [], auprcChance: [], tunedThreshold: [], empty: 0 };
  const scaled: Float64Array[] = [];
  const valid: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = new Float64Array(v);
    let lo = Infinity;
    let hi = -Infinity;
    let area = 0;
    for (let p = 0; p < v; p++) {
      const a = Math.abs(maps.data[i * v + p]!);
      if (!Number.isFinite(a)) throw new Error(`localisation: map ${i} holds ${maps.data[i * v + p]}`);
      s[p] = a;
      lo = Math.min(lo, a);
      hi = Math.max(hi, a);
      if (masks.data[i * v + p]) area++;
    }
    for (let p = 0; p < v; p++) s[p] = hi > lo ? (s[p]! - lo) / (hi - lo) : 0;
    scaled.push(s);
    if (!area) {
      out.empty++;
      for (const k of ['iouOtsu', 'iouTuned', 'hit', 'auprc', 'auprcChance', 'tunedThreshold'] as const) out[k].push(NaN);
      continue;
    }
    valid.push(i);
    out.iouOtsu.push(iou(s, masks.data, i * v, otsuThreshold(s)));
    let arg = 0;
    for (let p = 1; p < v; p++) if (s[p]! > s[arg]!) arg = p;
    out.hit.push(masks.data[i * v + arg] ? 1 : 0);
    out.auprc.push(averagePrecision(s, Array.from({ length: v }, (_, p) => masks.data[i * v + p]!)));
    out.auprcChance.push(area / v);
    out.iouTuned.push(NaN);
    out.tunedThreshold.push(NaN);
  }
  // 2-fold cross-fitted threshold
  const perm = new Rng(opts.seed ?? 0).fork('localisation-folds').permutation(valid.length);
  const folds = [Array.from(perm).filter((_, j) => j % 2 === 0).map((j) => valid[j]!), Array.from(perm).filter((_, j) => j % 2 === 1).map((j) => valid[j]!)];
  folds.forEach((apply, f) => {
    const tune = folds[1 - f]!.length ? folds[1 - f]! : apply;
    let best = TUNING_GRID[0]!;
    let bestIou = -Infinity;
    for (const t of TUNING_GRID) {
      const m = tune.reduce((s, i) => s + iou(scaled[i]!, masks.data, i * v, t), 0) / tune.length;
      if (m > bestIou) {
        bestIou = m;
        best = t;
      }
    }
    for (const i of apply) {
      out.iouTuned[i] = iou(scaled[i]!, masks.data, i * v, best);
      out.tunedThreshold[i] = best;
    }
  });
  return out;
}
