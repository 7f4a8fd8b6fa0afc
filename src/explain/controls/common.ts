/**
 * Control "explanations": maps that know nothing about the model (random, image edges, constant), run
 * beside the real methods so that every score can be read against what such a map scores (Quantus'
 * "Control Var." methods; pytorch-grad-cam's sanity baselines). They share targets and logits with the
 * real methods (so an audit can line them up) and reduce channels by their mean, as Quantus does.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { type Attribution, type Target, batchLayout } from '../types.js';
import { targetsOf } from '../saliency.js';

/** The Attribution of a control map `map` [N, ...spatial] (non-negative unless said). */
export async function controlAttribution(method: string, model: Model, inputs: Tensor, target: Target, map: Float32Array, extra: Attribution['extra'] = {}): Promise<Attribution> {
  const { targets, logits } = await targetsOf(model, inputs, target);
  const { n, spatial } = batchLayout(inputs.shape);
  return {
    method,
    map: new Tensor(map, [n, ...spatial]),
    signed: false,
    targets,
    logits: logits ?? (await model.forward(inputs)),
    extra: { control: 1, ...extra },
  };
}

/** The mean over channels of `v` [N, C, voxels] → [N, voxels]. */
export function channelMean(v: Float32Array, n: number, c: number, voxels: number): Float32Array {
  const out = new Float32Array(n * voxels);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < voxels; p++) {
      let s = 0;
      for (let ch = 0; ch < c; ch++) s += v[(i * c + ch) * voxels + p]!;
      out[i * voxels + p] = s / c;
    }
  }
  return out;
}
