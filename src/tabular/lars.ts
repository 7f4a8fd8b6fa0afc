/**
 * Least-angle regression with the lasso modification (Efron, Hastie, Johnstone & Tibshirani 2004), and
 * the information-criterion choice along its path — scikit-learn's `lars_path(method="lasso")` and
 * `LassoLarsIC`, which shap's KernelExplainer uses to pick features for `l1_reg="auto"` (AIC) and
 * `"bic"`. Small dense problems (a few thousand rows, tens of columns); row-major matrices.
 */

/** Solves the symmetric system A x = b (k×k) by Gaussian elimination with partial pivoting; null when singular. */
export function solve(A: Float64Array, b: Float64Array, k: number): Float64Array | null {
  const M = Float64Array.from(A);
  const x = Float64Array.from(b);
  let scale = 0;
  for (let i = 0; i < k * k; i++) scale = Math.max(scale, Math.abs(M[i]!));
  for (let c = 0; c < k; c++) {
    let piv = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(M[r * k + c]!) > Math.abs(M[piv * k + c]!)) piv = r;
    if (!(Math.abs(M[piv * k + c]!) > 1e-13 * Math.max(scale, 1e-300))) return null;
    if (piv !== c) {
      for (let j = 0; j < k; j++) [M[c * k + j], M[piv * k + j]] = [M[piv * k + j]!, M[c * k + j]!];
      [x[c], x[piv]] = [x[piv]!, x[c]!];
    }
    for (let r = c + 1; r < k; r++) {
      const f = M[r * k + c]! / M[c * k + c]!;
      if (f === 0) continue;
      for (let j = c; j < k; j++) M[r * k + j]! -= f * M[c * k + j]!;
      x[r]! -= f * x[c]!;
    }
  }
  for (let c = k - 1; c >= 0; c--) {
    let s = x[c]!;
    for (let j = c + 1; j < k; j++) s -= M[c * k + j]! * x[j]!;
    x[c] = s / M[c * k + c]!;
  }
  return x;
}

export interface LarsPath {
  /** Regularisation at each knot (max |correlation| / n), decreasing to 0. */
  alphas: number[];
  /** Coefficients at each knot. */
  coefs: Float64Array[];
}

/** The lasso path of `y ≈ X β` (no intercept: centre X and y first for one). */
export function larsLassoPath(X: Float64Array, y: Float64Array, n: number, p: number, maxIter = 500): LarsPath {
  const beta = new Float64Array(p);
  const active: number[] = [];
  const sign = new Float64Array(p);
  const isActive = new Uint8Array(p);
  const resid = Float64Array.from(y);
  const corr = () => {
    const c = new Float64Array(p);
    for (let i = 0; i < n; i++) {
      const r = resid[i]!;
      if (r === 0) continue;
      for (let j = 0; j < p; j++) c[j]! += X[i * p + j]! * r;
    }
    return c;
  };
  const c0 = corr();
  let C = 0;
  for (let j = 0; j < p; j++) C = Math.max(C, Math.abs(c0[j]!));
  const alphas = [C / n];
  const coefs = [Float64Array.from(beta)];
  const tiny = 1e-12 * Math.max(C, 1e-300);
  let dropped = false;
  for (let iter = 0; iter < maxIter && C > tiny; iter++) {
    const c = corr();
    if (!dropped) {
      let best = -1;
      for (let j = 0; j < p; j++) if (!isActive[j] && (best < 0 || Math.abs(c[j]!) > Math.abs(c[best]!))) best = j;
      if (best < 0) break;
      C = Math.abs(c[best]!);
      active.push(best);
      isActive[best] = 1;
      sign[best] = Math.sign(c[best]!) || 1;
    } else {
      C = 0;
      for (const j of active) C = Math.max(C, Math.abs(c[j]!));
    }
    dropped = false;
    const k = active.length;
    const G = new Float64Array(k * k);
    for (let i = 0; i < n; i++)
      for (let a = 0; a < k; a++) {
        const xa = X[i * p + active[a]!]! * sign[active[a]!]!;
        if (xa === 0) continue;
        for (let b = 0; b < k; b++) G[a * k + b]! += xa * X[i * p + active[b]!]! * sign[active[b]!]!;
      }
    const w0 = solve(G, new Float64Array(k).fill(1), k);
    if (!w0) {
      // collinear entry: undo it and stop (sklearn warns and stops early too)
      const j = active.pop()!;
      isActive[j] = 0;
      break;
    }
    let s = 0;
    for (let a = 0; a < k; a++) s += w0[a]!;
    if (!(s > 0)) break;
    const AA = 1 / Math.sqrt(s);
    const w = w0.map((v) => v * AA);
    const u = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let a = 0; a < k; a++) u[i]! += X[i * p + active[a]!]! * sign[active[a]!]! * w[a]!;
    let gamma = C / AA;
    for (let j = 0; j < p; j++) {
      if (isActive[j]) continue;
      let aj = 0;
      for (let i = 0; i < n; i++) aj += X[i * p + j]! * u[i]!;
      for (const g of [(C - c[j]!) / (AA - aj), (C + c[j]!) / (AA + aj)]) if (g > 1e-15 && g < gamma) gamma = g;
    }
    let drop = -1;
    for (let a = 0; a < k; a++) {
      const j = active[a]!;
      const z = -beta[j]! / (sign[j]! * w[a]!);
      if (z > 1e-15 && z < gamma) {
        gamma = z;
        drop = a;
      }
    }
    for (let a = 0; a < k; a++) beta[active[a]!]! += gamma * sign[active[a]!]! * w[a]!;
    for (let i = 0; i < n; i++) resid[i]! -= gamma * u[i]!;
    if (drop >= 0) {
      const j = active[drop]!;
      beta[j] = 0;
      isActive[j] = 0;
      active.splice(drop, 1);
      dropped = true;
    }
    C = Math.max(0, C - gamma * AA);
    alphas.push(C / n);
    coefs.push(Float64Array.from(beta));
    // every column active: the step went all the way to the least-squares fit (alpha 0)
    if (!dropped && active.length === Math.min(p, n)) break;
  }
  return { alphas, coefs };
}

export interface LassoLarsIC {
  coef: Float64Array;
  criterion: number[];
  noiseVariance: number;
  path: LarsPath;
}

/**
 * LassoLarsIC (scikit-learn 1.2 defaults: intercept fitted by centring, no normalisation, the noise
 * variance from the least-squares fit with n − p − 1 degrees of freedom): the knot of the lasso path
 * minimising n·log(2πσ²) + RSS/σ² + c·df, c = 2 (AIC) or log n (BIC).
 */
export function lassoLarsIC(X: Float64Array, y: Float64Array, n: number, p: number, criterion: 'aic' | 'bic' = 'aic'): LassoLarsIC {
  if (n <= p + 1) throw new Error(`LassoLarsIC needs more rows (${n}) than columns + 1 (${p + 1}) to estimate the noise variance`);
  const Xc = new Float64Array(n * p);
  const yc = new Float64Array(n);
  const xm = new Float64Array(p);
  let ym = 0;
  for (let i = 0; i < n; i++) {
    ym += y[i]!;
    for (let j = 0; j < p; j++) xm[j]! += X[i * p + j]!;
  }
  ym /= n;
  for (let j = 0; j < p; j++) xm[j]! /= n;
  for (let i = 0; i < n; i++) {
    yc[i] = y[i]! - ym;
    for (let j = 0; j < p; j++) Xc[i * p + j] = X[i * p + j]! - xm[j]!;
  }
  const path = larsLassoPath(Xc, yc, n, p);
  const rss = (b: Float64Array) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      let r = yc[i]!;
      for (let j = 0; j < p; j++) r -= Xc[i * p + j]! * b[j]!;
      s += r * r;
    }
    return s;
  };
  // noise variance from ordinary least squares
  const G = new Float64Array(p * p);
  const xty = new Float64Array(p);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < p; a++) {
      xty[a]! += Xc[i * p + a]! * yc[i]!;
      for (let b = 0; b < p; b++) G[a * p + b]! += Xc[i * p + a]! * Xc[i * p + b]!;
    }
  const ols = solve(G, xty, p) ?? path.coefs[path.coefs.length - 1]!;
  const noiseVariance = rss(ols) / (n - p - 1);
  // an exact fit (no noise) makes every criterion −∞: keep the least-squares end of the path
  if (!(noiseVariance > 1e-300)) return { coef: path.coefs[path.coefs.length - 1]!, criterion: path.coefs.map(() => -Infinity), noiseVariance, path };
  const factor = criterion === 'aic' ? 2 : Math.log(n);
  const eps = 2.220446049250313e-16;
  const crit = path.coefs.map((b) => {
    let df = 0;
    for (let j = 0; j < p; j++) if (Math.abs(b[j]!) > eps) df++;
    return n * Math.log(2 * Math.PI * noiseVariance) + rss(b) / noiseVariance + factor * df;
  });
  let best = 0;
  for (let k = 1; k < crit.length; k++) if (crit[k]! < crit[best]!) best = k;
  return { coef: path.coefs[best]!, criterion: crit, noiseVariance, path };
}
