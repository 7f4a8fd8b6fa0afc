/**
 * SmoothGrad, SmoothGrad² and VarGrad with Captum `NoiseTunnel` semantics.
 *
 * For each image x, `samples` noisy copies x̃_s = x + ε_s, ε_s ~ N(0, σ²) elementwise, are explained
 * with the base method A (all copies of all images batched into few VJP calls), then:
 *  - 'smoothgrad':    mean_s A(x̃_s)
 *  - 'smoothgrad_sq': mean_s A(x̃_s)²
 *  - 'vargrad':       mean_s A(x̃_s)² − (mean_s A(x̃_s))²   (population variance, as Captum)
 *
 * The base method is Captum's `Saliency(abs=True)` by default, so 'smoothgrad' averages |∇| (not the
 * absolute value of the averaged gradient: Captum's NoiseTunnel averages the base method's output,
 * which is already |∇|). Other bases: 'gradient' (signed ∇) and 'input_x_gradient' (x̃ ⊙ ∇(x̃), the
 * *noisy* input, as NoiseTunnel passes the noisy input to InputXGradient).
 *
 * Noise scale: σ = noiseLevel × (max(x) − min(x)) per image (the SmoothGrad paper's "noise level";
 * max/min over all channels and pixels of that image). Captum's `stdevs` is an absolute σ instead;
 * pass `stdev` to use an absolute σ for every image.
 *
 * Map: the base method's channel reduction (DESIGN.md §3) applied to the aggregated attributions:
 * max over channels of |·| for 'saliency', sum over channels for 'gradient' and 'input_x_gradient'.
 * Signed only for variant 'smoothgrad' with a signed base.
 *
 * Differences from Captum, by design: VarGrad is computed with Welford's update in float64 (the same
 * quantity, but never negative from cancellation as Captum's float32 E[a²] − E[a]² can be); the noise
 * comes from candor's seeded xoshiro generator (same distribution, not the same numbers as torch).
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';
import type { Model } from '../runtime/model.js';
import { type Attribution, type ExplainOptions, type Target, reduceChannels, batchLayout } from './types.js';
import { checkImages, perturbedGradients, targetsOf } from './saliency.js';
import { addSample, relativeStandardError, untilStandardError } from './sampling.js';

export type SmoothGradVariant = 'smoothgrad' | 'smoothgrad_sq' | 'vargrad';
export type SmoothGradBase = 'saliency' | 'gradient' | 'input_x_gradient';

export interface SmoothGradOptions extends ExplainOptions {
  /** Noisy samples per image (default 50, the SmoothGrad paper's; Captum's nt_samples default is 5). */
  samples?: number;
  /** σ as a fraction of each image's value range (default 0.15). */
  noiseLevel?: number;
  /** Absolute σ for every image (Captum's `stdevs`); overrides `noiseLevel`. */
  stdev?: number;
  variant?: SmoothGradVariant;
  base?: SmoothGradBase;
  /**
   * Stop early: draw noisy samples per image, 8 at a time, until the standard error of the mean map is at
   * most `tolerance` × the map's variation (‖SE‖₂ ≤ tol · ‖mean − its average‖₂), or `samples` (then the
   * cap, default 256) are drawn.
   * Each image then has its own noise stream (the seed forked per image), so its result is the fixed-count
   * SmoothGrad of that stream with the samples it used (extra.samples, per image). Without it, nothing changes.
   */
  tolerance?: number;
}

const VARIANTS: readonly SmoothGradVariant[] = ['smoothgrad', 'smoothgrad_sq', 'vargrad'];
const BASES: readonly SmoothGradBase[] = ['saliency', 'gradient', 'input_x_gradient'];

export async function smoothGrad(model: Model, inputs: Tensor, target: Target, options: SmoothGradOptions = {}): Promise<Attribution> {
  const variant = options.variant ?? 'smoothgrad';
  const base = options.base ?? 'saliency';
  if (!VARIANTS.includes(variant)) throw new Error(`smoothgrad: unknown variant '${variant}' (valid: ${VARIANTS.join(', ')})`);
  if (!BASES.includes(base)) throw new Error(`smoothgrad: unknown base method '${base}' (valid: ${BASES.join(', ')})`);
  const samples = options.samples ?? 50;
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`smoothgrad: samples must be a positive integer, got ${samples}`);
  const noiseLevel = options.noiseLevel ?? 0.15;
  if (!(noiseLevel >= 0)) throw new Error(`smoothgrad: noiseLevel must be ≥ 0, got ${noiseLevel}`);
  if (options.stdev !== undefined && !(options.stdev >= 0)) throw new Error(`smoothgrad: stdev must be ≥ 0, got ${options.stdev}`);
  checkImages(model, inputs);

  const { n, size } = batchLayout(inputs.shape);
  const x = inputs.data as Float32Array;
  const sigma: number[] = [];
  for (let i = 0; i < n; i++) {
    if (options.stdev !== undefined) {
      sigma.push(options.stdev);
      continue;
    }
    let lo = Infinity;
    let hi = -Infinity;
    for (let p = i * size; p < (i + 1) * size; p++) {
      lo = Math.min(lo, x[p]!);
      hi = Math.max(hi, x[p]!);
    }
    sigma.push(noiseLevel * (hi - lo));
  }

  const { targets, logits: given } = await targetsOf(model, inputs, target);
  const rng = new Rng(options.seed ?? 0);
  const mean = new Float64Array(n * size);
  const m2 = new Float64Array(n * size); // Welford: Σ (a − mean)² (vargrad)
  const sq = new Float64Array(n * size); // Σ a² (smoothgrad_sq)
  const attribution = (g: Float32Array, xs: Float32Array, p: number) => (base === 'saliency' ? Math.abs(g[p]!) : base === 'gradient' ? g[p]! : xs[p]! * g[p]!);
  if (options.tolerance !== undefined) {
    const used = await untilConverged(model, inputs, targets, sigma, attribution, { mean, m2, sq }, options, options.tolerance, options.samples ?? 256);
    return finish(used);
  }
  await perturbedGradients(
    model,
    inputs,
    targets,
    samples,
    (i, _s, out) => {
      rng.fillNormal(out, 0, sigma[i]!);
      for (let p = 0; p < size; p++) out[p]! += x[i * size + p]!;
    },
    (i, s, g, xs) => {
      addSample({ mean, m2, sq }, i * size, s + 1, size, (p) => attribution(g, xs, p));
    },
    options,
  );
  return finish(new Array<number>(n).fill(samples));

  async function finish(used: number[]): Promise<Attribution> {
    const out = new Float32Array(n * size);
    for (let q = 0; q < out.length; q++) {
      const k = used[Math.floor(q / size)]!;
      out[q] = variant === 'smoothgrad' ? mean[q]! : variant === 'smoothgrad_sq' ? sq[q]! / k : Math.max(0, m2[q]! / k);
    }
    const attributions = new Tensor(out, inputs.shape);
    const logits = given ?? (await model.forward(inputs, { batchSize: options.batchSize }));
    const signed = variant === 'smoothgrad' && base !== 'saliency';
    // ‖SE of the mean map‖₂ / ‖mean map‖₂ per image: how settled the average is (the early-stopping criterion).
    const relativeSE = used.map((k, i) => relativeStandardError(mean, m2, k, i * size, size));
    return {
      method: variant,
      attributions,
      map: reduceChannels(attributions, base === 'saliency' ? 'max-abs' : 'sum'),
      signed,
      targets,
      logits,
      extra: options.tolerance !== undefined ? { base, samples: used, sigma, tolerance: options.tolerance, relativeSE } : { base, samples, sigma, relativeSE },
    };
  }
}

/**
 * The early-stopping mode: rounds of ROUND noisy samples for every image not yet converged, each image
 * drawing from its own stream (`seed` forked by image index), Welford updates, and a stop when
 * ‖SE of the mean‖₂ ≤ tol · ‖mean‖₂ (SE²_p = var_p / k) or at `cap` samples. Returns the samples per image.
 */
async function untilConverged(
  model: Model,
  inputs: Tensor,
  targets: readonly number[],
  sigma: readonly number[],
  attribution: (g: Float32Array, xs: Float32Array, p: number) => number,
  acc: { mean: Float64Array; m2: Float64Array; sq: Float64Array },
  options: SmoothGradOptions,
  tol: number,
  cap: number,
): Promise<number[]> {
  const n = inputs.shape[0]!;
  const size = inputs.size / n;
  const x = inputs.data as Float32Array;
  const streams = Array.from({ length: n }, (_, i) => new Rng(options.seed ?? 0).fork(`smoothgrad-image-${i}`));
  return untilStandardError('smoothgrad', n, size, acc, tol, cap, (active, first, rows) =>
    perturbedGradients(
      model,
      Tensor.zeros([active.length, ...inputs.shape.slice(1)]), // perturbedGradients reads only its shape
      active.map((i) => targets[i]!),
      rows,
      (j, _s, out) => {
        const i = active[j]!;
        streams[i]!.fillNormal(out, 0, sigma[i]!);
        for (let p = 0; p < size; p++) out[p]! += x[i * size + p]!;
      },
      (j, s, g, xs) => {
        const i = active[j]!;
        addSample(acc, i * size, first[j]! + s + 1, size, (p) => attribution(g, xs, p));
      },
      options,
    ),
  );
}
