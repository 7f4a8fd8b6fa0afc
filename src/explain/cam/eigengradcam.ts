/**
 * EigenGrad-CAM (pytorch-grad-cam's `EigenGradCAM`): Eigen-CAM's first-principal-component projection
 * (eigencam.ts), of the gradient-weighted activations G ⊙ A instead of A, so the map follows the target
 * class. The sign of the component is fixed as in Eigen-CAM — toward Σ_k G_k ⊙ A_k here (HiResCAM's map),
 * where pytorch-grad-cam keeps LAPACK's arbitrary sign. As in pytorch-grad-cam, eigenSmooth changes nothing.
 */
import { type CamMethod, camExplainer } from './base.js';
import { firstComponentProjection } from './eigencam.js';

export const eigenGradCamMethod: CamMethod = {
  name: 'eigengradcam',
  usesGradients: true,
  cam({ a, g, k, voxels }) {
    const w = new Float32Array(a.length);
    for (let i = 0; i < a.length; i++) w[i] = g[i]! * a[i]!;
    return firstComponentProjection(w, k, voxels);
  },
};

export const eigenGradCam = camExplainer(eigenGradCamMethod);
