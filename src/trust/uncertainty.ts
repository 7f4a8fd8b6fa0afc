/**
 * Uncertainty from T stochastic predictions of the same N cases (MC dropout passes, ensemble members,
 * test-time augmentations), as probabilities [T, N, K] (flat, row-major). Natural logarithms.
 * - predictive entropy H[p̄] of the mean prediction p̄ = mean_t p_t;
 * - expected entropy E_t H[p_t] (aleatoric part) and mutual information (BALD) H[p̄] − E_t H[p_t]
 *   (epistemic part; ≥ 0 by Jensen, floating-point negatives below 1e-12 are set to 0);
 * - variance over the T passes (population variance, ddof 0) of the predicted class's probability,
 *   and its sum over classes;
 * - max-softmax confidence max_k p̄_k; energy score −logsumexp(z) from logits (lower = more typical).
 * Selective prediction: cases sorted by confidence (highest first, ties by index); risk at coverage
 * k/N is the error rate of the k most confident; AURC is the mean risk over k = 1…N (Geifman et al.).
 */
import { argmax } from '../train/metrics.js';
import type { Nums } from './binary.js';

export interface UncertaintyScores {
  /** Mean prediction p̄ [N, K]. */
  mean: Float64Array;
  predicted: Int32Array;
  confidence: Float64Array;
  entropy: Float64Array;
  expectedEntropy: Float64Array;
  mutualInformation: Float64Array;
  variancePredicted: Float64Array;
  varianceTotal: Float64Array;
  passes: number;
}

function ent(p: Nums, off: number, k: number): number {
  let h = 0;
  for (let c = 0; c < k; c++) {
    const v = p[off + c]!;
    if (v > 0) h -= v * Math.log(v);
  }
  return h;
}

/** Uncertainty scores from [T, N, K] probabilities (T = 1 gives zero mutual information and variance). */
export function uncertaintyScores(samples: Nums, passes: number, k: number): UncertaintyScores {
  if (!Number.isInteger(passes) || passes < 1) throw new Error(`uncertaintyScores: passes must be a positive integer, got ${passes}`);
  if (!Number.isInteger(k) || k < 2) throw new Error(`uncertaintyScores: need at least 2 classes, got ${k}`);
  const n = samples.length / (passes * k);
  if (!Number.isInteger(n) || n < 1) throw new Error(`uncertaintyScores: ${samples.length} values are not [${passes}, N, ${k}]`);
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i]!;
    if (!(v >= 0 && v <= 1)) throw new Error(`uncertaintyScores: probability at flat index ${i} is ${v}, not in [0, 1]`);
  }
  const nk = n * k;
  const mean = new Float64Array(nk);
  for (let t = 0; t < passes; t++) for (let j = 0; j < nk; j++) mean[j]! += samples[t * nk + j]! / passes;
  const predicted = argmax(mean, k);
  const confidence = new Float64Array(n);
  const entropy = new Float64Array(n);
  const expectedEntropy = new Float64Array(n);
  const mutualInformation = new Float64Array(n);
  const variancePredicted = new Float64Array(n);
  const varianceTotal = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    confidence[i] = mean[i * k + predicted[i]!]!;
    entropy[i] = ent(mean, i * k, k);
    let eh = 0;
    for (let t = 0; t < passes; t++) eh += ent(samples, t * nk + i * k, k);
    expectedEntropy[i] = eh / passes;
    const mi = entropy[i]! - expectedEntropy[i]!;
    mutualInformation[i] = mi < 0 && mi > -1e-12 ? 0 : mi;
    for (let c = 0; c < k; c++) {
      let v = 0;
      for (let t = 0; t < passes; t++) v += (samples[t * nk + i * k + c]! - mean[i * k + c]!) ** 2;
      v /= passes;
      varianceTotal[i]! += v;
      if (c === predicted[i]) variancePredicted[i] = v;
    }
  }
  return { mean, predicted, confidence, entropy, expectedEntropy, mutualInformation, variancePredicted, varianceTotal, passes };
}

/** Energy score −logsumexp(z) per row of logits [N, K] (Liu et al. 2020 with T = 1). */
export function energyScore(logits: Nums, k: number): Float64Array {
  if (logits.length % k !== 0 || logits.length === 0) throw new Error(`energyScore: ${logits.length} logits are not rows of ${k}`);
  const n = logits.length / k;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let c = 0; c < k; c++) m = Math.max(m, logits[i * k + c]!);
    let s = 0;
    for (let c = 0; c < k; c++) s += Math.exp(logits[i * k + c]! - m);
    out[i] = -(m + Math.log(s));
  }
  return out;
}

export interface RiskCoverage {
  /** coverage[k−1] = k / N. */
  coverage: number[];
  risk: number[];
  aurc: number;
  /** AURC of an oracle that ranks every error last, and the excess E-AURC = AURC − that. */
  optimalAurc: number;
  excessAurc: number;
  /** Error rate on all cases (risk at full coverage). */
  fullRisk: number;
}

function aurcOf(errorsInOrder: ArrayLike<number>): { risk: number[]; aurc: number } {
  const risk: number[] = [];
  let e = 0;
  let s = 0;
  for (let i = 0; i < errorsInOrder.length; i++) {
    e += errorsInOrder[i]!;
    risk.push(e / (i + 1));
    s += e / (i + 1);
  }
  return { risk, aurc: s / errorsInOrder.length };
}

/** Ascending-uncertainty order (most confident first), ties by index. */
export function confidenceOrder(confidence: Nums): number[] {
  return Array.from({ length: confidence.length }, (_, i) => i).sort((a, b) => confidence[b]! - confidence[a]! || a - b);
}

/** Risk–coverage curve and AURC for a confidence score (higher = more confident) and 0/1 errors. */
export function riskCoverage(confidence: Nums, errors: Nums): RiskCoverage {
  const n = errors.length;
  if (confidence.length !== n || n === 0) throw new Error(`riskCoverage: ${confidence.length} confidences for ${n} errors (need N > 0)`);
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(confidence[i])) throw new Error(`riskCoverage: confidence at index ${i} is NaN`);
    if (errors[i] !== 0 && errors[i] !== 1) throw new Error(`riskCoverage: errors must be 0/1, got ${errors[i]} at index ${i}`);
  }
  const order = confidenceOrder(confidence);
  const { risk, aurc } = aurcOf(order.map((i) => errors[i]!));
  const nErr = Array.from(errors).reduce((a, b) => a + b, 0);
  const oracle = Array.from({ length: n }, (_, i) => (i >= n - nErr ? 1 : 0));
  const optimalAurc = aurcOf(oracle).aurc;
  return { coverage: risk.map((_, i) => (i + 1) / n), risk, aurc, optimalAurc, excessAurc: aurc - optimalAurc, fullRisk: nErr / n };
}

export interface Referral {
  coverage: number;
  /** Cases kept for automatic reading / referred for human review (indices, most uncertain referral first). */
  kept: number;
  referred: number[];
  /** Confidence at or below which a case is referred (the most confident referred case's confidence), null if none. */
  confidenceCutoff: number | null;
  /** Error rate among kept cases (null if none kept) and among all. */
  keptRisk: number | null;
  fullRisk: number;
}

/** Keep the ⌊coverage·N⌋ most confident cases (ties by index); refer the rest for human review. */
export function referForReview(confidence: Nums, errors: Nums, coverage: number): Referral {
  if (!(coverage >= 0 && coverage <= 1)) throw new Error(`referForReview: coverage must be in [0, 1], got ${coverage}`);
  const rc = riskCoverage(confidence, errors);
  const n = errors.length;
  const order = confidenceOrder(confidence);
  const kept = Math.floor(coverage * n + 1e-9);
  const referred = order.slice(kept).reverse();
  return {
    coverage,
    kept,
    referred,
    confidenceCutoff: referred.length ? confidence[order[kept]!]! : null,
    keptRisk: kept ? rc.risk[kept - 1]! : null,
    fullRisk: rc.fullRisk,
  };
}
