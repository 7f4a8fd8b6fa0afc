/**
 * Non-negative matrix factorisation X ≈ W·H (X [n, m] ≥ 0, W [n, k], H [k, m]) as scikit-learn 1.2 computes it
 * with its defaults (`NMF(n_components=k, init='random', random_state=seed)`: solver 'cd', Frobenius loss,
 * tol 1e-4, at most 200 iterations, no regularisation, no shuffling):
 *   - init 'random': a = √(mean(X)/k); H = a·|N(0,1)| [k, m] then W = a·|N(0,1)| [n, k], drawn from NumPy's
 *     RandomState(seed) (tensor/numpy-random.ts) — so the factors start where scikit-learn's do;
 *   - each iteration: coordinate descent on W given H (`_update_cdnmf_fast` with HHᵀ and XHᵀ), then on Hᵀ given W,
 *     each coordinate w ← max(0, w − g/h) with g the gradient and h the Hessian's diagonal; the projected-gradient
 *     violation summed; stop when it falls to tol × the first iteration's.
 * Arithmetic in float32 as scikit-learn runs it on float32 activations (its Cython kernel is typed `floating`);
 * the Gram products are summed in order here, not by BLAS, so factors agree to float32 rounding.
 */
import { NumpyRandomState } from '../tensor/numpy-random.js';

const f = Math.fround;

function gram(A: Float32Array, rows: number, k: number): Float32Array {
  // AᵀA [k, k] for A [rows, k]
  const out = new Float32Array(k * k);
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) {
    let s = 0;
    for (let r = 0; r < rows; r++) s = f(s + f(A[r * k + a]! * A[r * k + b]!));
    out[a * k + b] = s;
  }
  return out;
}

/** One sweep over W [n, k] (row-major) given HHt [k, k] and XHt [n, k]; returns the violation. */
function sweep(W: Float32Array, HHt: Float32Array, XHt: Float32Array, n: number, k: number): number {
  let violation = 0;
  for (let t = 0; t < k; t++) {
    const hess = HHt[t * k + t]!;
    for (let i = 0; i < n; i++) {
      let grad = f(-XHt[i * k + t]!);
      for (let r = 0; r < k; r++) grad = f(grad + f(HHt[t * k + r]! * W[i * k + r]!));
      const pg = W[i * k + t] === 0 ? Math.min(0, grad) : grad;
      violation = f(violation + Math.abs(pg));
      if (hess !== 0) W[i * k + t] = Math.max(f(W[i * k + t]! - f(grad / hess)), 0);
    }
  }
  return violation;
}

/** X [n, m] row-major (≥ 0). W [n, k], H [k, m], both row-major; iterations run. */
export function nmf(X: Float32Array, n: number, m: number, k: number, opts: { seed?: number; tol?: number; maxIter?: number } = {}): { W: Float32Array; H: Float32Array; iterations: number } {
  let mean = 0;
  for (const v of X) {
    if (v < 0 || !Number.isFinite(v)) throw new Error(`nmf: the matrix must be finite and non-negative, found ${v}`);
    mean += v;
  }
  mean /= X.length;
  const avg = f(Math.sqrt(mean / k));
  const rng = new NumpyRandomState(opts.seed ?? 0);
  const Hk = Float32Array.from(rng.normal(0, 1, k * m), (v) => Math.abs(f(avg * f(v))));
  const W = Float32Array.from(rng.normal(0, 1, n * k), (v) => Math.abs(f(avg * f(v))));
  // Ht [m, k]
  const Ht = new Float32Array(m * k);
  for (let a = 0; a < k; a++) for (let j = 0; j < m; j++) Ht[j * k + a] = Hk[a * m + j]!;
  const tol = opts.tol ?? 1e-4;
  const maxIter = opts.maxIter ?? 200;
  let first = 0;
  let iterations = 0;
  const XHt = new Float32Array(n * k);
  const XtW = new Float32Array(m * k);
  for (let it = 1; it <= maxIter; it++) {
    iterations = it;
    // W given H: HHt = Htᵀ·Ht, XHt = X·Ht
    const HHt = gram(Ht, m, k);
    for (let i = 0; i < n; i++) for (let a = 0; a < k; a++) {
      let s = 0;
      for (let j = 0; j < m; j++) s = f(s + f(X[i * m + j]! * Ht[j * k + a]!));
      XHt[i * k + a] = s;
    }
    let violation = sweep(W, HHt, XHt, n, k);
    // H given W: on the transposed problem, Ht [m, k] with WᵀW and Xᵀ·W
    const WtW = gram(W, n, k);
    for (let j = 0; j < m; j++) for (let a = 0; a < k; a++) {
      let s = 0;
      for (let i = 0; i < n; i++) s = f(s + f(X[i * m + j]! * W[i * k + a]!));
      XtW[j * k + a] = s;
    }
    violation = f(violation + sweep(Ht, WtW, XtW, m, k));
    if (it === 1) first = violation;
    if (first === 0 || violation / first <= tol) break;
  }
  const H = new Float32Array(k * m);
  for (let a = 0; a < k; a++) for (let j = 0; j < m; j++) H[a * m + j] = Ht[j * k + a]!;
  return { W, H, iterations };
}
