/**
 * XGrad-CAM (Fu et al. 2020), pytorch-grad-cam's `XGradCAM`: channel weights
 * w_k = Σ_ij (G_kij · A_kij) / (Σ_ij A_kij + 1e-7); cam = ReLU(Σ_k w_k A_k).
 * (The 1e-7 is added to the raw sum, as pytorch-grad-cam does; a channel whose activations sum to
 * about −1e-7 is therefore not guarded — the same behaviour as the reference.)
 */
import { type CamMethod, camExplainer } from './base.js';

export const xGradCamMethod: CamMethod = {
  name: 'xgradcam',
  usesGradients: true,
  channelWeights({ a, g, k, voxels: hw }) {
    const out = new Float64Array(k);
    for (let ch = 0; ch < k; ch++) {
      let ga = 0;
      let sa = 0;
      for (let p = 0; p < hw; p++) {
        const i = ch * hw + p;
        ga += g[i]! * a[i]!;
        sa += a[i]!;
      }
      out[ch] = ga / (sa + 1e-7);
    }
    return out;
  },
};

export const xGradCam = camExplainer(xGradCamMethod);
