/**
 * IROF, Iterative Removal Of Features (Rieger & Hansen 2020; Quantus `IROF`): the image's superpixels are
 * ordered by their mean attribution (over channels and pixels, highest first) and removed cumulatively; after
 * each removal the target's probability relative to the original, p_t/p_0, is recorded; the score is the area
 * over that curve, T − trapz(p_t/p_0) (T = the image's segment count; unit spacing). A faithful map makes the
 * probability fall early and the area large. Quantus details reproduced: a removed superpixel takes the
 * 'mean' of the **whole perturbed batch** at that step (Quantus' `baseline_replacement_by_mask` computes the
 * mean over every axis of the array it is given, the batch) — so an image's score depends on its batch
 * companions; step t removes every image's t-th segment at once. Segments: Quantus runs scikit-image's
 * `slic(img, start_label=0)`; pass the same ids in `segments` ([N, H, W]) for Quantus' numbers, or candor's
 * SLIC (explain/superpixels.ts, not scikit-image's) is used with ~100 segments. Quantus defaults: abs false,
 * normalise true, softmax true.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { slic } from '../../explain/superpixels.js';
import { broadcastRows, scoreCopies, type RemovalOptions } from './removal.js';

export interface IrofOptions extends Omit<RemovalOptions, 'featuresInStep' | 'baseline'> {
  /** Superpixel ids per image [N, H, W] (default: candor's SLIC, ~100 segments). */
  segments?: Tensor;
}

/** candor's default superpixels for IROF: SLIC with ~100 segments per image, [N, H, W] (compute once per batch). */
export function irofSegments(x: Tensor): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const out = new Float32Array(n * h * w);
  for (let i = 0; i < n; i++) out.set(slic((x.data as Float32Array).subarray(i * c * h * w, (i + 1) * c * h * w), c, h, w, { segments: 100 }), i * h * w);
  return new Tensor(out, [n, h, w]);
}

export async function irof(model: Model, x: Tensor, targets: readonly number[], a: ArrayLike<number>, opts: IrofOptions = {}): Promise<number[]> {
  if (x.shape.length !== 4) throw new Error(`irof: superpixels need images [N, C, H, W], got [${x.shape.join(', ')}]`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const hw = h * w;
  const size = c * hw;
  const xs = x.data as Float32Array;
  const rows = broadcastRows(a, x, { abs: opts.abs ?? false, normalise: opts.normalise });
  const given = opts.segments ?? irofSegments(x);
  if (given.data.length !== n * hw) throw new Error(`irof: segments must be [${n}, ${h}, ${w}], got [${given.shape.join(', ')}]`);
  const segs = Int32Array.from(given.data, (v) => v);
  // per image: segment ids 0 … T−1 ordered by mean attribution, highest first
  const orders = Array.from({ length: n }, (_, i) => {
    const ids = segs.subarray(i * hw, (i + 1) * hw);
    const T = Math.max(...ids) + 1;
    const sum = new Float64Array(T);
    const count = new Float64Array(T);
    for (let ch = 0; ch < c; ch++) {
      for (let p = 0; p < hw; p++) {
        sum[ids[p]!]! += rows[i]![ch * hw + p]!;
        count[ids[p]!]! += 1;
      }
    }
    for (let t = 0; t < T; t++) if (count[t] === 0) throw new Error(`irof: image ${i} has no pixel of segment ${t} (segment ids must be 0 … T−1)`);
    const mean = Array.from(sum, (s, t) => s / count[t]!);
    return Array.from({ length: T }, (_, t) => t).sort((p, q) => mean[q]! - mean[p]! || p - q);
  });
  const steps = Math.max(...orders.map((o) => o.length));
  // the batch's cumulative states, one per step (the 'mean' baseline couples the images)
  const states: Float32Array[] = [];
  let cur = Float32Array.from(xs);
  for (let t = 0; t < steps; t++) {
    let mean = 0;
    for (const v of cur) mean += v;
    mean /= cur.length;
    const next = Float32Array.from(cur);
    for (let i = 0; i < n; i++) {
      const seg = orders[i]![t];
      if (seg === undefined) continue;
      for (let p = 0; p < hw; p++) if (segs[i * hw + p] === seg) for (let ch = 0; ch < c; ch++) next[i * size + ch * hw + p] = mean;
    }
    states.push(next);
    cur = next;
  }
  const scores = await scoreCopies(model, x, targets, steps + 1, (i, k, out) => out.set((k === 0 ? xs : states[k - 1]!).subarray(i * size, (i + 1) * size)), { softmax: true, ...opts });
  return scores.map((r, i) => {
    const T = orders[i]!.length;
    const curve = Array.from({ length: steps }, (_, t) => (t < T ? r[t + 1]! / r[0]! : 0));
    let area = 0;
    for (let t = 1; t < steps; t++) area += (curve[t]! + curve[t - 1]!) / 2;
    return T - area;
  });
}
