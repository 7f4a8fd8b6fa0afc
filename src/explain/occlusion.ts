/**
 * Occlusion (Zeiler & Fergus 2014), Captum's `Occlusion` semantics.
 *
 * A window of `window = [kh, kw]` pixels — `[kd, kh, kw]` voxels for a volume; it covers every
 * channel — slides over the image with `strides = [sh, sw]` (`[sd, sh, sw]`); windows start at 0, s,
 * 2s, … while they fit, i.e. there are Π_axes floor((L − k)/s) + 1 windows (Captum's count, with
 * `sliding_window_shapes = (C, kd, kh, kw)` for a 5-D input). For each window the
 * occluded image is x with the window set to `fill` (Captum's scalar `baselines`), and
 *
 *   attribution[c, i, j] = (1 / n_ij) Σ_{windows covering (i,j)} ( y_t(x) − y_t(x_occluded) )
 *
 * where y_t is the target logit and n_ij the number of windows covering (i, j) (Captum sums the
 * differences and divides by the per-pixel count). The value is the same for every channel (the
 * window spans all channels, as Captum's sliding window over (C, kh, kw)).
 *
 * Difference from Captum: a pixel that no window covers (when (H − kh) is not a multiple of sh) is
 * 0/0 = NaN in Captum; here it is 0, and `extra.uncovered` counts such pixels per image.
 *
 * Map = channel sum (DESIGN.md §3, signed methods), i.e. C × the per-pixel value. Signed.
 *
 * The forward passes (incremental/boxed-logits.ts): by incremental inference where it saves arithmetic
 * (each layer computes only what a window changes; `incremental`), else directly — all occluded images
 * (N × windows) built in chunks of ≈ 8M floats, through `model.forward` in batches of `batchSize`
 * (default 256) images per onnxruntime call.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Model } from '../runtime/model.js';
import { type Attribution, type ExplainOptions, type Target, reduceChannels, batchLayout } from './types.js';
import { targetsOf } from './saliency.js';
import { forEachRun, perAxis, product } from './boxes.js';
import { boxedLogits } from './incremental/boxed-logits.js';

export interface OcclusionOptions extends ExplainOptions {
  /** Window size per spatial axis ([kh, kw], or [kd, kh, kw] for volumes; a number for a cube). Default 8. */
  window?: number | readonly number[];
  /** Strides per spatial axis (a number for all). Default 4. */
  strides?: number | readonly number[];
  /** Value written into the occluded window (Captum's scalar baseline). Default 0. */
  fill?: number;
  /**
   * Incremental inference (incremental/plan.ts): each layer computes only what the window can change,
   * from the unoccluded image's activations — the same map up to float32 rounding, with less arithmetic.
   * 'auto' (default): where it is expected to be faster (≥ 10 % fewer multiply-adds, ≥ 250 saved per value it
   * gathers, ≥ 30 GFLOP saved over the call; incremental/boxed-logits.ts); true: whenever the model allows; false: never.
   * `extra.passes` says which was used and why.
   */
  incremental?: boolean | 'auto';
}

/** Window origins along one dim: 0, s, 2s, … while the window fits (floor((n − k)/s) + 1 of them). */
export function windowStarts(n: number, k: number, s: number): number[] {
  if (k > n) throw new Error(`occlusion: window ${k} is larger than the image dimension ${n}`);
  const count = Math.floor((n - k) / s) + 1;
  return Array.from({ length: count }, (_, i) => i * s);
}

export async function occlusion(model: Model, inputs: Tensor, target: Target, options: OcclusionOptions = {}): Promise<Attribution> {
  const { targets, logits: pre } = await targetsOf(model, inputs, target);
  const { n, c, spatial, voxels: hw, size } = batchLayout(inputs.shape);
  const rank = spatial.length;
  const win = perAxis(options.window, 8, rank, 'window', 'occlusion');
  const strides = perAxis(options.strides, 4, rank, 'strides', 'occlusion');
  const fill = options.fill ?? 0;
  const origins = product(spatial.map((len, a) => windowStarts(len, win[a]!, strides[a]!)));
  const nwin = origins.length;
  const k = model.numClasses;
  const logits = pre ?? (await model.forward(inputs, { batchSize: options.batchSize ?? 256 }));

  const sum = new Float64Array(n * hw);
  const count = new Float64Array(hw);
  for (const o of origins) forEachRun(spatial, o, win, (off, len) => {
    for (let p = off; p < off + len; p++) count[p]! += 1;
  });

  const extents = origins.map(() => win);
  const { logits: out, how } = await boxedLogits(model, inputs, origins, extents, { fill, batchSize: options.batchSize, incremental: options.incremental, onProgress: options.onProgress });
  for (let q = 0; q < n * nwin; q++) {
    const img = Math.floor(q / nwin);
    const t = targets[img]!;
    const d = logits.data[img * k + t]! - out[q * k + t]!;
    const base = img * hw;
    forEachRun(spatial, origins[q % nwin]!, win, (off, len) => {
      for (let p = base + off; p < base + off + len; p++) sum[p]! += d;
    });
  }

  const attr = new Float32Array(n * size);
  let uncovered = 0;
  for (let p = 0; p < hw; p++) if (count[p] === 0) uncovered++;
  for (let img = 0; img < n; img++) {
    for (let p = 0; p < hw; p++) {
      const v = count[p]! > 0 ? sum[img * hw + p]! / count[p]! : 0;
      for (let ch = 0; ch < c; ch++) attr[img * size + ch * hw + p] = v;
    }
  }
  const attributions = new Tensor(attr, inputs.shape);
  return {
    method: 'occlusion',
    attributions,
    map: reduceChannels(attributions, 'sum'),
    signed: true,
    targets,
    logits,
    extra: { window: win.join('x'), strides: strides.join('x'), fill, windows: nwin, uncovered: Array(n).fill(uncovered), passes: how },
  };
}
