/**
 * GradientSHAP / Expected Gradients to a standard-error target (`tolerance`): draws come in rounds of
 * ROUND per image not yet converged, each image from its own seeded streams, and an image stops when the
 * standard error of its mean attribution is at most `tolerance` × the attribution's own variation,
 *
 *   ‖SE(mean)‖₂ ≤ tolerance · ‖mean − its average‖₂     (sampling.ts relativeStandardError)
 *
 * or at `cap` draws. The estimator is GradientSHAP's (gradient-shap.ts): per draw s of image i,
 * a_s = (x̃_s − b_s) ⊙ ∇y_t(b_s + α_s (x̃_s − b_s)), averaged — so the result equals a fixed-count
 * GradientSHAP over the same draws (`imageDraws`), up to the summation order of a running mean.
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';
import type { Model } from '../runtime/model.js';
import type { ExplainOptions } from './types.js';
import { perturbedGradients } from './saliency.js';
import { addSample, relativeStandardError, untilStandardError } from './sampling.js';
import type { ShapDraws } from './gradient-shap.js';

/** Image i's draws: its baseline index and α for draw k in order, and its noise for draw k (regenerable). */
export function imageDraws(seed: number, image: number, baselines: number, size: number, stdev: number): { next: () => { baseline: number; alpha: number }; noise?: (k: number, out: Float32Array) => void } {
  const rng = new Rng(seed).fork(`gradientshap-image-${image}`);
  const noiseRng = new Rng(seed).fork(`gradientshap-noise-image-${image}`);
  return {
    next: () => ({ baseline: rng.int(baselines), alpha: rng.next() }),
    noise: stdev > 0
      ? (k, out) => {
          const e = noiseRng.fork(k).fillNormal(new Float32Array(size), 0, stdev);
          for (let p = 0; p < size; p++) out[p]! += e[p]!;
        }
      : undefined,
  };
}

export interface AdaptiveShapResult {
  attributions: Tensor;
  /** Draws per image. */
  used: number[];
  relativeSE: number[];
  /** The draws taken, per image (for `gradientShapWithDraws`). */
  draws: ShapDraws[];
}

export async function gradientShapUntilConverged(
  model: Model,
  inputs: Tensor,
  targets: readonly number[],
  baselines: Tensor,
  opts: ExplainOptions & { tolerance: number; cap: number; stdev: number },
): Promise<AdaptiveShapResult> {
  const n = inputs.shape[0]!;
  const size = inputs.size / n;
  const x = inputs.data as Float32Array;
  const b = baselines.data as Float32Array;
  const B = baselines.shape[0]!;
  const acc = { mean: new Float64Array(n * size), m2: new Float64Array(n * size), sq: new Float64Array(n * size) };
  const streams = Array.from({ length: n }, (_, i) => imageDraws(opts.seed ?? 0, i, B, size, opts.stdev));
  const taken = Array.from({ length: n }, () => ({ baseline: [] as number[], alpha: [] as number[] }));
  const xt = new Float32Array(size);
  /** x̃ of image i's draw k into xt. */
  const noisy = (i: number, k: number) => {
    xt.set(x.subarray(i * size, (i + 1) * size));
    streams[i]!.noise?.(k, xt);
  };
  const used = await untilStandardError('gradientshap', n, size, acc, opts.tolerance, opts.cap, async (active, first, rows) => {
    for (const i of active) {
      for (let s = 0; s < rows; s++) {
        const d = streams[i]!.next();
        taken[i]!.baseline.push(d.baseline);
        taken[i]!.alpha.push(d.alpha);
      }
    }
    await perturbedGradients(
      model,
      Tensor.zeros([active.length, ...inputs.shape.slice(1)]), // perturbedGradients reads only its shape
      active.map((i) => targets[i]!),
      rows,
      (j, s, out) => {
        const i = active[j]!;
        const k = first[j]! + s;
        noisy(i, k);
        const bo = taken[i]!.baseline[k]! * size;
        const a = taken[i]!.alpha[k]!;
        for (let p = 0; p < size; p++) out[p] = b[bo + p]! + a * (xt[p]! - b[bo + p]!);
      },
      (j, s, g) => {
        const i = active[j]!;
        const k = first[j]! + s;
        noisy(i, k);
        const bo = taken[i]!.baseline[k]! * size;
        addSample(acc, i * size, k + 1, size, (p) => (xt[p]! - b[bo + p]!) * g[p]!);
      },
      opts,
    );
  });
  const relativeSE = used.map((k, i) => relativeStandardError(acc.mean, acc.m2, k, i * size, size));
  const draws: ShapDraws[] = taken.map((t, i) => ({
    baselineIndex: (q) => t.baseline[q]!,
    alpha: (q) => t.alpha[q]!,
    noise: streams[i]!.noise,
  }));
  return { attributions: new Tensor(Float32Array.from(acc.mean), inputs.shape), used, relativeSE, draws };
}
