/**
 * LayerCAM (Jiang et al. 2021), pytorch-grad-cam's `LayerCAM`: per-pixel weights ReLU(G), so
 * cam = ReLU(Σ_k ReLU(G_k) ⊙ A_k).
 */
import { type CamMethod, camExplainer } from './base.js';

export const layerCamMethod: CamMethod = {
  name: 'layercam',
  usesGradients: true,
  pixelWeights({ g }) {
    const out = new Float64Array(g.length);
    for (let i = 0; i < g.length; i++) out[i] = g[i]! > 0 ? g[i]! : 0;
    return out;
  },
};

export const layerCam = camExplainer(layerCamMethod);
