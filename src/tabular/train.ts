/**
 * candor's own tree models for a CSV, so the SHAP demo needs nothing else: a random forest
 * (bootstrap rows, √d features per node, Gini splits; the output is the averaged probability of class 1
 * or the averaged value) and gradient-boosted trees (logistic loss for 0/1 targets, squared error
 * otherwise; Newton leaves with L2 λ, learning rate η; the output is the log-odds or the value).
 */
import { Rng } from '../tensor/rng.js';
import type { TreeEnsemble } from './ensemble.js';
import { growTree, presort } from './grow.js';

export interface TrainTreesOptions {
  kind: 'rf' | 'gbt';
  trees?: number;
  maxDepth?: number;
  /** gbt: learning rate (default 0.1). */
  eta?: number;
  /** gbt: L2 on leaf values (default 1). */
  lambda?: number;
  minChildWeight?: number;
  seed?: number;
  featureNames?: string[];
}

export function isBinary(y: Float64Array): boolean {
  return y.every((v) => v === 0 || v === 1);
}

export function trainTrees(X: Float64Array, y: Float64Array, n: number, d: number, o: TrainTreesOptions): TreeEnsemble {
  if (y.length !== n || X.length !== n * d) throw new Error(`training data: ${n} rows of ${d} features expected`);
  if (n < 2) throw new Error('training data: need at least two rows');
  const rng = new Rng(o.seed ?? 0);
  const sorted = presort(X, n, d);
  const binary = isBinary(y);
  const names = o.featureNames ?? Array.from({ length: d }, (_, i) => `x${i}`);
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  if (o.kind === 'rf') {
    const T = o.trees ?? 100;
    const trees = [];
    for (let t = 0; t < T; t++) {
      h.fill(0);
      for (let i = 0; i < n; i++) h[Math.floor(rng.next() * n)]! += 1;
      for (let i = 0; i < n; i++) g[i] = -y[i]! * h[i]!;
      trees.push(growTree(X, n, d, sorted, g, h, { maxDepth: o.maxDepth ?? 12, lambda: 0, minChildWeight: o.minChildWeight ?? 1, featuresPerNode: Math.max(1, Math.floor(Math.sqrt(d))), scale: 1 / T, rng }));
    }
    return { trees, nFeatures: d, featureNames: names, base: 0, link: 'identity', float32: false, description: `candor random forest, ${T} trees, ${binary ? 'probability of class 1' : 'mean value'} averaged over trees`, outputLabel: binary ? 'probability' : 'value' };
  }
  const T = o.trees ?? 100;
  const eta = o.eta ?? 0.1;
  const lambda = o.lambda ?? 1;
  const mean = y.reduce((a, b) => a + b, 0) / n;
  if (binary && (mean === 0 || mean === 1)) throw new Error('training data: the target has only one class');
  const base = binary ? Math.log(mean / (1 - mean)) : mean;
  const margin = new Float64Array(n).fill(base);
  const trees = [];
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < n; i++) {
      if (binary) {
        const p = 1 / (1 + Math.exp(-margin[i]!));
        g[i] = p - y[i]!;
        h[i] = Math.max(p * (1 - p), 1e-16);
      } else {
        g[i] = margin[i]! - y[i]!;
        h[i] = 1;
      }
    }
    const tree = growTree(X, n, d, sorted, g, h, { maxDepth: o.maxDepth ?? 3, lambda, minChildWeight: o.minChildWeight ?? 1e-3, featuresPerNode: d, scale: eta, rng });
    trees.push(tree);
    for (let i = 0; i < n; i++) {
      let node = 0;
      while (tree.left[node]! >= 0) node = X[i * d + tree.feature[node]!]! < tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
      margin[i]! += tree.value[node]!;
    }
  }
  return { trees, nFeatures: d, featureNames: names, base, link: binary ? 'logistic' : 'identity', float32: false, description: `candor gradient-boosted trees, ${T} trees of depth ≤ ${o.maxDepth ?? 3}, η ${eta}, ${binary ? 'logistic loss' : 'squared error'}`, outputLabel: binary ? 'log-odds' : 'value' };
}

/** Seeded stratified split (by the 0/1 target when binary): indices of the training and test rows. */
export function splitRows(y: Float64Array, testFraction: number, seed: number): { train: number[]; test: number[] } {
  const rng = new Rng(seed);
  const groups = new Map<number, number[]>();
  y.forEach((v, i) => {
    const k = isBinary(y) ? v : 0;
    groups.set(k, [...(groups.get(k) ?? []), i]);
  });
  const train: number[] = [], test: number[] = [];
  for (const idx of groups.values()) {
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    const k = Math.round(idx.length * testFraction);
    test.push(...idx.slice(0, k));
    train.push(...idx.slice(k));
  }
  return { train: train.sort((a, b) => a - b), test: test.sort((a, b) => a - b) };
}

export function takeRows(X: Float64Array, d: number, rows: number[]): Float64Array {
  const out = new Float64Array(rows.length * d);
  rows.forEach((r, i) => out.set(X.subarray(r * d, (r + 1) * d), i * d));
  return out;
}

/** AUROC by the Mann–Whitney statistic (ties count one half). */
export function auroc(score: ArrayLike<number>, y: ArrayLike<number>): number {
  const idx = Array.from({ length: y.length }, (_, i) => i).sort((a, b) => score[a]! - score[b]!);
  let rankSumPos = 0, nPos = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && score[idx[j + 1]!] === score[idx[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (y[idx[k]!] === 1) (rankSumPos += rank), nPos++;
    i = j + 1;
  }
  const nNeg = y.length - nPos;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}
