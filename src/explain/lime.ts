/**
 * LIME over superpixels (Ribeiro et al. 2016), Captum's `Lime` with its defaults: per image, `samples`
 * (50) binary vectors z ∈ {0,1}^F, each feature kept with probability ½ (Captum's `default_perturb_func`);
 * the model's target logit y on each perturbed image (kept features show the input, the others
 * `baseline`); similarities w = exp(−d² / (2·width²)) with d the cosine distance 1 − cos(x, x_z) between
 * the flattened input and perturbed image (Captum's `get_exp_kernel_similarity_function('cosine', 1.0)`;
 * `distance: 'euclidean'` gives ‖x − x_z‖); and the interpretable model, a weighted Lasso (alpha 0.01,
 * with intercept: Captum's `SkLearnLasso`, ./lasso.ts) of y on z. A feature's attribution is its
 * coefficient, written at all its positions; the map is the channel sum. Features as feature ablation's
 * masks (`mask` grid | slic | a tensor of ids; default SLIC superpixels in 2-D, a grid of 8-voxel cubes
 * in 3-D). Each image draws from its own stream (`seed` forked by image index). Signed.
 * `extra`: features per image, the weighted R² of each image's fit (how well the linear model explains
 * the samples: a low value means the explanation is a poor summary), and images whose Lasso did not
 * reach scikit-learn's duality-gap tolerance.
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';
import type { Model } from '../runtime/model.js';
import { type Attribution, type Target, batchLayout, reduceChannels } from './types.js';
import { targetsOf } from './saliency.js';
import { type CoalitionOptions, coalitionFeatures } from './coalition-features.js';
import { coalitionLogits, imageFeatures } from './coalitions.js';
import { lassoFit } from './lasso.js';

export interface LimeOptions extends CoalitionOptions {
  /** Perturbed samples per image (default 50, Captum's). */
  samples?: number;
  /** Lasso regularisation (default 0.01). */
  alpha?: number;
  /** Similarity kernel width (default 1) and distance (default 'cosine'). */
  kernelWidth?: number;
  distance?: 'cosine' | 'euclidean';
}

function check(options: LimeOptions): void {
  const s = options.samples ?? 50;
  if (!Number.isInteger(s) || s < 2) throw new Error(`lime: samples must be an integer ≥ 2, got ${String(options.samples)}`);
  const a = options.alpha ?? 0.01;
  if (!(a >= 0) || !Number.isFinite(a)) throw new Error(`lime: alpha must be a number ≥ 0, got ${String(options.alpha)}`);
  const kw = options.kernelWidth ?? 1;
  if (!(kw > 0) || !Number.isFinite(kw)) throw new Error(`lime: kernelWidth must be > 0, got ${String(options.kernelWidth)}`);
  if (options.distance !== undefined && options.distance !== 'cosine' && options.distance !== 'euclidean') throw new Error(`lime: distance must be cosine or euclidean, got '${String(options.distance)}'`);
}

/** Binary samples [S, F] for one image from its stream: each feature kept with probability ½. */
export function limeDesign(rng: Rng, samples: number, features: number): Uint8Array {
  const z = new Uint8Array(samples * features);
  for (let i = 0; i < z.length; i++) z[i] = rng.next() < 0.5 ? 1 : 0;
  return z;
}

export async function lime(model: Model, inputs: Tensor, target: Target, options: LimeOptions = {}): Promise<Attribution> {
  check(options);
  const { n } = batchLayout(inputs.shape);
  const { ids, mask } = coalitionFeatures(inputs, options);
  const size = inputs.data.length / n;
  const S = options.samples ?? 50;
  const designs = Array.from({ length: n }, (_, i) => limeDesign(new Rng(options.seed ?? 0).fork(`lime-image-${i}`), S, imageFeatures(ids, i, size).ids.length));
  const r = await limeWithDesigns(model, inputs, target, ids, designs, options);
  r.extra!.mask = mask;
  return r;
}

/** LIME with given binary samples per image ([S, F], F = the image's distinct feature ids in ascending order). */
export async function limeWithDesigns(model: Model, inputs: Tensor, target: Target, ids: Int32Array, designs: readonly Uint8Array[], options: LimeOptions = {}): Promise<Attribution> {
  check(options);
  const { targets, logits: pre } = await targetsOf(model, inputs, target);
  const { n } = batchLayout(inputs.shape);
  const size = inputs.data.length / n;
  const fill = options.baseline ?? 0;
  const width = options.kernelWidth ?? 1;
  const distance = options.distance ?? 'cosine';
  const attr = new Float32Array(n * size);
  const r2: number[] = [];
  const features: number[] = [];
  const unconverged: number[] = [];
  const total = designs.reduce((s, d) => s + d.length, 0);
  let done = 0;
  for (let i = 0; i < n; i++) {
    const x = (inputs.data as Float32Array).subarray(i * size, (i + 1) * size);
    const feats = imageFeatures(ids, i, size);
    const F = feats.ids.length;
    const z = designs[i]!;
    if (z.length % F) throw new Error(`lime: image ${i} has ${F} features but its samples hold ${z.length} values`);
    const M = z.length / F;
    let xx = 0;
    for (const v of x) xx += v * v;
    const sim = new Float64Array(M);
    const y = await coalitionLogits(model, x, inputs.shape.slice(1), feats, z, targets[i]!, {
      fill,
      batchSize: options.batchSize,
      visit: (m, p) => {
        let d: number;
        if (distance === 'cosine') {
          let xp = 0;
          let pp = 0;
          for (let q = 0; q < size; q++) {
            xp += x[q]! * p[q]!;
            pp += p[q]! * p[q]!;
          }
          d = 1 - xp / Math.max(Math.sqrt(xx * pp), 1e-8);
        } else {
          let s = 0;
          for (let q = 0; q < size; q++) s += (x[q]! - p[q]!) ** 2;
          d = Math.sqrt(s);
        }
        sim[m] = Math.exp(-(d * d) / (2 * width * width));
      },
      onChunk: (m) => options.onProgress?.(done + m * F, total),
    });
    done += z.length;
    const fit = lassoFit(z, y, sim, M, F, options.alpha ?? 0.01);
    if (!fit.converged) unconverged.push(i);
    feats.positions.forEach((pos, f) => {
      for (const p of pos) attr[i * size + p] = fit.coef[f]!;
    });
    // weighted R² of the fit
    let sw = 0;
    let my = 0;
    for (let m = 0; m < M; m++) {
      sw += sim[m]!;
      my += sim[m]! * y[m]!;
    }
    my /= sw;
    let ssr = 0;
    let sst = 0;
    for (let m = 0; m < M; m++) {
      let pred = fit.intercept;
      for (let f = 0; f < F; f++) pred += z[m * F + f]! * fit.coef[f]!;
      ssr += sim[m]! * (y[m]! - pred) ** 2;
      sst += sim[m]! * (y[m]! - my) ** 2;
    }
    r2.push(sst > 0 ? 1 - ssr / sst : 1);
    features.push(F);
  }
  const attributions = new Tensor(attr, inputs.shape);
  const logits = pre ?? (await model.forward(inputs, { batchSize: options.batchSize }));
  const extra: NonNullable<Attribution['extra']> = { samples: designs.map((d, i) => d.length / features[i]!), features, fitR2: r2, baseline: fill };
  if (unconverged.length) extra.lassoNotConverged = unconverged;
  return { method: 'lime', attributions, map: reduceChannels(attributions, 'sum'), signed: true, targets, logits, extra };
}
