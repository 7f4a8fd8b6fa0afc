/**
 * Guided Grad-CAM (Selvaraju et al. 2017): Guided Backprop multiplied by an upsampled Grad-CAM.
 *
 *   attributions[n,c,i,j] = GB[n,c,i,j] · U(cam_n)[i,j]
 *
 * with GB the Guided Backprop gradient of the target logit (guided-backprop.ts) and cam the Grad-CAM
 * of `layer`, by `cam`:
 *  - 'captum' (default, Captum `GuidedGradCam`): cam = ReLU(Σ_k w_k A_k), w_k the spatial mean of
 *    ∂y_t/∂A_k, **not** scaled, and U = nearest-neighbour upsampling (`F.interpolate(mode='nearest')`:
 *    src = floor(dst · in / out)). One layer only.
 *  - 'pytorch-grad-cam' (its README's recipe `cam_mask * gb`): cam = pytorch-grad-cam's Grad-CAM map,
 *    ReLU'd, min–max scaled to [0,1] and bilinearly resized (cam/gradcam.ts; several layers allowed).
 *
 * Signed; the map is the channel sum (DESIGN.md §3).
 */
import { Tensor } from '../tensor/tensor.js';
import type { Model } from '../runtime/model.js';
import { type Attribution, type Target, reduceChannels, batchLayout } from './types.js';
import { targetsOf } from './saliency.js';
import { modifiedGradients } from './guided-backprop.js';
import { gradCam } from './cam/gradcam.js';
import type { CamOptions } from './cam/base.js';

export interface GuidedGradCamOptions extends CamOptions {
  /** Which Grad-CAM multiplies Guided Backprop (default 'captum'). */
  cam?: 'captum' | 'pytorch-grad-cam';
}

/** Nearest-neighbour upsampling of [N,h,w] to [N,H,W] (or [N,d,h,w] to [N,D,H,W]) as PyTorch's mode='nearest'. */
export function upsampleNearest(t: Tensor, ...to: number[]): Float32Array {
  const [n, ...from] = t.shape as number[];
  if (from.length !== to.length) throw new Error(`upsampleNearest: [${t.shape}] has ${from.length} spatial axes, target ${to.length}`);
  const src = from.map((f, a) => Int32Array.from({ length: to[a]! }, (_, y) => Math.min(f - 1, Math.floor((y * f) / to[a]!))));
  const inVox = from.reduce((x, y) => x * y, 1);
  const outVox = to.reduce((x, y) => x * y, 1);
  const out = new Float32Array(n! * outVox);
  const idx = new Array<number>(to.length).fill(0);
  for (let p = 0; p < outVox; p++) {
    let q = 0;
    for (let a = 0; a < to.length; a++) q = q * from[a]! + src[a]![idx[a]!]!;
    for (let i = 0; i < n!; i++) out[i * outVox + p] = t.data[i * inVox + q]!;
    for (let a = to.length - 1; a >= 0; a--) {
      if (++idx[a]! < to[a]!) break;
      idx[a] = 0;
    }
  }
  return out;
}

export async function guidedGradCam(model: Model, inputs: Tensor, target: Target, options: GuidedGradCamOptions = {}): Promise<Attribution> {
  const mode = options.cam ?? 'captum';
  if (mode !== 'captum' && mode !== 'pytorch-grad-cam') throw new Error(`guidedgradcam: unknown cam '${mode as string}' (valid: captum, pytorch-grad-cam)`);
  if (mode === 'captum' && Array.isArray(options.layer) && options.layer.length > 1) {
    throw new Error(`guidedgradcam: cam 'captum' takes one layer, got ${options.layer.length} (use cam 'pytorch-grad-cam' to aggregate layers)`);
  }
  const { targets } = await targetsOf(model, inputs, target);
  const { n, c, spatial, voxels: HW } = batchLayout(inputs.shape);
  const gc = await gradCam(model, inputs, targets, { layer: options.layer, batchSize: options.batchSize });
  const { grad } = await modifiedGradients(model, inputs, targets, 'guided', options);
  const up = mode === 'captum' ? upsampleNearest(gc.extra!.raw as Tensor, ...spatial) : gc.map.data;
  const out = new Float32Array(n * c * HW);
  for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < HW; p++) out[(i * c + ch) * HW + p] = grad.data[(i * c + ch) * HW + p]! * up[i * HW + p]!;
  const attributions = new Tensor(out, inputs.shape);
  options.onProgress?.(1, 1);
  return { method: 'guided_gradcam', attributions, map: reduceChannels(attributions, 'sum'), signed: true, targets, logits: gc.logits, extra: { cam: mode, layers: gc.extra!.layers as string, gradcam: gc.extra!.raw as Tensor } };
}
