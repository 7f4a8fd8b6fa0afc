/**
 * FEM, the Feature Explanation Method (Fuad et al., IPTA 2020; pytorch-grad-cam's `FEM`): no gradients.
 * Per image and channel, the activations above mean + k·σ (σ the population standard deviation over the
 * channel's positions, NumPy's `std`) are the channel's strong responses; the channel's weight is the
 * fraction of its positions that are strong, and cam = Σ_k w_k A_k. Option `k` (default 2: the k-sigma rule).
 */
import { type CamMethod, camExplainer } from './base.js';

function sigmas(options: Readonly<Record<string, unknown>>): number {
  return options.k === undefined ? 2 : Number(options.k);
}

export const femMethod: CamMethod = {
  name: 'fem',
  usesGradients: false,
  validate(options) {
    const k = sigmas(options);
    if (!Number.isFinite(k)) throw new Error(`fem: option k must be a number (the threshold in standard deviations), got '${String(options.k)}'`);
  },
  channelWeights({ a, k, voxels, options }) {
    const sig = sigmas(options);
    const w = new Float64Array(k);
    for (let ch = 0; ch < k; ch++) {
      const off = ch * voxels;
      let mean = 0;
      for (let p = 0; p < voxels; p++) mean += a[off + p]!;
      mean /= voxels;
      let v = 0;
      for (let p = 0; p < voxels; p++) v += (a[off + p]! - mean) ** 2;
      // NumPy computes the threshold in float32 for float32 activations; the comparison is against that value
      const th = Math.fround(Math.fround(mean) + Math.fround(sig * Math.fround(Math.sqrt(v / voxels))));
      let above = 0;
      for (let p = 0; p < voxels; p++) if (a[off + p]! > th) above++;
      w[ch] = above / voxels;
    }
    return w;
  },
};

export const fem = camExplainer(femMethod);
