/**
 * Split conformal prediction for [N, K] probabilities (Vovk; Angelopoulos & Bates' gentle intro).
 * A score s(x, k) measures how badly class k conforms; the prediction set is {k : s(x, k) ≤ q̂}
 * (so y ∈ set ⇔ s(x, y) ≤ q̂, which gives P(y ∈ set) ≥ 1 − α for exchangeable data).
 * - q̂ = the ⌈(n+1)(1−α)⌉-th smallest calibration score, +∞ when that rank exceeds n (every set is
 *   then all classes; `infinite` says so and `minCalibration` gives the n that would suffice).
 *   The rank is computed as ⌈(n+1)(1−α) − 1e-9⌉ so that e.g. 100·0.9 counts as exactly 90.
 * - LAC: s = 1 − p_k. APS: classes sorted by p descending (ties by index), s = Σ of p above k + u·p_k,
 *   u = 1 (non-randomized) or u ~ U(0, 1) per case (randomized). RAPS: APS + λ·max(0, rank(k) − k_reg),
 *   rank 1-based.
 * - Mondrian (class-conditional): one q̂ per class from the calibration cases of that class; the set
 *   is {k : s(x, k) ≤ q̂_k}.
 */
import type { Nums } from './binary.js';

export type ConformalScore = 'lac' | 'aps' | 'raps';

export interface ScoreOptions {
  score: ConformalScore;
  /** APS/RAPS: use u ~ U(0, 1) per case (from `uniforms`); default true for RAPS, false for APS. */
  randomized?: boolean;
  /** Per-case uniforms for randomized scores (length N). */
  uniforms?: Nums;
  lambda?: number;
  kReg?: number;
}

function checkProbs(what: string, probs: Nums, k: number): number {
  if (!Number.isInteger(k) || k < 2) throw new Error(`${what}: need at least 2 classes, got ${k}`);
  const n = probs.length / k;
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what}: ${probs.length} probabilities are not rows of ${k}`);
  for (let i = 0; i < probs.length; i++) {
    if (!(probs[i]! >= 0 && probs[i]! <= 1)) throw new Error(`${what}: probability at flat index ${i} is ${probs[i]}, not in [0, 1]`);
  }
  return n;
}

/** s(x, k) for every case and class, [N, K]. */
export function conformalScores(probs: Nums, k: number, opts: ScoreOptions): Float64Array {
  const n = checkProbs('conformalScores', probs, k);
  const kind = opts.score;
  if (kind !== 'lac' && kind !== 'aps' && kind !== 'raps') throw new Error(`conformalScores: score must be lac, aps or raps, got '${kind}'`);
  const randomized = opts.randomized ?? kind === 'raps';
  if (randomized && kind !== 'lac' && (!opts.uniforms || opts.uniforms.length !== n)) {
    throw new Error(`conformalScores: randomized ${kind} needs ${n} uniforms, got ${opts.uniforms?.length ?? 0}`);
  }
  const lambda = kind === 'raps' ? opts.lambda ?? 0.01 : 0;
  const kReg = kind === 'raps' ? opts.kReg ?? 1 : 0;
  if (!(lambda >= 0) || !(Number.isInteger(kReg) && kReg >= 0)) throw new Error(`conformalScores: need λ ≥ 0 and integer k_reg ≥ 0, got ${lambda}, ${kReg}`);
  const out = new Float64Array(n * k);
  const order = Array.from({ length: k }, (_, c) => c);
  for (let i = 0; i < n; i++) {
    if (kind === 'lac') {
      for (let c = 0; c < k; c++) out[i * k + c] = 1 - probs[i * k + c]!;
      continue;
    }
    order.sort((a, b) => probs[i * k + b]! - probs[i * k + a]! || a - b);
    const u = randomized ? opts.uniforms![i]! : 1;
    let cum = 0;
    order.forEach((c, r) => {
      const p = probs[i * k + c]!;
      out[i * k + c] = cum + u * p + lambda * Math.max(0, r + 1 - kReg);
      cum += p;
    });
  }
  return out;
}

export interface Quantile {
  qhat: number;
  /** ⌈(n+1)(1−α)⌉. */
  rank: number;
  n: number;
  infinite: boolean;
  /** Smallest n for which q̂ is finite at this α: ⌈1/α⌉ − 1. */
  minCalibration: number;
}

/** The finite-sample conformal quantile of calibration scores. */
export function conformalQuantile(scores: Nums, alpha: number): Quantile {
  if (!(alpha > 0 && alpha < 1)) throw new Error(`conformalQuantile: alpha must be in (0, 1), got ${alpha}`);
  const n = scores.length;
  for (let i = 0; i < n; i++) if (Number.isNaN(scores[i])) throw new Error(`conformalQuantile: score at index ${i} is NaN`);
  const rank = Math.ceil((n + 1) * (1 - alpha) - 1e-9);
  const minCalibration = Math.ceil(1 / alpha - 1e-9) - 1;
  if (rank > n) return { qhat: Infinity, rank, n, infinite: true, minCalibration };
  const sorted = Float64Array.from(scores).sort();
  return { qhat: sorted[rank - 1]!, rank, n, infinite: false, minCalibration };
}

export interface ConformalCalibration {
  score: ConformalScore;
  alpha: number;
  mondrian: boolean;
  /** One quantile, or one per class (Mondrian). */
  quantiles: Quantile[];
  k: number;
  options: ScoreOptions;
}

/** Calibrate on held-out probabilities and labels. */
export function calibrateConformal(probs: Nums, labels: Nums, k: number, alpha: number, opts: ScoreOptions & { mondrian?: boolean }): ConformalCalibration {
  const s = conformalScores(probs, k, opts);
  const n = labels.length;
  if (s.length !== n * k) throw new Error(`calibrateConformal: ${probs.length / k} probability rows for ${n} labels`);
  for (let i = 0; i < n; i++) if (!Number.isInteger(labels[i]) || labels[i]! < 0 || labels[i]! >= k) throw new Error(`calibrateConformal: label ${labels[i]} at index ${i} is not in [0, ${k})`);
  const mondrian = opts.mondrian ?? false;
  const quantiles: Quantile[] = [];
  if (!mondrian) quantiles.push(conformalQuantile(Array.from(labels, (y, i) => s[i * k + y]!), alpha));
  else {
    for (let c = 0; c < k; c++) {
      const sc: number[] = [];
      for (let i = 0; i < n; i++) if (labels[i] === c) sc.push(s[i * k + c]!);
      quantiles.push(conformalQuantile(sc, alpha));
    }
  }
  const { mondrian: _m, ...options } = opts;
  return { score: opts.score, alpha, mondrian, quantiles, k, options };
}

/** Prediction sets [N, K] as 0/1 for new probabilities (pass `uniforms` for randomized scores). */
export function predictSets(cal: ConformalCalibration, probs: Nums, uniforms?: Nums): Uint8Array {
  const k = cal.k;
  const s = conformalScores(probs, k, { ...cal.options, uniforms });
  const out = new Uint8Array(s.length);
  for (let j = 0; j < s.length; j++) {
    const q = cal.quantiles[cal.mondrian ? j % k : 0]!.qhat;
    out[j] = s[j]! <= q ? 1 : 0;
  }
  return out;
}

export interface SetEvaluation {
  n: number;
  coverage: number;
  meanSize: number;
  emptyRate: number;
  singletonRate: number;
  /** Coverage among cases whose set has this size (size 0…K); null coverage when none. */
  bySize: { size: number; count: number; coverage: number | null }[];
  /** Coverage among the cases of each true class; null when the class is absent. */
  byClass: { label: number; count: number; coverage: number | null; meanSize: number | null }[];
}

export function evaluateSets(sets: Uint8Array, labels: Nums, k: number): SetEvaluation {
  const n = labels.length;
  if (sets.length !== n * k || n === 0) throw new Error(`evaluateSets: ${sets.length} set entries are not [${n}, ${k}] with N > 0`);
  let cov = 0, size = 0, empty = 0, single = 0;
  const sz = Array.from({ length: k + 1 }, () => [0, 0]);
  const cls = Array.from({ length: k }, () => [0, 0, 0]);
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= k) throw new Error(`evaluateSets: label ${y} at index ${i} is not in [0, ${k})`);
    let s = 0;
    for (let c = 0; c < k; c++) s += sets[i * k + c]!;
    const hit = sets[i * k + y]!;
    cov += hit;
    size += s;
    if (s === 0) empty++;
    if (s === 1) single++;
    sz[s]![0]!++;
    sz[s]![1]! += hit;
    cls[y]![0]!++;
    cls[y]![1]! += hit;
    cls[y]![2]! += s;
  }
  return {
    n,
    coverage: cov / n,
    meanSize: size / n,
    emptyRate: empty / n,
    singletonRate: single / n,
    bySize: sz.map(([c, h], s) => ({ size: s, count: c!, coverage: c ? h! / c : null })),
    byClass: cls.map(([c, h, s], label) => ({ label, count: c!, coverage: c ? h! / c : null, meanSize: c ? s! / c : null })),
  };
}
