/**
 * Non-sensitivity (Nguyen & Martínez 2020; Quantus `NonSensitivity`, 0.6): an element the map calls
 * irrelevant (|a| < eps after normalising) should not move the output when removed, and one it calls
 * relevant should. The elements (channels separately; the map broadcast over channels) are split into the
 * irrelevant and the relevant, each taken in index order in groups of `featuresInStep`; each group is
 * replaced by the baseline (alone, not cumulatively) and the target's output recorded for its elements.
 * The score counts the violations, per image:
 *
 *   Σ_p [ |y(x) − y(x with p's group removed)| < eps ]  XOR  [ p irrelevant ]
 *
 * (an unmoved relevant element, or a moving irrelevant one); lower is better. Quantus defaults: eps 1e-5,
 * featuresInStep 1, abs, normalise, baseline 'black', softmax.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { baselineValue, removalSteps, scoreCopies, type RemovalOptions } from './removal.js';

export interface NonSensitivityOptions extends RemovalOptions {
  eps?: number;
}

export async function nonSensitivity(model: Model, x: Tensor, targets: readonly number[], a: ArrayLike<number>, opts: NonSensitivityOptions = {}): Promise<number[]> {
  const eps = opts.eps ?? 1e-5;
  if (!(eps > 0)) throw new Error(`non-sensitivity: eps must be positive, got ${eps}`);
  const { step, rows, size } = removalSteps('non-sensitivity', a, x, opts, true);
  const n = x.shape[0]!;
  const xs = x.data as Float32Array;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = rows[i]!;
    const irrelevant = Uint8Array.from(row, (v) => (v < eps ? 1 : 0));
    const groups: number[][] = [];
    for (const want of [1, 0]) {
      const idx: number[] = [];
      for (let p = 0; p < size; p++) if (irrelevant[p] === want) idx.push(p);
      for (let g = 0; g < idx.length; g += step) groups.push(idx.slice(g, g + step));
    }
    const image = new Tensor(xs.slice(i * size, (i + 1) * size), [1, ...x.shape.slice(1)]);
    const fill = baselineValue(image.data, opts.baseline ?? 'black');
    const [y] = await scoreCopies(model, image, [targets[i]!], 1, (_, __, o) => o.set(image.data), opts);
    const [scores] = await scoreCopies(model, image, [targets[i]!], groups.length, (_, k, o) => {
      o.set(image.data);
      for (const p of groups[k]!) o[p] = fill;
    }, opts);
    let violations = 0;
    groups.forEach((g, k) => {
      const unmoved = Math.abs(y![0]! - scores![k]!) < eps;
      for (const p of g) if (unmoved !== (irrelevant[p] === 1)) violations++;
    });
    out.push(violations);
  }
  return out;
}
