/**
 * Calibration measures. A reliability diagram groups a confidence score into bins, equal-width over
 * [0, 1] or equal-mass (edges at the score's percentiles, numpy's linear interpolation), assigning a
 * value v to bin i when edgeᵢ < v ≤ edgeᵢ₊₁ (the first bin also takes 0) exactly as scikit-learn's
 * calibration_curve. Empty bins are kept in the table with null accuracy and confidence and weight 0.
 *
 * - ECE = Σ_b (n_b / N)·|acc_b − conf_b| over non-empty equal-width bins; MCE = max_b |acc_b − conf_b|;
 *   adaptive ECE (ACE) = the same with equal-mass bins; class-wise ECE = mean over classes of the ECE
 *   of p(class) against 1[label = class]. Top-label ECE uses max p against 1[argmax = label].
 * - Brier score: binary (K = 2) is scikit-learn's mean (p₁ − y)²; K > 2 is Σ_k (p_k − 1[y = k])²
 *   averaged. Murphy's decomposition over equal-width bins with Stephenson's within-bin terms, so
 *   Brier = reliability − resolution + uncertainty + within-bin variance − within-bin covariance exactly
 *   (for K > 2 summed over one-vs-rest columns).
 * - NLL: −mean log p_y, probabilities floored at 1e-15 (a confident miss costs 34.5 nats, not ∞).
 * - Calibration slope and intercept: logistic fit y ~ a + b·logit(p₁) (binary only); calibration-in-
 *   the-large: a with b fixed at 1. Null with a reason when the fit does not exist.
 */
import { argmax } from '../train/metrics.js';
import { column, oneVsRest, type Nums } from './binary.js';
import { fitLogistic } from './logistic.js';

export type BinStrategy = 'uniform' | 'quantile';

export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  /** Mean score in the bin (null when empty). */
  confidence: number | null;
  /** Observed frequency of the outcome (null when empty). */
  accuracy: number | null;
}

export interface Reliability {
  strategy: BinStrategy;
  bins: ReliabilityBin[];
  /** Σ (n_b/N)|acc_b − conf_b| over non-empty bins. */
  ece: number;
  /** Largest |acc_b − conf_b| over non-empty bins. */
  mce: number;
  n: number;
}

function checkScores(what: string, scores: Nums, outcomes: Nums): void {
  if (scores.length !== outcomes.length) throw new Error(`${what}: ${scores.length} scores but ${outcomes.length} outcomes`);
  if (scores.length === 0) throw new Error(`${what}: no samples`);
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (!(s >= 0 && s <= 1)) throw new Error(`${what}: probability at index ${i} is ${s}, not in [0, 1]`);
    if (outcomes[i] !== 0 && outcomes[i] !== 1) throw new Error(`${what}: outcome at index ${i} is ${outcomes[i]}, not 0 or 1`);
  }
}

/** numpy.percentile(x, q) with the default linear method, bit for bit. */
export function percentile(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  const qq = q / 100;
  const vi = n * qq + (1 + qq * (1 - 1 - 1)) - 1;
  const lo = Math.min(Math.max(Math.floor(vi), 0), n - 1);
  const hi = Math.min(lo + 1, n - 1);
  const g = vi - Math.floor(vi);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  const d = b - a;
  return g >= 0.5 ? b - d * (1 - g) : a + d * g;
}

export function binEdges(scores: Nums, bins: number, strategy: BinStrategy): number[] {
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`binEdges: bins must be a positive integer, got ${bins}`);
  if (strategy === 'uniform') {
    const step = 1 / bins;
    return Array.from({ length: bins + 1 }, (_, i) => (i === bins ? 1 : i * step));
  }
  if (strategy !== 'quantile') throw new Error(`binEdges: strategy must be 'uniform' or 'quantile', got '${strategy}'`);
  const sorted = Float64Array.from(scores).sort();
  return Array.from({ length: bins + 1 }, (_, i) => percentile(sorted, i === bins ? 100 : i * (100 / bins)));
}

/** Bin index as numpy.searchsorted(edges[1:-1], v, 'left'). */
function binIndex(edges: number[], v: number): number {
  let lo = 0;
  let hi = edges.length - 2; // number of inner edges
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid + 1]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Reliability table of a score in [0, 1] against a 0/1 outcome. */
export function reliability(scores: Nums, outcomes: Nums, opts: { bins?: number; strategy?: BinStrategy } = {}): Reliability {
  checkScores('reliability', scores, outcomes);
  const strategy = opts.strategy ?? 'uniform';
  const edges = binEdges(scores, opts.bins ?? 10, strategy);
  const B = edges.length - 1;
  const cnt = new Float64Array(B);
  const sc = new Float64Array(B);
  const so = new Float64Array(B);
  for (let i = 0; i < scores.length; i++) {
    const b = binIndex(edges, scores[i]!);
    cnt[b]!++;
    sc[b]! += scores[i]!;
    so[b]! += outcomes[i]!;
  }
  let ece = 0;
  let mce = 0;
  const n = scores.length;
  const bins: ReliabilityBin[] = [];
  for (let b = 0; b < B; b++) {
    const c = cnt[b]!;
    if (c === 0) {
      bins.push({ lower: edges[b]!, upper: edges[b + 1]!, count: 0, confidence: null, accuracy: null });
      continue;
    }
    const conf = sc[b]! / c;
    const acc = so[b]! / c;
    const gap = Math.abs(acc - conf);
    ece += (c / n) * gap;
    mce = Math.max(mce, gap);
    bins.push({ lower: edges[b]!, upper: edges[b + 1]!, count: c, confidence: conf, accuracy: acc });
  }
  return { strategy, bins, ece, mce, n };
}

function checkProbs(what: string, probs: Nums, labels: Nums, k: number): void {
  if (!Number.isInteger(k) || k < 2) throw new Error(`${what}: need at least 2 classes, got ${k}`);
  if (probs.length !== labels.length * k) throw new Error(`${what}: ${probs.length} probabilities are not [${labels.length}, ${k}]`);
  if (labels.length === 0) throw new Error(`${what}: no samples`);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= k) throw new Error(`${what}: label ${y} at index ${i} is not a class index in [0, ${k})`);
  }
}

/** Top-label confidence (max p) and correctness (argmax = label). */
export function topLabel(probs: Nums, labels: Nums, k: number): { confidence: Float64Array; correct: Uint8Array } {
  checkProbs('topLabel', probs, labels, k);
  const pred = argmax(probs, k);
  const confidence = new Float64Array(labels.length);
  const correct = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    confidence[i] = probs[i * k + pred[i]!]!;
    correct[i] = pred[i] === labels[i] ? 1 : 0;
  }
  return { confidence, correct };
}

/** Mean over classes of the one-vs-rest ECE (equal-width bins). */
export function classwiseEce(probs: Nums, labels: Nums, k: number, bins = 10): number {
  checkProbs('classwiseEce', probs, labels, k);
  let s = 0;
  for (let c = 0; c < k; c++) s += reliability(column(probs, k, c), oneVsRest(labels, c), { bins }).ece;
  return s / k;
}

export interface Murphy {
  brier: number;
  reliability: number;
  resolution: number;
  uncertainty: number;
  withinBinVariance: number;
  withinBinCovariance: number;
}

/** Binary Brier score of p against 0/1 outcomes with its binned Murphy decomposition. */
export function brierDecomposition(p: Nums, o: Nums, bins = 10): Murphy {
  checkScores('brierDecomposition', p, o);
  const edges = binEdges(p, bins, 'uniform');
  const n = p.length;
  const groups: number[][] = Array.from({ length: bins }, () => []);
  let obar = 0;
  let brier = 0;
  for (let i = 0; i < n; i++) {
    groups[binIndex(edges, p[i]!)]!.push(i);
    obar += o[i]!;
    brier += (p[i]! - o[i]!) ** 2;
  }
  obar /= n;
  const out = { brier: brier / n, reliability: 0, resolution: 0, uncertainty: obar * (1 - obar), withinBinVariance: 0, withinBinCovariance: 0 };
  for (const g of groups) {
    if (g.length === 0) continue;
    let fb = 0;
    let ob = 0;
    for (const i of g) {
      fb += p[i]!;
      ob += o[i]!;
    }
    fb /= g.length;
    ob /= g.length;
    out.reliability += (g.length / n) * (fb - ob) ** 2;
    out.resolution += (g.length / n) * (ob - obar) ** 2;
    for (const i of g) {
      out.withinBinVariance += (p[i]! - fb) ** 2 / n;
      out.withinBinCovariance += (2 * (p[i]! - fb) * (o[i]! - ob)) / n;
    }
  }
  return out;
}

/** Brier score and decomposition of [N, K] probabilities: binary for K = 2, summed one-vs-rest for K > 2. */
export function brier(probs: Nums, labels: Nums, k: number, bins = 10): Murphy {
  checkProbs('brier', probs, labels, k);
  if (k === 2) return brierDecomposition(column(probs, 2, 1), labels, bins);
  const parts = Array.from({ length: k }, (_, c) => brierDecomposition(column(probs, k, c), oneVsRest(labels, c), bins));
  const sum = (key: keyof Murphy) => parts.reduce((a, m) => a + m[key], 0);
  return { brier: sum('brier'), reliability: sum('reliability'), resolution: sum('resolution'), uncertainty: sum('uncertainty'), withinBinVariance: sum('withinBinVariance'), withinBinCovariance: sum('withinBinCovariance') };
}

export const NLL_FLOOR = 1e-15;

/** Mean negative log-likelihood of the labels. */
export function nll(probs: Nums, labels: Nums, k: number): number {
  checkProbs('nll', probs, labels, k);
  let s = 0;
  for (let i = 0; i < labels.length; i++) s -= Math.log(Math.max(NLL_FLOOR, probs[i * k + labels[i]!]!));
  return s / labels.length;
}

export interface CalibrationLine {
  slope: number | null;
  intercept: number | null;
  /** Intercept with the slope fixed at 1 (calibration-in-the-large). */
  calibrationInTheLarge: number | null;
  note?: string;
}

const LOGIT_CLIP = 1e-15;
export const logit = (p: number): number => {
  const q = Math.min(1 - LOGIT_CLIP, Math.max(LOGIT_CLIP, p));
  return Math.log(q) - Math.log1p(-q);
};

/** Logistic calibration line of binary probabilities p(positive) against 0/1 labels. */
export function calibrationLine(p: Nums, y: Nums): CalibrationLine {
  checkScores('calibrationLine', p, y);
  const x = Float64Array.from(p, logit);
  const full = fitLogistic(x, y);
  const large = fitLogistic(x, y, { fixSlope: true });
  const note = !full.ok ? full.reason : !large.ok ? large.reason : undefined;
  return {
    slope: full.ok ? full.fit.slope : null,
    intercept: full.ok ? full.fit.intercept : null,
    calibrationInTheLarge: large.ok ? large.fit.intercept : null,
    ...(note ? { note } : {}),
  };
}

export interface CalibrationSummary {
  n: number;
  classes: number;
  /** Top-label reliability, equal-width and equal-mass. */
  topLabel: { uniform: Reliability; quantile: Reliability };
  /** Binary only: reliability of p(positive class). */
  positive?: { uniform: Reliability; quantile: Reliability };
  ece: number;
  mce: number;
  ace: number;
  classwiseEce: number;
  brier: Murphy;
  nll: number;
  line: CalibrationLine | null;
}

/** Every calibration measure of [N, K] probabilities (top-label ECE/MCE/ACE; binary reliability of p₁). */
export function calibrationSummary(probs: Nums, labels: Nums, k: number, bins = 10): CalibrationSummary {
  checkProbs('calibrationSummary', probs, labels, k);
  const t = topLabel(probs, labels, k);
  const uniform = reliability(t.confidence, t.correct, { bins });
  const quantile = reliability(t.confidence, t.correct, { bins, strategy: 'quantile' });
  const p1 = k === 2 ? column(probs, 2, 1) : undefined;
  return {
    n: labels.length,
    classes: k,
    topLabel: { uniform, quantile },
    positive: p1 ? { uniform: reliability(p1, labels, { bins }), quantile: reliability(p1, labels, { bins, strategy: 'quantile' }) } : undefined,
    ece: uniform.ece,
    mce: uniform.mce,
    ace: quantile.ece,
    classwiseEce: classwiseEce(probs, labels, k, bins),
    brier: brier(probs, labels, k, bins),
    nll: nll(probs, labels, k),
    line: p1 ? calibrationLine(p1, labels) : null,
  };
}
