/**
 * Score-CAM (Wang et al. 2020), by default pytorch-grad-cam's `ScoreCAM`:
 *
 *   1. A = activations of the layer [K,h,w] for the image (no gradients are used).
 *   2. Each channel is upsampled to the input size with `torch.nn.UpsamplingBilinear2d`, i.e.
 *      bilinear with **align_corners=True** (src = dst·(in − 1)/(out − 1)) — not the half-pixel
 *      resize used elsewhere, because that is what pytorch-grad-cam does — and min–max normalised
 *      per channel: M_k = (U_k − min U_k) / (max U_k − min U_k + 1e-8).
 *   3. The masked inputs x ⊙ M_k (the mask broadcast over the input channels) go through the model;
 *      s_k = the target's score on x ⊙ M_k.
 *   4. Weights and CAM, by `variant`:
 *      - 'pytorch-grad-cam' (default): s_k = the target **logit** (pytorch-grad-cam's
 *        `ClassifierOutputTarget` returns the raw output `model_output[category]`, no softmax over
 *        classes); w = softmax over the channels of s (`torch.nn.Softmax(dim=-1)(scores)`).
 *      - 'paper': the paper's "increase of confidence", s_k = softmax(f(x ⊙ M_k))_t − softmax(f(x_b))_t,
 *        with the softmax over classes and x_b the baseline image filled with `baseline` (default 0);
 *        w_k = s_k (no softmax over channels).
 *   5. cam = Σ_k w_k A_k, then the CAM base: ReLU, scale_cam_image, resize (half-pixel bilinear, as
 *      cv2.resize), aggregation over layers.
 *
 * `topChannels: N` is Faster-Score-CAM (Wang et al. 2020, "SS-CAM"/"Faster Score-CAM" repo): only the
 * N channels whose activation maps have the largest variance (population variance over the h·w
 * positions) are scored; the others get weight 0, and the softmax of step 4 runs over the N scored
 * channels only. With N ≥ K it is exactly Score-CAM.
 *
 * Exact savings: a masked input depends only on the image and the channel's raw activation map, so
 * channels whose h×w activations are bit-identical share one forward pass, and all-zero channels
 * (dead ReLU units; mask exactly 0, masked input exactly the zero image) share a single forward
 * pass across all images. The result is identical to scoring every channel (`dedupe: false`).
 * `extra.forwardPasses` counts the passes run, `extra.channels` the channels scored.
 *
 * Batching: the distinct masked images of all images are built in chunks of ≈ 8M floats and each
 * chunk goes through `model.forward` in batches of `batchSize` (default 256).
 * `extra.weights:<layer>` holds the channel weights [N,K].
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { type Attribution, type Target, resolveTargets, batchLayout } from '../types.js';
import { type CamMethod, type CamOptions, camFromTensors, resolveCamLayers, withAugSmooth } from './base.js';
import { foldToGrid } from './fold.js';
import { linearAlongAxis } from '../../tensor/separable.js';

const CHUNK_FLOATS = 1 << 23;

export interface ScoreCamOptions extends CamOptions {
  /** 'pytorch-grad-cam' (default: logits, softmax over channels) or 'paper' (probability increase over a baseline). */
  variant?: ScoreCamVariant;
  /** Faster-Score-CAM: score only the N channels with the largest activation variance. */
  topChannels?: number;
  /** Baseline fill value for the 'paper' variant (default 0). */
  baseline?: number;
  /** Share forward passes between channels with identical masks (default true; exact). */
  dedupe?: boolean;
}

export type ScoreCamVariant = 'pytorch-grad-cam' | 'paper' | 'tf-keras-vis';
export const SCORECAM_VARIANTS: readonly ScoreCamVariant[] = ['pytorch-grad-cam', 'paper', 'tf-keras-vis'];

/** Interpolation taps for align_corners=True bilinear along one dim (PyTorch's UpsamplingBilinear2d). */
function alignCornersTaps(n: number, N: number): { i0: Int32Array; i1: Int32Array; f: Float64Array } {
  const i0 = new Int32Array(N);
  const i1 = new Int32Array(N);
  const f = new Float64Array(N);
  const scale = N > 1 ? (n - 1) / (N - 1) : 0;
  for (let d = 0; d < N; d++) {
    const s = d * scale;
    const a = Math.min(Math.floor(s), n - 1);
    i0[d] = a;
    i1[d] = Math.min(a + 1, n - 1);
    f[d] = s - a;
  }
  return { i0, i1, f };
}

/** Upsample one [h,w] map to [H,W] (align_corners=True) and min–max normalise it (ε = 1e-8; ε = 0 with 0/0 → 0 for tf-keras-vis's safe_divide), into `out`. */
export function scoreCamMask(a: ArrayLike<number>, h: number, w: number, H: number, W: number, out: Float32Array | Float64Array, eps = 1e-8): void {
  scoreCamMaskNd(a, [h, w], [H, W], out, eps);
}

/**
 * `scoreCamMask` for any spatial rank: [d,h,w] → [D,H,W] trilinearly with align_corners=True
 * (`F.interpolate(mode='trilinear', align_corners=True)`, the 3-D form of pytorch-grad-cam's
 * UpsamplingBilinear2d), separably, last axis first (for 2-D the same arithmetic as top/bottom rows then between them).
 */
export function scoreCamMaskNd(a: ArrayLike<number>, from: readonly number[], to: readonly number[], out: Float32Array | Float64Array, eps = 1e-8): void {
  const r = from.length;
  let cur: ArrayLike<number> = a;
  const ext = [...from];
  for (let axis = r - 1; axis >= 0; axis--) {
    cur = linearAlongAxis(cur, ext, axis, to[axis]!, alignCornersTaps(from[axis]!, to[axis]!));
    ext[axis] = to[axis]!;
  }
  const total = to.reduce((x, y) => x * y, 1);
  let lo = Infinity;
  let hi = -Infinity;
  for (let p = 0; p < total; p++) {
    const v = cur[p]!;
    out[p] = v;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const d = hi - lo + eps;
  if (d === 0) out.fill(0, 0, total);
  else for (let p = 0; p < total; p++) out[p] = (out[p]! - lo) / d;
}

/** The N channels with the largest spatial variance (all K when N ≥ K), in channel order. */
export function topVarianceChannels(a: ArrayLike<number>, k: number, hw: number, top?: number): number[] {
  const all = Array.from({ length: k }, (_, i) => i);
  if (top === undefined || top >= k) return all;
  if (!Number.isInteger(top) || top < 1) throw new Error(`scorecam: topChannels must be a positive integer, got ${top}`);
  const v = all.map((ch) => {
    let m = 0;
    for (let p = 0; p < hw; p++) m += a[ch * hw + p]!;
    m /= hw;
    let s = 0;
    for (let p = 0; p < hw; p++) s += (a[ch * hw + p]! - m) ** 2;
    return s / hw;
  });
  return all.sort((x, y) => v[y]! - v[x]! || x - y).slice(0, top).sort((x, y) => x - y);
}

/** The exact bits of a float32 map as a string (a Map key). */
function bitsKey(a: Float32Array): string {
  const u = new Uint16Array(a.buffer, a.byteOffset, a.length * 2);
  let s = '';
  for (let i = 0; i < u.length; i += 4096) s += String.fromCharCode(...u.subarray(i, i + 4096));
  return s;
}

function softmaxAt(row: ArrayLike<number>, off: number, k: number, t: number): number {
  let mx = -Infinity;
  for (let j = 0; j < k; j++) mx = Math.max(mx, row[off + j]!);
  let s = 0;
  for (let j = 0; j < k; j++) s += Math.exp(row[off + j]! - mx);
  return Math.exp(row[off + t]! - mx) / s;
}

async function scoreCamOnce(model: Model, inputs: Tensor, target: Target, options: ScoreCamOptions = {}): Promise<Attribution> {
  if (inputs.shape.length !== 4 && inputs.shape.length !== 5) throw new Error(`scorecam: inputs must be [N,C,H,W] or [N,C,D,H,W], got [${inputs.shape}]`);
  model.checkInput(inputs);
  const variant = options.variant ?? 'pytorch-grad-cam';
  if (!SCORECAM_VARIANTS.includes(variant)) throw new Error(`scorecam: unknown variant '${variant as string}' (valid: ${SCORECAM_VARIANTS.join(', ')})`);
  const eps = variant === 'tf-keras-vis' ? 0 : 1e-8;
  const probability = variant !== 'pytorch-grad-cam';
  await model.learnShapes(inputs.shape.slice(1));
  const { given, tensors, layouts } = resolveCamLayers(model, options.layer, inputs.shape.slice(2));
  const pre = target === 'pred' ? await resolveTargets(model, inputs, target) : undefined;
  const targets = pre?.targets ?? (await resolveTargets(model, inputs, target, Tensor.zeros([inputs.shape[0]!, model.numClasses]))).targets;
  const r = await model.vjp(inputs, { seed: model.oneHot(targets), layers: tensors, inputGrad: false, batchSize: options.batchSize });
  const { n, c, spatial: S, voxels: HW, size } = batchLayout(inputs.shape);
  const K = model.numClasses;
  const bs = options.batchSize ?? 256;
  const x = inputs.data as Float32Array;

  // Baseline probability for the paper variant.
  let baseProb: number[] = [];
  if (variant === 'paper') {
    const b = new Float32Array(n * size).fill(options.baseline ?? 0);
    const lb = await model.forward(new Tensor(b, inputs.shape), { batchSize: bs });
    baseProb = targets.map((t, i) => softmaxAt(lb.data, i * K, K, t));
  }

  // Work list: (layer, image, channel) triples, evaluated in big chunks.
  const outputs = new Map<number, Float32Array>();
  const layerData = tensors.map((t, li) => {
    const A0 = foldToGrid(r.activations.get(t)!, layouts[li]!);
    if (A0.shape.length !== inputs.shape.length) throw new Error(`${model.source}: layer '${t}' has shape [${A0.shape}], not ${inputs.shape.length}-D like the input`);
    const A = new Tensor(Float32Array.from(A0.data), A0.shape); // own buffer: identifies the layer below
    const [, k, ...fs] = A.shape as number[];
    const hw = fs.reduce((x, y) => x * y, 1);
    const chans = Array.from({ length: n }, (_, i) => topVarianceChannels(A.data.subarray(i * k! * hw, (i + 1) * k! * hw), k!, hw, options.topChannels));
    return { A, k: k!, spatial: fs, hw, chans, scores: chans.map((cs) => new Float64Array(cs.length)) };
  });
  // Distinct evaluations: (layer, image, channel) triples with bit-identical activation maps share
  // one; all-zero maps share one across images (the masked input is the zero image).
  const dedupe = options.dedupe ?? true;
  const evals: [number, number, number][] = [];
  const evalOf = new Map<string, number>();
  const work: { li: number; i: number; j: number; e: number }[] = [];
  layerData.forEach((L, li) => {
    const hw = L.hw;
    L.chans.forEach((cs, i) => {
      cs.forEach((ch, j) => {
        let e = -1;
        if (dedupe) {
          const a = L.A.data.subarray((i * L.k + ch) * hw, (i * L.k + ch + 1) * hw);
          const zero = a.every((v) => v === 0);
          const key = zero ? 'zero' : `${i}:${bitsKey(a)}`;
          e = evalOf.get(key) ?? -1;
          if (e < 0) evalOf.set(key, (e = evals.length)), evals.push([li, i, ch]);
        } else evals.push([li, i, ch]), (e = evals.length - 1);
        work.push({ li, i, j, e });
      });
    });
  });
  const total = evals.length;
  // whole onnxruntime batches per chunk (no short remainder batch inside a chunk)
  const chunk = Math.max(1, Math.min(total, Math.max(bs, Math.floor(CHUNK_FLOATS / size / bs) * bs)));
  const mask = new Float32Array(HW);
  for (let start = 0; start < total; start += chunk) {
    const end = Math.min(total, start + chunk);
    const m = end - start;
    const buf = new Float32Array(m * size);
    for (let q = 0; q < m; q++) {
      const [li, i, ch] = evals[start + q]!;
      const L = layerData[li]!;
      const hw = L.hw;
      scoreCamMaskNd(L.A.data.subarray((i * L.k + ch) * hw, (i * L.k + ch + 1) * hw), L.spatial, S, mask, eps);
      const o = q * size;
      for (let cc = 0; cc < c; cc++) {
        const src = i * size + cc * HW;
        for (let p = 0; p < HW; p++) buf[o + cc * HW + p] = x[src + p]! * mask[p]!;
      }
    }
    const out = await model.forward(new Tensor(buf, [m, ...inputs.shape.slice(1)]), { batchSize: bs });
    // Raw outputs are kept per evaluation; shared ones are read per (image, target) below.
    outputs.set(start, out.data);
    options.onProgress?.(end, total);
  }
  const outRow = (e: number): Float32Array => {
    const s0 = Math.floor(e / chunk) * chunk;
    return outputs.get(s0)!.subarray((e - s0) * K, (e - s0 + 1) * K);
  };
  for (const { li, i, j, e } of work) {
    const t = targets[i]!;
    const row = outRow(e);
    const sc = probability ? softmaxAt(row, 0, K, t) : row[t]!;
    layerData[li]!.scores[i]![j] = variant === 'paper' ? sc - baseProb[i]! : sc;
  }

  // Channel weights [N,K] per layer.
  const weights = layerData.map((L) => {
    const wt = new Float64Array(n * L.k);
    L.chans.forEach((cs, i) => {
      const s = L.scores[i]!;
      if (variant !== 'pytorch-grad-cam') cs.forEach((ch, j) => (wt[i * L.k + ch] = s[j]!));
      else {
        let mx = -Infinity;
        for (const v of s) mx = Math.max(mx, v);
        let z = 0;
        for (const v of s) z += Math.exp(v - mx);
        cs.forEach((ch, j) => (wt[i * L.k + ch] = Math.exp(s[j]! - mx) / z));
      }
    });
    return wt;
  });
  const method: CamMethod = {
    name: 'scorecam',
    usesGradients: false,
    channelWeights(ctx) {
      const li = layerData.findIndex((L) => L.A.data.buffer === ctx.a.buffer);
      const L = layerData[li]!;
      const i = Math.round((ctx.a.byteOffset - L.A.data.byteOffset) / (4 * L.k * L.hw));
      return weights[li]!.slice(i * L.k, (i + 1) * L.k);
    },
  };
  const targetLogits = targets.map((t, i) => r.logits.data[i * K + t]!);
  const layers = layerData.map((L) => ({ activations: L.A, grads: Tensor.zeros(L.A.shape) }));
  const { map, raw } = camFromTensors(method, layers, targetLogits, S, { eigenSmooth: options.eigenSmooth });
  const extra: NonNullable<Attribution['extra']> = { layers: given.join(','), raw: raw[0]!, variant, forwardPasses: total, channels: work.length };
  if (raw.length > 1) given.forEach((l, i) => (extra[`raw:${l}`] = raw[i]!));
  given.forEach((l, li) => (extra[`weights:${l}`] = new Tensor(Float32Array.from(weights[li]!), [n, layerData[li]!.k])));
  return { method: 'scorecam', map, signed: false, targets, logits: r.logits, extra };
}

/** Score-CAM (with pytorch-grad-cam's aug_smooth when `augSmooth` is set). */
export const scoreCam = withAugSmooth(scoreCamOnce);
