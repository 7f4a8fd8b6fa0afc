/**
 * Completeness (Sundararajan et al. 2017; Quantus `Completeness`): the map's sum should equal the output's
 * change from the baseline input, Σ a = f(x) − f(x₀), x₀ = every element at the baseline ('black': the image's
 * minimum), f the logit (softmax false). Quantus returns `Σ a == f(x) − f(x₀)` with exact float equality —
 * after dividing a by the batch's largest |a| (normalise, its default) — which is False for any real map:
 * candor returns that boolean (`holds`) and, what a reader can use, the gap Σ a − (f(x) − f(x₀)) and the gap
 * relative to |f(x) − f(x₀)|. `tolerance` (relative, default 0 = Quantus) loosens `holds`.
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { baselineValue, broadcastRows, scoreCopies, type RemovalOptions } from './removal.js';

export interface CompletenessOptions extends Omit<RemovalOptions, 'featuresInStep'> {
  tolerance?: number;
}

export interface CompletenessResult {
  holds: boolean[];
  gap: number[];
  relativeGap: number[];
}

export async function completeness(model: Model, x: Tensor, targets: readonly number[], a: ArrayLike<number>, opts: CompletenessOptions = {}): Promise<CompletenessResult> {
  const n = x.shape[0]!;
  const rows = broadcastRows(a, x, { abs: opts.abs ?? false, normalise: opts.normalise ?? true });
  const size = x.data.length / n;
  const xs = x.data as Float32Array;
  const scores = await scoreCopies(model, x, targets, 2, (i, k, out) => (k === 0 ? out.set(xs.subarray(i * size, (i + 1) * size)) : out.fill(baselineValue(xs.subarray(i * size, (i + 1) * size), opts.baseline ?? 'black'))), { softmax: opts.softmax ?? false, batchSize: opts.batchSize });
  const tol = opts.tolerance ?? 0;
  const out: CompletenessResult = { holds: [], gap: [], relativeGap: [] };
  scores.forEach((r, i) => {
    // Quantus sums the float32 map in float32 and subtracts the float32 outputs
    let sum = 0;
    for (const v of rows[i]!) sum = Math.fround(sum + v);
    const delta = Math.fround(r[0]! - r[1]!);
    const gap = sum - delta;
    out.gap.push(gap);
    out.relativeGap.push(Math.abs(gap) / Math.abs(delta));
    out.holds.push(tol === 0 ? sum === delta : Math.abs(gap) <= tol * Math.abs(delta));
  });
  return out;
}
