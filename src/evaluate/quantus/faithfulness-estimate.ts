/**
 * Faithfulness estimate (Alvarez-Melis & Jaakkola 2018; Quantus `FaithfulnessEstimate`): the elements, in
 * the order of the map (highest first), are taken `featuresInStep` at a time; each group alone is replaced
 * by the baseline in the original image, and the drop of the target's probability, f(x) − f(x with the
 * group removed), is correlated (Pearson) with the group's summed attribution, per image. Quantus defaults:
 * features_in_step 1, baseline 'black', no abs, normalise, Pearson, and — unlike PixelFlipping — logits
 * (softmax=False).
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { baselineValue, removalSteps, descending, scoreCopies, type RemovalOptions } from './removal.js';
import { pearson } from '../correlation.js';

export async function faithfulnessEstimate(model: Model, x: Tensor, targets: readonly number[], a: ArrayLike<number>, opts: RemovalOptions = {}): Promise<number[]> {
  const { step, rows, size, steps } = removalSteps('faithfulness estimate', a, x, opts, false);
  const orders = rows.map(descending);
  const xs = x.data as Float32Array;
  const fills = rows.map((_, i) => baselineValue(xs.subarray(i * size, (i + 1) * size), opts.baseline ?? 'black'));
  // Copy 0 is the image itself (f(x)); copy s + 1 has group s removed.
  const scores = await scoreCopies(model, x, targets, steps + 1, (i, c, out) => {
    out.set(xs.subarray(i * size, (i + 1) * size));
    if (c === 0) return;
    const order = orders[i]!;
    for (let j = (c - 1) * step; j < Math.min(size, c * step); j++) out[order[j]!] = fills[i]!;
  }, { ...opts, softmax: opts.softmax ?? false });
  return scores.map((sc, i) => {
    const drops = Array.from({ length: steps }, (_, s) => sc[0]! - sc[s + 1]!);
    const sums = Array.from({ length: steps }, (_, s) => {
      let t = 0;
      for (let j = s * step; j < Math.min(size, (s + 1) * step); j++) t += rows[i]![orders[i]![j]!]!;
      return t;
    });
    return pearson(sums, drops);
  });
}
