/**
 * Sobel control (Quantus 0.6 "Control Var. Sobel Filter"): per image [C, ...spatial],
 * clip(scipy.ndimage.sobel(x), 0, 1), then the mean over channels. SciPy's sobel with its defaults is a
 * derivative [−1, 0, 1] along the *last* axis and a smoothing [1, 2, 1] along every other axis — the
 * channel axis included — with 'reflect' borders (half-sample symmetric: x[−1] = x[0]), each pass rounded to
 * the input's float32 as SciPy does; the clip keeps only rising edges in [0, 1]. Those are Quantus' choices
 * and are kept so that scores equal Quantus' controls; the map is an image-edge map that knows nothing of
 * the model. Equal to SciPy on 2-D and 3-D inputs (controls.test.ts).
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { type Attribution, type ExplainOptions, type Target, batchLayout } from '../types.js';
import { channelMean, controlAttribution } from './common.js';

/** scipy.ndimage.correlate1d(v, w (3 taps), axis, mode='reflect') on an array of shape `dims`, into float32. */
function correlate3(v: Float32Array, dims: readonly number[], axis: number, w: readonly [number, number, number]): Float32Array {
  const len = dims[axis]!;
  let inner = 1;
  for (let a = axis + 1; a < dims.length; a++) inner *= dims[a]!;
  const outer = v.length / (len * inner);
  const out = new Float32Array(v.length);
  const at = (i: number) => (i < 0 ? -i - 1 : i >= len ? 2 * len - i - 1 : i);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < len; i++) {
      const lo = at(i - 1);
      const hi = at(i + 1);
      for (let q = 0; q < inner; q++) {
        const b = o * len * inner + q;
        out[b + i * inner] = w[0] * v[b + lo * inner]! + w[1] * v[b + i * inner]! + w[2] * v[b + hi * inner]!;
      }
    }
  }
  return out;
}

/** The Sobel control maps [N, ...spatial] of a batch [N, C, ...spatial] (no model needed). */
export function sobelMaps(inputs: Tensor): Float32Array {
  const { n, c, spatial, voxels, size } = batchLayout(inputs.shape);
  const dims = [c, ...spatial];
  const x = inputs.data as Float32Array;
  const edges = new Float32Array(n * size);
  for (let i = 0; i < n; i++) {
    let v = correlate3(x.subarray(i * size, (i + 1) * size), dims, dims.length - 1, [-1, 0, 1]);
    for (let a = 0; a < dims.length - 1; a++) v = correlate3(v, dims, a, [1, 2, 1]);
    for (let p = 0; p < size; p++) edges[i * size + p] = Math.min(1, Math.max(0, v[p]!));
  }
  return channelMean(edges, n, c, voxels);
}

export async function sobelControl(model: Model, inputs: Tensor, target: Target, _options: ExplainOptions = {}): Promise<Attribution> {
  return controlAttribution('sobel', model, inputs, target, sobelMaps(inputs));
}
