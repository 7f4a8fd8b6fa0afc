/**
 * Quantus' RandomLogit (Sixt, Granz & Landgraf 2020, "When explanations lie"): explain each image for a class
 * it does not belong to, drawn uniformly from the other classes, and measure the similarity of that map to the
 * map of its own target — a method whose maps barely change with the class explains the image, not the
 * decision. Similarity: SSIM (skimage's `structural_similarity` with its defaults, window 7) of the two maps
 * flattened to 1-D, data range = max − min over both (Quantus' `ssim`); maps prepared as Quantus does (normalise
 * true: divided by the batch's max |a|; abs false). Quantus draws the classes with `np.random.randint(0, K − 1)`
 * after seeding NumPy with `seed` (42) at every batch; candor draws from its seeded generator (the tests pass
 * NumPy's and reproduce Quantus' classes). Higher = the maps ignore the class.
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { ssimNd } from '../ssim.js';
import { prepareAttributions } from './prepare.js';
import { type NoiseSource, type QuantusExplain, seededNoise } from './robustness.js';

export interface RandomLogitOptions {
  normalise?: boolean;
  abs?: boolean;
  /** Source of the off-target draws (default candor's generator seeded with `seed`, 42). */
  noise?: NoiseSource;
  seed?: number;
  /** SSIM window (default 7). */
  winSize?: number;
}

export async function randomLogit(model: Model, x: Tensor, a: Tensor, targets: readonly number[], explain: QuantusExplain, o: RandomLogitOptions = {}): Promise<{ scores: number[]; offTargets: number[] }> {
  const n = x.shape[0]!;
  const K = model.numClasses;
  if (K < 2) throw new Error(`random logit: the model has ${K} output; the metric explains another class`);
  if (a.shape[0] !== n || targets.length !== n) throw new Error(`random logit: ${n} images, ${a.shape[0]} attributions and ${targets.length} targets`);
  const src = o.noise ?? seededNoise(o.seed ?? 42);
  const picks = src.randint(0, K - 1, n);
  const offTargets = targets.map((t, i) => {
    const others = Array.from({ length: K }, (_, j) => j).filter((j) => j !== t);
    return others[picks[i]!]!;
  });
  const prep = { abs: o.abs ?? false, normalise: o.normalise ?? true };
  const A = prepareAttributions(a.data, n, prep);
  const off = await explain(x, offTargets);
  if (off.data.length !== a.data.length) throw new Error(`random logit: the method gave ${off.data.length} attribution values for the off-target classes, ${a.data.length} for the targets`);
  const B = prepareAttributions(off.data, n, prep);
  const scores = A.map((ai, i) => {
    const bi = B[i]!;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of [...ai, ...bi]) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const range = Math.abs(hi - lo);
    return range > 0 ? ssimNd(ai, bi, [ai.length], { dataRange: range, winSize: o.winSize }) : NaN;
  });
  return { scores, offTargets };
}
