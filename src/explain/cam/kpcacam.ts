/**
 * KPCA-CAM (Karmani et al. 2024; pytorch-grad-cam's `KPCA_CAM`): Eigen-CAM with kernel PCA. No gradients.
 * Per image, X = the activations as an [h·w, K] matrix centred per channel (as Eigen-CAM); the kernel
 * matrix K_pq = κ(x_p, x_q) of the h·w positions is centred (scikit-learn's KernelCenterer:
 * K − row means − column means + overall mean), and the map is the first kernel principal component,
 * α₁·√λ₁ with (λ₁, α₁) the largest eigenvalue of the centred kernel and its unit eigenvector
 * (scikit-learn's `KernelPCA(n_components=1).fit_transform`). Kernels as scikit-learn's, with
 * γ = 1/K (channels) unless given and coef0 = 1, degree 3:
 *   sigmoid (default) tanh(γ⟨x,y⟩ + coef0) · rbf exp(−γ‖x−y‖²) · poly (γ⟨x,y⟩ + coef0)^degree ·
 *   linear ⟨x,y⟩ · cosine ⟨x,y⟩/(‖x‖‖y‖).
 * Sign: scikit-learn's `svd_flip` on the eigenvector — its entry of largest magnitude is made positive
 * (deterministic, so candor's maps are pytorch-grad-cam's, unlike Eigen-CAM's LAPACK sign).
 * Eigenvector: cyclic Jacobi in float64 up to 600 positions; beyond, power iteration on the kernel shifted
 * by its Gershgorin bound (largest algebraic eigenvalue, as scikit-learn's eigsh/eigh), to a residual
 * ‖Kv − λv‖ ≤ 1e-12 of the bound (at most 20 000 iterations).
 * Options: `kernel` (sigmoid), `gamma`, `coef0` (1), `degree` (3).
 */
import { type CamMethod, camExplainer } from './base.js';
import { topEigenvector } from './eigencam.js';

const KERNELS = ['sigmoid', 'rbf', 'poly', 'linear', 'cosine'] as const;
type Kernel = (typeof KERNELS)[number];

function settings(o: Readonly<Record<string, unknown>>, channels: number): { kernel: Kernel; gamma: number; coef0: number; degree: number } {
  return {
    kernel: (o.kernel ?? 'sigmoid') as Kernel,
    gamma: o.gamma === undefined || o.gamma === null ? 1 / channels : Number(o.gamma),
    coef0: o.coef0 === undefined ? 1 : Number(o.coef0),
    degree: o.degree === undefined ? 3 : Number(o.degree),
  };
}

/** The centred kernel matrix [n, n] of the rows of x (n positions × k channels, stored channel-major x[ch*n + p]). */
export function centredKernel(x: Float64Array, n: number, k: number, s: ReturnType<typeof settings>): Float64Array {
  const m = new Float64Array(n * n);
  const sq = new Float64Array(n);
  for (let ch = 0; ch < k; ch++) for (let p = 0; p < n; p++) sq[p]! += x[ch * n + p]! ** 2;
  for (let p = 0; p < n; p++) {
    for (let q = p; q < n; q++) {
      let dot = 0;
      for (let ch = 0; ch < k; ch++) dot += x[ch * n + p]! * x[ch * n + q]!;
      let v: number;
      switch (s.kernel) {
        case 'sigmoid': v = Math.tanh(s.gamma * dot + s.coef0); break;
        case 'rbf': v = Math.exp(-s.gamma * Math.max(sq[p]! + sq[q]! - 2 * dot, 0)); break;
        case 'poly': v = (s.gamma * dot + s.coef0) ** s.degree; break;
        case 'linear': v = dot; break;
        case 'cosine': { const d = Math.sqrt(sq[p]! * sq[q]!); v = d > 0 ? dot / d : 0; break; }
      }
      m[p * n + q] = v;
      m[q * n + p] = v;
    }
  }
  const rowMean = new Float64Array(n);
  let all = 0;
  for (let p = 0; p < n; p++) {
    let r = 0;
    for (let q = 0; q < n; q++) r += m[p * n + q]!;
    rowMean[p] = r / n;
    all += r;
  }
  all /= n * n;
  for (let p = 0; p < n; p++) for (let q = 0; q < n; q++) m[p * n + q] = m[p * n + q]! - rowMean[p]! - rowMean[q]! + all;
  return m;
}

/** Largest algebraic eigenpair of a symmetric matrix (destroyed by the Jacobi path). */
export function topEigenpair(m: Float64Array, n: number): { value: number; vector: Float64Array } {
  if (n <= 600) return topEigenvector(m, n);
  let shift = 0;
  for (let p = 0; p < n; p++) {
    let r = 0;
    for (let q = 0; q < n; q++) r += Math.abs(m[p * n + q]!);
    shift = Math.max(shift, r);
  }
  let v = Float64Array.from({ length: n }, (_, p) => 1 + ((p * 7919) % 97) / 97);
  let value = 0;
  const mv = new Float64Array(n);
  for (let it = 0; it < 20000; it++) {
    let len = 0;
    for (const e of v) len += e * e;
    len = Math.sqrt(len);
    for (let p = 0; p < n; p++) v[p]! /= len;
    value = 0;
    for (let p = 0; p < n; p++) {
      let r = 0;
      for (let q = 0; q < n; q++) r += m[p * n + q]! * v[q]!;
      mv[p] = r;
      value += r * v[p]!;
    }
    let res = 0;
    for (let p = 0; p < n; p++) res += (mv[p]! - value * v[p]!) ** 2;
    if (Math.sqrt(res) <= 1e-12 * shift) break;
    const next = new Float64Array(n);
    for (let p = 0; p < n; p++) next[p] = mv[p]! + shift * v[p]!;
    v = next;
  }
  return { value, vector: v };
}

export const kpcaCamMethod: CamMethod = {
  name: 'kpcacam',
  usesGradients: false,
  validate(o) {
    if (o.kernel !== undefined && !KERNELS.includes(o.kernel as Kernel)) throw new Error(`kpcacam: option kernel must be one of ${KERNELS.join(', ')}, got '${String(o.kernel)}'`);
    for (const key of ['gamma', 'coef0', 'degree']) {
      if (o[key] !== undefined && o[key] !== null && !Number.isFinite(Number(o[key]))) throw new Error(`kpcacam: option ${key} must be a number, got '${String(o[key])}'`);
    }
  },
  cam({ a, k, voxels: n, options }) {
    const x = new Float64Array(k * n);
    for (let ch = 0; ch < k; ch++) {
      let mean = 0;
      for (let p = 0; p < n; p++) mean += Number.isNaN(a[ch * n + p]!) ? 0 : a[ch * n + p]!;
      mean /= n;
      for (let p = 0; p < n; p++) x[ch * n + p] = (Number.isNaN(a[ch * n + p]!) ? 0 : a[ch * n + p]!) - mean;
    }
    const { value, vector } = topEigenpair(centredKernel(x, n, k, settings(options, k)), n);
    let big = 0;
    for (let p = 1; p < n; p++) if (Math.abs(vector[p]!) > Math.abs(vector[big]!)) big = p;
    const scale = Math.sqrt(Math.max(value, 0)) * (vector[big]! < 0 ? -1 : 1);
    return Float64Array.from(vector, (e) => e * scale);
  },
};

export const kpcaCam = camExplainer(kpcaCamMethod);
