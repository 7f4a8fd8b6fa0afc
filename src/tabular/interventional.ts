/**
 * Interventional TreeSHAP: exact Shapley values of `v(S) = mean_z f(x_S, z_S̄)` over a background
 * set — features outside S are *replaced* by a background row's values rather than averaged by the
 * training covers, so it needs no covers (ONNX-ML models) and breaks feature correlations on purpose
 * (Janzing et al. 2020; Lundberg et al. 2020, "interventional" TreeExplainer).
 *
 * For one foreground row x and one background row z the game on a tree only involves the features
 * where x and z go different ways; walking the tree once, branching on each such feature (x's side or
 * z's side, decided once per feature), a leaf reached with `a` features on x's side and `b` on z's side
 * gives each x-side feature `+v·(a−1)!·b!/(a+b)!` and each z-side feature `−v·a!·(b−1)!/(a+b)!`
 * (Laberge & Pequignot 2022). Cost per (x, z, tree): O(leaves · depth).
 *
 * Probability space (logistic models): for each (x, z) pair the margin values are rescaled so they sum
 * to σ(f(x)) − σ(f(z)), as shap's TreeExplainer does for `model_output="probability"`; this keeps local
 * accuracy exactly but is an approximation of the probability-space Shapley values (KernelSHAP on the
 * probability gives those).
 */
import { applyLink, checkRows, modelInput, nextNode, predictMargin, type Tree, type TreeEnsemble } from './ensemble.js';
import { checkLocalAccuracy } from './accuracy.js';
import type { ShapValues } from './treeshap.js';

/** w[a][b] tables for a, b ≤ maxLen. */
function weights(maxLen: number): { pos: Float64Array[]; neg: Float64Array[] } {
  const fact = [1];
  for (let i = 1; i <= 2 * maxLen + 1; i++) fact.push(fact[i - 1]! * i);
  const pos: Float64Array[] = [];
  const neg: Float64Array[] = [];
  for (let a = 0; a <= maxLen; a++) {
    pos.push(new Float64Array(maxLen + 1));
    neg.push(new Float64Array(maxLen + 1));
    for (let b = 0; a + b <= maxLen; b++) {
      if (a > 0) pos[a]![b] = (fact[a - 1]! * fact[b]!) / fact[a + b]!;
      if (b > 0) neg[a]![b] = (fact[a]! * fact[b - 1]!) / fact[a + b]!;
    }
  }
  return { pos, neg };
}

class Walker {
  private side: Int8Array;
  private xs: Int32Array;
  private zs: Int32Array;
  private nx = 0;
  private nz = 0;
  constructor(d: number, private w: { pos: Float64Array[]; neg: Float64Array[] }) {
    this.side = new Int8Array(d);
    this.xs = new Int32Array(d);
    this.zs = new Int32Array(d);
  }

  private t!: Tree;
  private x!: Float64Array;
  private xOff = 0;
  private z!: Float64Array;
  private zOff = 0;
  private phi!: Float64Array;

  /** Adds the interventional SHAP values of tree `t` for the pair (x, z) to `phi`. */
  run(t: Tree, x: Float64Array, xOff: number, z: Float64Array, zOff: number, phi: Float64Array): void {
    this.t = t;
    this.x = x;
    this.xOff = xOff;
    this.z = z;
    this.zOff = zOff;
    this.phi = phi;
    this.walk(0);
  }

  private walk(node: number): void {
    const t = this.t;
    for (;;) {
      if (t.left[node]! < 0) {
        const v = t.value[node]!;
        const a = this.nx, b = this.nz;
        const phi = this.phi;
        if (a > 0) {
          const s = v * this.w.pos[a]![b]!;
          for (let i = 0; i < a; i++) phi[this.xs[i]!]! += s;
        }
        if (b > 0) {
          const s = v * this.w.neg[a]![b]!;
          for (let i = 0; i < b; i++) phi[this.zs[i]!]! -= s;
        }
        return;
      }
      const f = t.feature[node]!;
      const xn = nextNode(t, node, this.x[this.xOff + f]!);
      const zn = nextNode(t, node, this.z[this.zOff + f]!);
      const s = this.side[f]!;
      if (xn === zn || s === 1) node = xn;
      else if (s === 2) node = zn;
      else {
        this.side[f] = 1;
        this.xs[this.nx++] = f;
        this.walk(xn);
        this.nx--;
        this.side[f] = 2;
        this.zs[this.nz++] = f;
        this.walk(zn);
        this.nz--;
        this.side[f] = 0;
        return;
      }
    }
  }
}

export interface InterventionalOptions {
  /** 'margin' (default) or 'probability' (logistic and exp links only). */
  space?: 'margin' | 'probability';
  tolerance?: number;
}

/**
 * Interventional TreeSHAP values for `n` rows against `nb` background rows (both row-major, d wide).
 * Cost O(n · nb · T · L · D); shap's default caps the background at 100 rows, and so should callers.
 */
export function interventionalTreeShap(e: TreeEnsemble, X: Float64Array, n: number, background: Float64Array, nb: number, opts: InterventionalOptions = {}): ShapValues {
  checkRows(e, X, n);
  if (nb < 1) throw new Error('interventional TreeSHAP needs at least one background row');
  if (background.length !== nb * e.nFeatures) throw new Error(`background: expected ${nb} rows of ${e.nFeatures} features, got ${background.length} values`);
  const space = opts.space ?? 'margin';
  if (space === 'probability' && e.link === 'identity') throw new Error(`${e.description}: the model has no link, so there is no probability space; use 'margin'`);
  const d = e.nFeatures;
  const x = modelInput(e, X);
  const z = modelInput(e, background);
  const fx = predictMargin(e, X, n);
  const fz = predictMargin(e, background, nb);
  const maxLen = Math.min(d, 64);
  const walker = new Walker(d, weights(maxLen));
  const values = new Float64Array(n * d);
  const pair = new Float64Array(d);
  const trees = e.trees.filter((t) => t.left[0]! >= 0);
  for (let r = 0; r < n; r++) {
    const row = values.subarray(r * d, (r + 1) * d);
    for (let b = 0; b < nb; b++) {
      pair.fill(0);
      for (const t of trees) walker.run(t, x, r * d, z, b * d, pair);
      let scale = 1 / nb;
      if (space === 'probability') {
        const m = fx[r]!, m0 = fz[b]!;
        const dm = m - m0;
        // rescale so the pair's values sum to link(f(x)) − link(f(z)); equal margins mean all-zero values
        scale *= dm === 0 ? 0 : (applyLink(e.link, m) - applyLink(e.link, m0)) / dm;
      }
      for (let j = 0; j < d; j++) row[j]! += pair[j]! * scale;
    }
  }
  let expected = 0;
  const output = new Float64Array(n);
  if (space === 'probability') {
    for (let b = 0; b < nb; b++) expected += applyLink(e.link, fz[b]!);
    for (let r = 0; r < n; r++) output[r] = applyLink(e.link, fx[r]!);
  } else {
    for (let b = 0; b < nb; b++) expected += fz[b]!;
    output.set(fx);
  }
  expected /= nb;
  checkLocalAccuracy({ values, expected, output, n, d }, `interventional TreeSHAP (${space})`, opts.tolerance);
  return { values, expected, output, n, d, space, method: 'tree-interventional' };
}
