/**
 * Monotonicity (Arya et al. 2019, AIX360's `monotonicity_metric`; listed by Quantus as `Monotonicity`): on the
 * baseline image (every element at the baseline, 'black' = the image's minimum), each group of
 * `featuresInStep` features is revealed on its own — set to the input's values — in increasing order of
 * attribution, and the target's probability recorded; the map is monotonic for the image when those
 * probabilities never decrease (more attribution, more evidence). `monotoneShare` is the fraction of
 * consecutive steps that do not decrease (1 for a monotonic map), a graded reading of the same curve.
 * Divergence, on purpose: Quantus 0.6 starts from the baseline image and *replaces* features by the baseline
 * again (`batch_baseline_replacement_by_indices` on the baseline copy), so its input never changes and its
 * Monotonicity is True for every map; candor follows AIX360, the authors' code Quantus cites. Quantus defaults
 * otherwise: abs true, normalise true, softmax true, features_in_step 1.
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { baselineValue, removalSteps, scoreCopies, type RemovalOptions } from './removal.js';

export interface MonotonicityResult {
  monotonic: boolean[];
  monotoneShare: number[];
  /** Per image, the probabilities in increasing order of attribution. */
  curves: number[][];
}

export async function monotonicity(model: Model, x: Tensor, targets: readonly number[], a: ArrayLike<number>, opts: RemovalOptions = {}): Promise<MonotonicityResult> {
  const { step, rows, size, steps } = removalSteps('monotonicity', a, x, opts, true);
  const ascending = rows.map((r) => Int32Array.from(Array.from({ length: size }, (_, p) => p).sort((p, q) => r[p]! - r[q]! || p - q)));
  const xs = x.data as Float32Array;
  const fills = rows.map((_, i) => baselineValue(xs.subarray(i * size, (i + 1) * size), opts.baseline ?? 'black'));
  const curves = await scoreCopies(model, x, targets, steps, (i, s, out) => {
    out.fill(fills[i]!);
    for (let j = s * step; j < Math.min(size, (s + 1) * step); j++) {
      const p = ascending[i]![j]!;
      out[p] = xs[i * size + p]!;
    }
  }, { softmax: true, ...opts });
  const ups = curves.map((c) => c.slice(1).map((v, j) => v >= c[j]!));
  return { monotonic: ups.map((u) => u.every(Boolean)), monotoneShare: ups.map((u) => (u.length ? u.filter(Boolean).length / u.length : 1)), curves };
}
