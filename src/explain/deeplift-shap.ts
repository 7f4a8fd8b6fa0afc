/**
 * DeepLiftShap (Lundberg & Lee 2017, §4.2; Captum `DeepLiftShap`): DeepLIFT-Rescale attributions
 * averaged over a distribution of baselines,
 *
 *   A(x) = (1/B) Σ_b DeepLift(x, x₀_b),   so   Σ A(x) = f_t(x) − (1/B) Σ_b f_t(x₀_b)
 *
 * (summation-to-delta with the same caveats as DeepLIFT: exact for networks of affine layers and
 * ReLU/Sigmoid/Tanh/ELU; Captum's MaxPool rule drops part of Δy, `maxPool: 'conservative'` keeps it —
 * see deeplift.ts). Like Captum, every image is paired with every baseline (pair q = image·B + b:
 * the inputs repeated B times each, the baselines tiled N times), the pairs run through DeepLIFT
 * (`deepLift`, its rules and its doubled [x; x₀] batch), and the attributions are averaged per image.
 * Pairs go through onnxruntime in chunks of ⌊batchSize/2⌋ (default 32), so memory is bounded by the
 * batch size, not by N × B.
 *
 * Baselines are GradientSHAP's (`shapBaselines`): a tensor [B,C,H,W] (e.g. training images) or
 * [C,H,W], 'batch' (the inputs), 'uniform' (`baselineCount` images of U(dataRange) noise, seeded;
 * the default, 16 images), or one constant image 'zeros' / 'black' / 'gray'. Unlike Captum, which
 * refuses fewer than 2 baselines, one baseline is allowed (the result is then DeepLIFT's).
 *
 * `extra.delta` is the convergence delta per image, Σ A(x) − (f_t(x) − mean_b f_t(x₀_b)), which is
 * the mean over baselines of Captum's per-pair deltas (`extra.pairDelta`, N·B values, image-major,
 * as Captum's `return_convergence_delta` returns them). Signed; the map is the channel sum.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Model } from '../runtime/model.js';
import { type Attribution, type Target, reduceChannels, batchLayout, sameShape } from './types.js';
import { checkImages, targetsOf } from './saliency.js';
import { type DeepLiftMaxPool, deepLift, deepLiftRules } from './deeplift.js';
import { type GradientShapOptions, type ShapBaselines, shapBaselines } from './gradient-shap.js';

export interface DeepLiftShapOptions extends Pick<GradientShapOptions, 'batchSize' | 'seed' | 'onProgress' | 'baselineCount' | 'dataRange'> {
  /** The baseline distribution (default 'uniform', `baselineCount` images). */
  baselines?: ShapBaselines;
  /** |Δx| below which the ordinary gradient is used (default 1e-10, Captum's). */
  eps?: number;
  /** MaxPool rule: 'captum' (default) or 'conservative' (see deeplift.ts). */
  maxPool?: DeepLiftMaxPool;
}

/** The baselines as a tensor [B,C,...spatial], B ≥ 1, with errors in DeepLiftShap's terms. */
export function deepLiftShapBaselines(inputs: Tensor, baselines: ShapBaselines, options: DeepLiftShapOptions = {}): Tensor {
  const image = inputs.shape.slice(1);
  const expected = `expected a baseline tensor [B, ${image.join(', ')}] with B ≥ 1 (or one baseline [${image.join(', ')}]), or one of zeros, black, gray, uniform, batch`;
  if (baselines === null) throw new Error(`deepliftshap: no baselines given; ${expected}`);
  if (baselines instanceof Tensor) {
    const s = baselines.shape;
    if (s.length === image.length + 1 && s[0] === 0) throw new Error(`deepliftshap: no baselines: the baselines tensor [${s.join(', ')}] holds 0 images; ${expected}`);
    const ok = (s.length === image.length + 1 && sameShape(s.slice(1), image)) || sameShape(s, image);
    if (!ok) throw new Error(`deepliftshap: baselines have shape [${s.join(', ')}], ${expected}`);
  }
  return shapBaselines(inputs, baselines, options, 'deepliftshap');
}

/**
 * DeepLiftShap attributions of the target logit: attributions [N,C,H,W] = mean over the baselines of
 * DeepLIFT-Rescale's, map = channel sum, extra.delta (per image), extra.pairDelta (per image ×
 * baseline), extra.baselineLogits [B,K].
 */
export async function deepLiftShap(model: Model, inputs: Tensor, target: Target, options: DeepLiftShapOptions = {}): Promise<Attribution> {
  checkImages(model, inputs);
  deepLiftRules(options); // validate eps / maxPool before any work
  const which = options.baselines === undefined ? 'uniform' : options.baselines;
  const base = deepLiftShapBaselines(inputs, which, options);
  const { targets } = await targetsOf(model, inputs, target);
  const { n, size } = batchLayout(inputs.shape);
  const k = model.numClasses;
  const B = base.shape[0]!;
  const pairs = n * B;
  const chunk = Math.max(1, Math.floor((options.batchSize ?? 64) / 2));
  const x = inputs.data as Float32Array;
  const x0 = base.data as Float32Array;
  const sums = new Float64Array(n * size);
  const logits = new Float32Array(n * k);
  const baselineLogits = new Float32Array(B * k);
  const meanBaseTarget = new Float64Array(n);
  const pairDelta: number[] = [];
  const total = Math.ceil(pairs / chunk);
  for (let q0 = 0, step = 0; q0 < pairs; q0 += chunk, step++) {
    const q1 = Math.min(pairs, q0 + chunk);
    const m = q1 - q0;
    const xs = new Float32Array(m * size);
    const bs = new Float32Array(m * size);
    const ts: number[] = [];
    for (let j = 0; j < m; j++) {
      const q = q0 + j;
      const i = Math.floor(q / B);
      const b = q % B;
      xs.set(x.subarray(i * size, (i + 1) * size), j * size);
      bs.set(x0.subarray(b * size, (b + 1) * size), j * size);
      ts.push(targets[i]!);
    }
    // One doubled batch of 2m rows: batchSize 2m keeps deepLift from splitting it again.
    const r = await deepLift(model, new Tensor(xs, [m, ...inputs.shape.slice(1)]), ts, { baseline: new Tensor(bs, [m, ...inputs.shape.slice(1)]), eps: options.eps, maxPool: options.maxPool, batchSize: 2 * m });
    const a = r.attributions!.data;
    const bl = (r.extra!.baselineLogits as Tensor).data;
    pairDelta.push(...(r.extra!.delta as number[]));
    for (let j = 0; j < m; j++) {
      const q = q0 + j;
      const i = Math.floor(q / B);
      const b = q % B;
      const off = i * size;
      const src = j * size;
      for (let p = 0; p < size; p++) sums[off + p]! += a[src + p]!;
      if (b === 0) logits.set(r.logits.data.subarray(j * k, (j + 1) * k) as Float32Array, i * k);
      if (i === 0) baselineLogits.set(bl.subarray(j * k, (j + 1) * k) as Float32Array, b * k);
      meanBaseTarget[i]! += bl[j * k + targets[i]!]! / B;
    }
    options.onProgress?.(step + 1, total);
  }
  const out = new Float32Array(n * size);
  for (let p = 0; p < out.length; p++) out[p] = sums[p]! / B;
  const delta: number[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let p = i * size; p < (i + 1) * size; p++) s += out[p]!;
    delta.push(s - (logits[i * k + targets[i]!]! - meanBaseTarget[i]!));
  }
  const attributions = new Tensor(out, inputs.shape);
  return {
    method: 'deepliftshap',
    attributions,
    map: reduceChannels(attributions, 'sum'),
    signed: true,
    targets,
    logits: new Tensor(logits, [n, k]),
    extra: {
      delta,
      pairDelta,
      baselines: which instanceof Tensor ? 'tensor' : which,
      baselineCount: B,
      maxPool: options.maxPool ?? 'captum',
      baselineLogits: new Tensor(baselineLogits, [B, k]),
    },
  };
}
