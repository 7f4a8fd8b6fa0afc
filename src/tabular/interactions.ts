/**
 * SHAP interaction values (Lundberg et al. 2020, §"SHAP interaction values"; the same computation as
 * shap's TreeExplainer and XGBoost's `pred_interactions`): for each feature j, path-dependent TreeSHAP
 * with j forced present and forced absent; Φ[j][i] = (φ_i|j on − φ_i|j off) / 2 off the diagonal and
 * Φ[j][j] = φ_j − Σ_{i≠j} Φ[j][i], so each row of the matrix sums to feature j's SHAP value and the
 * whole matrix to the margin minus the expected value (checked).
 */
import { checkRows, modelInput, type TreeEnsemble } from './ensemble.js';
import { PathDependentWalker, pathBufferFor, treeShap } from './treeshap.js';
import { checkLocalAccuracy } from './accuracy.js';

export interface InteractionValues {
  /** Row-major `[n, d, d]`. */
  values: Float64Array;
  expected: number;
  n: number;
  d: number;
}

export function treeShapInteractions(e: TreeEnsemble, X: Float64Array, n: number, opts: { tolerance?: number } = {}): InteractionValues {
  checkRows(e, X, n);
  const d = e.nFeatures;
  const main = treeShap(e, X, n, opts);
  const x = modelInput(e, X);
  const values = new Float64Array(n * d * d);
  const on = new Float64Array(d);
  const off = new Float64Array(d);
  const walker = new PathDependentWalker(pathBufferFor(e));
  for (const t of e.trees) {
    if (t.left[0]! < 0) continue;
    const used = [...new Set(Array.from(t.feature).filter((_, i) => t.left[i]! >= 0))];
    for (let r = 0; r < n; r++) {
      for (const j of used) {
        on.fill(0);
        off.fill(0);
        walker.run(t, x, r * d, on, 0, 1, j);
        walker.run(t, x, r * d, off, 0, -1, j);
        const base = r * d * d + j * d;
        for (const i of used) if (i !== j) values[base + i]! += (on[i]! - off[i]!) / 2;
      }
    }
  }
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) {
      const base = r * d * d + j * d;
      let s = 0;
      for (let i = 0; i < d; i++) if (i !== j) s += values[base + i]!;
      values[base + j] = main.values[r * d + j]! - s;
    }
  }
  // every row of Φ sums to φ_j by construction; check the total against the model once more
  const flat = new Float64Array(n * d * d);
  flat.set(values);
  checkLocalAccuracy({ values: flat, expected: main.expected, output: main.output, n, d: d * d }, 'SHAP interaction values', opts.tolerance);
  return { values, expected: main.expected, n, d };
}
