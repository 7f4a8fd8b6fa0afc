/**
 * Pixel-flipping (Bach et al. 2015; Quantus `PixelFlipping`): elements are replaced by the baseline in the
 * order of the map (highest first), `featuresInStep` at a time and cumulatively, and the target's
 * probability recorded after each step: one curve per image, and with `auc` its area by the trapezoid rule
 * with unit spacing (Quantus' `return_auc_per_sample`, numpy.trapz). A faithful map makes it fall fast.
 * Quantus defaults: features_in_step 1, baseline 'black', no abs, normalise, softmax.
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { baselineValue, removalSteps, descending, scoreCopies, type RemovalOptions } from './removal.js';
import { unitTrapezoid } from './patch-removal.js';

export async function pixelFlipping(model: Model, x: Tensor, targets: readonly number[], a: ArrayLike<number>, opts: RemovalOptions = {}): Promise<{ curves: number[][]; auc: number[] }> {
  const { step, rows, size, steps } = removalSteps('pixel-flipping', a, x, opts, false);
  const orders = rows.map(descending);
  const xs = x.data as Float32Array;
  const fills = rows.map((_, i) => baselineValue(xs.subarray(i * size, (i + 1) * size), opts.baseline ?? 'black'));
  const curves = await scoreCopies(model, x, targets, steps, (i, s, out) => {
    out.set(xs.subarray(i * size, (i + 1) * size));
    const order = orders[i]!;
    const end = Math.min(size, (s + 1) * step);
    for (let j = 0; j < end; j++) out[order[j]!] = fills[i]!;
  }, opts);
  return { curves, auc: curves.map(unitTrapezoid) };
}
