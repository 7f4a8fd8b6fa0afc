/**
 * Robustness of explanations to small input changes (DESIGN.md §5). Any method can be measured:
 * the caller passes `explain(inputs, targets) → maps [N,H,W]` (it must explain the given
 * targets, which are the targets of the unperturbed images).
 *
 * Stability (map correlation under noise): for S samples (default 8) x' = x + ε, ε ~ N(0, σ²)
 * per pixel and channel (σ default 0.05 in input units); samples whose prediction differs from
 * the prediction on x are skipped; the score is the mean Spearman ρ(map(x), map(x')) over the
 * kept samples (NaN when none is kept). `unchanged` counts them.
 *
 * Max- and average-sensitivity (Yeh et al. 2019, "On the (In)fidelity and Sensitivity of
 * Explanations", NeurIPS; Quantus' MaxSensitivity/AvgSensitivity): S samples (default 10) of
 * x' = x + δ, δ ~ U[−r, r] per element (r default 0.2, Quantus' lower_bound), and
 *   SENS_max = max_s ‖Φ(x'_s) − Φ(x)‖_F / D,  SENS_avg = mean_s ‖Φ(x'_s) − Φ(x)‖_F / D
 * where D = ‖Φ(x)‖_F (default, `denominator: 'map'`), ‖x‖_F ('input', as some Quantus versions
 * divide), or 1 ('none', Yeh et al.'s unnormalised form). Quantus also normalises both maps first
 * (`normalize: 'by-negative'`); the default here is raw maps ('none'). With `skipChanged`, samples
 * that change the prediction are left out (Quantus' return_nan_when_prediction_changes is
 * stricter: NaN for the image).
 *
 * Seeded: sample s draws its noise from `new Rng(seed).fork(s)` for the whole batch.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Model } from '../runtime/model.js';
import { Rng } from '../tensor/rng.js';
import { resolveTargets, type Target } from '../explain/types.js';
import { spearman } from './correlation.js';
import { normaliseByNegative } from './faithfulness.js';
import { argmaxRow, checkImagesAndMaps } from './perturb.js';

/** An explanation method as a callback: maps [N,H,W] for the inputs and targets. */
export type ExplainFn = (inputs: Tensor, targets: readonly number[]) => Promise<Tensor>;

export interface RobustnessOptions {
  /** Noise samples per image. */
  samples?: number;
  seed?: number;
  /** Progress: done / total samples. */
  onProgress?: (done: number, total: number) => void;
  /** Images per model.forward call when checking predictions (default 128). */
  batchSize?: number;
  /** Maps of the unperturbed inputs, if already computed. */
  maps?: Tensor;
}

export interface StabilityOptions extends RobustnessOptions {
  /** Noise std in input units (default 0.05). */
  sigma?: number;
}

export interface StabilityResult {
  /** Per image: mean Spearman ρ over samples with an unchanged prediction (NaN if none). */
  correlation: number[];
  /** Per image: samples whose prediction was unchanged. */
  unchanged: number[];
  targets: number[];
}

async function setup(model: Model, inputs: Tensor, target: Target, explain: ExplainFn, options: RobustnessOptions, what: string) {
  if (inputs.shape.length !== 4 && inputs.shape.length !== 5) throw new Error(`${what}: inputs must be [N,C,H,W] or [N,C,D,H,W], got [${inputs.shape.join(', ')}]`);
  const samples = options.samples ?? 10;
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`${what}: samples must be a positive integer, got ${samples}`);
  const { targets, logits } = await resolveTargets(model, inputs, target);
  const k = model.numClasses;
  const preds = targets.map((_, i) => argmaxRow(logits.data, k, i));
  const maps = options.maps ?? (await explain(inputs, targets));
  const { n, voxels } = checkImagesAndMaps(inputs, maps, what);
  return { targets, preds, maps, n, hw: voxels, k, samples };
}

/** Spearman correlation of maps under small Gaussian noise, for samples that keep the prediction. */
export async function stability(model: Model, inputs: Tensor, target: Target, explain: ExplainFn, options: StabilityOptions = {}): Promise<StabilityResult> {
  const { targets, preds, maps, n, hw, k, samples } = await setup(model, inputs, target, explain, { samples: 8, ...options }, 'stability');
  const sigma = options.sigma ?? 0.05;
  if (!(sigma > 0)) throw new Error(`stability: sigma must be positive, got ${sigma}`);
  const root = new Rng(options.seed ?? 0);
  const sums = new Array<number>(n).fill(0);
  const unchanged = new Array<number>(n).fill(0);
  for (let s = 0; s < samples; s++) {
    const noise = root.fork(s).fillNormal(new Float32Array(inputs.size), 0, sigma);
    for (let i = 0; i < noise.length; i++) noise[i]! += inputs.data[i]!;
    const xs = new Tensor(noise, inputs.shape);
    const lg = await model.forward(xs, { batchSize: options.batchSize ?? 128 });
    const ms = await explain(xs, targets);
    for (let i = 0; i < n; i++) {
      if (argmaxRow(lg.data, k, i) !== preds[i]) continue;
      unchanged[i]!++;
      sums[i]! += spearman(maps.data.subarray(i * hw, (i + 1) * hw), ms.data.subarray(i * hw, (i + 1) * hw));
    }
    options.onProgress?.(s + 1, samples);
  }
  return { correlation: sums.map((v, i) => (unchanged[i] ? v / unchanged[i]! : NaN)), unchanged, targets };
}

export interface SensitivityOptions extends RobustnessOptions {
  /** Radius r of the L∞ ball (uniform noise in [−r, r]; default 0.2). */
  radius?: number;
  /** Denominator D: ‖Φ(x)‖ ('map', default), ‖x‖ ('input') or 1 ('none'). */
  denominator?: 'map' | 'input' | 'none';
  /** Map normalisation before differencing (default 'none'; Quantus uses 'by-negative'). */
  normalize?: 'none' | 'by-negative';
  /** Leave out samples that change the prediction (default false, as Quantus). */
  skipChanged?: boolean;
}

export interface SensitivityResult {
  /** Per image: max over samples of the normalised map change. */
  max: number[];
  /** Per image: mean over samples. */
  avg: number[];
  /** Per image: samples used. */
  used: number[];
  targets: number[];
}

/** Max- and average-sensitivity per image (one pass computes both). */
export async function sensitivity(model: Model, inputs: Tensor, target: Target, explain: ExplainFn, options: SensitivityOptions = {}): Promise<SensitivityResult> {
  const { targets, preds, maps, n, hw, k, samples } = await setup(model, inputs, target, explain, options, 'sensitivity');
  const r = options.radius ?? 0.2;
  if (!(r > 0)) throw new Error(`sensitivity: radius must be positive, got ${r}`);
  const denom = options.denominator ?? 'map';
  const norm = options.normalize ?? 'none';
  if (!['map', 'input', 'none'].includes(denom)) throw new Error(`sensitivity: denominator must be 'map', 'input' or 'none', got '${denom}'`);
  const prep = (m: ArrayLike<number>) => (norm === 'by-negative' ? normaliseByNegative(m) : m);
  const size = inputs.size / n;
  const base = Array.from({ length: n }, (_, i) => prep(maps.data.subarray(i * hw, (i + 1) * hw)));
  const d = base.map((m, i) => {
    if (denom === 'none') return 1;
    const v = denom === 'map' ? m : inputs.data.subarray(i * size, (i + 1) * size);
    let s = 0;
    for (let j = 0; j < v.length; j++) s += v[j]! * v[j]!;
    return Math.sqrt(s);
  });
  const root = new Rng(options.seed ?? 0);
  const max = new Array<number>(n).fill(-Infinity);
  const sum = new Array<number>(n).fill(0);
  const used = new Array<number>(n).fill(0);
  for (let s = 0; s < samples; s++) {
    const xs = root.fork(s).fillUniform(new Float32Array(inputs.size), -r, r);
    for (let i = 0; i < xs.length; i++) xs[i]! += inputs.data[i]!;
    const xt = new Tensor(xs, inputs.shape);
    const lg = options.skipChanged ? await model.forward(xt, { batchSize: options.batchSize ?? 128 }) : null;
    const ms = await explain(xt, targets);
    for (let i = 0; i < n; i++) {
      if (lg && argmaxRow(lg.data, k, i) !== preds[i]) continue;
      const a = base[i]!;
      const b = prep(ms.data.subarray(i * hw, (i + 1) * hw));
      let diff = 0;
      for (let j = 0; j < hw; j++) diff += (b[j]! - a[j]!) ** 2;
      const v = Math.sqrt(diff) / d[i]!;
      max[i] = Math.max(max[i]!, v);
      sum[i]! += v;
      used[i]!++;
    }
    options.onProgress?.(s + 1, samples);
  }
  return { max: max.map((v, i) => (used[i] ? v : NaN)), avg: sum.map((v, i) => (used[i] ? v / used[i]! : NaN)), used, targets };
}
