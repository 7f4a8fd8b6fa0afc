/**
 * Grad-CAM++ (Chattopadhay et al. 2018), pytorch-grad-cam's `GradCAMPlusPlus`:
 *
 *   α_kij = G² / (2·G² + (Σ_ab A_kab)·G³ + 1e-6),   α = 0 where G = 0
 *   w_k   = Σ_ij ReLU(G_kij) · α_kij
 *   cam   = ReLU(Σ_k w_k A_k)
 *
 * with G = ∂y_c/∂A, the higher derivatives taken as powers of the first (exact when y_c is
 * piecewise linear in A: ReLU networks with a linear head).
 *
 * Where this differs from the paper: the paper explains Y = exp(y_c). For piecewise-linear y_c its
 * n-th derivatives are exp(y_c)·Gⁿ, so the exp(y_c) factor cancels in α (eq. 19 is the α above) and
 * only scales the weights, w_k^paper = exp(y_c)·w_k — a positive factor per image that the min–max
 * scaling removes, so `map` is the same; only the unscaled `extra.raw` differs by that factor.
 * The paper has no 1e-6 in the denominator and leaves α undefined (0/0) where G = 0; pytorch-grad-cam
 * (and candor) set it to 0 there.
 */
import { type CamMethod, camExplainer } from './base.js';

export const gradCamPlusPlusMethod: CamMethod = {
  name: 'gradcampp',
  usesGradients: true,
  channelWeights({ a, g, k, voxels: hw }) {
    const out = new Float64Array(k);
    for (let ch = 0; ch < k; ch++) {
      let sumA = 0;
      for (let p = 0; p < hw; p++) sumA += a[ch * hw + p]!;
      let wk = 0;
      for (let p = 0; p < hw; p++) {
        const gi = g[ch * hw + p]!;
        if (gi <= 0) continue; // ReLU(G)·α is 0 for G ≤ 0 (α itself is 0 where G = 0)
        const g2 = gi * gi;
        const alpha = g2 / (2 * g2 + sumA * g2 * gi + 1e-6);
        wk += gi * alpha;
      }
      out[ch] = wk;
    }
    return out;
  },
};

export const gradCamPlusPlus = camExplainer(gradCamPlusPlusMethod);
