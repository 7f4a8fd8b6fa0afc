/** Seeded random tree ensembles for tests and benchmarks: repeated features, missing values, covers that add up. */
import { Rng } from '../tensor/rng.js';
import { makeTree, type Link, type Tree, type TreeEnsemble } from './ensemble.js';

export interface RandomEnsembleOptions {
  trees: number;
  depth: number;
  features: number;
  seed?: number;
  /** Grow every branch to full depth (2^depth leaves), as the benchmark wants. Default: stop early at random. */
  full?: boolean;
  link?: Link;
  le?: boolean;
}

export function randomEnsemble(o: RandomEnsembleOptions): TreeEnsemble {
  const rng = new Rng(o.seed ?? 0);
  const trees: Tree[] = [];
  for (let k = 0; k < o.trees; k++) {
    const left: number[] = [], right: number[] = [], feature: number[] = [], threshold: number[] = [], value: number[] = [], cover: number[] = [], dl: number[] = [];
    const grow = (depth: number, c: number): number => {
      const id = left.length;
      left.push(-1); right.push(-1); feature.push(0); threshold.push(0); value.push(0); cover.push(c); dl.push(rng.next() < 0.5 ? 1 : 0);
      const split = depth < o.depth && (o.full || depth === 0 || rng.next() < 0.8);
      if (!split) {
        value[id] = rng.next() * 2 - 1;
        return id;
      }
      feature[id] = Math.floor(rng.next() * o.features);
      threshold[id] = Math.round((rng.next() * 2 - 1) * 100) / 100;
      const frac = 0.1 + 0.8 * rng.next();
      const l = grow(depth + 1, c * frac);
      const r = grow(depth + 1, c * (1 - frac));
      left[id] = l;
      right[id] = r;
      return id;
    };
    grow(0, 100);
    trees.push(makeTree({ left, right, feature, threshold, value, cover, defaultLeft: dl, le: o.le ?? false }, o.features, `random tree ${k}`));
  }
  return {
    trees,
    nFeatures: o.features,
    featureNames: Array.from({ length: o.features }, (_, i) => `x${i}`),
    base: 0.25,
    link: o.link ?? 'logistic',
    float32: false,
    description: `random ensemble (${o.trees} trees, depth ${o.depth})`,
  };
}

/** Uniform(−1, 1) rows rounded to 0.01 (so some values sit exactly on thresholds), with a share of NaN. */
export function randomRows(n: number, d: number, seed = 1, missing = 0.1): Float64Array {
  const rng = new Rng(seed);
  const X = new Float64Array(n * d);
  for (let i = 0; i < X.length; i++) X[i] = rng.next() < missing ? NaN : Math.round((rng.next() * 2 - 1) * 100) / 100;
  return X;
}
