/**
 * Infidelity (Yeh et al. 2019) as Quantus computes it (`Infidelity`, loss 'mse'): the image's square patches
 * (`patchSizes`, default [4]) are set to the baseline one after another, cumulatively in raster order, and
 * after each patch b the output drop Δ_b = f(x) − f(x_b) is compared with what the map predicts for that
 * perturbation, Σ a ⊙ (x − x_b); the score is the mean over patches of (Δ_b − Σ a ⊙ (x − x_b))², averaged
 * over the patch sizes. Lower is more faithful. Quantus repeats this `n_perturb_samples` (10) times, but
 * with the default baseline the perturbations are not random and every repetition is the same: candor
 * computes it once. Quantus defaults: baseline 'black' (the image's minimum), logits (softmax false), abs and
 * normalise false. Patches must tile the image (Quantus' padding path breaks otherwise): H and W divisible by
 * each patch size.
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { baselineValue, broadcastRows, scoreCopies, type RemovalOptions } from './removal.js';
import { cumulativeFill } from './cumulative.js';

export interface InfidelityOptions extends Omit<RemovalOptions, 'featuresInStep'> {
  patchSizes?: readonly number[];
}

export async function infidelity(model: Model, x: Tensor, targets: readonly number[], a: ArrayLike<number>, opts: InfidelityOptions = {}): Promise<number[]> {
  if (x.shape.length !== 4) throw new Error(`infidelity: Quantus' square patches need images [N, C, H, W], got [${x.shape.join(', ')}]`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const size = c * h * w;
  const rows = broadcastRows(a, x, { abs: opts.abs ?? false, normalise: opts.normalise ?? false });
  const xs = x.data as Float32Array;
  const sizes = [...(opts.patchSizes ?? [4])];
  const baseline = opts.baseline ?? 'black';
  const perSize: number[][] = [];
  for (const p of sizes) {
    if (!(Number.isInteger(p) && p >= 1 && h % p === 0 && w % p === 0)) throw new Error(`infidelity: patch size ${p} must divide the image (${h}×${w})`);
    const bw = w / p;
    const blocks = (h / p) * bw;
    const apply = (state: Float32Array, _i: number, b: number) => {
      const v = baselineValue(state, baseline);
      const y0 = Math.floor(b / bw) * p;
      const x0 = (b % bw) * p;
      for (let ch = 0; ch < c; ch++) for (let y = y0; y < y0 + p; y++) state.fill(v, ch * h * w + y * w + x0, ch * h * w + y * w + x0 + p);
    };
    const fill = cumulativeFill(xs, size, apply);
    const scores = await scoreCopies(model, x, targets, blocks + 1, (i, k, out) => (k === 0 ? out.set(xs.subarray(i * size, (i + 1) * size)) : fill(i, k - 1, out)), { softmax: false, ...opts });
    // the map's prediction Σ a ⊙ (x − x_b) for each cumulative state, rebuilt here
    perSize.push(scores.map((r, i) => {
      const state = xs.slice(i * size, (i + 1) * size);
      let loss = 0;
      for (let b = 0; b < blocks; b++) {
        apply(state, i, b);
        let pred = 0;
        for (let q = 0; q < size; q++) pred += rows[i]![q]! * Math.fround(xs[i * size + q]! - state[q]!);
        loss += (r[0]! - r[b + 1]! - pred) ** 2;
      }
      return loss / blocks;
    }));
  }
  return Array.from({ length: n }, (_, i) => perSize.reduce((s, r) => s + r[i]!, 0) / sizes.length);
}
