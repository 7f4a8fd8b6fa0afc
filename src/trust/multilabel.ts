/**
 * Trust statistics of a multi-label classifier (K independent findings, p_k = σ(z_k)), per finding and
 * summarised, as chest X-ray papers report them (CheXNet, CheXpert: per-finding AUROC, then the mean):
 *
 *   per label k   prevalence; AUROC with DeLong's interval (when both outcomes occur); sensitivity,
 *                 specificity, PPV, NPV at the threshold (default 0.5) with Wilson intervals; ECE (10
 *                 equal-width bins) and the Brier score of p_k against y_k;
 *   macro         the unweighted mean of the per-label AUROCs over labels where it is defined
 *                 (scikit-learn roc_auc_score(average='macro') refuses when any label lacks a class;
 *                 here such labels are listed and left out, and the count used is stated);
 *   micro         one AUROC over all N·K (score, outcome) pairs pooled (roc_auc_score(average='micro')).
 *
 * Labels with fewer than `minPositives` positives (default 10) are reported with their numbers but
 * flagged: an AUROC from a handful of positives is not a finding.
 */
import { type Nums } from './binary.js';
import { clinicalMetrics, type ClinicalMetrics } from './clinical.js';
import { delongAuc, type DelongAuc } from './delong.js';
import { reliability } from './calibration.js';

export interface LabelStats {
  label: string;
  n: number;
  positives: number;
  prevalence: number;
  /** Null unless at least 2 positives and 2 negatives occur (DeLong's interval needs them). */
  auroc: DelongAuc | null;
  atThreshold: ClinicalMetrics;
  ece: number;
  brier: number;
  /** Fewer positives (or negatives) than minPositives. */
  fewCases: boolean;
}

export interface MultiLabelStats {
  labels: LabelStats[];
  threshold: number;
  /** Mean of the defined per-label AUROCs, and over how many labels. */
  macroAuroc: number | null;
  macroOver: number;
  microAuroc: number | null;
  /** Labels with fewer than 2 positives or 2 negatives (no AUROC). */
  undefinedAuroc: string[];
}

/** Column k of an [N, K] row-major array. */
function col(a: Nums, n: number, k: number, j: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Number(a[i * k + j]);
  return out;
}

export function multiLabelStats(
  probs: Nums,
  outcomes: Nums,
  names: readonly string[],
  opts: { threshold?: number; confidence?: number; minPositives?: number } = {},
): MultiLabelStats {
  const k = names.length;
  const n = outcomes.length / k;
  if (!Number.isInteger(n) || probs.length !== outcomes.length) throw new Error(`multiLabelStats: ${probs.length} probabilities and ${outcomes.length} outcomes for ${k} labels`);
  for (let i = 0; i < outcomes.length; i++) {
    if (outcomes[i] !== 0 && outcomes[i] !== 1) throw new Error(`multiLabelStats: outcome ${outcomes[i]} at row ${Math.floor(i / k)}, label '${names[i % k]}' is not 0 or 1`);
    if (!(probs[i]! >= 0 && probs[i]! <= 1)) throw new Error(`multiLabelStats: probability ${probs[i]} at row ${Math.floor(i / k)}, label '${names[i % k]}' is not in [0, 1]`);
  }
  const threshold = opts.threshold ?? 0.5;
  const minPos = opts.minPositives ?? 10;
  const labels: LabelStats[] = names.map((label, j) => {
    const p = col(probs, n, k, j);
    const y = col(outcomes, n, k, j);
    let pos = 0;
    let brier = 0;
    for (let i = 0; i < n; i++) {
      pos += y[i]!;
      brier += (p[i]! - y[i]!) ** 2;
    }
    const both = pos >= 2 && n - pos >= 2; // DeLong's variance needs two of each
    return {
      label,
      n,
      positives: pos,
      prevalence: pos / n,
      auroc: both ? delongAuc(p, y, opts.confidence ?? 0.95) : null,
      atThreshold: clinicalMetrics(p, y, { threshold, confidence: opts.confidence }),
      ece: reliability(p, y, { bins: 10 }).ece,
      brier: brier / n,
      fewCases: pos < minPos || n - pos < minPos,
    };
  });
  const defined = labels.filter((l) => l.auroc);
  let micro: number | null = null;
  let totalPos = 0;
  for (let i = 0; i < outcomes.length; i++) totalPos += Number(outcomes[i]);
  if (totalPos >= 2 && outcomes.length - totalPos >= 2) micro = delongAuc(Float64Array.from(probs as ArrayLike<number>), Float64Array.from(outcomes as ArrayLike<number>)).auc;
  return {
    labels,
    threshold,
    macroAuroc: defined.length ? defined.reduce((s, l) => s + l.auroc!.auc, 0) / defined.length : null,
    macroOver: defined.length,
    microAuroc: micro,
    undefinedAuroc: labels.filter((l) => !l.auroc).map((l) => l.label),
  };
}
