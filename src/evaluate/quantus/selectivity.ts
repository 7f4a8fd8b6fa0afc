/**
 * Selectivity (Montavon, Samek & Müller 2018; Quantus `Selectivity`): every patch removed cumulatively in
 * the map's order, most relevant first (patch-removal.ts), the target's output recorded after each; with
 * `auc` the curve's area (trapezoid rule, unit spacing — Quantus' get_auc_score per curve). A selective map
 * makes the output fall fast (low AUC). Quantus defaults: patch 8, baseline 'black', no abs, normalise, softmax.
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { patchRemovalCurves, unitTrapezoid, type PatchRemovalOptions } from './patch-removal.js';

export async function selectivity(model: Model, x: Tensor, targets: readonly number[], a: ArrayLike<number>, opts: Omit<PatchRemovalOptions, 'order' | 'regions'> = {}): Promise<{ curves: number[][]; auc: number[] }> {
  const r = await patchRemovalCurves(model, x, targets, a, { ...opts, order: 'morf' }, 'selectivity');
  return { curves: r.curves, auc: r.curves.map(unitTrapezoid) };
}
