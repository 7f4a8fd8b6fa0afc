/**
 * Recalibration maps fitted on a held-out calibration split and applied to new predictions:
 * - temperature scaling (Guo et al. 2017): softmax(z / T), T minimising the NLL of the calibration
 *   split (convex in 1/T; solved by safeguarded Newton on β = 1/T to the last bits). Works from
 *   logits or, when only probabilities exist, from log-probabilities (softmax(log p) = p).
 * - Platt scaling (binary): σ(a·logit(p₁) + b), unpenalized logistic maximum likelihood (no target
 *   smoothing).
 * - Isotonic regression (binary): scikit-learn's IsotonicRegression(y_min=0, y_max=1,
 *   out_of_bounds='clip') — pool-adjacent-violators on tie-averaged scores, linear interpolation
 *   between fitted points, clipped outside the fitted range.
 * K > 2 for Platt and isotonic: one-vs-rest per class, then rows renormalised (as scikit-learn's
 * CalibratedClassifierCV); a row whose calibrated values are all 0 becomes uniform.
 */
import { softmax } from '../train/metrics.js';
import { column, oneVsRest, type Nums } from './binary.js';
import { fitLogistic, sigmoid } from './logistic.js';
import { logit } from './calibration.js';

/** log p for probabilities (floored at 1e-300), usable as logits. */
export function logProbs(probs: Nums): Float64Array {
  return Float64Array.from(probs, (p) => Math.log(Math.max(p, 1e-300)));
}

export interface TemperatureFit {
  temperature: number;
  nllBefore: number;
  nllAfter: number;
  iterations: number;
}

/** Mean NLL of softmax(β·z) and its first two derivatives in β. */
function nllBeta(z: Nums, y: Nums, k: number, beta: number): { f: number; g: number; h: number } {
  let f = 0, g = 0, h = 0;
  const n = y.length;
  const row = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let c = 0; c < k; c++) m = Math.max(m, beta * z[i * k + c]!);
    let s = 0;
    for (let c = 0; c < k; c++) s += row[c] = Math.exp(beta * z[i * k + c]! - m);
    let ez = 0, ez2 = 0;
    for (let c = 0; c < k; c++) {
      const p = row[c]! / s;
      ez += p * z[i * k + c]!;
      ez2 += p * z[i * k + c]! ** 2;
    }
    const zy = z[i * k + y[i]!]!;
    f += m + Math.log(s) - beta * zy;
    g += ez - zy;
    h += ez2 - ez * ez;
  }
  return { f: f / n, g: g / n, h: h / n };
}

const BETA_MIN = 1e-4;
const BETA_MAX = 1e4;

/**
 * Fit T on calibration logits [N, K] and labels. T is bounded to [1e-4, 1e4]: when the NLL keeps
 * falling towards a bound (separable classes, constant logits, one class only) the bound is returned.
 */
export function fitTemperature(logits: Nums, labels: Nums, k: number): TemperatureFit {
  if (logits.length !== labels.length * k || labels.length === 0) throw new Error(`fitTemperature: ${logits.length} logits are not [${labels.length}, ${k}] with N > 0`);
  for (let i = 0; i < labels.length; i++) {
    if (!Number.isInteger(labels[i]) || labels[i]! < 0 || labels[i]! >= k) throw new Error(`fitTemperature: label ${labels[i]} at index ${i} is not in [0, ${k})`);
  }
  for (let i = 0; i < logits.length; i++) if (!Number.isFinite(logits[i])) throw new Error(`fitTemperature: logit at flat index ${i} is ${logits[i]}`);
  const before = nllBeta(logits, labels, k, 1).f;
  // Bracket the root of g(β) (g is increasing since h ≥ 0), then Newton with bisection fallback.
  let lo = 1;
  let hi = 1;
  const g1 = nllBeta(logits, labels, k, 1).g;
  if (g1 > 0) while (lo > BETA_MIN && nllBeta(logits, labels, k, lo).g > 0) lo = Math.max(BETA_MIN, lo / 4);
  else if (g1 < 0) while (hi < BETA_MAX && nllBeta(logits, labels, k, hi).g < 0) hi = Math.min(BETA_MAX, hi * 4);
  let beta = g1 > 0 ? Math.max(lo, 0.5) : Math.min(hi, 2);
  if (lo === hi) beta = lo;
  beta = Math.min(Math.max(beta, lo), hi);
  let it = 0;
  while (lo < hi && it < 200) {
    it++;
    const { g, h } = nllBeta(logits, labels, k, beta);
    if (g === 0) break;
    if (g > 0) hi = beta;
    else lo = beta;
    let next = h > 0 ? beta - g / h : NaN;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (Math.abs(next - beta) <= 1e-15 * beta) {
      beta = next;
      break;
    }
    beta = next;
  }
  return { temperature: 1 / beta, nllBefore: before, nllAfter: nllBeta(logits, labels, k, beta).f, iterations: it };
}

/** softmax(z / T). */
export function applyTemperature(logits: Nums, k: number, temperature: number): Float64Array {
  if (!(temperature > 0)) throw new Error(`applyTemperature: temperature must be > 0, got ${temperature}`);
  return softmax(Float64Array.from(logits, (z) => z / temperature), k);
}

export interface PlattFit {
  /** Per class (one entry for K = 2: the positive class): p = σ(a·logit(p) + b). */
  a: number[];
  b: number[];
}

export function fitPlatt(probs: Nums, labels: Nums, k: number): PlattFit {
  const cols = k === 2 ? [1] : Array.from({ length: k }, (_, c) => c);
  const a: number[] = [];
  const b: number[] = [];
  for (const c of cols) {
    const r = fitLogistic(Float64Array.from(column(probs, k, c), logit), oneVsRest(labels, c));
    if (!r.ok) throw new Error(`fitPlatt: class ${c}: ${r.reason}; use temperature scaling or more calibration data`);
    a.push(r.fit.slope);
    b.push(r.fit.intercept);
  }
  return { a, b };
}

function fromPerClass(probs: Nums, k: number, f: (p: number, c: number) => number): Float64Array {
  const n = probs.length / k;
  const out = new Float64Array(probs.length);
  if (k === 2) {
    for (let i = 0; i < n; i++) {
      const p1 = f(probs[i * 2 + 1]!, 0);
      out[i * 2] = 1 - p1;
      out[i * 2 + 1] = p1;
    }
    return out;
  }
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < k; c++) s += out[i * k + c] = f(probs[i * k + c]!, c);
    for (let c = 0; c < k; c++) out[i * k + c] = s > 0 ? out[i * k + c]! / s : 1 / k;
  }
  return out;
}

export function applyPlatt(probs: Nums, k: number, fit: PlattFit): Float64Array {
  return fromPerClass(probs, k, (p, c) => sigmoid(fit.a[c]! * logit(p) + fit.b[c]!));
}

export interface IsotonicFit {
  /** Fitted points (increasing x), interpolated linearly; clipped outside. */
  x: number[];
  y: number[];
}

/** Isotonic (non-decreasing) regression of y on x, as scikit-learn fits it. */
export function fitIsotonic(x: Nums, y: Nums): IsotonicFit {
  if (x.length !== y.length || x.length === 0) throw new Error(`fitIsotonic: ${x.length} scores for ${y.length} targets`);
  const order = Array.from({ length: x.length }, (_, i) => i).sort((a, b) => x[a]! - x[b]!);
  // Unique x with mean y and weights.
  const ux: number[] = [];
  const uy: number[] = [];
  const uw: number[] = [];
  for (const i of order) {
    if (!Number.isFinite(x[i])) throw new Error(`fitIsotonic: score at index ${i} is ${x[i]}`);
    if (ux.length && ux[ux.length - 1] === x[i]) {
      const j = ux.length - 1;
      uy[j] = uy[j]! + y[i]!;
      uw[j]!++;
    } else {
      ux.push(x[i]!);
      uy.push(y[i]!);
      uw.push(1);
    }
  }
  for (let j = 0; j < uy.length; j++) uy[j] = uy[j]! / uw[j]!;
  // Pool adjacent violators over blocks.
  const bv: number[] = [];
  const bw: number[] = [];
  const bn: number[] = [];
  for (let j = 0; j < uy.length; j++) {
    bv.push(uy[j]!);
    bw.push(uw[j]!);
    bn.push(1);
    while (bv.length > 1 && bv[bv.length - 2]! > bv[bv.length - 1]!) {
      const w = bw.pop()!, v = bv.pop()!, c = bn.pop()!;
      const t = bv.length - 1;
      bv[t] = (bv[t]! * bw[t]! + v * w) / (bw[t]! + w);
      bw[t]! += w;
      bn[t]! += c;
    }
  }
  const fy: number[] = [];
  bv.forEach((v, b) => {
    for (let q = 0; q < bn[b]!; q++) fy.push(Math.min(1, Math.max(0, v)));
  });
  return { x: ux, y: fy };
}

/** Linear interpolation of an isotonic fit (numpy.interp; clipped outside the fitted range). */
export function predictIsotonic(fit: IsotonicFit, v: number): number {
  const { x, y } = fit;
  if (v <= x[0]!) return y[0]!;
  if (v >= x[x.length - 1]!) return y[y.length - 1]!;
  let lo = 0;
  let hi = x.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x[mid]! <= v) lo = mid;
    else hi = mid;
  }
  const slope = (y[hi]! - y[lo]!) / (x[hi]! - x[lo]!);
  return slope * (v - x[lo]!) + y[lo]!;
}

export function fitIsotonicProbs(probs: Nums, labels: Nums, k: number): IsotonicFit[] {
  const cols = k === 2 ? [1] : Array.from({ length: k }, (_, c) => c);
  return cols.map((c) => fitIsotonic(column(probs, k, c), oneVsRest(labels, c)));
}

export function applyIsotonic(probs: Nums, k: number, fits: IsotonicFit[]): Float64Array {
  return fromPerClass(probs, k, (p, c) => predictIsotonic(fits[c]!, p));
}

export type RecalibrationMethod = 'temperature' | 'platt' | 'isotonic';

