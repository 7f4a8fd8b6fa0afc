/**
 * Sensitivity-N (Ancona et al. 2018; Quantus `SensitivityN`): removing a set of features should change the
 * output by about the sum of their attributions. Per image, features are removed cumulatively in the order
 * of the map (highest first), `featuresInStep` at a time, each replaced by the baseline value of the
 * current input (Quantus recomputes it from the perturbed array at each step: 'black' stays the minimum,
 * 'mean' moves); after step s the output drop Δ_s = f(x) − f(x_s) and the removed attribution A_s (the sum of
 * a over the features removed at that step) are recorded. For each n ≤ ⌊0.8·H·W / featuresInStep⌋ (the
 * spatial size: `nMaxPercentage`), Sensitivity-N is the Pearson correlation of Δ_n and A_n **across the
 * images** of the batch — a batch-level score per n, and its mean (Quantus' aggregate, its default return).
 * Quantus defaults: features_in_step 1, baseline 'black', abs false, normalise true, softmax true.
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { pearson } from '../correlation.js';
import { baselineValue, removalSteps, descending, scoreCopies, type RemovalOptions } from './removal.js';
import { cumulativeFill } from './cumulative.js';

export interface SensitivityNOptions extends RemovalOptions {
  /** Largest n as a share of the spatial size (default 0.8). */
  nMaxPercentage?: number;
}

export interface SensitivityNResult {
  /** Per n = 1 … max: the correlation across images. */
  perN: number[];
  /** Their mean (NaN-free values only; NaN if none). */
  mean: number;
  /** Per image, per step: Δ_s and A_s. */
  predDeltas: number[][];
  attSums: number[][];
}

export async function sensitivityN(model: Model, x: Tensor, targets: readonly number[], a: ArrayLike<number>, opts: SensitivityNOptions = {}): Promise<SensitivityNResult> {
  const n = x.shape[0]!;
  if (n < 3) throw new Error(`sensitivity-n: the score is a correlation across the batch's images; ${n} image(s) give none (need 3 or more)`);
  const { step, rows, size, steps } = removalSteps('sensitivity-n', a, x, opts, false);
  const orders = rows.map(descending);
  const xs = x.data as Float32Array;
  const baseline = opts.baseline ?? 'black';
  const fill = cumulativeFill(xs, size, (state, i, s) => {
    const v = baselineValue(state, baseline);
    const order = orders[i]!;
    for (let j = s * step; j < Math.min(size, (s + 1) * step); j++) state[order[j]!] = v;
  });
  const scores = await scoreCopies(model, x, targets, steps + 1, (i, c, out) => (c === 0 ? out.set(xs.subarray(i * size, (i + 1) * size)) : fill(i, c - 1, out)), { softmax: true, ...opts });
  const predDeltas = scores.map((r) => r.slice(1).map((v) => r[0]! - v));
  const attSums = rows.map((r, i) => Array.from({ length: steps }, (_, s) => {
    let sum = 0;
    for (let j = s * step; j < Math.min(size, (s + 1) * step); j++) sum += r[orders[i]![j]!]!;
    return sum;
  }));
  const spatial = x.shape.slice(2).reduce((p, q) => p * q, 1);
  const maxN = Math.floor(Math.floor((opts.nMaxPercentage ?? 0.8) * spatial) / step);
  const perN = Array.from({ length: Math.min(maxN, steps) }, (_, s) => pearson(predDeltas.map((d) => d[s]!), attSums.map((d) => d[s]!)));
  const ok = perN.filter((v) => !Number.isNaN(v));
  return { perN, mean: ok.length ? ok.reduce((p, q) => p + q, 0) / ok.length : NaN, predDeltas, attSums };
}
