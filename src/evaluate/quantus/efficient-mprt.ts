/**
 * Quantus' newer model-randomisation tests (Hedström et al. 2023, "Sanity checks revisited").
 *
 * eMPRT, efficient MPRT (Quantus `EfficientMPRT`): instead of correlating maps, compare their complexity —
 * the discrete entropy of the map's histogram (`n_bins` 100 equal-width bins over the map's own range,
 * NumPy's `histogram` reproduced to its float32 bin arithmetic; SciPy's `entropy` of the counts, natural log) —
 * before and after every layer is randomised: score = (H(a_random) − H(a)) / H(a). A method that explains the
 * model makes noisier maps of a random model (a rise); maps that do not change score 0. Quantus defaults:
 * normalise and abs false; the original maps recomputed by the method; only the fully randomised model is
 * scored (skip_layers).
 *
 * sMPRT, smooth MPRT (Quantus `SmoothMPRT`): MPRT with each map denoised as SmoothGrad does — the mean of the
 * method's maps of `samples` (50) noisy copies x + N(0, σ²), σ = 0.1 × (the image's max − min), the last copy
 * without noise (Quantus draws `np.random.randn(*x.shape)` for the batch at each sample) — and Spearman's ρ
 * between the given map and the smoothed map of the original model ('original') and of the model randomised
 * cumulatively up to each layer. Maps are |·| (abs true; Quantus' normalisation by the batch's second moment is a
 * positive scalar, which leaves ρ unchanged). With `average`, the per-image mean over every entry — the
 * 'original' one included, as Quantus computes it (its code skips a key 'orig' that does not exist).
 *
 * Both take the randomised models from the caller, in order (`audit/randomize.ts` builds them for candor's
 * audit; the tests pass the very models Quantus randomised).
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { spearman } from '../correlation.js';
import { type NoiseSource, seededNoise } from './robustness.js';
import type { ExplainOn } from './input-invariance.js';

export interface RandomizedModel {
  /** The layer randomised last (the cascade's step). */
  layer: string;
  model: Model;
}

const f32 = Math.fround;

/** NumPy's `np.histogram(a, bins)` counts for float32 values, equal-width bins over [min, max]. */
export function numpyHistogram(values: ArrayLike<number>, bins: number): number[] {
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < values.length; i++) {
    first = Math.min(first, values[i]!);
    last = Math.max(last, values[i]!);
  }
  if (first === last) {
    first = f32(first - 0.5);
    last = f32(last + 0.5);
  }
  const step = (last - first) / bins;
  const edges = Float64Array.from({ length: bins + 1 }, (_, i) => (i === bins ? last : f32(i * step + first)));
  const norm = f32(bins / f32(last - first));
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = f32(values[i]!);
    let k = Math.trunc(f32(f32(v - first) * norm));
    if (k === bins) k--;
    if (v < edges[k]!) k--;
    if (v >= edges[k + 1]! && k !== bins - 1) k++;
    counts[k]!++;
  }
  return counts;
}

/** SciPy's `entropy(counts)`: −Σ p log p of the normalised counts. */
export function countEntropy(counts: readonly number[]): number {
  const total = counts.reduce((s, c) => s + c, 0);
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / total) * Math.log(c / total);
  return h;
}

export interface EfficientMprtResult {
  scores: number[];
  /** Per image: H(a) of the original and of the fully randomised model. */
  original: number[];
  randomized: number[];
}

export async function efficientMprt(model: Model, x: Tensor, targets: readonly number[], explainOn: ExplainOn, randomized: readonly RandomizedModel[], opts: { bins?: number; abs?: boolean } = {}): Promise<EfficientMprtResult> {
  if (!randomized.length) throw new Error('efficient MPRT: no randomised model given');
  const bins = opts.bins ?? 100;
  const n = x.shape[0]!;
  const entropies = async (m: Model) => {
    const a = await explainOn(m, x, targets);
    const per = a.data.length / n;
    return Array.from({ length: n }, (_, i) => {
      const row = a.data.subarray(i * per, (i + 1) * per);
      return countEntropy(numpyHistogram(opts.abs ? row.map(Math.abs) : row, bins));
    });
  };
  const original = await entropies(model);
  const random = await entropies(randomized[randomized.length - 1]!.model);
  return { scores: original.map((h, i) => (random[i]! - h) / h), original, randomized: random };
}

export interface SmoothMprtOptions {
  samples?: number;
  noiseMagnitude?: number;
  abs?: boolean;
  noise?: NoiseSource;
  seed?: number;
}

export interface SmoothMprtResult {
  /** ρ between the given maps and the original model's smoothed maps. */
  original: number[];
  /** Per randomisation step, ρ per image. */
  layers: { layer: string; scores: number[] }[];
  /** Per image, the mean over 'original' and every layer (Quantus' return_average_correlation). */
  average: number[];
}

export async function smoothMprt(model: Model, x: Tensor, targets: readonly number[], a: Tensor, explainOn: ExplainOn, randomized: readonly RandomizedModel[], opts: SmoothMprtOptions = {}): Promise<SmoothMprtResult> {
  const S = opts.samples ?? 50;
  if (!Number.isInteger(S) || S < 1) throw new Error(`smooth MPRT: samples must be a positive integer, got ${String(opts.samples)}`);
  const mag = opts.noiseMagnitude ?? 0.1;
  const abs = opts.abs ?? true;
  const src = opts.noise ?? seededNoise(opts.seed);
  const n = x.shape[0]!;
  const size = x.data.length / n;
  const std = Array.from({ length: n }, (_, i) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (let p = i * size; p < (i + 1) * size; p++) {
      lo = Math.min(lo, x.data[p]!);
      hi = Math.max(hi, x.data[p]!);
    }
    return f32(mag * f32(hi - lo));
  });
  const per = a.data.length / n;
  const given = Array.from({ length: n }, (_, i) => Array.from(a.data.subarray(i * per, (i + 1) * per), (v) => (abs ? Math.abs(v) : v)));
  const smoothed = async (m: Model): Promise<number[]> => {
    const acc = new Float64Array(a.data.length);
    for (let s = 0; s < S; s++) {
      const eps = s === S - 1 ? undefined : src.normal(0, 1, x.data.length);
      const xs = eps ? new Tensor(Float32Array.from(x.data, (v, q) => v + eps[q]! * std[Math.floor(q / size)]!), x.shape) : x;
      const e = await explainOn(m, xs, targets);
      if (e.data.length !== a.data.length) throw new Error(`smooth MPRT: the method gave ${e.data.length} values, the given maps hold ${a.data.length}`);
      for (let q = 0; q < acc.length; q++) acc[q]! += e.data[q]! / S;
    }
    return Array.from({ length: n }, (_, i) => spearman(given[i]!, Array.from(acc.subarray(i * per, (i + 1) * per), (v) => (abs ? Math.abs(v) : v))));
  };
  const original = await smoothed(model);
  const layers: SmoothMprtResult['layers'] = [];
  for (const r of randomized) layers.push({ layer: r.layer, scores: await smoothed(r.model) });
  const average = original.map((o, i) => (o + layers.reduce((s, l) => s + l.scores[i]!, 0)) / (1 + layers.length));
  return { original, layers, average };
}
