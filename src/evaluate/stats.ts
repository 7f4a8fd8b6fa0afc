/**
 * Dataset-level summaries for the audit: mean with a confidence interval (Student t or seeded
 * percentile bootstrap), median and inter-quartile range, and the "0.12 [0.08, 0.16]" format.
 *
 *   t interval         x̄ ± t_{1−α/2, n−1} · s/√n,  s the sample standard deviation (ddof 1)
 *   bootstrap (pct.)   the α/2 and 1−α/2 quantiles of the means of B resamples drawn with
 *                      replacement (Efron & Tibshirani 1993, §13.3), seeded
 *   quantiles          numpy.percentile's default ('linear'): position p·(n−1) in the sorted data
 *
 * Per-image metrics can be undefined (e.g. a correlation with a constant map is NaN): summaries
 * drop non-finite values and report how many were used (`n`) and dropped.
 */
import { Rng } from '../tensor/rng.js';
import { betaInc } from '../trust/distributions.js';

function finite(values: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]!)) out.push(values[i]!);
  return out;
}

export function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  return values.length ? s / values.length : NaN;
}

/** Sample standard deviation (ddof = 1); NaN for fewer than 2 values. */
export function std(values: ArrayLike<number>): number {
  const n = values.length;
  if (n < 2) return NaN;
  const m = mean(values);
  let s = 0;
  for (let i = 0; i < n; i++) s += (values[i]! - m) ** 2;
  return Math.sqrt(s / (n - 1));
}

/** numpy.percentile(values, 100·p) with linear interpolation; `sorted` skips the sort. */
export function quantile(values: ArrayLike<number>, p: number, sorted = false): number {
  if (!(p >= 0 && p <= 1)) throw new Error(`quantile: p must be in [0, 1], got ${p}`);
  const n = values.length;
  if (n === 0) return NaN;
  const v = sorted ? values : Float64Array.from(values).sort();
  const pos = p * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  const f = pos - lo;
  return v[lo]! + (v[hi]! - v[lo]!) * f;
}

export function median(values: ArrayLike<number>): number {
  return quantile(values, 0.5);
}

// ---------------- Student t quantile ----------------

/** Regularised incomplete beta I_x(a, b) (the trust module's implementation, checked against scipy). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  return betaInc(a, b, x);
}

/** Student t CDF with df degrees of freedom. */
export function tCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** Student t quantile (scipy.stats.t.ppf), by bisection on the upper tail P(T > t) = 1 − p. */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`tQuantile: p must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new Error(`tQuantile: df must be positive, got ${df}`);
  if (p < 0.5) return -tQuantile(1 - p, df);
  if (p === 0.5) return 0;
  const q = 1 - p;
  const tail = (t: number) => 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  let lo = 0;
  let hi = 1;
  while (tail(hi) > q) {
    lo = hi;
    hi *= 2;
  }
  for (let i = 0; i < 200 && hi - lo > 1e-15 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (tail(mid) > q) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

// ---------------- summaries ----------------

export interface MeanCI {
  mean: number;
  lo: number;
  hi: number;
  /** Finite values used. */
  n: number;
  /** Non-finite values dropped. */
  dropped: number;
  level: number;
  method: 't' | 'bootstrap';
}

export interface MeanCIOptions {
  /** Confidence level (default 0.95). */
  level?: number;
  /** 't' (default) or 'bootstrap' (percentile). */
  method?: 't' | 'bootstrap';
  /** Bootstrap resamples (default 2000). */
  resamples?: number;
  /** Bootstrap seed (default 0). */
  seed?: number;
}

/** Mean and its confidence interval. With one value the interval is [NaN, NaN]. */
export function meanCI(values: ArrayLike<number>, options: MeanCIOptions = {}): MeanCI {
  const level = options.level ?? 0.95;
  const method = options.method ?? 't';
  if (!(level > 0 && level < 1)) throw new Error(`meanCI: level must be in (0, 1), got ${level}`);
  const v = finite(values);
  const n = v.length;
  const base = { mean: mean(v), n, dropped: values.length - n, level, method };
  if (n < 2) return { ...base, lo: NaN, hi: NaN };
  const alpha = 1 - level;
  if (method === 't') {
    const half = tQuantile(1 - alpha / 2, n - 1) * (std(v) / Math.sqrt(n));
    return { ...base, lo: base.mean - half, hi: base.mean + half };
  }
  if (method !== 'bootstrap') throw new Error(`meanCI: method must be 't' or 'bootstrap', got '${method as string}'`);
  const b = options.resamples ?? 2000;
  if (!Number.isInteger(b) || b < 10) throw new Error(`meanCI: resamples must be an integer ≥ 10, got ${b}`);
  const rng = new Rng(options.seed ?? 0);
  const means = new Float64Array(b);
  for (let r = 0; r < b; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += v[rng.int(n)]!;
    means[r] = s / n;
  }
  means.sort();
  return { ...base, lo: quantile(means, alpha / 2, true), hi: quantile(means, 1 - alpha / 2, true) };
}

export interface Quartiles {
  median: number;
  q25: number;
  q75: number;
  iqr: number;
  n: number;
  dropped: number;
}

/** Median, quartiles and IQR of the finite values. */
export function quartiles(values: ArrayLike<number>): Quartiles {
  const v = Float64Array.from(finite(values)).sort();
  const q25 = quantile(v, 0.25, true);
  const q75 = quantile(v, 0.75, true);
  return { median: quantile(v, 0.5, true), q25, q75, iqr: q75 - q25, n: v.length, dropped: values.length - v.length };
}

/** "0.12 [0.08, 0.16]" (`digits` decimals, default 2). */
export function formatCI(ci: { mean: number; lo: number; hi: number } | { median: number; q25: number; q75: number }, digits = 2): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
  if ('mean' in ci) return `${f(ci.mean)} [${f(ci.lo)}, ${f(ci.hi)}]`;
  return `${f(ci.median)} [${f(ci.q25)}, ${f(ci.q75)}]`;
}
