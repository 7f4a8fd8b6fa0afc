/**
 * pytorch-grad-cam's ROAD scores (`metrics/road.py`, after Rong et al. 2022) and ARCC (`metrics/arcc.py`).
 *
 * ROADCombined: for each percentile p (default 10, 20, …, 90),
 *   - MoRF: the pixels with cam ≥ P_p(cam) are removed (kept: cam < P_p, strict), and
 *   - LeRF: the pixels with 1 − cam ≥ P_p(1 − cam) are removed,
 * where P_p is NumPy's `np.percentile` (linear interpolation between order statistics; compared in float32,
 * as torch compares a float32 map with it); the removed pixels are re-imputed by noisy linear imputation (road.ts, noise 0.01)
 * and the score is the change of the target score, after − before (the logit, pytorch-grad-cam's
 * ClassifierOutputTarget; or the softmax probability, its ClassifierOutputSoftmaxTarget). Per image:
 *   ROADCombined = (mean_p LeRF change − mean_p MoRF change) / 2
 * — large when removing the least relevant pixels costs little and removing the most relevant costs much.
 * (candor's own ROAD curves, road.ts, remove round(p·HW) pixels by rank instead of thresholding.)
 *
 * ARCC (2026): the harmonic mean of three scores in [0, 1],
 *   ARCC = 3 / (1/(coherency + 1e-8) + 1/((1 − complexity) + 1e-8) + 1/(road + 1e-8)),
 *   complexity = mean |cam| (the map's L1 norm per pixel),
 *   coherency = (ρ(cam', cam) + 1)/2, cam' = the same method's map of the input multiplied by cam
 *     (ρ: Pearson with 1e-8 added to the denominator, as pytorch-grad-cam's `batch_pearson_coherency`),
 *   road = clip(2 · ROADCombined(percentiles 20, 40, 60, 80), 0, 1).
 * pytorch-grad-cam's scaling of ROAD assumes it lies in [−0.5, 0.5], which holds for probabilities; with logit
 * scores (its default targets) a ROAD above 0.5 saturates the term at 1. Maps are expected in [0, 1] (CAMs).
 */
import { Tensor } from '../tensor/tensor.js';
import type { Model } from '../runtime/model.js';
import { Rng } from '../tensor/rng.js';
import { resolveTargets, type Target } from '../explain/types.js';
import { checkImagesAndMaps, runPerturbed, scoreOf, type MetricOptions, type ScoreKind } from './perturb.js';
import { noisyLinearImpute } from './road.js';
import { pearson } from './correlation.js';
import { std } from './stats.js';

export interface RoadCombinedOptions extends MetricOptions {
  /** Percentiles (default 10, 20, …, 90). */
  percentiles?: readonly number[];
  /** Imputation noise std (default 0.01). */
  noise?: number;
  /** The target's logit (default, pytorch-grad-cam's ClassifierOutputTarget) or softmax probability. */
  score?: ScoreKind;
}

export interface RoadCombinedResult {
  /** Per image: (mean LeRF change − mean MoRF change) / 2. */
  combined: number[];
  /** Per image: mean score change over the percentiles. */
  morf: number[];
  lerf: number[];
  targets: number[];
}

const f32 = Math.fround;

/**
 * NumPy's `np.percentile(a, p)` (method 'linear') of float32 values as NumPy 1.24 computes it: the
 * difference of the two order statistics in float32, the interpolation in float64.
 */
export function numpyPercentile(values: ArrayLike<number>, p: number): number {
  const a = Float32Array.from(values).sort();
  const n = a.length;
  const pos = (p / 100) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const t = pos - lo;
  const x = a[lo]!;
  const y = a[hi]!;
  const d = f32(y - x);
  // numpy's _lerp: a + (b − a)·t, or b − (b − a)·(1 − t) when t ≥ 0.5
  return t >= 0.5 ? y - d * (1 - t) : x + d * t;
}

export async function roadCombined(model: Model, inputs: Tensor, maps: Tensor, target: Target, options: RoadCombinedOptions = {}): Promise<RoadCombinedResult> {
  const { n, c, h, w, spatial } = checkImagesAndMaps(inputs, maps, 'road-combined');
  if (spatial.length !== 2) throw new Error(`road-combined: ROAD's imputation is 2-D; these are ${spatial.length}-D inputs [${inputs.shape.join(', ')}]`);
  const pcts = [...(options.percentiles ?? [10, 20, 30, 40, 50, 60, 70, 80, 90])];
  for (const p of pcts) if (!(p >= 0 && p <= 100)) throw new Error(`road-combined: percentiles must be in [0, 100], got ${p}`);
  const hw = h * w;
  const size = c * hw;
  const { targets, logits } = await resolveTargets(model, inputs, target);
  const kind = options.score ?? 'logit';
  const k = model.numClasses;
  const before = targets.map((t, i) => scoreOf(logits.data, k, i, t, kind));
  // keep masks per image, order (0 MoRF, 1 LeRF) and percentile
  const np = pcts.length;
  const keeps: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const cam = Float32Array.from(maps.data.subarray(i * hw, (i + 1) * hw));
    const inv = cam.map((v) => f32(1 - v));
    for (const m of [cam, inv]) {
      for (const p of pcts) {
        // pytorch-grad-cam compares the float32 torch map with the percentile, which torch rounds to float32
        const th = f32(numpyPercentile(m, p));
        keeps.push(Uint8Array.from(m, (v) => (v < th ? 1 : 0)));
      }
    }
  }
  const root = new Rng(options.seed ?? 0);
  const x = inputs.data as Float32Array;
  const change = new Float64Array(n * 2 * np);
  await runPerturbed(
    model,
    n * 2 * np,
    [c, h, w],
    (q, out) => {
      const img = Math.floor(q / (2 * np));
      out.set(noisyLinearImpute(x.subarray(img * size, (img + 1) * size), keeps[q]!, c, h, w, { noise: options.noise, rng: root.fork(`road-combined:${q}`) }));
    },
    (q, lg, row) => {
      const img = Math.floor(q / (2 * np));
      change[q] = scoreOf(lg, k, row, targets[img]!, kind) - before[img]!;
    },
    options,
  );
  const mean = (img: number, o: number) => {
    let s = 0;
    for (let p = 0; p < np; p++) s += change[(img * 2 + o) * np + p]!;
    return s / np;
  };
  const morf = Array.from({ length: n }, (_, i) => mean(i, 0));
  const lerf = Array.from({ length: n }, (_, i) => mean(i, 1));
  return { combined: morf.map((m, i) => (lerf[i]! - m) / 2), morf, lerf, targets };
}

export interface ArccResult {
  arcc: number[];
  complexity: number[];
  coherency: number[];
  /** clip(2 · ROADCombined, 0, 1). */
  road: number[];
  targets: number[];
}

/**
 * pytorch-grad-cam's Pearson (`batch_pearson_coherency`): sample covariance over the product of the sample
 * standard deviations plus 1e-8, i.e. r · s/(s + 1e-8) with s = σ_a σ_b; 0 when a map is constant.
 */
export function coherencyPearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const r = pearson(a, b);
  const s = std(a) * std(b);
  return Number.isNaN(r) ? 0 : (r * s) / (s + 1e-8);
}

/**
 * ARCC of maps [N,H,W] (in [0, 1]) of a method; `explainAgain` computes that method's maps of other inputs
 * (for coherency), for the same targets.
 */
export async function arcc(model: Model, inputs: Tensor, maps: Tensor, target: Target, explainAgain: (x: Tensor, targets: number[]) => Promise<Tensor>, options: RoadCombinedOptions = {}): Promise<ArccResult> {
  const { n, c, voxels: hw } = checkImagesAndMaps(inputs, maps, 'arcc');
  const road = await roadCombined(model, inputs, maps, target, { percentiles: [20, 40, 60, 80], ...options });
  const mixed = new Float32Array(inputs.data.length);
  for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < hw; p++) mixed[(i * c + ch) * hw + p] = inputs.data[(i * c + ch) * hw + p]! * maps.data[i * hw + p]!;
  const again = await explainAgain(new Tensor(mixed, inputs.shape), road.targets);
  const out: ArccResult = { arcc: [], complexity: [], coherency: [], road: [], targets: road.targets };
  for (let i = 0; i < n; i++) {
    const cam = maps.data.subarray(i * hw, (i + 1) * hw);
    let l1 = 0;
    for (const v of cam) l1 += Math.abs(v);
    const complexity = l1 / hw;
    const coherency = (coherencyPearson(again.data.subarray(i * hw, (i + 1) * hw), cam) + 1) / 2;
    const r = Math.min(Math.max(road.combined[i]! * 2, 0), 1);
    out.complexity.push(complexity);
    out.coherency.push(coherency);
    out.road.push(r);
    out.arcc.push(3 / (1 / (coherency + 1e-8) + 1 / (1 - complexity + 1e-8) + 1 / (r + 1e-8)));
  }
  return out;
}
