/**
 * Monotonicity correlation (Nguyen & Rodríguez Martínez 2020; Quantus `MonotonicityCorrelation`): features
 * with larger attributions should matter more. Features are taken in increasing order of attribution,
 * `featuresInStep` at a time; each group in turn (alone, from the original image) is replaced by a random
 * baseline `samples` (100) times, and the group's attribution sum is correlated (Spearman) with the
 * variance of the output it causes, mean_k (f(x_k) − f(x))² · 1/f(x)² (the 1/f(x)² factor only where
 * |f(x)| ≥ eps, 1e-5). Quantus' default baseline 'uniform' is one U[0, 1) value per image and draw,
 * written into every feature of the group — candor draws them from `noise` in Quantus' order (step, draw,
 * image), so NumPy's generator in the tests reproduces Quantus' values. Quantus defaults: abs true,
 * normalise true, softmax true, features_in_step 1.
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { spearman } from '../correlation.js';
import { baselineValue, removalSteps, scoreCopies, type RemovalOptions } from './removal.js';
import { type NoiseSource, seededNoise } from './robustness.js';

export interface MonotonicityCorrelationOptions extends Omit<RemovalOptions, 'baseline'> {
  /** Random baseline draws per group (default 100). */
  samples?: number;
  /** 'uniform' (default: U[0, 1) per image and draw), or a fixed named value or number. */
  baseline?: 'uniform' | RemovalOptions['baseline'];
  eps?: number;
  noise?: NoiseSource;
  seed?: number;
}

export async function monotonicityCorrelation(model: Model, x: Tensor, targets: readonly number[], a: ArrayLike<number>, opts: MonotonicityCorrelationOptions = {}): Promise<number[]> {
  const n = x.shape[0]!;
  const S = opts.samples ?? 100;
  const { step, rows, size, steps } = removalSteps('monotonicity-correlation', a, x, opts, true);
  if (!(Number.isInteger(S) && S >= 1)) throw new Error(`monotonicity-correlation: samples must be a positive integer, got ${String(opts.samples)}`);
  const ascending = rows.map((r) => Int32Array.from(Array.from({ length: size }, (_, p) => p).sort((p, q) => r[p]! - r[q]! || p - q)));
  const xs = x.data as Float32Array;
  const base = opts.baseline ?? 'uniform';
  const src = opts.noise ?? seededNoise(opts.seed);
  // one value per (step, draw, image), drawn in Quantus' order
  const values = new Float64Array(steps * S * n);
  for (let s = 0; s < steps; s++) {
    for (let k = 0; k < S; k++) {
      const row = base === 'uniform' ? src.uniform(0, 1, n) : Float64Array.from({ length: n }, (_, i) => baselineValue(xs.subarray(i * size, (i + 1) * size), base));
      values.set(row, (s * S + k) * n);
    }
  }
  const scores = await scoreCopies(model, x, targets, 1 + steps * S, (i, c, out) => {
    out.set(xs.subarray(i * size, (i + 1) * size));
    if (c === 0) return;
    const s = Math.floor((c - 1) / S);
    const v = values[(c - 1) * n + i]!;
    for (let j = s * step; j < Math.min(size, (s + 1) * step); j++) out[ascending[i]![j]!] = v;
  }, { softmax: opts.softmax ?? true, batchSize: opts.batchSize });
  const eps = opts.eps ?? 1e-5;
  return scores.map((r, i) => {
    const y = r[0]!;
    const inv = Math.abs(y) >= eps ? 1 / (y * y) : 1;
    const vars: number[] = [];
    const atts: number[] = [];
    for (let s = 0; s < steps; s++) {
      let v = 0;
      for (let k = 0; k < S; k++) v += (r[1 + s * S + k]! - y) ** 2;
      vars.push((v / S) * inv);
      let sum = 0;
      for (let j = s * step; j < Math.min(size, (s + 1) * step); j++) sum += rows[i]![ascending[i]![j]!]!;
      atts.push(sum);
    }
    return spearman(atts, vars);
  });
}
