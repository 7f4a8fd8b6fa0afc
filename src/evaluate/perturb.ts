/**
 * Shared pieces of the model-driven metrics: checking image/map shapes, saliency orderings,
 * target scores from logits, and running many perturbed images through `model.forward` in
 * chunks of `batchSize` images per onnxruntime call (never one image at a time).
 */
import { Tensor } from '../tensor/tensor.js';
import type { Model } from '../runtime/model.js';
import { mapExtent } from './similarity.js';

/** Options shared by the model-driven metrics. */
export interface MetricOptions {
  /** Perturbed images per `model.forward` call (default 128). */
  batchSize?: number;
  /** Progress: done / total perturbed images evaluated. */
  onProgress?: (done: number, total: number) => void;
  /** Seed for metrics with randomness (default 0). */
  seed?: number;
}

/** Score read from the logits: softmax probability (default) or the raw logit. */
export type ScoreKind = 'probability' | 'logit';

export interface Dims {
  n: number;
  c: number;
  /** The last two spatial axes (height, width; of a volume too). */
  h: number;
  w: number;
  /** Every spatial axis: [H, W] or [D, H, W]. */
  spatial: number[];
  /** Positions per channel (pixels or voxels). */
  voxels: number;
}

/** Dimensions of images [N,C,H,W] and maps [N,H,W] (or volumes [N,C,D,H,W] and maps [N,D,H,W]) that must agree. */
export function checkImagesAndMaps(inputs: Tensor, maps: Tensor, what: string): Dims {
  if (inputs.shape.length !== 4 && inputs.shape.length !== 5) throw new Error(`${what}: inputs must be [N,C,H,W] or [N,C,D,H,W], got [${inputs.shape.join(', ')}]`);
  const [n, c, ...spatial] = inputs.shape as number[];
  const want = [n!, ...spatial];
  const got = maps.shape.join() === want.join() ? want : mapExtent(maps, what);
  if (got.join() !== want.join()) throw new Error(`${what}: maps are [${maps.shape.join(', ')}] but inputs are [${inputs.shape.join(', ')}] (need [${want.join(', ')}])`);
  const [h, w] = spatial.slice(-2) as [number, number];
  return { n: n!, c: c!, h, w, spatial, voxels: spatial.reduce((a, b) => a * b, 1) };
}

/**
 * Pixel indices of one map from most to least salient (value descending; ties by pixel index,
 * row-major, so the order is deterministic). Non-finite values are an error.
 */
export function saliencyOrder(map: ArrayLike<number>, what = 'map'): Int32Array {
  const n = map.length;
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(map[i]!)) throw new Error(`${what}: value ${i} is ${map[i]} (maps must be finite)`);
    idx[i] = i;
  }
  return idx.sort((a, b) => map[b]! - map[a]! || a - b);
}

/** Score of class t in row i of logits [M,K]. */
export function scoreOf(logits: ArrayLike<number>, k: number, i: number, t: number, kind: ScoreKind): number {
  if (kind === 'logit') return logits[i * k + t]!;
  let m = -Infinity;
  for (let j = 0; j < k; j++) m = Math.max(m, logits[i * k + j]!);
  let s = 0;
  for (let j = 0; j < k; j++) s += Math.exp(logits[i * k + j]! - m);
  return Math.exp(logits[i * k + t]! - m) / s;
}

/** Index of the largest logit in row i. */
export function argmaxRow(logits: ArrayLike<number>, k: number, i: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (logits[i * k + j]! > logits[i * k + best]!) best = j;
  return best;
}

/**
 * Evaluate `total` perturbed images: `build(q, out)` writes image q ([C,H,W] or [C,D,H,W], `size` floats) into
 * `out`; `consume(q, logits, row)` receives its logits. Images are built and run `batchSize` at a
 * time (one onnxruntime call each).
 */
export async function runPerturbed(
  model: Model,
  total: number,
  shape: readonly number[],
  build: (q: number, out: Float32Array) => void,
  consume: (q: number, logits: Float32Array, row: number) => void,
  options: MetricOptions,
): Promise<void> {
  const bs = options.batchSize ?? 128;
  if (!Number.isInteger(bs) || bs < 1) throw new Error(`batchSize must be a positive integer, got ${bs}`);
  const size = shape.reduce((a, b) => a * b, 1);
  const buf = new Float32Array(Math.min(bs, total) * size);
  for (let start = 0; start < total; start += bs) {
    const m = Math.min(bs, total - start);
    const view = buf.subarray(0, m * size);
    for (let r = 0; r < m; r++) build(start + r, view.subarray(r * size, (r + 1) * size));
    const out = await model.forward(new Tensor(view, [m, ...shape]), { batchSize: bs });
    const lg = out.data as Float32Array;
    for (let r = 0; r < m; r++) consume(start + r, lg, r);
    options.onProgress?.(start + m, total);
  }
}
