/**
 * Feature ablation (Captum `FeatureAblation` with a `feature_mask`): the input's positions are split
 * into features by an integer mask; each feature in turn is set to `baseline` (all its positions at
 * once) and every position of that feature gets the drop of the target logit,
 *
 *   attribution[n,c,i,j] = y_t(x_n) − y_t(x_n with feature g = mask[n,c,i,j] set to baseline)
 *
 * Masks (`mask`):
 *  - 'grid' (default): square cells of `cell` pixels (default 8) — cubes of `cell` voxels for a
 *    volume (supervoxels on a grid) — covering every channel;
 *  - 'slic': SLIC superpixels of each image (superpixels.ts; `segments`, default 64, `compactness`);
 *    2-D only (a volume is refused with the grid named instead);
 *  - a tensor of integer ids of the spatial extent ([H,W] or [D,H,W]) or [1|N,1|C,...spatial]
 *    (broadcast like Captum's mask).
 * Unlike occlusion, features never overlap, so nothing is averaged. Signed; the map is the channel
 * sum (DESIGN.md §3). Grid cells are boxes, so their forward passes go through
 * incremental/boxed-logits.ts (incremental inference where it saves arithmetic, `incremental`, as for
 * occlusion; `extra.passes` says which). Other masks: every ablated image of every input (Σ_n features_n)
 * is built in chunks of ≈ 8M floats and run in batches of `batchSize` (default 256) per onnxruntime call.
 * `extra.segments` holds the feature ids used, [N,H,W], when they are the same for every channel.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Model } from '../runtime/model.js';
import { type Attribution, type ExplainOptions, type Target, reduceChannels, batchLayout, sameShape } from './types.js';
import { targetsOf } from './saliency.js';
import { gridMaskNd, slic } from './superpixels.js';
import { forEachRun, perAxis, product } from './boxes.js';
import { boxedLogits } from './incremental/boxed-logits.js';
import { imageFeatures } from './coalitions.js';

const CHUNK_FLOATS = 1 << 23;
const MASKS = ['grid', 'slic'] as const;

export interface FeatureAblationOptions extends ExplainOptions {
  mask?: 'grid' | 'slic' | Tensor;
  /** Grid cell size in pixels (default 8). */
  cell?: number | readonly number[];
  /** SLIC: approximate number of superpixels (default 64) and compactness (default 0.1). */
  segments?: number;
  compactness?: number;
  /** Value written into an ablated feature (Captum's scalar baseline; default 0). */
  baseline?: number;
  /** Grid masks: incremental inference as for occlusion ('auto' default; see occlusion.ts). */
  incremental?: boolean | 'auto';
}

/** Feature ids broadcast to [N,C,...spatial]. */
export function featureMask(inputs: Tensor, options: FeatureAblationOptions = {}): Int32Array {
  const { n, c, spatial, voxels: hw } = batchLayout(inputs.shape);
  const r = spatial.length;
  const ext = spatial.join(', ');
  const out = new Int32Array(n * c * hw);
  const mask = options.mask ?? 'grid';
  const perImage = (i: number, ids: ArrayLike<number>) => {
    for (let ch = 0; ch < c; ch++) out.set(ids as Int32Array, (i * c + ch) * hw);
  };
  if (mask instanceof Tensor) {
    const s = mask.shape;
    const dims = s.length === r ? [1, 1, ...s] : s.length === r + 2 ? [...s] : null;
    if (!dims || !(dims[0] === 1 || dims[0] === n) || !(dims[1] === 1 || dims[1] === c) || !sameShape(dims.slice(2), spatial)) {
      throw new Error(`feature ablation: mask has shape [${s.join(', ')}]; expected [${ext}], [1|${n}, 1|${c}, ${ext}]`);
    }
    for (let i = 0; i < n; i++) {
      for (let ch = 0; ch < c; ch++) {
        const src = ((dims[0] === 1 ? 0 : i) * dims[1]! + (dims[1] === 1 ? 0 : ch)) * hw;
        for (let p = 0; p < hw; p++) {
          const v = mask.data[src + p]!;
          if (!Number.isInteger(v)) throw new Error(`feature ablation: mask values must be integer feature ids, got ${v}`);
          out[(i * c + ch) * hw + p] = v;
        }
      }
    }
    return out;
  }
  if (mask === 'grid') {
    const g = gridMaskNd(spatial, options.cell ?? 8);
    for (let i = 0; i < n; i++) perImage(i, g);
    return out;
  }
  if (mask === 'slic') {
    if (r !== 2) throw new Error(`feature ablation: 'slic' superpixels are 2-D; for a ${r}-D input use mask 'grid' (supervoxels of \`cell\` voxels per axis) or a tensor of feature ids`);
    const [h, w] = spatial as [number, number];
    const size = c * hw;
    for (let i = 0; i < n; i++) perImage(i, slic(inputs.data.subarray(i * size, (i + 1) * size), c, h, w, { segments: options.segments, compactness: options.compactness }));
    return out;
  }
  throw new Error(`feature ablation: unknown mask '${String(mask)}' (valid: ${MASKS.join(', ')}, or a tensor of feature ids)`);
}

export async function featureAblation(model: Model, inputs: Tensor, target: Target, options: FeatureAblationOptions = {}): Promise<Attribution> {
  const { targets, logits: pre } = await targetsOf(model, inputs, target);
  const { n, c, spatial, voxels: hw, size } = batchLayout(inputs.shape);
  const K = model.numClasses;
  const bs = options.batchSize ?? 256;
  const fill = options.baseline ?? 0;
  const ids = featureMask(inputs, options);
  const logits = pre ?? (await model.forward(inputs, { batchSize: bs }));
  const attr = new Float32Array(n * size);
  const extra: NonNullable<Attribution['extra']> = { baseline: fill, mask: options.mask instanceof Tensor ? 'tensor' : (options.mask ?? 'grid') };
  if ((options.mask ?? 'grid') === 'grid') {
    // grid cells are boxes: their forward passes may be incremental (incremental/boxed-logits.ts)
    const cell = perAxis(options.cell, 8, spatial.length, 'cell', 'feature ablation');
    const origins = product(spatial.map((len, a) => Array.from({ length: Math.ceil(len / cell[a]!) }, (_, i) => i * cell[a]!)));
    const extents = origins.map((o) => o.map((v, a) => Math.min(cell[a]!, spatial[a]! - v)));
    const { logits: out, how } = await boxedLogits(model, inputs, origins, extents, { fill, batchSize: options.batchSize, incremental: options.incremental, onProgress: options.onProgress });
    for (let img = 0; img < n; img++) {
      const t = targets[img]!;
      origins.forEach((o, q) => {
        const d = logits.data[img * K + t]! - out[(img * origins.length + q) * K + t]!;
        for (let ch = 0; ch < c; ch++) forEachRun(spatial, o, extents[q]!, (off, len) => attr.fill(d, img * size + ch * hw + off, img * size + ch * hw + off + len));
      });
    }
    extra.features = Array(n).fill(origins.length);
    extra.passes = how;
  } else await ablateFeatures(model, inputs, ids, logits, targets, fill, attr, extra, options);
  const attributions = new Tensor(attr, inputs.shape);
  const sameOverChannels = c === 1 || ids.every((v, q) => v === ids[q - (Math.floor(q / hw) % c) * hw]!);
  if (sameOverChannels) {
    const m = new Float32Array(n * hw);
    for (let i = 0; i < n; i++) for (let p = 0; p < hw; p++) m[i * hw + p] = ids[i * size + p]!;
    extra.segments = new Tensor(m, [n, ...spatial]);
  }
  return { method: 'feature_ablation', attributions, map: reduceChannels(attributions, 'sum'), signed: true, targets, logits, extra };
}

/** Every feature of an arbitrary mask in turn, each ablated image through the whole model. */
async function ablateFeatures(model: Model, inputs: Tensor, ids: Int32Array, logits: Tensor, targets: readonly number[], fill: number, attr: Float32Array, extra: NonNullable<Attribution['extra']>, options: FeatureAblationOptions): Promise<void> {
  const { n, size } = batchLayout(inputs.shape);
  const K = model.numClasses;
  const bs = options.batchSize ?? 256;
  // Work list: (image, feature id, positions of that feature).
  const work: { img: number; pos: Int32Array }[] = [];
  const featuresPerImage: number[] = [];
  for (let i = 0; i < n; i++) {
    const f = imageFeatures(ids, i, size);
    featuresPerImage.push(f.ids.length);
    for (const pos of f.positions) work.push({ img: i, pos });
  }
  const x = inputs.data as Float32Array;
  const total = work.length;
  // whole onnxruntime batches per chunk (no short remainder batch inside a chunk)
  const chunk = Math.max(1, Math.min(total, Math.max(bs, Math.floor(CHUNK_FLOATS / size / bs) * bs)));
  for (let start = 0; start < total; start += chunk) {
    const end = Math.min(total, start + chunk);
    const buf = new Float32Array((end - start) * size);
    for (let r = start; r < end; r++) {
      const { img, pos } = work[r]!;
      const o = (r - start) * size;
      buf.set(x.subarray(img * size, (img + 1) * size), o);
      for (const p of pos) buf[o + p] = fill;
    }
    const out = await model.forward(new Tensor(buf, [end - start, ...inputs.shape.slice(1)]), { batchSize: bs });
    for (let r = start; r < end; r++) {
      const { img, pos } = work[r]!;
      const t = targets[img]!;
      const d = logits.data[img * K + t]! - out.data[(r - start) * K + t]!;
      for (const p of pos) attr[img * size + p] = d;
    }
    options.onProgress?.(end, total);
  }
  extra.features = featuresPerImage;
}
