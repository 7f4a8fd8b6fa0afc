/**
 * KernelSHAP (Lundberg & Lee 2017) for any model candor can run, given as a batch predict function
 * `(X, n, d) → one output per row` (a tree ensemble, an ONNX tabular model through onnxruntime, …):
 * coalitions are scored by replacing absent features with background rows, then a weighted linear
 * regression with the efficiency constraint gives the values. Follows shap's KernelExplainer:
 * whole coalition sizes are enumerated while the budget allows (smallest and largest first), the rest
 * sampled with their complements by a seeded generator; `nsamples: 'auto'` is 2M + 2048; `l1Reg: 'auto'`
 * selects features by LassoLarsIC(AIC) when fewer than 20% of the 2^M − 2 coalitions were evaluated.
 * With every coalition evaluated the result is the exact Shapley value of the interventional game.
 */
import { Rng } from '../tensor/rng.js';
import { checkLocalAccuracy } from './accuracy.js';
import { lassoLarsIC, larsLassoPath, solve } from './lars.js';
import type { ShapValues } from './treeshap.js';

export type PredictFn = (X: Float64Array, n: number, d: number) => Float64Array | Promise<Float64Array>;

export interface KernelShapOptions {
  nsamples?: number | 'auto';
  seed?: number;
  /** 'auto' (AIC when < 20% of coalitions evaluated), 'aic', 'bic', { numFeatures: k }, or false. */
  l1Reg?: 'auto' | 'aic' | 'bic' | { numFeatures: number } | false;
  /** Rows per predict call (default 8192). */
  batchSize?: number;
  tolerance?: number;
  /** Label for the result ('probability' when predict returns probabilities). */
  space?: 'margin' | 'probability';
}

function binom(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}

function* combinations(M: number, k: number): Generator<number[]> {
  const idx = Array.from({ length: k }, (_, i) => i);
  while (true) {
    yield idx.slice();
    let i = k - 1;
    while (i >= 0 && idx[i] === M - k + i) i--;
    if (i < 0) return;
    idx[i]!++;
    for (let j = i + 1; j < k; j++) idx[j] = idx[j - 1]! + 1;
  }
}

/** Coalition masks (rows of M 0/1 values) and their kernel weights, as shap's KernelExplainer draws them. */
export function sampleCoalitions(M: number, nsamples: number, rng: Rng): { masks: Uint8Array[]; weights: number[] } {
  const masks: Uint8Array[] = [];
  const weights: number[] = [];
  const add = (m: Uint8Array, w: number) => (masks.push(m), weights.push(w));
  const nSizes = Math.ceil((M - 1) / 2);
  const nPaired = Math.floor((M - 1) / 2);
  const wv = Array.from({ length: nSizes }, (_, i) => (M - 1) / ((i + 1) * (M - i - 1)));
  for (let i = 0; i < nPaired; i++) wv[i]! *= 2;
  const tot = wv.reduce((a, b) => a + b, 0);
  for (let i = 0; i < nSizes; i++) wv[i]! /= tot;
  let full = 0;
  let left = nsamples;
  let rem = wv.slice();
  for (let size = 1; size <= nSizes; size++) {
    let nsub = binom(M, size);
    const paired = size <= nPaired;
    if (paired) nsub *= 2;
    if ((left * rem[size - 1]!) / nsub < 1 - 1e-8) break;
    full++;
    left -= nsub;
    if (rem[size - 1]! < 1) rem = rem.map((v) => v / (1 - rem[size - 1]!));
    const w = wv[size - 1]! / binom(M, size) / (paired ? 2 : 1);
    for (const c of combinations(M, size)) {
      const m = new Uint8Array(M);
      for (const j of c) m[j] = 1;
      add(m, w);
      if (paired) add(m.map((v) => 1 - v), w);
    }
  }
  const nFixed = masks.length;
  let samplesLeft = nsamples - nFixed;
  if (full !== nSizes && samplesLeft > 0) {
    const r = wv.slice();
    for (let i = 0; i < nPaired; i++) r[i]! /= 2;
    const rw = r.slice(full);
    const s = rw.reduce((a, b) => a + b, 0);
    const cdf: number[] = [];
    let acc = 0;
    for (const v of rw) cdf.push((acc += v / s));
    const used = new Map<string, number>();
    const maxDraws = 4 * samplesLeft;
    for (let draw = 0; draw < maxDraws && samplesLeft > 0; draw++) {
      const u = rng.next();
      let ind = cdf.findIndex((c) => u < c);
      if (ind < 0) ind = cdf.length - 1;
      const size = ind + full + 1;
      const perm = Array.from({ length: M }, (_, i) => i);
      for (let i = 0; i < size; i++) {
        const j = i + Math.floor(rng.next() * (M - i));
        [perm[i], perm[j]] = [perm[j]!, perm[i]!];
      }
      const m = new Uint8Array(M);
      for (let i = 0; i < size; i++) m[perm[i]!] = 1;
      const key = m.join('');
      const seen = used.get(key);
      if (seen === undefined) {
        used.set(key, masks.length);
        samplesLeft--;
        add(m, 1);
      } else weights[seen]! += 1;
      if (samplesLeft > 0 && size <= nPaired) {
        if (seen === undefined) {
          samplesLeft--;
          add(m.map((v) => 1 - v), 1);
        } else weights[seen + 1]! += 1;
      }
    }
    const weightLeft = wv.slice(full).reduce((a, b) => a + b, 0);
    const sumRandom = weights.slice(nFixed).reduce((a, b) => a + b, 0);
    for (let i = nFixed; i < weights.length; i++) weights[i]! *= weightLeft / sumRandom;
  }
  return { masks, weights };
}

/** KernelSHAP values for `n` rows against `nb` background rows. */
export async function kernelShap(predict: PredictFn, X: Float64Array, n: number, d: number, background: Float64Array, nb: number, opts: KernelShapOptions = {}): Promise<ShapValues> {
  if (X.length !== n * d) throw new Error(`expected ${n} rows of ${d} features`);
  if (nb < 1 || background.length !== nb * d) throw new Error(`background: expected ${nb} ≥ 1 rows of ${d} features, got ${background.length} values`);
  const rng = new Rng(opts.seed ?? 0);
  const batch = opts.batchSize ?? 8192;
  const run = async (A: Float64Array, rows: number): Promise<Float64Array> => {
    const out = new Float64Array(rows);
    for (let s = 0; s < rows; s += batch) {
      const e = Math.min(rows, s + batch);
      const y = await predict(A.subarray(s * d, e * d), e - s, d);
      if (y.length !== e - s) throw new Error(`predict returned ${y.length} values for ${e - s} rows (KernelSHAP explains one output)`);
      out.set(y, s);
    }
    return out;
  };
  const fb = await run(background, nb);
  const fnull = fb.reduce((a, b) => a + b, 0) / nb;
  const fxAll = await run(X, n);
  const values = new Float64Array(n * d);
  let evaluated = 0;
  for (let r = 0; r < n; r++) {
    const x = X.subarray(r * d, (r + 1) * d);
    const fx = fxAll[r]!;
    const varying: number[] = [];
    for (let j = 0; j < d; j++) {
      const xv = x[j]!;
      for (let b = 0; b < nb; b++) {
        const bv = background[b * d + j]!;
        if (!(bv === xv || (bv !== bv && xv !== xv))) {
          varying.push(j);
          break;
        }
      }
    }
    const M = varying.length;
    if (M === 0) continue;
    if (M === 1) {
      values[r * d + varying[0]!] = fx - fnull;
      continue;
    }
    const maxSamples = M > 30 ? 2 ** 30 : 2 ** M - 2;
    let ns = opts.nsamples === undefined || opts.nsamples === 'auto' ? 2 * M + 2048 : opts.nsamples;
    if (ns > maxSamples) ns = maxSamples;
    const { masks, weights } = sampleCoalitions(M, ns, rng);
    const K = masks.length;
    // synthetic rows: background with the coalition's features set to x
    const syn = new Float64Array(K * nb * d);
    for (let k = 0; k < K; k++)
      for (let b = 0; b < nb; b++) {
        const o = (k * nb + b) * d;
        syn.set(background.subarray(b * d, (b + 1) * d), o);
        const m = masks[k]!;
        for (let i = 0; i < M; i++) if (m[i]) syn[o + varying[i]!] = x[varying[i]!]!;
      }
    const ys = await run(syn, K * nb);
    evaluated += K * nb;
    const ey = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let b = 0; b < nb; b++) s += ys[k * nb + b]!;
      ey[k] = s / nb - fnull;
    }
    const phi = solveKernel(masks, weights, ey, fx - fnull, M, K / maxSamples, opts.l1Reg ?? 'auto');
    for (let i = 0; i < M; i++) values[r * d + varying[i]!] = phi[i]!;
  }
  const output = fxAll;
  checkLocalAccuracy({ values, expected: fnull, output, n, d }, 'KernelSHAP', opts.tolerance ?? 1e-6);
  return { values, expected: fnull, output, n, d, space: opts.space ?? 'margin', method: `kernel (${evaluated} model evaluations)` };
}

function solveKernel(masks: Uint8Array[], w: number[], eyAdj: Float64Array, total: number, M: number, fraction: number, l1: KernelShapOptions['l1Reg']): Float64Array {
  const K = masks.length;
  let nonzero = Array.from({ length: M }, (_, i) => i);
  const useL1 = l1 === 'aic' || l1 === 'bic' || typeof l1 === 'object' || (l1 === 'auto' && fraction < 0.2);
  if (useL1) {
    // augmented problem of shap: both the coalition and its "complement" view, weighted
    const rows = 2 * K;
    const A = new Float64Array(rows * M);
    const yv = new Float64Array(rows);
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let i = 0; i < M; i++) s += masks[k]![i]!;
      const w1 = Math.sqrt(w[k]! * (M - s)), w2 = Math.sqrt(w[k]! * s);
      for (let i = 0; i < M; i++) {
        A[k * M + i] = w1 * masks[k]![i]!;
        A[(K + k) * M + i] = w2 * (masks[k]![i]! - 1);
      }
      yv[k] = w1 * eyAdj[k]!;
      yv[K + k] = w2 * (eyAdj[k]! - total);
    }
    let coef: Float64Array;
    if (typeof l1 === 'object') {
      // the first knot of the lars path with numFeatures active (lars_path(max_iter=r))
      const path = larsLassoPath(A, yv, rows, M, l1.numFeatures);
      coef = path.coefs[path.coefs.length - 1]!;
    } else coef = lassoLarsIC(A, yv, rows, M, l1 === 'bic' ? 'bic' : 'aic').coef;
    nonzero = nonzero.filter((i) => coef[i] !== 0);
  }
  const phi = new Float64Array(M);
  if (nonzero.length === 0) return phi;
  const last = nonzero[nonzero.length - 1]!;
  const rest = nonzero.slice(0, -1);
  const q = rest.length;
  if (q === 0) {
    phi[last] = total;
    return phi;
  }
  // eliminate the last feature with the efficiency constraint, then weighted least squares
  const G = new Float64Array(q * q);
  const rhs = new Float64Array(q);
  const row = new Float64Array(q);
  for (let k = 0; k < K; k++) {
    const m = masks[k]!;
    const y2 = eyAdj[k]! - m[last]! * total;
    for (let a = 0; a < q; a++) row[a] = m[rest[a]!]! - m[last]!;
    for (let a = 0; a < q; a++) {
      if (row[a] === 0) continue;
      rhs[a]! += w[k]! * row[a]! * y2;
      for (let b = 0; b < q; b++) G[a * q + b]! += w[k]! * row[a]! * row[b]!;
    }
  }
  let sol = solve(G, rhs, q);
  if (!sol) {
    for (let a = 0; a < q; a++) G[a * q + a]! += 1e-10;
    sol = solve(G, rhs, q);
    if (!sol) throw new Error('KernelSHAP: the weighted least-squares system is singular; increase nsamples');
  }
  let s = 0;
  rest.forEach((i, a) => ((phi[i] = sol![a]!), (s += sol![a]!)));
  phi[last] = total - s;
  return phi;
}
