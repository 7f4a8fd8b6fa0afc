/**
 * The model's target logit on coalitions of features — an image with some of its features kept and the
 * rest set to a baseline value — shared by LIME and Shapley value sampling (Captum's
 * `default_from_interp_rep_transform` / ShapleyValueSampling's ablation: a kept feature shows the input,
 * a removed one the baseline). Coalitions are built in chunks of ≈ 8M floats and run in batches of
 * `batchSize` per onnxruntime call.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Model } from '../runtime/model.js';
const CHUNK_FLOATS = 1 << 23;

/** One image's features: the distinct ids in ascending order and the positions (within [C,...spatial]) of each. */
export interface ImageFeatures {
  ids: number[];
  positions: Int32Array[];
}

export function imageFeatures(ids: Int32Array, image: number, size: number): ImageFeatures {
  const groups = new Map<number, number[]>();
  for (let p = 0; p < size; p++) {
    const id = ids[image * size + p]!;
    let g = groups.get(id);
    if (!g) groups.set(id, (g = []));
    g.push(p);
  }
  const sorted = [...groups.keys()].sort((a, b) => a - b);
  return { ids: sorted, positions: sorted.map((id) => Int32Array.from(groups.get(id)!)) };
}

/**
 * Target logits for coalitions `present` [M, F] (1 = the feature shows the input) of one image x [size].
 * `visit(m, perturbed)` sees each perturbed image before it is run (LIME's similarity needs them).
 */
export async function coalitionLogits(
  model: Model,
  x: Float32Array,
  itemShape: readonly number[],
  features: ImageFeatures,
  present: Uint8Array,
  target: number,
  opts: { fill: number; batchSize?: number; visit?: (m: number, perturbed: Float32Array) => void; onChunk?: (done: number) => void },
): Promise<Float64Array> {
  const size = x.length;
  const F = features.positions.length;
  const M = present.length / F;
  const K = model.numClasses;
  const bs = opts.batchSize ?? 256;
  const out = new Float64Array(M);
  const chunk = Math.max(1, Math.min(M, Math.max(bs, Math.floor(CHUNK_FLOATS / size / bs) * bs)));
  for (let start = 0; start < M; start += chunk) {
    const end = Math.min(M, start + chunk);
    const buf = new Float32Array((end - start) * size);
    for (let m = start; m < end; m++) {
      const o = (m - start) * size;
      const img = buf.subarray(o, o + size);
      img.set(x);
      for (let f = 0; f < F; f++) if (!present[m * F + f]) for (const p of features.positions[f]!) img[p] = opts.fill;
      opts.visit?.(m, img);
    }
    const lg = await model.forward(new Tensor(buf, [end - start, ...itemShape]), { batchSize: bs });
    for (let m = start; m < end; m++) out[m] = lg.data[(m - start) * K + target]!;
    opts.onChunk?.(end);
  }
  return out;
}
