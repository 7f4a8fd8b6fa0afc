/**
 * ROAD: RemOve And Debias (Rong, Leemann, Borisov, Kasneci & Kasneci 2022, "A Consistent and
 * Efficient Evaluation Strategy for Attribution Methods", ICML; code: tleemann/road_evaluation).
 *
 * For each percentage p, the round(p·HW) most relevant (MoRF) or least relevant (LeRF) pixels of
 * the map are removed and re-imputed by noisy linear imputation, and the model's target score
 * is recorded (softmax probability by default; also whether the prediction is still the target,
 * the paper's accuracy). A faithful map makes the MoRF score fall fast and the LeRF score stay.
 *
 * Noisy linear imputation (their NoisyLinearImputer): every removed pixel equals the weighted
 * mean of its in-image 8-neighbours, weights 1/6 for the 4 direct and 1/12 for the 4 diagonal
 * neighbours; kept neighbours enter as constants, removed ones as unknowns:
 *
 *   (Σ_{j∈N(i)} w_ij) x_i − Σ_{j∈N(i), removed} w_ij x_j = Σ_{j∈N(i), kept} w_ij v_j
 *
 * one sparse system per image and percentage, shared by the channels; then Gaussian noise of std
 * `noise` (default 0.01, theirs) is added to the imputed values. Their code solves it with
 * scipy's spsolve (sparse LU). Here: the matrix is symmetric (w_ij = w_ji) and, when every group
 * of removed pixels touches a kept pixel, positive definite (weakly diagonally dominant and
 * irreducibly so), so it is solved by Jacobi-preconditioned conjugate gradients in float64 to a
 * relative residual of 1e-10 (same solution to ~1e-9). If every pixel is removed the system is
 * singular and has no information; the imputed values are then 0 (plus noise).
 */
import { Tensor } from '../tensor/tensor.js';
import type { Model } from '../runtime/model.js';
import { Rng } from '../tensor/rng.js';
import { resolveTargets, type Target } from '../explain/types.js';
import { argmaxRow, checkImagesAndMaps, runPerturbed, saliencyOrder, scoreOf, type MetricOptions, type ScoreKind } from './perturb.js';

const NEIGHBOURS: readonly [number, number, number][] = [
  [-1, -1, 1 / 12], [-1, 0, 1 / 6], [-1, 1, 1 / 12],
  [0, -1, 1 / 6], [0, 1, 1 / 6],
  [1, -1, 1 / 12], [1, 0, 1 / 6], [1, 1, 1 / 12],
];

export interface ImputeOptions {
  /** Std of the Gaussian noise added to imputed pixels (default 0.01). */
  noise?: number;
  /** Noise source (default new Rng(0)). */
  rng?: Rng;
  /** CG stopping criterion ‖r‖ ≤ tol·‖b‖ (default 1e-10). */
  tol?: number;
}

/**
 * Noisy linear imputation of one image [C,H,W] (flat): `keep[p]` is 1 for kept pixels and 0 for
 * removed ones. Returns the imputed image (float64); kept pixels are unchanged.
 */
export function noisyLinearImpute(img: ArrayLike<number>, keep: ArrayLike<number>, c: number, h: number, w: number, options: ImputeOptions = {}): Float64Array {
  const hw = h * w;
  if (img.length !== c * hw) throw new Error(`noisyLinearImpute: image has ${img.length} values, expected ${c}×${h}×${w}`);
  if (keep.length !== hw) throw new Error(`noisyLinearImpute: keep mask has ${keep.length} values, expected ${h}×${w}`);
  const noise = options.noise ?? 0.01;
  const rng = options.rng ?? new Rng(0);
  const tol = options.tol ?? 1e-10;
  const out = Float64Array.from(img);
  const vid = new Int32Array(hw).fill(-1);
  const unknown: number[] = [];
  for (let p = 0; p < hw; p++) if (!keep[p]) vid[p] = unknown.push(p) - 1;
  const m = unknown.length;
  if (m === 0) return out;
  // sparse rows: diagonal, and up to 8 (column, weight) off-diagonal entries among unknowns
  const diag = new Float64Array(m);
  const cols = new Int32Array(m * 8).fill(-1);
  const vals = new Float64Array(m * 8);
  const rhs = new Float64Array(m * c);
  for (let i = 0; i < m; i++) {
    const p = unknown[i]!;
    const r = Math.floor(p / w);
    const q = p % w;
    let e = 0;
    for (const [dr, dc, wt] of NEIGHBOURS) {
      const rr = r + dr;
      const cc = q + dc;
      if (rr < 0 || cc < 0 || rr >= h || cc >= w) continue;
      diag[i]! += wt;
      const np = rr * w + cc;
      if (vid[np]! >= 0) {
        cols[i * 8 + e] = vid[np]!;
        vals[i * 8 + e] = wt;
        e++;
      } else for (let ch = 0; ch < c; ch++) rhs[ch * m + i]! += wt * img[ch * hw + np]!;
    }
  }
  const apply = (x: Float64Array, y: Float64Array) => {
    for (let i = 0; i < m; i++) {
      let s = diag[i]! * x[i]!;
      for (let e = 0; e < 8; e++) {
        const j = cols[i * 8 + e]!;
        if (j < 0) break;
        s -= vals[i * 8 + e]! * x[j]!;
      }
      y[i] = s;
    }
  };
  const x = new Float64Array(m);
  const res = new Float64Array(m);
  const z = new Float64Array(m);
  const dir = new Float64Array(m);
  const ad = new Float64Array(m);
  for (let ch = 0; ch < c; ch++) {
    const b = rhs.subarray(ch * m, (ch + 1) * m);
    x.fill(0);
    res.set(b);
    let bnorm = 0;
    for (let i = 0; i < m; i++) bnorm += b[i]! * b[i]!;
    bnorm = Math.sqrt(bnorm);
    if (bnorm > 0) {
      for (let i = 0; i < m; i++) dir[i] = z[i] = res[i]! / diag[i]!;
      let rz = 0;
      for (let i = 0; i < m; i++) rz += res[i]! * z[i]!;
      for (let it = 0; it < 10 * m + 100; it++) {
        apply(dir, ad);
        let dad = 0;
        for (let i = 0; i < m; i++) dad += dir[i]! * ad[i]!;
        if (!(dad > 0)) break; // singular direction (no kept neighbour anywhere): stop
        const alpha = rz / dad;
        let rn = 0;
        for (let i = 0; i < m; i++) {
          x[i]! += alpha * dir[i]!;
          res[i]! -= alpha * ad[i]!;
          rn += res[i]! * res[i]!;
        }
        if (Math.sqrt(rn) <= tol * bnorm) break;
        let rz2 = 0;
        for (let i = 0; i < m; i++) rz2 += res[i]! * (z[i] = res[i]! / diag[i]!);
        const beta = rz2 / rz;
        rz = rz2;
        for (let i = 0; i < m; i++) dir[i] = z[i]! + beta * dir[i]!;
      }
    }
    for (let i = 0; i < m; i++) out[ch * hw + unknown[i]!] = x[i]! + (noise > 0 ? rng.normal(0, noise) : 0);
  }
  return out;
}

export type RoadOrder = 'morf' | 'lerf';

export interface RoadOptions extends MetricOptions {
  /** Fractions of pixels removed (default 0.1, 0.2, …, 0.9). */
  percentages?: readonly number[];
  /** Orders evaluated (default both). */
  orders?: readonly RoadOrder[];
  /** Imputation noise std (default 0.01). */
  noise?: number;
  /** Softmax probability (default) or logit of the target. */
  score?: ScoreKind;
}

export interface RoadCurves {
  /** Per image, per percentage: the target score after removal and imputation. */
  scores: number[][];
  /** Per image, per percentage: whether the prediction is still the target class. */
  correct: boolean[][];
  /** Per percentage: mean score and fraction still correct over images. */
  meanScore: number[];
  accuracy: number[];
}

export interface RoadResult {
  percentages: number[];
  morf?: RoadCurves;
  lerf?: RoadCurves;
  targets: number[];
}

/** ROAD curves (MoRF and/or LeRF) per image. Maps [N,H,W], inputs [N,C,H,W]; seeded noise. */
export async function road(model: Model, inputs: Tensor, maps: Tensor, target: Target, options: RoadOptions = {}): Promise<RoadResult> {
  const { n, c, h, w, spatial } = checkImagesAndMaps(inputs, maps, 'road');
  if (spatial.length !== 2) throw new Error(`road: ROAD's noisy linear imputation uses the 8 neighbours of a pixel in a 2-D image (Rong et al. 2022); these are ${spatial.length}-D inputs [${inputs.shape.join(', ')}]`);
  const hw = h * w;
  const size = c * hw;
  const pcts = [...(options.percentages ?? [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])];
  for (const p of pcts) if (!(p >= 0 && p <= 1)) throw new Error(`road: percentages must be in [0, 1], got ${p}`);
  const orders = [...(options.orders ?? ['morf', 'lerf'])];
  for (const o of orders) if (o !== 'morf' && o !== 'lerf') throw new Error(`road: orders must be 'morf' or 'lerf', got '${o as string}'`);
  const { targets } = await resolveTargets(model, inputs, target);
  const ranking = Array.from({ length: n }, (_, i) => saliencyOrder(maps.data.subarray(i * hw, (i + 1) * hw), `road: map ${i}`));
  const kind = options.score ?? 'probability';
  const root = new Rng(options.seed ?? 0);
  const k = model.numClasses;
  const np = pcts.length;
  const per = orders.length * np;
  const x = inputs.data as Float32Array;
  const curves = orders.map(() => ({
    scores: Array.from({ length: n }, () => new Array<number>(np).fill(NaN)),
    correct: Array.from({ length: n }, () => new Array<boolean>(np).fill(false)),
  }));
  const keep = new Uint8Array(hw);
  await runPerturbed(
    model,
    n * per,
    [c, h, w],
    (q, out) => {
      const img = Math.floor(q / per);
      const oi = Math.floor((q % per) / np);
      const pi = q % np;
      const remove = Math.round(pcts[pi]! * hw);
      const order = ranking[img]!;
      keep.fill(1);
      for (let r = 0; r < remove; r++) keep[orders[oi] === 'morf' ? order[r]! : order[hw - 1 - r]!] = 0;
      const rng = root.fork(`${orders[oi]}:${img}:${pi}`);
      out.set(noisyLinearImpute(x.subarray(img * size, (img + 1) * size), keep, c, h, w, { noise: options.noise, rng }));
    },
    (q, lg, row) => {
      const img = Math.floor(q / per);
      const oi = Math.floor((q % per) / np);
      const pi = q % np;
      curves[oi]!.scores[img]![pi] = scoreOf(lg, k, row, targets[img]!, kind);
      curves[oi]!.correct[img]![pi] = argmaxRow(lg, k, row) === targets[img];
    },
    options,
  );
  const result: RoadResult = { percentages: pcts, targets };
  orders.forEach((o, oi) => {
    const { scores, correct } = curves[oi]!;
    result[o] = {
      scores,
      correct,
      meanScore: pcts.map((_, pi) => scores.reduce((s, r) => s + r[pi]!, 0) / n),
      accuracy: pcts.map((_, pi) => correct.reduce((s, r) => s + (r[pi] ? 1 : 0), 0) / n),
    };
  });
  return result;
}
