/**
 * Quantus' robustness family (Quantus 0.6 definitions and defaults): how much a method's explanation moves when
 * the input moves a little. Every metric takes the images x [N, ...], their attributions a (as the method gave
 * them, [N, ...] of any per-image size), the targets, and the method itself as a callback that explains other
 * inputs for the same targets. As in Quantus, attributions are prepared (prepare.ts: divided by the batch's
 * largest |a| when `normalise`, then |·| when `abs`) — the given ones once, the perturbed ones after each call —
 * and perturbed inputs are rounded to float32 as the model sees them.
 *
 *   AvgSensitivity / MaxSensitivity (Yeh et al. 2019): samples (200) of x' = x + δ, δ ~ U[−r, r] (r = lowerBound
 *     0.2; U[lowerBound, upperBound] when an upper bound is given), score ‖a − a'‖₂ / ‖a‖₂, mean (NaN-ignoring) /
 *     max over the samples; normalise false, abs false.
 *   LocalLipschitzEstimate (Alvarez-Melis & Jaakkola 2018): x' = x + N(0, 0.1²), ‖a − a'‖₂ / (‖x − x'‖₂ + 1e-10),
 *     NaN-ignoring max over 200 samples; normalise true, abs false.
 *   Continuity (Montavon et al. 2018, Quantus' translation form): the image shifted along x by
 *     −W + k·⌊(2W + 1)/steps⌋ pixels (k = 1 … steps, default 28), the uncovered columns filled with the image's
 *     minimum ("black"); score max_k ‖a − a_k‖₁ / (‖x − x_k‖₂ + 1e-9); normalise true, abs true.
 *   Consistency (Dasgupta et al. 2022): maps get a discrete label — Quantus' `top_n_sign`: the signs of the first
 *     n = 5 values of the flattened map (its first values, not its largest); per image, the share of the other
 *     images with the same label whose predicted class is also the same: Σ_j [ŷ_j = ŷ_i][l_j = l_i] /
 *     (Σ_j [l_j = l_i] + 1e-9), j ≠ i; normalise true, abs true.
 *   Relative input / output / representation stability (Agarwal et al. 2022): x' = x + U[0.02, 0.2] per element (Quantus' default:
 *     its lower bound 0.02 with upper bound 0.2, so the noise is positive), e = (a − a')/(a + ε[a = 0]),
 *     RIS = ‖e‖ / max(‖(x − x')/(x + ε[x = 0])‖, ε), ROS = ‖e‖ / max(‖logits(x) − logits(x')‖, ε), ε = 1e-6 (a zero
 *     denominator becomes ε); RRS the same with a layer's output in place of x; max over 200 samples, and a sample whose prediction changes makes the image NaN
 *     (Quantus' return_nan_when_prediction_changes, default true there); normalise false, abs false.
 * Noise: candor's seeded generator by default; `noise` takes any source of uniform and normal draws (the tests pass
 * NumPy's legacy generator and reproduce Quantus' draws). Draws are taken for the whole batch at each sample, in
 * C order, as Quantus does.
 */
import { Tensor } from '../../tensor/tensor.js';
import { Rng } from '../../tensor/rng.js';
import type { Model } from '../../runtime/model.js';
import { prepareAttributions } from './prepare.js';

/** The method being evaluated: attributions [N, ...] of inputs for the given targets. */
export type QuantusExplain = (inputs: Tensor, targets: readonly number[]) => Promise<Tensor>;

/** A source of noise: `n` uniform or normal draws, or integers in [lo, hi). */
export interface NoiseSource {
  uniform(lo: number, hi: number, n: number): Float64Array;
  normal(mean: number, std: number, n: number): Float64Array;
  randint(lo: number, hi: number, n: number): number[];
}

/** candor's seeded generator as a noise source. */
export function seededNoise(seed = 0): NoiseSource {
  const rng = new Rng(seed).fork('quantus-noise');
  return {
    uniform: (lo, hi, n) => Float64Array.from({ length: n }, () => rng.uniform(lo, hi)),
    normal: (mean, std, n) => Float64Array.from({ length: n }, () => rng.normal(mean, std)),
    randint: (lo, hi, n) => Array.from({ length: n }, () => lo + rng.int(hi - lo)),
  };
}

export interface QuantusRobustnessOptions {
  /** Perturbed samples (default 200). */
  samples?: number;
  normalise?: boolean;
  abs?: boolean;
  /** Noise source (default candor's generator seeded with `seed`). */
  noise?: NoiseSource;
  seed?: number;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

interface Batch {
  n: number;
  /** Values per image of x and of a. */
  xs: number;
  as: number;
}

function batchOf(x: Tensor, a: Tensor, targets: readonly number[], what: string): Batch {
  const n = x.shape[0]!;
  if (a.shape[0] !== n || targets.length !== n) throw new Error(`${what}: ${n} images, ${a.shape[0]} attributions and ${targets.length} targets`);
  return { n, xs: x.data.length / n, as: a.data.length / n };
}

function predictions(logits: Tensor): number[] {
  const [n, k] = logits.shape as [number, number];
  return Array.from({ length: n }, (_, i) => {
    let best = 0;
    for (let j = 1; j < k; j++) if (logits.data[i * k + j]! > logits.data[i * k + best]!) best = j;
    return best;
  });
}

function perturbed(x: Tensor, noise: Float64Array): Tensor {
  return new Tensor(Float32Array.from(x.data, (v, i) => v + noise[i]!), x.shape);
}

const norm2 = (v: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
};

/** Mean or max per image over the samples: NaN-ignoring (NumPy's nanmean/nanmax), or `strict` (a NaN sample makes NaN). */
function reduceSamples(rows: number[][], how: 'mean' | 'max', strict: boolean): number[] {
  return rows.map((r) => {
    if (strict && r.some(Number.isNaN)) return NaN;
    const ok = r.filter((v) => !Number.isNaN(v));
    if (!ok.length) return NaN;
    return how === 'mean' ? ok.reduce((s, v) => s + v, 0) / ok.length : Math.max(...ok);
  });
}

/**
 * The loop the noise-based metrics share: for each sample, perturb the whole batch, explain it, and score each
 * image from (its prepared a, a', x, x', logits, logits'); `changedIsNaN` puts NaN where the prediction changed.
 */
async function noiseLoop(
  model: Model, x: Tensor, a: Tensor, targets: readonly number[], explain: QuantusExplain, b: Batch, o: QuantusRobustnessOptions,
  draw: (src: NoiseSource, n: number) => Float64Array, changedIsNaN: boolean, needLogits: boolean,
  score: (i: number, ai: Float64Array, api: Float64Array, xi: ArrayLike<number>, xpi: ArrayLike<number>, li: ArrayLike<number>, lpi: ArrayLike<number>) => number,
): Promise<number[][]> {
  const S = o.samples ?? 200;
  if (!Number.isInteger(S) || S < 1) throw new Error(`quantus robustness: samples must be a positive integer, got ${String(o.samples)}`);
  const src = o.noise ?? seededNoise(o.seed);
  const prep = { abs: o.abs ?? false, normalise: o.normalise ?? false };
  const A = prepareAttributions(a.data, b.n, prep);
  const k = model.numClasses;
  const logits = changedIsNaN || needLogits ? await model.forward(x, { batchSize: o.batchSize }) : undefined;
  const before = logits ? predictions(logits) : [];
  const rows = Array.from({ length: b.n }, () => new Array<number>(S).fill(NaN));
  for (let s = 0; s < S; s++) {
    const xp = perturbed(x, draw(src, x.data.length));
    const lp = changedIsNaN || needLogits ? await model.forward(xp, { batchSize: o.batchSize }) : undefined;
    const after = lp ? predictions(lp) : [];
    const ap = await explain(xp, targets);
    if (ap.data.length !== a.data.length) throw new Error(`quantus robustness: the method gave ${ap.data.length} attribution values for the perturbed batch, ${a.data.length} for the original`);
    const AP = prepareAttributions(ap.data, b.n, prep);
    for (let i = 0; i < b.n; i++) {
      rows[i]![s] = changedIsNaN && after[i] !== before[i]
        ? NaN
        : score(i, A[i]!, AP[i]!, x.data.subarray(i * b.xs, (i + 1) * b.xs), xp.data.subarray(i * b.xs, (i + 1) * b.xs), logits ? logits.data.subarray(i * k, (i + 1) * k) : [], lp ? lp.data.subarray(i * k, (i + 1) * k) : []);
    }
    o.onProgress?.(s + 1, S);
  }
  return rows;
}

export interface QuantusSensitivityOptions extends QuantusRobustnessOptions {
  /** U[−lowerBound, lowerBound] (default 0.2), or U[lowerBound, upperBound] when an upper bound is given. */
  lowerBound?: number;
  upperBound?: number;
  /** NaN for a sample whose prediction changes (and then a NaN score for the image); default false. */
  nanWhenPredictionChanges?: boolean;
}

function uniformDraw(lo: number, hi: number | undefined) {
  if (hi !== undefined && !(hi > lo)) throw new Error(`quantus robustness: upperBound must exceed lowerBound, got ${hi} ≤ ${lo}`);
  return (src: NoiseSource, n: number) => (hi === undefined ? src.uniform(-lo, lo, n) : src.uniform(lo, hi, n));
}

/** Quantus' AvgSensitivity ('avg') or MaxSensitivity ('max') per image. */
export async function quantusSensitivity(kind: 'avg' | 'max', model: Model, x: Tensor, a: Tensor, targets: readonly number[], explain: QuantusExplain, o: QuantusSensitivityOptions = {}): Promise<number[]> {
  const b = batchOf(x, a, targets, `${kind}-sensitivity`);
  const strict = o.nanWhenPredictionChanges ?? false;
  const rows = await noiseLoop(model, x, a, targets, explain, b, o, uniformDraw(o.lowerBound ?? 0.2, o.upperBound), strict, false, (_i, ai, api) => {
    let d = 0;
    for (let p = 0; p < ai.length; p++) d += (ai[p]! - api[p]!) ** 2;
    return Math.sqrt(d) / norm2(ai);
  });
  return reduceSamples(rows, kind === 'avg' ? 'mean' : 'max', strict);
}

export interface LipschitzOptions extends QuantusRobustnessOptions {
  /** Gaussian noise mean and std (default 0, 0.1). */
  mean?: number;
  std?: number;
  nanWhenPredictionChanges?: boolean;
}

/** Quantus' LocalLipschitzEstimate per image (normalise true by default). */
export async function localLipschitzEstimate(model: Model, x: Tensor, a: Tensor, targets: readonly number[], explain: QuantusExplain, o: LipschitzOptions = {}): Promise<number[]> {
  const b = batchOf(x, a, targets, 'local-lipschitz');
  const strict = o.nanWhenPredictionChanges ?? false;
  const rows = await noiseLoop(model, x, a, targets, explain, b, { normalise: true, ...o }, (src, n) => src.normal(o.mean ?? 0, o.std ?? 0.1, n), strict, false, (_i, ai, api, xi, xpi) => {
    let da = 0;
    for (let p = 0; p < ai.length; p++) da += (ai[p]! - api[p]!) ** 2;
    let dx = 0;
    for (let p = 0; p < xi.length; p++) dx += (Math.fround(xi[p]! - xpi[p]!)) ** 2;
    return Math.sqrt(da) / (Math.sqrt(dx) + 1e-10);
  });
  return reduceSamples(rows, 'max', strict);
}

export interface RelativeStabilityOptions extends QuantusRobustnessOptions {
  /** U[lowerBound, upperBound] per element (default 0.02, 0.2: Quantus'). */
  lowerBound?: number;
  upperBound?: number;
  /** NaN for an image when any sample changes its prediction (default true, Quantus'). */
  nanWhenPredictionChanges?: boolean;
  epsMin?: number;
}

/** ‖(a − a')/(a + ε[a = 0])‖₂ (the relative change of the explanation), in float32 as NumPy on float32 maps. */
function relativeChange(u: ArrayLike<number>, v: ArrayLike<number>, eps: number): number {
  let s = 0;
  for (let p = 0; p < u.length; p++) {
    const d = Math.fround(Math.fround(u[p]! - v[p]!) / Math.fround(u[p]! + (u[p] === 0 ? eps : 0)));
    s += d * d;
  }
  return Math.sqrt(s);
}

/**
 * Quantus' RelativeInputStability ('input'), RelativeOutputStability ('output') or RelativeRepresentationStability
 * ('representation': the output of `layer`, a tensor name or module path, flattened — Quantus' layer_names with
 * one layer; its default, every layer concatenated, depends on PyTorch's module list and is not offered) per image.
 */
export async function relativeStability(kind: 'input' | 'output' | 'representation', model: Model, x: Tensor, a: Tensor, targets: readonly number[], explain: QuantusExplain, o: RelativeStabilityOptions & { layer?: string } = {}): Promise<number[]> {
  const b = batchOf(x, a, targets, `relative ${kind} stability`);
  if (o.normalise) throw new Error(`relative ${kind} stability: normalise is not offered (Quantus normalises these by an average second-moment estimate); pass prepared attributions instead`);
  if (kind === 'representation' && !o.layer) throw new Error('relative representation stability: name the layer whose output is compared (layer: a tensor name or module path)');
  const eps = o.epsMin ?? 1e-6;
  const strict = o.nanWhenPredictionChanges ?? true;
  const hidden = async (inputs: Tensor): Promise<Tensor> => {
    const layer = model.resolveLayer(o.layer);
    const r = await model.vjp(inputs, { seed: Tensor.zeros([inputs.shape[0]!, model.numClasses]), layers: [layer], inputGrad: false, batchSize: o.batchSize });
    return r.activations.get(layer)!;
  };
  const h0 = kind === 'representation' ? await hidden(x) : undefined;
  const hs = h0 ? h0.data.length / b.n : 0;
  let hp: Tensor | undefined;
  const explainAndHide: QuantusExplain = async (inputs, t) => {
    if (h0) hp = await hidden(inputs);
    return explain(inputs, t);
  };
  const rows = await noiseLoop(model, x, a, targets, explainAndHide, b, o, uniformDraw(o.lowerBound ?? 0.02, o.upperBound ?? 0.2), strict, kind === 'output', (i, ai, api, xi, xpi, li, lpi) => {
    const num = relativeChange(ai, api, eps);
    let den = kind === 'input'
      ? relativeChange(xi, xpi, eps)
      : kind === 'output'
        ? norm2(Array.from(li, (v, j) => Math.fround(v - lpi[j]!)))
        : relativeChange(h0!.data.subarray(i * hs, (i + 1) * hs), hp!.data.subarray(i * hs, (i + 1) * hs), eps);
    if (den === 0) den = eps;
    return num / den;
  });
  return reduceSamples(rows, 'max', strict);
}

export interface ContinuityOptions {
  /** Translation steps (default 28). */
  steps?: number;
  normalise?: boolean;
  abs?: boolean;
  nanWhenPredictionChanges?: boolean;
  batchSize?: number;
}

/** The batch shifted along the last axis by `dx` pixels, the uncovered columns at each image's minimum (Quantus' batched_translation, 'black'). */
export function translateX(x: Tensor, dx: number): Tensor {
  const n = x.shape[0]!;
  const W = x.shape[x.shape.length - 1]!;
  const per = x.data.length / n;
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < n; i++) {
    const img = x.data.subarray(i * per, (i + 1) * per);
    let lo = Infinity;
    for (const v of img) lo = Math.min(lo, v);
    for (let r = 0; r < per / W; r++) {
      for (let c = 0; c < W; c++) {
        const src = c - dx;
        out[i * per + r * W + c] = src >= 0 && src < W ? img[r * W + src]! : lo;
      }
    }
  }
  return new Tensor(out, x.shape);
}

/** Quantus' Continuity per image (2-D images [N, C, H, W]). */
export async function continuity(model: Model, x: Tensor, targets: readonly number[], explain: QuantusExplain, o: ContinuityOptions = {}): Promise<number[]> {
  if (x.shape.length !== 4) throw new Error(`continuity: Quantus' translation needs images [N, C, H, W], got [${x.shape.join(', ')}]`);
  const n = x.shape[0]!;
  const W = x.shape[3]!;
  const steps = o.steps ?? 28;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`continuity: steps must be a positive integer, got ${String(o.steps)}`);
  const dx = Math.floor((2 * W + 1) / steps);
  const prep = { abs: o.abs ?? true, normalise: o.normalise ?? true };
  const a0 = await explain(x, targets);
  // Quantus prepares the freshly explained maps twice (in explain_batch and again); max-normalising is idempotent
  const A = prepareAttributions(prepareAttributions(a0.data, n, prep).flatMap((r) => [...r]), n, prep);
  const xs = x.data.length / n;
  const best = new Array<number>(n).fill(-Infinity);
  let shift = -W;
  for (let s = 0; s < steps; s++) {
    shift += dx;
    const xp = translateX(x, shift);
    const ap = await explain(xp, targets);
    const AP = prepareAttributions(prepareAttributions(ap.data, n, prep).flatMap((r) => [...r]), n, prep);
    const changed = o.nanWhenPredictionChanges ? predictions(await model.forward(xp, { batchSize: o.batchSize })) : [];
    for (let i = 0; i < n; i++) {
      let l1 = 0;
      for (let p = 0; p < A[i]!.length; p++) l1 += Math.abs(A[i]![p]! - AP[i]![p]!);
      let d = 0;
      for (let p = 0; p < xs; p++) d += Math.fround(x.data[i * xs + p]! - xp.data[i * xs + p]!) ** 2;
      const v = o.nanWhenPredictionChanges && changed[i] !== targets[i] ? NaN : l1 / (Math.sqrt(d) + 1e-9);
      best[i] = Number.isNaN(v) || Number.isNaN(best[i]!) ? NaN : Math.max(best[i]!, v);
    }
  }
  return best;
}

export interface ConsistencyOptions {
  /** Values of the flattened map whose signs label it (default 5: Quantus' top_n_sign). */
  n?: number;
  normalise?: boolean;
  abs?: boolean;
  batchSize?: number;
}

/** Quantus' Consistency per image, with its default discretisation (`top_n_sign`). */
export async function consistency(model: Model, x: Tensor, a: Tensor, o: ConsistencyOptions = {}): Promise<number[]> {
  const n = x.shape[0]!;
  const A = prepareAttributions(a.data, n, { abs: o.abs ?? true, normalise: o.normalise ?? true });
  const top = o.n ?? 5;
  const labels = A.map((r) => Array.from(r.subarray(0, top), Math.sign).join(','));
  const pred = predictions(await model.forward(x, { batchSize: o.batchSize }));
  return Array.from({ length: n }, (_, i) => {
    let same = 0;
    let both = 0;
    for (let j = 0; j < n; j++) {
      if (j === i || labels[j] !== labels[i]) continue;
      same++;
      if (pred[j] === pred[i]) both++;
    }
    return both / (same + 1e-9);
  });
}
