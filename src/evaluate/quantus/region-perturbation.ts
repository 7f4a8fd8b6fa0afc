/**
 * Region perturbation (Samek et al. 2015; Quantus `RegionPerturbation`): patches removed cumulatively in the
 * map's order (patch-removal.ts), each step's score the drop y(x) − y(x with the first k patches removed);
 * with `auc` the curve's area by the trapezoid rule with unit spacing. For 'morf' a faithful map makes the
 * drop rise fast. Quantus defaults: patch 8, order 'morf', 100 regions, baseline 'black', no abs, normalise,
 * softmax. (Quantus' 'random' order draws from NumPy's unseeded global generator; not offered.)
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { patchRemovalCurves, unitTrapezoid, type PatchRemovalOptions } from './patch-removal.js';

export async function regionPerturbation(model: Model, x: Tensor, targets: readonly number[], a: ArrayLike<number>, opts: PatchRemovalOptions = {}): Promise<{ curves: number[][]; auc: number[] }> {
  const r = await patchRemovalCurves(model, x, targets, a, { regions: 100, ...opts }, 'region perturbation');
  const curves = r.curves.map((c, i) => c.map((v) => r.initial[i]! - v));
  return { curves, auc: curves.map(unitTrapezoid) };
}
