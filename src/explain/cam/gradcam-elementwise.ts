/**
 * Grad-CAM element-wise (pytorch-grad-cam's `GradCAMElementWise`): the gradient multiplies the activation
 * position by position and only the positive products count, cam = Σ_k ReLU(G_k ⊙ A_k). HiResCAM sums the
 * same products before one ReLU; here each channel's negative evidence is dropped first. With eigenSmooth
 * the map is the first principal component of ReLU(G ⊙ A).
 */
import { type CamMethod, camExplainer } from './base.js';

export const gradCamElementWiseMethod: CamMethod = {
  name: 'gradcamelementwise',
  usesGradients: true,
  weighted({ a, g }) {
    const out = new Float32Array(a.length);
    for (let i = 0; i < a.length; i++) {
      const v = g[i]! * a[i]!;
      out[i] = v > 0 ? v : 0;
    }
    return out;
  },
};

export const gradCamElementWise = camExplainer(gradCamElementWiseMethod);
