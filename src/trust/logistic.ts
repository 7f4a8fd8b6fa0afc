/**
 * Unpenalized one-feature logistic regression by Newton's method (the maximum-likelihood fit that
 * scikit-learn's LogisticRegression(penalty=None) approaches): P(y = 1) = σ(intercept + slope·x),
 * or with the slope fixed at 1 (x as an offset). Used for Platt scaling and calibration slope /
 * intercept. Returns null with a reason when the maximum does not exist (separable data, constant x).
 */
import type { Nums } from './binary.js';

export interface LogisticFit {
  intercept: number;
  slope: number;
  iterations: number;
}

export type LogisticResult = { ok: true; fit: LogisticFit } | { ok: false; reason: string };

export const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

export function fitLogistic(x: Nums, y: Nums, opts: { fixSlope?: boolean } = {}): LogisticResult {
  const n = x.length;
  if (n !== y.length || n === 0) throw new Error(`fitLogistic: ${n} features for ${y.length} labels`);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    if (y[i] !== 0 && y[i] !== 1) throw new Error(`fitLogistic: labels must be 0 or 1, got ${y[i]} at index ${i}`);
    if (!Number.isFinite(x[i])) throw new Error(`fitLogistic: feature at index ${i} is ${x[i]}`);
    pos += y[i]!;
  }
  if (pos === 0 || pos === n) return { ok: false, reason: 'only one class in the labels: the maximum-likelihood fit does not exist' };
  const fix = opts.fixSlope ?? false;
  let a = 0;
  let b = fix ? 1 : 0;
  const nll = (a: number, b: number) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const z = a + b * x[i]!;
      s += Math.max(z, 0) - z * y[i]! + Math.log1p(Math.exp(-Math.abs(z)));
    }
    return s;
  };
  let f = nll(a, b);
  for (let it = 1; it <= 200; it++) {
    let g0 = 0, g1 = 0, h00 = 0, h01 = 0, h11 = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[i]!;
      const mu = sigmoid(a + b * xi);
      const r = y[i]! - mu;
      const w = mu * (1 - mu);
      g0 += r;
      g1 += r * xi;
      h00 += w;
      h01 += w * xi;
      h11 += w * xi * xi;
    }
    let da: number;
    let db: number;
    if (fix) {
      if (!(h00 > 0)) return { ok: false, reason: 'the fit diverged (probabilities of 0 or 1)' };
      da = g0 / h00;
      db = 0;
    } else {
      const det = h00 * h11 - h01 * h01;
      if (!(det > 1e-300 * Math.max(1, h00 * h11))) return { ok: false, reason: 'the feature is constant or the classes are separable: no finite maximum-likelihood fit' };
      da = (h11 * g0 - h01 * g1) / det;
      db = (h00 * g1 - h01 * g0) / det;
    }
    // Step halving keeps every step a descent step.
    let t = 1;
    let fNew = nll(a + da, b + db);
    while (fNew > f + 1e-12 * Math.abs(f) && t > 1e-10) {
      t /= 2;
      fNew = nll(a + t * da, b + t * db);
    }
    a += t * da;
    b += t * db;
    f = fNew;
    if (!Number.isFinite(a) || !Number.isFinite(b) || Math.abs(a) > 1e8 || Math.abs(b) > 1e8) {
      return { ok: false, reason: 'the classes are separable by this score: the fitted slope grows without bound' };
    }
    if (Math.abs(t * da) < 1e-14 * Math.max(1, Math.abs(a)) && Math.abs(t * db) < 1e-14 * Math.max(1, Math.abs(b))) return { ok: true, fit: { intercept: a, slope: b, iterations: it } };
  }
  if (Math.abs(a) > 30 || Math.abs(b) > 30) return { ok: false, reason: 'no convergence in 200 Newton steps: the classes are (nearly) separable' };
  return { ok: true, fit: { intercept: a, slope: b, iterations: 200 } };
}
