/**
 * Confidence intervals for a proportion x / n: Wilson score and Clopper–Pearson (exact). Both are
 * defined for x = 0 and x = n; n = 0 has no proportion, so `proportion` returns value null and no
 * intervals (never NaN). Checked against closed forms / scipy.stats.beta.ppf in intervals.test.ts.
 */
import { betaQuantile, normalQuantile } from './distributions.js';

export interface Interval {
  lower: number;
  upper: number;
}

export interface Proportion {
  /** x / n, or null when n = 0. */
  value: number | null;
  successes: number;
  n: number;
  /** Wilson score interval (null when n = 0). */
  wilson: Interval | null;
  /** Clopper–Pearson exact interval (null when n = 0). */
  clopperPearson: Interval | null;
}

function checkCounts(what: string, x: number, n: number, confidence: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what}: n must be a positive integer, got ${n}`);
  if (!Number.isInteger(x) || x < 0 || x > n) throw new Error(`${what}: successes must be an integer in [0, ${n}], got ${x}`);
  if (!(confidence > 0 && confidence < 1)) throw new Error(`${what}: confidence must be in (0, 1), got ${confidence}`);
}

/** Wilson score interval for x successes in n trials. */
export function wilsonInterval(x: number, n: number, confidence = 0.95): Interval {
  checkCounts('wilsonInterval', x, n, confidence);
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = x / n;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return { lower: Math.max(0, c - h), upper: Math.min(1, c + h) };
}

/** Clopper–Pearson interval: Beta(α/2; x, n−x+1) and Beta(1−α/2; x+1, n−x) quantiles, 0 and 1 at the ends. */
export function clopperPearsonInterval(x: number, n: number, confidence = 0.95): Interval {
  checkCounts('clopperPearsonInterval', x, n, confidence);
  const a = 1 - confidence;
  return {
    lower: x === 0 ? 0 : betaQuantile(a / 2, x, n - x + 1),
    upper: x === n ? 1 : betaQuantile(1 - a / 2, x + 1, n - x),
  };
}

export function proportion(x: number, n: number, confidence = 0.95): Proportion {
  if (n === 0) return { value: null, successes: 0, n: 0, wilson: null, clopperPearson: null };
  return { value: x / n, successes: x, n, wilson: wilsonInterval(x, n, confidence), clopperPearson: clopperPearsonInterval(x, n, confidence) };
}
