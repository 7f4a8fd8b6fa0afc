/**
 * Clinical metrics of a binary classifier at a threshold (predicted positive ⇔ score ≥ threshold):
 * sensitivity, specificity, PPV, NPV, accuracy with Wilson and Clopper–Pearson intervals; balanced
 * accuracy, F1, the confusion matrix (scikit-learn orientation: rows true, columns predicted);
 * prevalence-adjusted PPV/NPV (Bayes' rule); threshold choice (Youden's J, fixed sensitivity);
 * per-subgroup tables. Undefined ratios (e.g. PPV when nothing is predicted positive) are null.
 */
import { checkBinary, ratio, type Nums } from './binary.js';
import { proportion, type Proportion } from './intervals.js';
import { rocCurve } from './curves.js';
import { delongAuc, type DelongAuc } from './delong.js';

export interface BinaryCounts {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export function binaryCounts(scores: Nums, labels: Nums, threshold: number): BinaryCounts {
  checkBinary('binaryCounts', scores, labels);
  if (Number.isNaN(threshold)) throw new Error('binaryCounts: threshold is NaN');
  const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < labels.length; i++) {
    const p = scores[i]! >= threshold;
    if (labels[i] === 1) p ? c.tp++ : c.fn++;
    else p ? c.fp++ : c.tn++;
  }
  return c;
}

export interface ClinicalMetrics {
  threshold: number;
  n: number;
  prevalence: number;
  counts: BinaryCounts;
  /** [[tn, fp], [fn, tp]]. */
  confusion: [[number, number], [number, number]];
  sensitivity: Proportion;
  specificity: Proportion;
  ppv: Proportion;
  npv: Proportion;
  accuracy: Proportion;
  /** Mean of sensitivity and specificity over the classes present (scikit-learn's definition). */
  balancedAccuracy: number;
  /** 2TP / (2TP + FP + FN); null when there are no positives and none predicted. */
  f1: number | null;
  confidence: number;
}

/** Metrics from counts (so subgroup and bootstrap code can reuse them). */
export function metricsFromCounts(c: BinaryCounts, threshold: number, confidence = 0.95): ClinicalMetrics {
  const n = c.tp + c.fp + c.tn + c.fn;
  if (n === 0) throw new Error('metricsFromCounts: no samples');
  const sens = proportion(c.tp, c.tp + c.fn, confidence);
  const spec = proportion(c.tn, c.tn + c.fp, confidence);
  const present = [sens.value, spec.value].filter((v): v is number => v !== null);
  return {
    threshold,
    n,
    prevalence: (c.tp + c.fn) / n,
    counts: c,
    confusion: [[c.tn, c.fp], [c.fn, c.tp]],
    sensitivity: sens,
    specificity: spec,
    ppv: proportion(c.tp, c.tp + c.fp, confidence),
    npv: proportion(c.tn, c.tn + c.fn, confidence),
    accuracy: proportion(c.tp + c.tn, n, confidence),
    balancedAccuracy: present.reduce((a, b) => a + b, 0) / present.length,
    f1: ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn),
    confidence,
  };
}

export function clinicalMetrics(scores: Nums, labels: Nums, opts: { threshold?: number; confidence?: number } = {}): ClinicalMetrics {
  const t = opts.threshold ?? 0.5;
  return metricsFromCounts(binaryCounts(scores, labels, t), t, opts.confidence ?? 0.95);
}

/**
 * PPV and NPV at another prevalence π (Bayes' rule):
 * PPV = sens·π / (sens·π + (1 − spec)(1 − π)), NPV = spec(1 − π) / (spec(1 − π) + (1 − sens)π); null when 0/0.
 */
export function prevalenceAdjusted(sensitivity: number, specificity: number, prevalence: number): { prevalence: number; ppv: number | null; npv: number | null } {
  for (const [k, v] of Object.entries({ sensitivity, specificity, prevalence })) {
    if (!(v >= 0 && v <= 1)) throw new Error(`prevalenceAdjusted: ${k} must be in [0, 1], got ${v}`);
  }
  const tp = sensitivity * prevalence;
  const fp = (1 - specificity) * (1 - prevalence);
  const tn = specificity * (1 - prevalence);
  const fn = (1 - sensitivity) * prevalence;
  return { prevalence, ppv: ratio(tp, tp + fp), npv: ratio(tn, tn + fn) };
}

export interface ThresholdChoice {
  rule: 'youden' | 'sensitivity' | 'fixed';
  threshold: number;
  sensitivity: number;
  specificity: number;
  /** Youden's J = sensitivity + specificity − 1 at this threshold. */
  j: number;
  target?: number;
}

/**
 * Youden's J: the ROC threshold maximising sensitivity + specificity − 1 (the highest threshold on ties).
 * Both classes must be present.
 */
export function youdenThreshold(scores: Nums, labels: Nums): ThresholdChoice {
  const roc = rocCurve(scores, labels, { dropIntermediate: false });
  let best = 1;
  for (let i = 1; i < roc.fpr.length; i++) if (roc.tpr[i]! - roc.fpr[i]! > roc.tpr[best]! - roc.fpr[best]!) best = i;
  return { rule: 'youden', threshold: roc.thresholds[best]!, sensitivity: roc.tpr[best]!, specificity: 1 - roc.fpr[best]!, j: roc.tpr[best]! - roc.fpr[best]! };
}

/** The highest threshold whose sensitivity reaches `target` (the most specific such threshold). */
export function thresholdForSensitivity(scores: Nums, labels: Nums, target: number): ThresholdChoice {
  if (!(target > 0 && target <= 1)) throw new Error(`thresholdForSensitivity: target sensitivity must be in (0, 1], got ${target}`);
  const roc = rocCurve(scores, labels, { dropIntermediate: false });
  const i = roc.tpr.findIndex((t) => t >= target - 1e-12);
  return { rule: 'sensitivity', target, threshold: roc.thresholds[i]!, sensitivity: roc.tpr[i]!, specificity: 1 - roc.fpr[i]!, j: roc.tpr[i]! - roc.fpr[i]! };
}

export interface SubgroupRow {
  group: string;
  metrics: ClinicalMetrics;
  /** AUROC with DeLong CI; null when the subgroup lacks 2 positives and 2 negatives (reason given). */
  auroc: DelongAuc | null;
  note?: string;
}

/** Clinical metrics (at one shared threshold) and AUROC per subgroup, in order of first appearance. */
export function subgroupMetrics(scores: Nums, labels: Nums, groups: readonly string[], opts: { threshold?: number; confidence?: number } = {}): SubgroupRow[] {
  checkBinary('subgroupMetrics', scores, labels);
  if (groups.length !== labels.length) throw new Error(`subgroupMetrics: ${groups.length} group values for ${labels.length} labels`);
  const idx = new Map<string, number[]>();
  groups.forEach((g, i) => (idx.get(g) ?? idx.set(g, []).get(g)!).push(i));
  return [...idx.entries()].map(([group, ii]) => {
    const s = ii.map((i) => scores[i]!);
    const y = ii.map((i) => labels[i]!);
    const pos = y.filter((v) => v === 1).length;
    const neg = y.length - pos;
    const metrics = clinicalMetrics(s, y, opts);
    if (pos < 2 || neg < 2) return { group, metrics, auroc: null, note: `AUROC needs ≥ 2 positives and ≥ 2 negatives (has ${pos} and ${neg})` };
    return { group, metrics, auroc: delongAuc(s, y, opts.confidence) };
  });
}
