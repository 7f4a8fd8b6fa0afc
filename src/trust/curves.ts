/**
 * ROC and precision–recall curves and average precision, as scikit-learn computes them
 * (`roc_curve` with drop_intermediate, `precision_recall_curve`, `average_precision_score`;
 * checked in curves.test.ts). Predicted positive means score ≥ threshold. The ROC curve starts at
 * (0, 0) with threshold +∞ (scikit-learn ≥ 1.3's convention; written as null in JSON).
 */
import { checkBinary, requireBothClasses, type Nums } from './binary.js';

interface ClfCurve {
  /** Cumulative false and true positives at each distinct threshold (descending). */
  fps: Float64Array;
  tps: Float64Array;
  thresholds: Float64Array;
}

/** scikit-learn's _binary_clf_curve: counts at each distinct score, highest first. */
export function binaryClfCurve(scores: Nums, labels: Nums): ClfCurve {
  checkBinary('binaryClfCurve', scores, labels);
  const n = labels.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  const fps: number[] = [];
  const tps: number[] = [];
  const thr: number[] = [];
  let tp = 0;
  for (let i = 0; i < n; i++) {
    const idx = order[i]!;
    tp += labels[idx]!;
    if (i === n - 1 || scores[order[i + 1]!] !== scores[idx]) {
      tps.push(tp);
      fps.push(i + 1 - tp);
      thr.push(scores[idx]!);
    }
  }
  return { fps: Float64Array.from(fps), tps: Float64Array.from(tps), thresholds: Float64Array.from(thr) };
}

export interface RocCurve {
  fpr: number[];
  tpr: number[];
  /** thresholds[0] = +∞ (nothing predicted positive). */
  thresholds: number[];
}

/** ROC curve. Both classes must be present. `dropIntermediate` (default true) drops collinear points as scikit-learn does. */
export function rocCurve(scores: Nums, labels: Nums, opts: { dropIntermediate?: boolean } = {}): RocCurve {
  requireBothClasses('rocCurve', scores, labels);
  let { fps, tps, thresholds } = binaryClfCurve(scores, labels);
  let keep = Array.from({ length: fps.length }, (_, i) => i);
  if ((opts.dropIntermediate ?? true) && fps.length > 2) {
    keep = keep.filter((i) => {
      if (i === 0 || i === fps.length - 1) return true;
      const d2f = fps[i + 1]! - 2 * fps[i]! + fps[i - 1]!;
      const d2t = tps[i + 1]! - 2 * tps[i]! + tps[i - 1]!;
      return d2f !== 0 || d2t !== 0;
    });
  }
  const P = tps[tps.length - 1]!;
  const N = fps[fps.length - 1]!;
  return {
    fpr: [0, ...keep.map((i) => fps[i]! / N)],
    tpr: [0, ...keep.map((i) => tps[i]! / P)],
    thresholds: [Infinity, ...keep.map((i) => thresholds[i]!)],
  };
}

export interface PrCurve {
  /** Increasing recall order reversed as scikit-learn: precision[-1] = 1, recall[-1] = 0. */
  precision: number[];
  recall: number[];
  thresholds: number[];
}

/** Precision–recall curve (scikit-learn 1.2). Needs at least one positive label. */
export function precisionRecallCurve(scores: Nums, labels: Nums): PrCurve {
  const pos = checkBinary('precisionRecallCurve', scores, labels);
  if (pos === 0) throw new Error(`precisionRecallCurve: needs at least one positive label (recall is undefined without positives)`);
  const { fps, tps, thresholds } = binaryClfCurve(scores, labels);
  const m = tps.length;
  const precision: number[] = [];
  const recall: number[] = [];
  const thr: number[] = [];
  for (let i = m - 1; i >= 0; i--) {
    precision.push(tps[i]! / (tps[i]! + fps[i]!));
    recall.push(tps[i]! / pos);
    thr.push(thresholds[i]!);
  }
  precision.push(1);
  recall.push(0);
  return { precision, recall, thresholds: thr };
}

/** Average precision, Σ (Rₙ − Rₙ₋₁) Pₙ (scikit-learn average_precision_score). */
export function averagePrecision(scores: Nums, labels: Nums): number {
  const { precision, recall } = precisionRecallCurve(scores, labels);
  let ap = 0;
  for (let i = 0; i < recall.length - 1; i++) ap -= (recall[i + 1]! - recall[i]!) * precision[i]!;
  return ap;
}
