/**
 * Grad-CAM (Selvaraju et al. 2017), pytorch-grad-cam's `GradCAM`: channel weights are the spatial
 * mean of the gradients, w_k = (1/hw) Σ_ij ∂y_c/∂A_kij; cam = ReLU(Σ_k w_k A_k), scaled and resized
 * by the CAM base.
 */
import { type CamMethod, camExplainer } from './base.js';

export const gradCamMethod: CamMethod = {
  name: 'gradcam',
  usesGradients: true,
  channelWeights({ g, k, voxels: hw }) {
    const out = new Float64Array(k);
    for (let ch = 0; ch < k; ch++) {
      let s = 0;
      for (let p = 0; p < hw; p++) s += g[ch * hw + p]!;
      out[ch] = s / hw;
    }
    return out;
  },
};

export const gradCam = camExplainer(gradCamMethod);
