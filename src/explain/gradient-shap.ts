/**
 * GradientSHAP (Lundberg & Lee 2017) and Expected Gradients (Erion et al. 2021), with Captum
 * `GradientShap` semantics (NoiseTunnel over InputBaselineXGradient, draw_baseline_from_distrib):
 *
 *   attr(x) = (1/S) Σ_s (x̃_s − b_s) ⊙ ∇_x y_t( b_s + α_s (x̃_s − b_s) )
 *
 * for S = `samples` draws per image of
 *   x̃_s = x + ε_s,  ε_s ~ N(0, stdev²) elementwise     (Captum `stdevs`; 0 = no noise, the default)
 *   b_s  uniformly from the baseline distribution     (`np.random.choice(B, N·S)`, with replacement)
 *   α_s ~ U(0, 1)                                      (one per draw, as `np.random.uniform(0, 1, N·S)`)
 * so Σ attr ≈ E[y_t(x̃) − y_t(b)] in expectation. Expected Gradients is the same estimator with the
 * baselines drawn from a reference data set and no noise: `expectedgradients` runs it with
 * `baselines: 'batch'` (the other images of the batch, and the image itself) unless given a tensor.
 *
 * Baseline distributions: a tensor [B,C,H,W] (e.g. training images), 'batch' (the inputs), 'uniform'
 * (`baselineCount` images of U(dataRange) noise, seeded), or one constant image 'zeros' / 'black'
 * (dataRange[0]) / 'gray' (midpoint). Default 'uniform', 16 images, dataRange [−1, 1].
 *
 * All draws of all images (N × S) go through few batched VJP calls (perturbedGradients). Randomness
 * comes from candor's seeded generator (`seed`, default 0): the same distribution as Captum's, not
 * the same numbers. Signed; the map is the channel sum (DESIGN.md §3).
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';
import type { Model } from '../runtime/model.js';
import { type Attribution, type ExplainOptions, type Target, reduceChannels, batchLayout, sameShape } from './types.js';
import { checkImages, perturbedGradients, targetsOf } from './saliency.js';
import { gradientShapUntilConverged } from './gradient-shap-adaptive.js';

export type ShapBaselines = 'zeros' | 'black' | 'gray' | 'uniform' | 'batch' | Tensor;
const NAMED = ['zeros', 'black', 'gray', 'uniform', 'batch'] as const;

export interface GradientShapOptions extends ExplainOptions {
  /** Draws per image (Captum n_samples; default 50). */
  samples?: number;
  /** σ of the Gaussian noise added to the input (Captum stdevs; default 0). */
  stdev?: number;
  /** The baseline distribution (default 'uniform'). */
  baselines?: ShapBaselines;
  /** Images in the 'uniform' distribution (default 16). */
  baselineCount?: number;
  /** Range of the data for 'black', 'gray', 'uniform' (default [−1, 1]). */
  dataRange?: readonly [number, number];
  /**
   * Stop each image once the standard error of its mean attribution is ≤ tolerance × the attribution's
   * variation (gradient-shap-adaptive.ts; rounds of 8 draws, `samples` is then the cap, default 256);
   * `extra.samples` holds the draws per image and `extra.relativeSE` where each stopped.
   */
  tolerance?: number;
}

/** Random draws for row q = image·S + sample: baseline index, interpolation point, noise (deterministic per q: it is asked for twice). */
export interface ShapDraws {
  baselineIndex: (q: number) => number;
  alpha: (q: number) => number;
  /** Adds the noise of row q to `out` (which holds x); absent = no noise. */
  noise?: (q: number, out: Float32Array) => void;
}

/** The baseline distribution as a tensor [B,C,...spatial]; `method` names the caller in errors (DeepLiftShap shares it). */
export function shapBaselines(inputs: Tensor, baselines: ShapBaselines, options: GradientShapOptions = {}, method = 'gradientshap'): Tensor {
  const { size } = batchLayout(inputs.shape);
  const image = inputs.shape.slice(1);
  const one = [1, ...image];
  const [lo, hi] = options.dataRange ?? [-1, 1];
  if (!(hi > lo)) throw new Error(`${method}: dataRange must be [min, max] with min < max, got [${lo}, ${hi}]`);
  if (baselines instanceof Tensor) {
    const s = baselines.shape;
    const ok = s.length === image.length + 1 && s[0]! >= 1 && sameShape(s.slice(1), image);
    const ok3 = sameShape(s, image);
    if (!ok && !ok3) throw new Error(`${method}: baselines have shape [${s.join(', ')}], expected [B, ${image.join(', ')}] or [${image.join(', ')}]`);
    return new Tensor(Float32Array.from(baselines.data as ArrayLike<number>), ok ? s : one);
  }
  switch (baselines) {
    case 'zeros':
      return Tensor.zeros(one);
    case 'black':
      return new Tensor(new Float32Array(size).fill(lo), one);
    case 'gray':
      return new Tensor(new Float32Array(size).fill((lo + hi) / 2), one);
    case 'batch':
      if (inputs.shape[0]! < 2) throw new Error(`${method}: baselines 'batch' needs at least 2 images (one image is its own only baseline: all attributions 0); give a baselines tensor, e.g. training images`);
      return new Tensor(Float32Array.from(inputs.data as Float32Array), inputs.shape);
    case 'uniform': {
      const b = options.baselineCount ?? 16;
      if (!Number.isInteger(b) || b < 1) throw new Error(`${method}: baselineCount must be a positive integer, got ${b}`);
      return new Tensor(new Rng(options.seed ?? 0).fork('shap-uniform-baselines').fillUniform(new Float32Array(b * size), lo, hi), [b, ...image]);
    }
    default:
      throw new Error(`${method}: unknown baselines '${String(baselines)}' (valid: ${NAMED.join(', ')}, or a tensor [B,C,...spatial])`);
  }
}

/** GradientSHAP with given draws (exposed for tests against recorded reference draws). */
export async function gradientShapWithDraws(model: Model, inputs: Tensor, targets: readonly number[], baselines: Tensor, samples: number, draws: ShapDraws, options: ExplainOptions = {}): Promise<Tensor> {
  const { n, size } = batchLayout(inputs.shape);
  const x = inputs.data as Float32Array;
  const b = baselines.data as Float32Array;
  const B = baselines.shape[0]!;
  const diff = new Float32Array(size);
  const total = new Float64Array(n * size);
  const rowB = new Int32Array(n * samples);
  const rowX = new Float32Array(size);
  await perturbedGradients(
    model,
    inputs,
    targets,
    samples,
    (i, s, out) => {
      const q = i * samples + s;
      const bi = draws.baselineIndex(q);
      if (!(Number.isInteger(bi) && bi >= 0 && bi < B)) throw new Error(`gradientshap: baseline index ${bi} outside 0..${B - 1}`);
      const a = draws.alpha(q);
      rowB[q] = bi;
      rowX.set(x.subarray(i * size, (i + 1) * size));
      draws.noise?.(q, rowX);
      const bo = bi * size;
      for (let p = 0; p < size; p++) out[p] = b[bo + p]! + a * (rowX[p]! - b[bo + p]!);
    },
    (i, s, g) => {
      // x̃ − b, rebuilt from the draw (noise is regenerated per row) rather than from the float32 point.
      const q = i * samples + s;
      const bo = rowB[q]! * size;
      const off = i * size;
      rowX.set(x.subarray(off, off + size));
      draws.noise?.(q, rowX);
      for (let p = 0; p < size; p++) diff[p] = rowX[p]! - b[bo + p]!;
      for (let p = 0; p < size; p++) total[off + p]! += diff[p]! * g[p]!;
    },
    options,
  );
  const out = new Float32Array(n * size);
  for (let q = 0; q < out.length; q++) out[q] = total[q]! / samples;
  return new Tensor(out, inputs.shape);
}

export async function gradientShap(model: Model, inputs: Tensor, target: Target, options: GradientShapOptions = {}): Promise<Attribution> {
  checkImages(model, inputs);
  const samples = options.samples ?? (options.tolerance !== undefined ? 256 : 50);
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`gradientshap: samples must be a positive integer, got ${samples}`);
  const stdev = options.stdev ?? 0;
  if (!(stdev >= 0)) throw new Error(`gradientshap: stdev must be ≥ 0, got ${stdev}`);
  const which = options.baselines ?? 'uniform';
  const base = shapBaselines(inputs, which, options);
  const { targets, logits: given } = await targetsOf(model, inputs, target);
  const { n, size, voxels } = batchLayout(inputs.shape);
  const B = base.shape[0]!;
  const logitsOf = async () => given ?? (await model.forward(inputs, { batchSize: options.batchSize }));
  const about = { stdev, baselines: which instanceof Tensor ? 'tensor' : which, baselineCount: B, images: n, pixels: voxels };
  if (options.tolerance !== undefined) {
    const r = await gradientShapUntilConverged(model, inputs, targets, base, { ...options, tolerance: options.tolerance, cap: samples, stdev });
    return {
      method: 'gradientshap',
      attributions: r.attributions,
      map: reduceChannels(r.attributions, 'sum'),
      signed: true,
      targets,
      logits: await logitsOf(),
      extra: { samples: r.used, tolerance: options.tolerance, relativeSE: r.relativeSE, ...about },
    };
  }
  const rng = new Rng(options.seed ?? 0).fork('gradientshap');
  const idx = Int32Array.from({ length: n * samples }, () => rng.int(B));
  const alpha = Float64Array.from({ length: n * samples }, () => rng.next());
  // Noise per row from its own forked stream, so it can be regenerated (see gradientShapWithDraws).
  const noiseRng = new Rng(options.seed ?? 0).fork('gradientshap-noise');
  const noise = stdev > 0
    ? (q: number, out: Float32Array) => {
        const e = noiseRng.fork(q).fillNormal(new Float32Array(size), 0, stdev);
        for (let p = 0; p < size; p++) out[p]! += e[p]!;
      }
    : undefined;
  const attributions = await gradientShapWithDraws(model, inputs, targets, base, samples, { baselineIndex: (q) => idx[q]!, alpha: (q) => alpha[q]!, noise }, options);
  return {
    method: 'gradientshap',
    attributions,
    map: reduceChannels(attributions, 'sum'),
    signed: true,
    targets,
    logits: await logitsOf(),
    extra: { samples, ...about },
  };
}

/** Expected Gradients: GradientSHAP with the batch (or given reference images) as baselines, no noise. */
export function expectedGradients(model: Model, inputs: Tensor, target: Target, options: GradientShapOptions = {}): Promise<Attribution> {
  return gradientShap(model, inputs, target, { baselines: 'batch', stdev: 0, ...options }).then((a) => ({ ...a, method: 'expectedgradients' }));
}
