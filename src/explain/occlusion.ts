/**
 * Occlusion (Zeiler & Fergus 2014), Captum's `Occlusion` semantics.
 *
 * A window of `window = [kh, kw]` pixels (spatial dims; it covers every channel) slides over the
 * image with `strides = [sh, sw]`; windows start at 0, s, 2s, … while they fit, i.e. there are
 * floor((H − kh)/sh) + 1 × floor((W − kw)/sw) + 1 windows (Captum's count). For each window the
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
 * Batching: all occluded images (N × windows) are built in chunks of ≈ 8M floats and each chunk
 * goes through `model.forward` in batches of `batchSize` (default 256) images per onnxruntime call.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Model } from '../runtime/model.js';
import { type Attribution, type ExplainOptions, type Target, reduceChannels } from './types.js';
import { targetsOf } from './saliency.js';

const CHUNK_FLOATS = 1 << 23;

export interface OcclusionOptions extends ExplainOptions {
  /** Window size [kh, kw] (a number for a square window). Default 8. */
  window?: number | readonly [number, number];
  /** Strides [sh, sw] (a number for both). Default 4. */
  strides?: number | readonly [number, number];
  /** Value written into the occluded window (Captum's scalar baseline). Default 0. */
  fill?: number;
}

function pair(v: number | readonly [number, number] | undefined, dflt: number, what: string): [number, number] {
  const p: [number, number] = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  for (const x of p) if (!Number.isInteger(x) || x < 1) throw new Error(`occlusion: ${what} must be positive integers, got [${p.join(', ')}]`);
  return p;
}

/** Window origins along one dim: 0, s, 2s, … while the window fits (floor((n − k)/s) + 1 of them). */
export function windowStarts(n: number, k: number, s: number): number[] {
  if (k > n) throw new Error(`occlusion: window ${k} is larger than the image dimension ${n}`);
  const count = Math.floor((n - k) / s) + 1;
  return Array.from({ length: count }, (_, i) => i * s);
}

export async function occlusion(model: Model, inputs: Tensor, target: Target, options: OcclusionOptions = {}): Promise<Attribution> {
  const { targets, logits: pre } = await targetsOf(model, inputs, target);
  const [n, c, h, w] = inputs.shape as [number, number, number, number];
  const [kh, kw] = pair(options.window, 8, 'window');
  const [sh, sw] = pair(options.strides, 4, 'strides');
  const fill = options.fill ?? 0;
  const ys = windowStarts(h, kh, sh);
  const xs = windowStarts(w, kw, sw);
  const nwin = ys.length * xs.length;
  const size = c * h * w;
  const hw = h * w;
  const k = model.numClasses;
  const bs = options.batchSize ?? 256;
  const logits = pre ?? (await model.forward(inputs, { batchSize: bs }));
  const x = inputs.data as Float32Array;

  const sum = new Float64Array(n * hw);
  const count = new Float64Array(hw);
  for (const y0 of ys) for (const x0 of xs) for (let i = y0; i < y0 + kh; i++) for (let j = x0; j < x0 + kw; j++) count[i * w + j]! += 1;

  const total = n * nwin;
  const chunk = Math.max(1, Math.min(total, Math.floor(CHUNK_FLOATS / size)));
  /** Occluded image q: which input image, and the window's top-left corner. */
  const windowAt = (q: number) => {
    const win = q % nwin;
    return { img: Math.floor(q / nwin), y0: ys[Math.floor(win / xs.length)]!, x0: xs[win % xs.length]! };
  };
  for (let start = 0; start < total; start += chunk) {
    const end = Math.min(total, start + chunk);
    const m = end - start;
    const buf = new Float32Array(m * size);
    for (let r = 0; r < m; r++) {
      const { img, y0, x0 } = windowAt(start + r);
      const out = buf.subarray(r * size, (r + 1) * size);
      out.set(x.subarray(img * size, (img + 1) * size));
      for (let ch = 0; ch < c; ch++) for (let i = y0; i < y0 + kh; i++) out.fill(fill, ch * hw + i * w + x0, ch * hw + i * w + x0 + kw);
    }
    const out = await model.forward(new Tensor(buf, [m, c, h, w]), { batchSize: bs });
    for (let r = 0; r < m; r++) {
      const { img, y0, x0 } = windowAt(start + r);
      const t = targets[img]!;
      const d = logits.data[img * k + t]! - out.data[r * k + t]!;
      const base = img * hw;
      for (let i = y0; i < y0 + kh; i++) for (let j = x0; j < x0 + kw; j++) sum[base + i * w + j]! += d;
    }
    options.onProgress?.(end, total);
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
  const attributions = new Tensor(attr, [n, c, h, w]);
  return {
    method: 'occlusion',
    attributions,
    map: reduceChannels(attributions, 'sum'),
    signed: true,
    targets,
    logits,
    extra: { window: `${kh}x${kw}`, strides: `${sh}x${sw}`, fill, windows: nwin, uncovered: Array(n).fill(uncovered) },
  };
}
