/**
 * One tree grown level by level from per-row gradients and hessians (the exact greedy algorithm of
 * XGBoost, Chen & Guestrin 2016): a split maximises G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ), a leaf is
 * −G/(H+λ). With g = −y·w, h = w and λ = 0 this is a CART regression tree on weighted rows, i.e.
 * Gini splits and mean-label leaves for 0/1 labels (what a random forest grows). Each level scans
 * every feature's presorted order once, so a level costs O(n·d). Covers are the hessian sums.
 */
import type { Rng } from '../tensor/rng.js';
import { makeTree, type Tree } from './ensemble.js';

export interface GrowOptions {
  maxDepth: number;
  lambda: number;
  /** Smallest hessian sum (row weight) a child may have. */
  minChildWeight: number;
  /** Features tried per node (random subset without replacement); d for all. */
  featuresPerNode: number;
  /** Multiplies leaf values (learning rate, or 1/trees for a forest). */
  scale: number;
  rng: Rng;
}

/** Per-feature row orders by value, NaN rows last and excluded from the count. */
export interface Presorted {
  order: Int32Array[];
  valid: number[];
}

export function presort(X: Float64Array, n: number, d: number): Presorted {
  const order: Int32Array[] = [];
  const valid: number[] = [];
  for (let f = 0; f < d; f++) {
    const idx = Array.from({ length: n }, (_, i) => i).filter((i) => !Number.isNaN(X[i * d + f]));
    idx.sort((a, b) => X[a * d + f]! - X[b * d + f]!);
    valid.push(idx.length);
    order.push(Int32Array.from(idx));
  }
  return { order, valid };
}

export function growTree(X: Float64Array, n: number, d: number, sorted: Presorted, g: Float64Array, h: Float64Array, o: GrowOptions): Tree {
  const left: number[] = [-1], right: number[] = [-1], feature: number[] = [0], threshold: number[] = [0], G: number[] = [0], H: number[] = [0];
  const nodeOf = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    if (h[r] === 0) nodeOf[r] = -1; // out of the bootstrap sample
    else {
      G[0]! += g[r]!;
      H[0]! += h[r]!;
    }
  }
  let level = [0];
  for (let depth = 0; depth < o.maxDepth && level.length; depth++) {
    const slot = new Map<number, number>(level.map((k, i) => [k, i]));
    const L = level.length;
    const best = new Float64Array(L).fill(0);
    const bestF = new Int32Array(L).fill(-1);
    const bestT = new Float64Array(L);
    const gl = new Float64Array(L), hl = new Float64Array(L), last = new Float64Array(L);
    const allowed: Uint8Array[] = level.map(() => sampleFeatures(d, o.featuresPerNode, o.rng));
    for (let f = 0; f < d; f++) {
      gl.fill(0);
      hl.fill(0);
      last.fill(NaN);
      const ord = sorted.order[f]!;
      for (let k = 0; k < sorted.valid[f]!; k++) {
        const r = ord[k]!;
        const node = nodeOf[r]!;
        if (node < 0) continue;
        const s = slot.get(node);
        if (s === undefined || !allowed[s]![f]) continue;
        const v = X[r * d + f]!;
        if (v > last[s]! && hl[s]! >= o.minChildWeight) {
          const hr = H[node]! - hl[s]!;
          if (hr >= o.minChildWeight) {
            const gr = G[node]! - gl[s]!;
            const gain = (gl[s]! * gl[s]!) / (hl[s]! + o.lambda) + (gr * gr) / (hr + o.lambda) - (G[node]! * G[node]!) / (H[node]! + o.lambda);
            if (gain > best[s]! + 1e-12) {
              best[s] = gain;
              bestF[s] = f;
              const mid = (last[s]! + v) / 2;
              bestT[s] = mid > last[s]! && mid < v ? mid : v;
            }
          }
        }
        gl[s]! += g[r]!;
        hl[s]! += h[r]!;
        last[s] = v;
      }
    }
    const next: number[] = [];
    level.forEach((node, s) => {
      if (bestF[s]! < 0) return;
      feature[node] = bestF[s]!;
      threshold[node] = bestT[s]!;
      for (const side of [0, 1]) {
        const id = left.length;
        left.push(-1); right.push(-1); feature.push(0); threshold.push(0); G.push(0); H.push(0);
        if (side === 0) left[node] = id;
        else right[node] = id;
        next.push(id);
      }
    });
    for (let r = 0; r < n; r++) {
      const node = nodeOf[r]!;
      if (node < 0 || left[node]! < 0) continue;
      const v = X[r * d + feature[node]!]!;
      const child = v < threshold[node]! ? left[node]! : right[node]!; // NaN goes right
      nodeOf[r] = child;
      G[child]! += g[r]!;
      H[child]! += h[r]!;
    }
    level = next;
  }
  const value = G.map((gs, i) => (-gs / (H[i]! + o.lambda)) * o.scale);
  return makeTree({ left, right, feature, threshold, value, cover: H, le: false }, d, 'grown tree');
}

function sampleFeatures(d: number, k: number, rng: Rng): Uint8Array {
  const out = new Uint8Array(d);
  if (k >= d) return out.fill(1);
  const idx = Array.from({ length: d }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rng.next() * (d - i));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    out[idx[i]!] = 1;
  }
  return out;
}
