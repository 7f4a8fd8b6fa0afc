/**
 * Comparing two saliency maps of the same image, as Adebayo et al. 2018 ("Sanity Checks for
 * Saliency Maps", NeurIPS) do for model- and data-randomization tests (DESIGN.md §5):
 *
 *   spearmanAbs  Spearman ρ of |a| and |b| (ties: average ranks, scipy.stats.spearmanr)
 *   spearman     Spearman ρ of the signed maps
 *   pearson      Pearson r of the signed maps
 *   ssim         SSIM (skimage.metrics.structural_similarity defaults: 7×7 uniform window) of the
 *                maps after normalisation (below), with data_range 1 for normalised maps
 *   hog          Pearson r of the HOG features (skimage.feature.hog: 9 orientations, 3×3-cell
 *                blocks, L2-Hys) of the normalised maps; cells of 16×16 pixels as in Adebayo et
 *                al.'s code when the map is at least 48 px on each side, otherwise
 *                ⌊min(H, W)/3⌋ px so one block still fits (e.g. 9 px for 28×28 maps)
 *
 * Normalisation before SSIM and HOG (Adebayo et al. scale each map to [0, 1]):
 *   'minmax'      (a − min a)/(max a − min a)  — the default; signed maps keep their sign order
 *   'abs-minmax'  the same on |a|
 *   'abs-p99'     |a| scaled by its 99th percentile and clipped to [0, 1] (the PAIR saliency
 *                 library's VisualizeImageGrayscale, used for Adebayo et al.'s figures):
 *                 clip((|a| − min|a|)/(p99(|a|) − min|a|), 0, 1)
 *   'none'        raw maps; SSIM's data_range is then the joint range max(a, b) − min(a, b)
 *                 unless `dataRange` is given
 * A constant map normalises to zeros. Spearman and Pearson always use the raw maps (ranks and r
 * are invariant to the affine scaling anyway, except through |·|).
 *
 * Correlations with a constant map are NaN (undefined); the audit's summaries drop them.
 */
import type { Tensor } from '../tensor/tensor.js';
import { pearson, spearman } from './correlation.js';
import { ssimNd } from './ssim.js';
import { hog, type HogOptions } from './hog.js';
import { quantile } from './stats.js';

export type MapNormalization = 'minmax' | 'abs-minmax' | 'abs-p99' | 'none';

export interface SimilarityOptions {
  /** Normalisation applied before SSIM and HOG (default 'minmax'). */
  normalize?: MapNormalization;
  /** SSIM data range for normalize 'none' (default: joint range of the two maps). */
  dataRange?: number;
  /** SSIM window (default 7). */
  ssimWindow?: number;
  /** HOG parameters; pixelsPerCell defaults as described above. */
  hog?: HogOptions;
  /** Which measures to compute (default all). */
  measures?: readonly SimilarityMeasure[];
}

export type SimilarityMeasure = 'spearmanAbs' | 'spearman' | 'pearson' | 'ssim' | 'hog';
export const SIMILARITY_MEASURES: readonly SimilarityMeasure[] = ['spearmanAbs', 'spearman', 'pearson', 'ssim', 'hog'];

export type MapSimilarity = Record<SimilarityMeasure, number>;

/** A map normalised for SSIM/HOG (see the file comment). */
export function normalizeMap(map: ArrayLike<number>, how: MapNormalization = 'minmax'): Float64Array {
  const n = map.length;
  const v = new Float64Array(n);
  const abs = how === 'abs-minmax' || how === 'abs-p99';
  for (let i = 0; i < n; i++) v[i] = abs ? Math.abs(map[i]!) : map[i]!;
  if (how === 'none') return v;
  if (how !== 'minmax' && !abs) throw new Error(`normalizeMap: unknown normalisation '${how as string}' (minmax, abs-minmax, abs-p99, none)`);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    lo = Math.min(lo, v[i]!);
    hi = Math.max(hi, v[i]!);
  }
  if (how === 'abs-p99') hi = quantile(v, 0.99);
  const d = hi - lo;
  for (let i = 0; i < n; i++) v[i] = d > 0 ? Math.min(1, Math.max(0, (v[i]! - lo) / d)) : 0;
  return v;
}

/** HOG cell size used by default for an h×w map (see the file comment). */
export function defaultHogCell(h: number, w: number): number {
  const m = Math.min(h, w);
  return m >= 48 ? 16 : Math.max(1, Math.floor(m / 3));
}

function absOf(a: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Math.abs(a[i]!);
  return out;
}

/** The similarity measures of two [h,w] maps given as flat row-major arrays. */
export function compareMaps(a: ArrayLike<number>, b: ArrayLike<number>, h: number, w: number, options: SimilarityOptions = {}): MapSimilarity {
  return compareMapsNd(a, b, [h, w], options);
}

/**
 * The similarity measures of two maps of extent `spatial` ([h, w], or [d, h, w] for volumes). Spearman and
 * Pearson take every value; SSIM is scikit-image's n-D SSIM (a win^ndim window: 7×7×7 for volumes); HOG is 2-D in
 * scikit-image, so a volume's HOG is computed on each slice along its first axis and the slices' features are
 * concatenated before the Pearson correlation.
 */
export function compareMapsNd(a: ArrayLike<number>, b: ArrayLike<number>, spatial: readonly number[], options: SimilarityOptions = {}): MapSimilarity {
  const size = spatial.reduce((x, y) => x * y, 1);
  if (a.length !== size || b.length !== size) throw new Error(`compareMaps: maps must have ${spatial.join('×')} = ${size} values, got ${a.length} and ${b.length}`);
  const [h, w] = spatial.slice(-2) as [number, number];
  const slices = size / (h * w);
  const want = new Set(options.measures ?? SIMILARITY_MEASURES);
  for (const m of want) if (!SIMILARITY_MEASURES.includes(m)) throw new Error(`compareMaps: unknown measure '${m}' (${SIMILARITY_MEASURES.join(', ')})`);
  const how = options.normalize ?? 'minmax';
  const out: MapSimilarity = { spearmanAbs: NaN, spearman: NaN, pearson: NaN, ssim: NaN, hog: NaN };
  if (want.has('spearmanAbs')) out.spearmanAbs = spearman(absOf(a), absOf(b));
  if (want.has('spearman')) out.spearman = spearman(a, b);
  if (want.has('pearson')) out.pearson = pearson(a, b);
  if (want.has('ssim') || want.has('hog')) {
    const na = normalizeMap(a, how);
    const nb = normalizeMap(b, how);
    if (want.has('ssim')) {
      let range = options.dataRange;
      if (range === undefined) {
        if (how !== 'none') range = 1;
        else {
          let lo = Infinity;
          let hi = -Infinity;
          for (const v of [na, nb]) for (let i = 0; i < v.length; i++) {
            lo = Math.min(lo, v[i]!);
            hi = Math.max(hi, v[i]!);
          }
          range = hi - lo;
        }
      }
      // two identical constant maps have no range: they are identical (SSIM 1)
      out.ssim = range > 0 ? ssimNd(na, nb, spatial, { dataRange: range, winSize: options.ssimWindow }) : 1;
    }
    if (want.has('hog')) {
      const cell = defaultHogCell(h, w);
      const opts: HogOptions = { pixelsPerCell: [cell, cell], ...options.hog };
      // one slice for an image; every slice along the first axis of a volume, features concatenated
      const features = (v: Float64Array) => Array.from({ length: slices }, (_, k) => Array.from(hog(v.subarray(k * h * w, (k + 1) * h * w), h, w, opts))).flat();
      out.hog = pearson(features(na), features(nb));
    }
  }
  return out;
}

/** Per-image values of each measure for maps [N,H,W] (or [N,1,H,W]). */
export type BatchSimilarity = Record<SimilarityMeasure, number[]>;

/** Map shape [N,H,W] of a map tensor ([N,H,W] or [N,1,H,W]), with a clear error otherwise. */
export function mapShape(t: Tensor, what: string): [number, number, number] {
  const s = t.shape;
  if (s.length === 3) return [s[0]!, s[1]!, s[2]!];
  if (s.length === 4 && s[1] === 1) return [s[0]!, s[2]!, s[3]!];
  throw new Error(`${what}: maps must be [N,H,W] (or [N,1,H,W]), got [${s.join(', ')}]`);
}

/**
 * [N, ...spatial] of a map batch: [N,H,W] or [N,1,H,W] (image maps), [N,D,H,W] with D > 1 (volume maps), with
 * a clear error otherwise. The one rule every map consumer (similarity, localisation, perturbation metrics) uses.
 */
export function mapExtent(t: Tensor, what: string): number[] {
  const s = t.shape;
  if (s.length === 4 && s[1] !== 1) return [...s];
  return mapShape(t, what);
}

/** `compareMapsNd` for every map of two batches [N,H,W] or [N,D,H,W]. */
export function compareMapBatches(a: Tensor, b: Tensor, options: SimilarityOptions = {}): BatchSimilarity {
  const [n, ...sp] = mapExtent(a, 'compareMapBatches: a');
  const eb = mapExtent(b, 'compareMapBatches: b');
  if (eb.join() !== [n, ...sp].join()) throw new Error(`compareMapBatches: a is [${a.shape.join(', ')}] but b is [${b.shape.join(', ')}]`);
  const out: BatchSimilarity = { spearmanAbs: [], spearman: [], pearson: [], ssim: [], hog: [] };
  const v = sp.reduce((x, y) => x * y, 1);
  for (let i = 0; i < n!; i++) {
    const r = compareMapsNd(a.data.subarray(i * v, (i + 1) * v), b.data.subarray(i * v, (i + 1) * v), sp, options);
    for (const m of SIMILARITY_MEASURES) out[m].push(r[m]);
  }
  return out;
}
