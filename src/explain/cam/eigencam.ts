/**
 * Eigen-CAM (Muhammad & Yeasin 2020), pytorch-grad-cam's `EigenCAM` (`get_2d_projection`): per image,
 * X = the activations as an [h·w, K] matrix, centred per channel (column means subtracted), and the
 * map is the projection X·v₁ on the first right singular vector v₁ (numpy's `VT[0, :]`); then the CAM
 * base's ReLU, scaling and resizing. No gradients are used (the target only labels the result).
 *
 * Computation: v₁ is the top eigenvector of the smaller Gram matrix — XᵀX [K,K], or XXᵀ [hw,hw], whose
 * top eigenvector u₁ gives X·v₁ = σ₁·u₁ — by cyclic Jacobi in float64.
 *
 * Sign: a singular vector's sign is arbitrary. pytorch-grad-cam keeps whatever LAPACK's SVD returns
 * (not specified; for a map that comes out negative the ReLU leaves almost nothing). Candor fixes it
 * deterministically: the projection is oriented to correlate positively with the channel-summed
 * activation Σ_k A_k, so the map highlights where the layer is most active. Where LAPACK happens to
 * return the other sign, pytorch-grad-cam's map is the ReLU of the negated projection instead.
 */
import { type CamMethod, camExplainer } from './base.js';

/** Top eigenvector of a symmetric n×n matrix (row-major, float64; destroyed) by cyclic Jacobi. */
export function topEigenvector(m: Float64Array, n: number): { value: number; vector: Float64Array } {
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      diag += m[i * n + i]! * m[i * n + i]!;
      for (let j = i + 1; j < n; j++) off += m[i * n + j]! * m[i * n + j]!;
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]!;
        if (apq === 0) continue;
        const app = m[p * n + p]!;
        const aqq = m[q * n + q]!;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p]!;
          const mkq = m[k * n + q]!;
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k]!;
          const mqk = m[q * n + k]!;
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  let best = 0;
  for (let i = 1; i < n; i++) if (m[i * n + i]! > m[best * n + best]!) best = i;
  const vector = new Float64Array(n);
  for (let k = 0; k < n; k++) vector[k] = v[k * n + best]!;
  return { value: m[best * n + best]!, vector };
}

/** The first-principal-component projection of activations a [K, hw] (pytorch-grad-cam's get_2d_projection), sign-fixed. */
export function firstComponentProjection(a: Float32Array, k: number, hw: number): Float64Array {
  // X [hw, K] centred per channel, stored channel-major: x[ch*hw + p]
  const x = new Float64Array(k * hw);
  for (let ch = 0; ch < k; ch++) {
    let mean = 0;
    for (let p = 0; p < hw; p++) mean += Number.isNaN(a[ch * hw + p]!) ? 0 : a[ch * hw + p]!;
    mean /= hw;
    for (let p = 0; p < hw; p++) {
      const v = a[ch * hw + p]!;
      x[ch * hw + p] = (Number.isNaN(v) ? 0 : v) - mean;
    }
  }
  const proj = new Float64Array(hw);
  if (hw <= k) {
    // XXᵀ [hw, hw]; X·v₁ = σ₁·u₁
    const g = new Float64Array(hw * hw);
    for (let ch = 0; ch < k; ch++) {
      const o = ch * hw;
      for (let i = 0; i < hw; i++) {
        const xi = x[o + i]!;
        if (xi === 0) continue;
        for (let j = i; j < hw; j++) g[i * hw + j]! += xi * x[o + j]!;
      }
    }
    for (let i = 0; i < hw; i++) for (let j = 0; j < i; j++) g[i * hw + j] = g[j * hw + i]!;
    const { value, vector } = topEigenvector(g, hw);
    const sigma = Math.sqrt(Math.max(value, 0));
    for (let p = 0; p < hw; p++) proj[p] = sigma * vector[p]!;
  } else {
    // XᵀX [K, K]; projection X·v₁
    const g = new Float64Array(k * k);
    for (let i = 0; i < k; i++) {
      for (let j = i; j < k; j++) {
        let s = 0;
        for (let p = 0; p < hw; p++) s += x[i * hw + p]! * x[j * hw + p]!;
        g[i * k + j] = s;
        g[j * k + i] = s;
      }
    }
    const { vector } = topEigenvector(g, k);
    for (let ch = 0; ch < k; ch++) {
      const vc = vector[ch]!;
      for (let p = 0; p < hw; p++) proj[p]! += x[ch * hw + p]! * vc;
    }
  }
  // Sign: correlate positively with the channel-summed activation.
  let corr = 0;
  for (let ch = 0; ch < k; ch++) for (let p = 0; p < hw; p++) corr += proj[p]! * (Number.isNaN(a[ch * hw + p]!) ? 0 : a[ch * hw + p]!);
  if (corr < 0) for (let p = 0; p < hw; p++) proj[p] = -proj[p]!;
  return proj;
}

export const eigenCamMethod: CamMethod = {
  name: 'eigencam',
  usesGradients: false,
  cam({ a, k, voxels }) {
    return firstComponentProjection(a, k, voxels);
  },
};

export const eigenCam = camExplainer(eigenCamMethod);
