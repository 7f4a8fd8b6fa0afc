/**
 * HiResCAM (Draelos & Carin 2020), pytorch-grad-cam's `HiResCAM`: element-wise G ⊙ A summed over
 * channels, cam = ReLU(Σ_k G_k ⊙ A_k). (Grad-CAM averages G spatially first; HiResCAM does not.)
 */
import { type CamMethod, camExplainer } from './base.js';

export const hiResCamMethod: CamMethod = {
  name: 'hirescam',
  usesGradients: true,
  pixelWeights({ g }) {
    return Float64Array.from(g);
  },
};

export const hiResCam = camExplainer(hiResCamMethod);
