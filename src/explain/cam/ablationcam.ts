/**
 * Ablation-CAM (Desai & Ramaswamy 2020), pytorch-grad-cam's `AblationCAM`:
 *
 *   w_k = (y − y_k) / y
 *
 * with y the target logit (pytorch-grad-cam's `ClassifierOutputTarget`: the raw output) and y_k the
 * target logit when channel k of the layer's activations is ablated. The CAM is Σ_k w_k A_k, then
 * the CAM base (ReLU, scale_cam_image, resize, aggregation over layers).
 *
 * Ablation value, as pytorch-grad-cam's `AblationLayer`: if the minimum of the image's activations
 * at the layer is exactly 0 (e.g. after a ReLU) the channel is set to 0; otherwise it is set to
 * min(A) − 1e7 (pytorch-grad-cam's ABLATION_VALUE, "deviating from the paper"). `ablation: 'zero'`
 * always writes 0 (the paper). pytorch-grad-cam's loop re-reads min(A) after each ablated copy of a
 * batch, so where the minimum is not 0 its k-th copy gets min − k·1e7; candor uses min − 1e7 for every
 * channel (what its comment intends). The two agree behind a LayerNorm (ViT/DeiT blocks) and differ
 * behind a linear head (checked against pytorch-grad-cam with the minimum read once, transformers.test.ts).
 *
 * Graph surgery: instead of re-running the whole network on the image once per channel, the part of
 * the graph after the layer (the "tail", from the layer tensor to the logits) is cut out as its own
 * graph whose inputs are the layer tensor and whatever else computed before the layer it still reads
 * (skip connections: a transformer block's residual around its norm), fed with that image's values;
 * the ablated activations (N × K of them) go through it in chunks of ≈ 8M floats, at most `batchSize`
 * (default 256) per onnxruntime call. The result is identical to pytorch-grad-cam's forward hook.
 * Token layers [N, T, C] and channels-last maps are ablated per channel at every position (./fold.ts).
 *
 * `extra.weights:<layer>` holds the weights [N,K].
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { type Attribution, type Target, resolveTargets } from '../types.js';
import { type CamMethod, type CamOptions, camFromTensors, resolveCamLayers, withAugSmooth } from './base.js';
import { foldToGrid } from './fold.js';
import { tailModel } from './tail.js';

const CHUNK_FLOATS = 1 << 23;

export interface AblationCamOptions extends CamOptions {
  /** 'pytorch-grad-cam' (default: 0 if min(A) = 0, else min(A) − 1e7) or 'zero' (always 0). */
  ablation?: 'pytorch-grad-cam' | 'zero';
}

async function ablationCamOnce(model: Model, inputs: Tensor, target: Target, options: AblationCamOptions = {}): Promise<Attribution> {
  if (inputs.shape.length !== 4 && inputs.shape.length !== 5) throw new Error(`ablationcam: inputs must be [N,C,H,W] or [N,C,D,H,W], got [${inputs.shape}]`);
  model.checkInput(inputs);
  const mode = options.ablation ?? 'pytorch-grad-cam';
  if (mode !== 'pytorch-grad-cam' && mode !== 'zero') throw new Error(`ablationcam: unknown ablation '${mode as string}' (valid: pytorch-grad-cam, zero)`);
  await model.learnShapes(inputs.shape.slice(1));
  const { given, tensors, layouts } = resolveCamLayers(model, options.layer, inputs.shape.slice(2));
  const pre = target === 'pred' ? await resolveTargets(model, inputs, target) : undefined;
  const targets = pre?.targets ?? (await resolveTargets(model, inputs, target, Tensor.zeros([inputs.shape[0]!, model.numClasses]))).targets;
  const tailOf = tensors.map((t) => tailModel(model, t));
  const extraTensors = [...new Set(tailOf.flatMap((tl) => tl.frontier))].filter((f) => !tensors.includes(f));
  const r = await model.vjp(inputs, { seed: model.oneHot(targets), layers: [...tensors, ...extraTensors], inputGrad: false, batchSize: options.batchSize });
  const n = inputs.shape[0]!;
  const K = model.numClasses;
  const bs = options.batchSize ?? 256;
  const y = targets.map((t, i) => r.logits.data[i * K + t]!);

  // A: the activation folded to [N, K, h, w] (the CAM's grid); raw: as the layer holds it, which the tail
  // of the network takes: a channel is ablated there at every position (every token, as
  // pytorch-grad-cam's AblationLayerVit does, class token included).
  const layerData = tensors.map((t, li) => {
    const raw = r.activations.get(t)!;
    const A = foldToGrid(new Tensor(Float32Array.from(raw.data), raw.shape), layouts[li]!);
    if (A.shape.length !== inputs.shape.length) throw new Error(`${model.source}: layer '${t}' has shape [${raw.shape}], not ${inputs.shape.length}-D like the input`);
    const [, k] = A.shape as [number, number];
    const per = raw.data.length / n;
    const channelLast = layouts[li]!.kind !== 'nchw';
    const positions = (ch: number): Int32Array =>
      channelLast ? Int32Array.from({ length: per / k }, (_, p) => p * k + ch) : Int32Array.from({ length: per / k }, (_, p) => ch * (per / k) + p);
    return { A, raw, positions, tail: tailOf[li]!, frontier: tailOf[li]!.frontier.map((f) => r.activations.get(f)!) };
  });
  const totalAll = layerData.reduce((s, L) => s + n * L.A.shape[1]!, 0);
  let doneAll = 0;
  const weights: Float64Array[] = [];
  for (const L of layerData) {
    const k = L.A.shape[1]!;
    const size = L.raw.data.length / n;
    const fillOf = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let mn = Infinity;
      for (let p = i * size; p < (i + 1) * size; p++) mn = Math.min(mn, L.raw.data[p]!);
      fillOf[i] = mode === 'zero' || mn === 0 ? 0 : mn - 1e7;
    }
    const wt = new Float64Array(n * k);
    const total = n * k;
    const chunk = Math.max(1, Math.min(total, bs, Math.floor(CHUNK_FLOATS / size)));
    for (let start = 0; start < total; start += chunk) {
      const end = Math.min(total, start + chunk);
      const m = end - start;
      const buf = new Float32Array(m * size);
      for (let q = 0; q < m; q++) {
        const i = Math.floor((start + q) / k);
        const ch = (start + q) % k;
        buf.set(L.raw.data.subarray(i * size, (i + 1) * size), q * size);
        for (const p of L.positions(ch)) buf[q * size + p] = fillOf[i]!;
      }
      // The frontier rows of each ablated copy's image.
      const fr = L.frontier.map((F) => {
        const row = F.data.length / n;
        const data = new Float32Array(m * row);
        for (let q = 0; q < m; q++) data.set(F.data.subarray(Math.floor((start + q) / k) * row, (Math.floor((start + q) / k) + 1) * row), q * row);
        return new Tensor(data, [m, ...F.shape.slice(1)]);
      });
      const out = await L.tail.run(new Tensor(buf, [m, ...L.raw.shape.slice(1)]), fr);
      for (let q = 0; q < m; q++) {
        const i = Math.floor((start + q) / k);
        const yk = out.data[q * K + targets[i]!]!;
        wt[(start + q)] = (y[i]! - yk) / y[i]!;
      }
      options.onProgress?.(doneAll + end, totalAll);
    }
    doneAll += total;
    weights.push(wt);
  }

  const method: CamMethod = {
    name: 'ablationcam',
    usesGradients: false,
    channelWeights(ctx) {
      const li = layerData.findIndex((L) => L.A.data.buffer === ctx.a.buffer);
      const L = layerData[li]!;
      const i = Math.round((ctx.a.byteOffset - L.A.data.byteOffset) / (4 * ctx.k * ctx.voxels));
      return weights[li]!.slice(i * ctx.k, (i + 1) * ctx.k);
    },
  };
  const layers = layerData.map((L) => ({ activations: L.A, grads: Tensor.zeros(L.A.shape) }));
  const { map, raw } = camFromTensors(method, layers, y, inputs.shape.slice(2), { eigenSmooth: options.eigenSmooth });
  const extra: NonNullable<Attribution['extra']> = { layers: given.join(','), raw: raw[0]!, ablation: mode };
  if (raw.length > 1) given.forEach((l, i) => (extra[`raw:${l}`] = raw[i]!));
  given.forEach((l, li) => (extra[`weights:${l}`] = new Tensor(Float32Array.from(weights[li]!), [n, layerData[li]!.A.shape[1]!])));
  return { method: 'ablationcam', map, signed: false, targets, logits: r.logits, extra };
}

/** Ablation-CAM (with pytorch-grad-cam's aug_smooth when `augSmooth` is set). */
export const ablationCam = withAugSmooth(ablationCamOnce);
