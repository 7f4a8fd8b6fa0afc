/**
 * Weighted Lasso with an intercept, by cyclic coordinate descent — scikit-learn's `Lasso(alpha).fit(X, y,
 * sample_weight=w)` (its `enet_coordinate_descent` with l1_ratio 1), step for step, so that LIME's
 * interpretable model is Captum's `SkLearnLasso`:
 *   minimise (1 / (2 Σw)) Σ_s w_s (y_s − b − x_s·β)² + α ‖β‖₁.
 * The weights are rescaled to sum to the number of samples; X and y are centred on their weighted means
 * and multiplied by √w; then coordinate descent on ½‖y − Xβ‖² + αn‖β‖₁ from β = 0 in column order, a
 * duality-gap check whenever the largest coordinate change falls below tol × the largest coefficient, stopping
 * when the gap is below tol·‖y‖² (tol 1e-4, at most 1000 sweeps, as scikit-learn); b = ȳ − x̄·β.
 * Computed in float64 (scikit-learn keeps float32 inputs in float32: coefficients agree to its rounding).
 */

export interface LassoFit {
  coef: Float64Array;
  intercept: number;
  /** Sweeps run, and whether the duality gap reached the tolerance. */
  iterations: number;
  converged: boolean;
}

/** X is row-major [samples, features]. */
export function lassoFit(X: ArrayLike<number>, y: ArrayLike<number>, w: ArrayLike<number> | undefined, samples: number, features: number, alpha: number, opts: { tol?: number; maxIter?: number } = {}): LassoFit {
  const S = samples;
  const F = features;
  const tol0 = opts.tol ?? 1e-4;
  const maxIter = opts.maxIter ?? 1000;
  const sw = new Float64Array(S).fill(1);
  if (w) {
    let sum = 0;
    for (let s = 0; s < S; s++) sum += w[s]!;
    for (let s = 0; s < S; s++) sw[s] = (w[s]! * S) / sum;
  }
  let swSum = 0;
  for (const v of sw) swSum += v;
  const xMean = new Float64Array(F);
  let yMean = 0;
  for (let s = 0; s < S; s++) {
    yMean += sw[s]! * y[s]!;
    for (let f = 0; f < F; f++) xMean[f]! += sw[s]! * X[s * F + f]!;
  }
  yMean /= swSum;
  for (let f = 0; f < F; f++) xMean[f]! /= swSum;
  // column-major centred, √w-scaled copies
  const Xc = new Float64Array(S * F);
  const yc = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    const r = Math.sqrt(sw[s]!);
    yc[s] = (y[s]! - yMean) * r;
    for (let f = 0; f < F; f++) Xc[f * S + s] = (X[s * F + f]! - xMean[f]!) * r;
  }
  const l1 = alpha * S;
  const norms = new Float64Array(F);
  for (let f = 0; f < F; f++) for (let s = 0; s < S; s++) norms[f]! += Xc[f * S + s]! ** 2;
  const beta = new Float64Array(F);
  const R = Float64Array.from(yc);
  let yy = 0;
  for (const v of yc) yy += v * v;
  const tol = tol0 * yy;
  let iterations = 0;
  let converged = false;
  for (let it = 0; it < maxIter; it++) {
    iterations = it + 1;
    let wMax = 0;
    let dwMax = 0;
    for (let f = 0; f < F; f++) {
      if (norms[f] === 0) continue;
      const col = f * S;
      const old = beta[f]!;
      if (old !== 0) for (let s = 0; s < S; s++) R[s]! += old * Xc[col + s]!;
      let tmp = 0;
      for (let s = 0; s < S; s++) tmp += Xc[col + s]! * R[s]!;
      const next = (Math.sign(tmp) * Math.max(Math.abs(tmp) - l1, 0)) / norms[f]!;
      beta[f] = next;
      if (next !== 0) for (let s = 0; s < S; s++) R[s]! -= next * Xc[col + s]!;
      dwMax = Math.max(dwMax, Math.abs(next - old));
      wMax = Math.max(wMax, Math.abs(next));
    }
    if (wMax === 0 || dwMax / wMax < tol0 || it === maxIter - 1) {
      let dual = 0;
      for (let f = 0; f < F; f++) {
        let v = 0;
        for (let s = 0; s < S; s++) v += Xc[f * S + s]! * R[s]!;
        dual = Math.max(dual, Math.abs(v));
      }
      let rr = 0;
      let ry = 0;
      for (let s = 0; s < S; s++) {
        rr += R[s]! * R[s]!;
        ry += R[s]! * yc[s]!;
      }
      let gap: number;
      let c: number;
      if (dual > l1) {
        c = l1 / dual;
        gap = 0.5 * (rr + rr * c * c);
      } else {
        c = 1;
        gap = rr;
      }
      let norm1 = 0;
      for (const b of beta) norm1 += Math.abs(b);
      gap += l1 * norm1 - c * ry;
      if (gap < tol) {
        converged = true;
        break;
      }
    }
  }
  let intercept = yMean;
  for (let f = 0; f < F; f++) intercept -= xMean[f]! * beta[f]!;
  return { coef: beta, intercept, iterations, converged };
}
