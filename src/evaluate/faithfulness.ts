/**
 * Faithfulness of a saliency map to the model (DESIGN.md §5).
 *
 * Deletion / insertion (Petsiuk, Das & Saenko 2018, "RISE", §4.1). Pixels are ranked by the map
 * (most salient first; ties by pixel index). At step i (i = 0..S) the first k_i pixels of the
 * ranking — every channel of them — are
 *   deletion:  replaced in x by the baseline b           x_i = x ⊙ (1 − M_i) + b ⊙ M_i
 *   insertion: revealed from x on top of the baseline    x_i = b ⊙ (1 − M_i) + x ⊙ M_i
 * and the curve is the target's softmax probability p_t(x_i) against the fraction f_i = k_i/(HW).
 * k_i = round(i·HW/S) with `steps` S (default 64), or k_i = min(i·P, HW) with `pixelsPerStep` P
 * (RISE used P = 224 on 224×224 images). The baseline b is a constant `fill` (deletion default 0,
 * RISE's zero substrate) or 'blur', the image blurred by a Gaussian of σ = `blurSigma` (default 5,
 * RISE's kernel; insertion default). AUC = Σ_i (f_{i+1} − f_i)(p_i + p_{i+1})/2 (trapezoid),
 * which is RISE's (Σp − p_0/2 − p_S/2)/S when the steps are even. A faithful map gives a low
 * deletion AUC and a high insertion AUC.
 *
 * Faithfulness correlation (Bhatt, Weller & Moura 2020, IJCAI; Quantus' FaithfulnessCorrelation
 * defaults): for R runs (default 100) draw a random subset S of |S| pixels (default 224) without
 * replacement, set them (all channels) to the baseline value (default 0, Quantus 'black'), and
 *   μ_F = Pearson( [Σ_{j∈S_r} a_j]_r , [f_t(x) − f_t(x_{S_r})]_r )
 * with f_t the target logit (Quantus' softmax=False default; `score: 'probability'` for p_t) and
 * a the map after Quantus' normalise_by_negative (positives / max, negatives / |min|; 'none'
 * keeps the raw map). Seeded: image i draws from `new Rng(seed).fork(i)`.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Model } from '../runtime/model.js';
import { Rng } from '../tensor/rng.js';
import { resolveTargets, type Target } from '../explain/types.js';
import { pearson } from './correlation.js';
import { gaussianBlurNd } from './blur.js';
import { checkImagesAndMaps, runPerturbed, saliencyOrder, scoreOf, type MetricOptions, type ScoreKind } from './perturb.js';

export interface CurveOptions extends MetricOptions {
  /** Number of steps S (default 64); ignored when pixelsPerStep is given. */
  steps?: number;
  /** Pixels removed/revealed per step (overrides steps). */
  pixelsPerStep?: number;
  /** Baseline: a constant fill value, or 'blur' (default: 0 for deletion, 'blur' for insertion). */
  baseline?: number | 'blur';
  /** σ of the blur baseline in pixels (default 5). */
  blurSigma?: number;
  /** Curve of the softmax probability (default) or the logit of the target. */
  score?: ScoreKind;
}

export interface CurveResult {
  mode: 'deletion' | 'insertion';
  /** Fractions of pixels removed/revealed, f_0 = 0 … f_S = 1 (shared by every image). */
  fractions: number[];
  /** Per image: the score at each fraction. */
  curves: number[][];
  /** Per image: trapezoid area under its curve. */
  auc: number[];
  targets: number[];
}

/** Trapezoid area under y(x). */
export function trapezoid(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new Error(`trapezoid: ${x.length} x values but ${y.length} y values`);
  let s = 0;
  for (let i = 0; i + 1 < x.length; i++) s += ((x[i + 1]! - x[i]!) * (y[i]! + y[i + 1]!)) / 2;
  return s;
}

/** Pixel counts k_0 = 0 … k_S = hw for the options. */
export function stepCounts(hw: number, options: { steps?: number; pixelsPerStep?: number }): number[] {
  if (options.pixelsPerStep !== undefined) {
    const p = options.pixelsPerStep;
    if (!Number.isInteger(p) || p < 1) throw new Error(`pixelsPerStep must be a positive integer, got ${p}`);
    const s = Math.ceil(hw / p);
    return Array.from({ length: s + 1 }, (_, i) => Math.min(i * p, hw));
  }
  const s = options.steps ?? 64;
  if (!Number.isInteger(s) || s < 1) throw new Error(`steps must be a positive integer, got ${s}`);
  if (s > hw) throw new Error(`steps (${s}) exceeds the number of pixels (${hw})`);
  return Array.from({ length: s + 1 }, (_, i) => Math.round((i * hw) / s));
}

async function curve(mode: 'deletion' | 'insertion', model: Model, inputs: Tensor, maps: Tensor, target: Target, options: CurveOptions): Promise<CurveResult> {
  const { n, c, spatial, voxels: hw } = checkImagesAndMaps(inputs, maps, mode);
  const size = c * hw;
  const counts = stepCounts(hw, options);
  const { targets } = await resolveTargets(model, inputs, target);
  const baseline = options.baseline ?? (mode === 'deletion' ? 0 : 'blur');
  if (baseline !== 'blur' && !Number.isFinite(baseline)) throw new Error(`${mode}: baseline must be a number or 'blur', got ${String(baseline)}`);
  const x = inputs.data as Float32Array;
  const base = baseline === 'blur' ? Float32Array.from(gaussianBlurNd(x, n * c, spatial, options.blurSigma ?? 5)) : null;
  const orders = Array.from({ length: n }, (_, i) => saliencyOrder(maps.data.subarray(i * hw, (i + 1) * hw), `${mode}: map ${i}`));
  const steps = counts.length;
  const k = model.numClasses;
  const kind = options.score ?? 'probability';
  const curves = Array.from({ length: n }, () => new Array<number>(steps).fill(NaN));
  await runPerturbed(
    model,
    n * steps,
    inputs.shape.slice(1),
    (q, out) => {
      const img = Math.floor(q / steps);
      const m = counts[q % steps]!;
      const src = x.subarray(img * size, (img + 1) * size);
      const b = base?.subarray(img * size, (img + 1) * size);
      const first = mode === 'deletion' ? src : null;
      // start from the image (deletion) or the baseline (insertion), then write the first m pixels
      if (first) out.set(first);
      else if (b) out.set(b);
      else out.fill(baseline as number);
      const order = orders[img]!;
      for (let r = 0; r < m; r++) {
        const p = order[r]!;
        for (let ch = 0; ch < c; ch++) {
          const at = ch * hw + p;
          out[at] = mode === 'insertion' ? src[at]! : b ? b[at]! : (baseline as number);
        }
      }
    },
    (q, lg, row) => {
      curves[Math.floor(q / steps)]![q % steps] = scoreOf(lg, k, row, targets[Math.floor(q / steps)]!, kind);
    },
    options,
  );
  const fractions = counts.map((m) => m / hw);
  return { mode, fractions, curves, auc: curves.map((y) => trapezoid(fractions, y)), targets };
}

/** Deletion curve and AUC per image (lower is more faithful). Maps [N,H,W], inputs [N,C,H,W]. */
export function deletionCurve(model: Model, inputs: Tensor, maps: Tensor, target: Target, options: CurveOptions = {}): Promise<CurveResult> {
  return curve('deletion', model, inputs, maps, target, options);
}

/** Insertion curve and AUC per image (higher is more faithful). */
export function insertionCurve(model: Model, inputs: Tensor, maps: Tensor, target: Target, options: CurveOptions = {}): Promise<CurveResult> {
  return curve('insertion', model, inputs, maps, target, options);
}

export interface FaithfulnessCorrelationOptions extends MetricOptions {
  /** Random subsets per image (default 100). */
  runs?: number;
  /** Pixels per subset (default 224). */
  subsetSize?: number;
  /** Value written into the subset (default 0). */
  baseline?: number;
  /** Target logit (default, Quantus) or softmax probability. */
  score?: ScoreKind;
  /** Map normalisation before summing: Quantus' 'by-negative' (default) or 'none'. */
  normalize?: 'by-negative' | 'none';
}

export interface FaithfulnessCorrelationResult {
  /** Per image: Pearson correlation of subset attribution sums and output drops (NaN if undefined). */
  correlation: number[];
  /** Per image, per run: Σ attribution over the subset and the output drop f(x) − f(x_S). */
  attributionSums: number[][];
  drops: number[][];
  targets: number[];
}

/** Quantus' normalise_by_negative: positives divided by max, negatives by |min|. */
export function normaliseByNegative(a: ArrayLike<number>): Float64Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    lo = Math.min(lo, a[i]!);
    hi = Math.max(hi, a[i]!);
  }
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    out[i] = v > 0 ? v / hi : v < 0 ? v / -lo : 0;
  }
  return out;
}

/** Faithfulness correlation (Bhatt et al. 2020) per image. */
export async function faithfulnessCorrelation(model: Model, inputs: Tensor, maps: Tensor, target: Target, options: FaithfulnessCorrelationOptions = {}): Promise<FaithfulnessCorrelationResult> {
  const { n, c, spatial, voxels: hw } = checkImagesAndMaps(inputs, maps, 'faithfulnessCorrelation');
  const size = c * hw;
  const runs = options.runs ?? 100;
  const sub = options.subsetSize ?? 224;
  const fill = options.baseline ?? 0;
  if (!Number.isInteger(runs) || runs < 2) throw new Error(`faithfulnessCorrelation: runs must be an integer ≥ 2, got ${runs}`);
  if (!Number.isInteger(sub) || sub < 1 || sub >= hw) throw new Error(`faithfulnessCorrelation: subsetSize must be an integer in [1, ${hw - 1}] for ${spatial.join('×')} maps, got ${sub}`);
  const norm = options.normalize ?? 'by-negative';
  if (norm !== 'by-negative' && norm !== 'none') throw new Error(`faithfulnessCorrelation: normalize must be 'by-negative' or 'none', got '${norm as string}'`);
  const { targets, logits } = await resolveTargets(model, inputs, target);
  const kind = options.score ?? 'logit';
  const k = model.numClasses;
  const root = new Rng(options.seed ?? 0);
  const subsets: Int32Array[] = [];
  const attributionSums: number[][] = [];
  for (let i = 0; i < n; i++) {
    const raw = maps.data.subarray(i * hw, (i + 1) * hw);
    const a = norm === 'none' ? raw : normaliseByNegative(raw);
    const rng = root.fork(i);
    const perm = new Int32Array(hw);
    const sums: number[] = [];
    for (let r = 0; r < runs; r++) {
      for (let p = 0; p < hw; p++) perm[p] = p;
      for (let j = 0; j < sub; j++) {
        // partial Fisher–Yates: the first `sub` entries are a uniform subset without replacement
        const t = j + rng.int(hw - j);
        const tmp = perm[j]!;
        perm[j] = perm[t]!;
        perm[t] = tmp;
      }
      const s = perm.slice(0, sub);
      subsets.push(s);
      let acc = 0;
      for (const p of s) acc += a[p]!;
      sums.push(acc);
    }
    attributionSums.push(sums);
  }
  const x = inputs.data as Float32Array;
  const drops = Array.from({ length: n }, () => new Array<number>(runs).fill(NaN));
  await runPerturbed(
    model,
    n * runs,
    inputs.shape.slice(1),
    (q, out) => {
      const img = Math.floor(q / runs);
      out.set(x.subarray(img * size, (img + 1) * size));
      for (const p of subsets[q]!) for (let ch = 0; ch < c; ch++) out[ch * hw + p] = fill;
    },
    (q, lg, row) => {
      const img = Math.floor(q / runs);
      const t = targets[img]!;
      drops[img]![q % runs] = scoreOf(logits.data, k, img, t, kind) - scoreOf(lg, k, row, t, kind);
    },
    options,
  );
  return { correlation: drops.map((d, i) => pearson(attributionSums[i]!, d)), attributionSums, drops, targets };
}
