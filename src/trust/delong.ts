/**
 * DeLong's variance of the AUROC (DeLong, DeLong & Clarke-Pearson 1988) via the midrank algorithm of
 * Sun & Xu (2014): structural components V10 (per positive) and V01 (per negative), with ties counted
 * one half. Confidence interval AUC ± z·SE, clipped to [0, 1]; DeLong's paired test between two
 * models scored on the same cases, z = (A₁ − A₂) / SE(A₁ − A₂), two-sided normal p-value.
 * Checked against an O(n²) Mann–Whitney implementation in numpy (fixtures/make_fixtures.py).
 *
 * Degenerate input: one class only is an error; fewer than 2 positives or 2 negatives is an error
 * (the sample covariances need 2); constant scores give AUC 0.5 with variance 0, CI [0.5, 0.5].
 * A paired test whose difference has variance 0 gives z = null and p = 1 when the AUCs are equal,
 * p = 0 otherwise.
 */
import { requireBothClasses, type Nums } from './binary.js';
import { normalQuantile, normalSf } from './distributions.js';
import type { Interval } from './intervals.js';

/** 1-based midranks (ties share the average rank). */
function midranks(x: Float64Array): Float64Array {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a]! - x[b]!);
  const r = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j < n && x[order[j]!] === x[order[i]!]) j++;
    const mid = (i + 1 + j) / 2;
    for (let q = i; q < j; q++) r[order[q]!] = mid;
    i = j;
  }
  return r;
}

interface Components {
  auc: number;
  v10: Float64Array;
  v01: Float64Array;
}

function components(scores: Nums, labels: Nums): Components {
  const posIdx: number[] = [];
  const negIdx: number[] = [];
  for (let i = 0; i < labels.length; i++) (labels[i] === 1 ? posIdx : negIdx).push(i);
  const m = posIdx.length;
  const n = negIdx.length;
  const all = Float64Array.from([...posIdx, ...negIdx].map((i) => scores[i]!));
  const rAll = midranks(all);
  const rPos = midranks(all.subarray(0, m));
  const rNeg = midranks(all.subarray(m));
  const v10 = new Float64Array(m);
  const v01 = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < m; i++) {
    v10[i] = (rAll[i]! - rPos[i]!) / n;
    sum += v10[i]!;
  }
  for (let j = 0; j < n; j++) v01[j] = 1 - (rAll[m + j]! - rNeg[j]!) / m;
  return { auc: sum / m, v10, v01 };
}

function cov(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let s = 0;
  for (let i = 0; i < n; i++) s += (a[i]! - ma) * (b[i]! - mb);
  return s / (n - 1);
}

function check(what: string, scores: Nums, labels: Nums): void {
  const { pos, neg } = requireBothClasses(what, scores, labels);
  if (pos < 2 || neg < 2) throw new Error(`${what}: DeLong's variance needs at least 2 positives and 2 negatives, got ${pos} and ${neg}`);
}

export interface DelongAuc {
  auc: number;
  variance: number;
  se: number;
  confidence: number;
  ci: Interval;
}

/** AUROC with DeLong variance and a normal confidence interval (clipped to [0, 1]). */
export function delongAuc(scores: Nums, labels: Nums, confidence = 0.95): DelongAuc {
  check('delongAuc', scores, labels);
  if (!(confidence > 0 && confidence < 1)) throw new Error(`delongAuc: confidence must be in (0, 1), got ${confidence}`);
  const c = components(scores, labels);
  const variance = Math.max(0, cov(c.v10, c.v10) / c.v10.length + cov(c.v01, c.v01) / c.v01.length);
  const se = Math.sqrt(variance);
  const z = normalQuantile(1 - (1 - confidence) / 2);
  return { auc: c.auc, variance, se, confidence, ci: { lower: Math.max(0, c.auc - z * se), upper: Math.min(1, c.auc + z * se) } };
}

export interface DelongPaired {
  auc: [number, number];
  /** 2×2 covariance of the two AUCs. */
  covariance: [[number, number], [number, number]];
  difference: number;
  seDifference: number;
  z: number | null;
  p: number;
}

/** DeLong's test of equal AUROC for two models' scores on the same cases (paired). */
export function delongPairedTest(scoresA: Nums, scoresB: Nums, labels: Nums): DelongPaired {
  check('delongPairedTest (model A)', scoresA, labels);
  check('delongPairedTest (model B)', scoresB, labels);
  const a = components(scoresA, labels);
  const b = components(scoresB, labels);
  const m = a.v10.length;
  const n = a.v01.length;
  const s = (x: Float64Array, y: Float64Array, u: Float64Array, v: Float64Array) => cov(x, y) / m + cov(u, v) / n;
  const saa = s(a.v10, a.v10, a.v01, a.v01);
  const sbb = s(b.v10, b.v10, b.v01, b.v01);
  const sab = s(a.v10, b.v10, a.v01, b.v01);
  const diff = a.auc - b.auc;
  const varD = Math.max(0, saa + sbb - 2 * sab);
  const se = Math.sqrt(varD);
  let z: number | null = null;
  let p: number;
  if (se > 0) {
    z = diff / se;
    p = Math.min(1, 2 * normalSf(Math.abs(z)));
  } else p = diff === 0 ? 1 : 0;
  return { auc: [a.auc, b.auc], covariance: [[saa, sab], [sab, sbb]], difference: diff, seDifference: se, z, p };
}
