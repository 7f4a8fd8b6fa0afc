/**
 * Path-dependent TreeSHAP: exact Shapley values of `v(S) = E[f(x) | x_S]`, the conditional expectation
 * estimated by following both branches of every split on a feature outside S, weighted by the
 * training covers — in O(T·L·D²) (Lundberg et al. 2020, *Nature Machine Intelligence*, Algorithm 2;
 * the same recursion as shap's and XGBoost's `pred_contribs`).
 *
 * The recursion also takes a conditioning feature (on: always follows x; off: always averaged),
 * which is how SHAP interaction values are computed (`interactions.ts`).
 */
import { checkRows, hasCovers, modelInput, predictMargin, treeDepth, treeExpectation, type Tree, type TreeEnsemble } from './ensemble.js';
import { checkLocalAccuracy } from './accuracy.js';
import { buildLeafTables, leafShapRow } from './treeshap-leaf.js';

/** 1/k for k < 130: divisions by small integers become multiplications. */
const INV = Float64Array.from({ length: 130 }, (_, k) => (k === 0 ? 0 : 1 / k));

/** Per-tree scratch: the unique paths of every recursion level in one block (shap's layout). */
export class PathBuffer {
  feat: Int32Array;
  zero: Float64Array;
  one: Float64Array;
  pw: Float64Array;
  constructor(maxDepth: number) {
    const size = ((maxDepth + 2) * (maxDepth + 3)) / 2;
    this.feat = new Int32Array(size);
    this.zero = new Float64Array(size);
    this.one = new Float64Array(size);
    this.pw = new Float64Array(size);
  }
}

function extendPath(p: PathBuffer, at: number, depth: number, zero: number, one: number, feature: number): void {
  const { feat, zero: zf, one: of, pw } = p;
  feat[at + depth] = feature;
  zf[at + depth] = zero;
  of[at + depth] = one;
  pw[at + depth] = depth === 0 ? 1 : 0;
  const inv = INV[depth + 1]!;
  const zi = zero * inv;
  const oi = one * inv;
  for (let i = depth - 1; i >= 0; i--) {
    const w = pw[at + i]!;
    pw[at + i + 1]! += oi * w * (i + 1);
    pw[at + i] = zi * w * (depth - i);
  }
}

function unwindPath(p: PathBuffer, at: number, depth: number, index: number): void {
  const { feat, zero: zf, one: of, pw } = p;
  const one = of[at + index]!;
  const zero = zf[at + index]!;
  let next = pw[at + depth]!;
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = pw[at + i]!;
      pw[at + i] = (next * (depth + 1)) / ((i + 1) * one);
      next = tmp - (pw[at + i]! * zero * (depth - i)) / (depth + 1);
    } else {
      pw[at + i] = (pw[at + i]! * (depth + 1)) / (zero * (depth - i));
    }
  }
  for (let i = index; i < depth; i++) {
    feat[at + i] = feat[at + i + 1]!;
    zf[at + i] = zf[at + i + 1]!;
    of[at + i] = of[at + i + 1]!;
  }
}

function unwoundPathSum(p: PathBuffer, at: number, depth: number, index: number): number {
  const { zero: zf, one: of, pw } = p;
  const one = of[at + index]!;
  const zero = zf[at + index]!;
  let next = pw[at + depth]!;
  let total = 0;
  if (one !== 0) {
    const io = 1 / one;
    for (let i = depth - 1; i >= 0; i--) {
      const tmp = next * io * INV[i + 1]!;
      total += tmp;
      next = pw[at + i]! - tmp * zero * (depth - i);
    }
  } else {
    const iz = 1 / zero;
    for (let i = depth - 1; i >= 0; i--) total += pw[at + i]! * INV[depth - i]!;
    total *= iz;
  }
  return total * (depth + 1);
}

/**
 * Adds one tree's path-dependent SHAP values for the row at `x[xOff…]` to `phi[phiOff…]`.
 * `condition` 0: plain values; +1 / −1: with feature `condFeature` always present / always absent.
 * (A class with a recursive method rather than a closure: no allocation per row.)
 */
export class PathDependentWalker {
  private t!: Tree;
  private x!: Float64Array;
  private xOff = 0;
  private phi!: Float64Array;
  private phiOff = 0;
  private condition = 0;
  private condFeature = -1;
  constructor(private p: PathBuffer) {}

  run(t: Tree, x: Float64Array, xOff: number, phi: Float64Array, phiOff: number, condition = 0, condFeature = -1): void {
    this.t = t;
    this.x = x;
    this.xOff = xOff;
    this.phi = phi;
    this.phiOff = phiOff;
    this.condition = condition;
    this.condFeature = condFeature;
    this.recurse(0, 0, 0, 1, 1, -1, 1);
  }

  private recurse(node: number, parentAt: number, depth: number, pZero: number, pOne: number, pFeature: number, condFrac: number): void {
    if (condFrac === 0) return;
    const p = this.p;
    const { feat, zero: zf, one: of, pw } = p;
    const t = this.t;
    const at = parentAt + depth + 1;
    for (let i = 0; i <= depth; i++) {
      feat[at + i] = feat[parentAt + i]!;
      zf[at + i] = zf[parentAt + i]!;
      of[at + i] = of[parentAt + i]!;
      pw[at + i] = pw[parentAt + i]!;
    }
    const condition = this.condition;
    if (condition === 0 || this.condFeature !== pFeature) extendPath(p, at, depth, pZero, pOne, pFeature);
    const l = t.left[node]!;
    if (l < 0) {
      const v = t.value[node]! * condFrac;
      const phi = this.phi, off = this.phiOff;
      for (let i = 1; i <= depth; i++) {
        const w = unwoundPathSum(p, at, depth, i);
        phi[off + feat[at + i]!]! += w * (of[at + i]! - zf[at + i]!) * v;
      }
      return;
    }
    const f = t.feature[node]!;
    const r = t.right[node]!;
    let xv = this.x[this.xOff + f]!;
    let hot: number;
    const m = t.missing[node]!;
    if (xv !== xv && m === 1) xv = 0;
    if (xv !== xv || (m === 2 && xv >= -1e-35 && xv <= 1e-35)) hot = t.defaultLeft[node] ? l : r;
    else hot = (t.le[node] ? xv <= t.threshold[node]! : xv < t.threshold[node]!) ? l : r;
    const cold = hot === l ? r : l;
    const cover = t.cover!;
    const w = cover[node]!;
    const hotZero = cover[hot]! / w;
    const coldZero = cover[cold]! / w;
    let inZero = 1;
    let inOne = 1;
    let pathIndex = 0;
    for (; pathIndex <= depth; pathIndex++) if (feat[at + pathIndex] === f) break;
    if (pathIndex !== depth + 1) {
      inZero = zf[at + pathIndex]!;
      inOne = of[at + pathIndex]!;
      unwindPath(p, at, depth, pathIndex);
      depth -= 1;
    }
    let hotCond = condFrac;
    let coldCond = condFrac;
    if (condition !== 0 && f === this.condFeature) {
      if (condition > 0) coldCond = 0;
      else {
        hotCond *= hotZero;
        coldCond *= coldZero;
      }
      depth -= 1;
    }
    this.recurse(hot, at, depth + 1, hotZero * inZero, inOne, f, hotCond);
    this.recurse(cold, at, depth + 1, coldZero * inZero, 0, f, coldCond);
  }
}

/** Scratch buffers sized for the deepest tree of an ensemble. */
export function pathBufferFor(e: TreeEnsemble): PathBuffer {
  let depth = 0;
  for (const t of e.trees) depth = Math.max(depth, treeDepth(t));
  // the root's dummy element plus one per level, with a spare level for the conditioned recursion
  return new PathBuffer(depth + 2);
}

export interface ShapValues {
  /** Row-major `[n, d]` attributions. */
  values: Float64Array;
  /** The value attributions start from: E[f(X)] in the space of `values`. */
  expected: number;
  /** The model's output for each row, in the same space: `expected + Σ values` (checked). */
  output: Float64Array;
  n: number;
  d: number;
  space: 'margin' | 'probability';
  method: string;
}

/** Sum of the trees' cover-weighted expectations plus the base: E[f] under the training data. */
export function expectedMargin(e: TreeEnsemble): number {
  let s = e.base;
  for (const t of e.trees) s += treeExpectation(t);
  return s;
}

/**
 * Path-dependent TreeSHAP values (margin space) for `n` rows. Needs node covers. The result is
 * checked for local accuracy (values sum to the margin minus the expected margin) before return.
 */
export interface TreeShapOptions {
  tolerance?: number;
  /** 'auto' (default): per-leaf tables where paths are short enough, else Algorithm 2; or force one. */
  algorithm?: 'auto' | 'leaf' | 'recursive';
}

export function treeShap(e: TreeEnsemble, X: Float64Array, n: number, opts: TreeShapOptions = {}): ShapValues {
  checkRows(e, X, n);
  if (!hasCovers(e)) throw new Error(`${e.description}: the trees carry no node covers, so path-dependent TreeSHAP is undefined; use interventional TreeSHAP with a background set, or supply covers`);
  const d = e.nFeatures;
  const x = modelInput(e, X);
  const phi = new Float64Array(n * d);
  const algorithm = opts.algorithm ?? 'auto';
  let walker: PathDependentWalker | undefined;
  const stack = new Int32Array(2 * (Math.max(...e.trees.map((t) => t.left.length)) + 2));
  for (const t of e.trees) {
    if (t.left[0]! < 0) continue; // a single leaf: only shifts the expected value
    const tabs = algorithm === 'recursive' ? null : buildLeafTables(t);
    if (tabs) {
      for (let r = 0; r < n; r++) leafShapRow(t, tabs, x, r * d, phi, r * d, stack);
      continue;
    }
    if (algorithm === 'leaf') throw new Error('a tree path has too many distinct features for the per-leaf tables');
    walker ??= new PathDependentWalker(pathBufferFor(e));
    for (let r = 0; r < n; r++) walker.run(t, x, r * d, phi, r * d);
  }
  const expected = expectedMargin(e);
  const output = predictMargin(e, X, n);
  checkLocalAccuracy({ values: phi, expected, output, n, d }, 'path-dependent TreeSHAP', opts.tolerance);
  return { values: phi, expected, output, n, d, space: 'margin', method: 'tree-path-dependent' };
}
