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
 * always writes 0 (the paper).
 *
 * Graph surgery: instead of re-running the whole network on the image once per channel, the part of
 * the graph after the layer (the "tail", from the layer tensor to the logits) is cut out as its own
 * model whose input is the layer tensor; the ablated activations (N × K of them) are fed to it in
 * chunks of ≈ 8M floats, `batchSize` (default 256) per onnxruntime call. The result is identical to
 * pytorch-grad-cam's forward hook. This needs the tail to depend on nothing computed before the
 * layer other than the layer itself (true for the last stage of a CNN: `features.8`, `layer4`,
 * `features.denseblock4`, `features.18`); otherwise the explainer throws and says so.
 *
 * `extra.weights:<layer>` holds the weights [N,K].
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { type Model as IRModel, type Node, producers, cloneModel } from '../../onnx/ir.js';
import { type Attribution, type Target, resolveTargets } from '../types.js';
import { type CamMethod, type CamOptions, camFromTensors, resolveCamLayers, withAugSmooth } from './base.js';

const CHUNK_FLOATS = 1 << 23;

export interface AblationCamOptions extends CamOptions {
  /** 'pytorch-grad-cam' (default: 0 if min(A) = 0, else min(A) − 1e7) or 'zero' (always 0). */
  ablation?: 'pytorch-grad-cam' | 'zero';
}

const tails = new WeakMap<Model, Map<string, Model>>();

/** The sub-model from the layer tensor to the logits (cached per model and layer). */
export function tailModel(model: Model, layer: string): Model {
  let byLayer = tails.get(model);
  if (!byLayer) tails.set(model, (byLayer = new Map()));
  const cached = byLayer.get(layer);
  if (cached) return cached;
  const g = model.ir.graph;
  const prod = producers(g);
  const inits = g.initializers;
  const keep = new Set<Node>();
  const usedInits = new Set<string>();
  const stack = [model.outputName];
  const seen = new Set<string>();
  while (stack.length) {
    const t = stack.pop()!;
    if (!t || seen.has(t) || t === layer) continue;
    seen.add(t);
    if (inits.has(t)) {
      usedInits.add(t);
      continue;
    }
    const n = prod.get(t);
    if (!n) {
      throw new Error(`${model.source}: ablationcam: the part of the graph after layer '${layer}' also reads '${t}', computed before the layer (e.g. a skip connection); choose a layer whose output alone determines the logits`);
    }
    if (Object.values(n.attrs).some((a) => a.type === 'graph' || a.type === 'graphs')) {
      throw new Error(`${model.source}: ablationcam: node ${n.name || n.opType} after layer '${layer}' has a sub-graph, which the tail extraction does not support`);
    }
    keep.add(n);
    for (const i of n.inputs) stack.push(i);
  }
  const shape = model.inferred.info.get(layer)?.shape;
  if (!shape) throw new Error(`${model.source}: ablationcam: unknown shape for layer '${layer}'`);
  const ir: IRModel = cloneModel(model.ir);
  ir.graph.nodes = g.nodes.filter((n) => keep.has(n)).map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs] }));
  ir.graph.initializers = new Map([...inits].filter(([k]) => usedInits.has(k)));
  ir.graph.inputs = [{ name: layer, elemType: model.inferred.info.get(layer)!.elemType || 1, shape: ['N', ...shape.slice(1)] }];
  ir.graph.outputs = [g.outputs[0]!];
  ir.graph.valueInfo = new Map([...g.valueInfo].filter(([k]) => seen.has(k)));
  const tail = model.derive(ir, `${model.source} [after ${layer}]`);
  byLayer.set(layer, tail);
  return tail;
}

async function ablationCamOnce(model: Model, inputs: Tensor, target: Target, options: AblationCamOptions = {}): Promise<Attribution> {
  if (inputs.shape.length !== 4) throw new Error(`ablationcam: inputs must be [N,C,H,W], got [${inputs.shape}]`);
  model.checkInput(inputs);
  const mode = options.ablation ?? 'pytorch-grad-cam';
  if (mode !== 'pytorch-grad-cam' && mode !== 'zero') throw new Error(`ablationcam: unknown ablation '${mode as string}' (valid: pytorch-grad-cam, zero)`);
  const { given, tensors } = resolveCamLayers(model, options.layer);
  const pre = target === 'pred' ? await resolveTargets(model, inputs, target) : undefined;
  const targets = pre?.targets ?? (await resolveTargets(model, inputs, target, Tensor.zeros([inputs.shape[0]!, model.numClasses]))).targets;
  const r = await model.vjp(inputs, { seed: model.oneHot(targets), layers: tensors, inputGrad: false, batchSize: options.batchSize });
  const n = inputs.shape[0]!;
  const K = model.numClasses;
  const bs = options.batchSize ?? 256;
  const y = targets.map((t, i) => r.logits.data[i * K + t]!);

  const layerData = tensors.map((t) => {
    const A0 = r.activations.get(t)!;
    if (A0.shape.length !== 4) throw new Error(`${model.source}: layer '${t}' has shape [${A0.shape}], not 4-D`);
    return { A: new Tensor(Float32Array.from(A0.data), A0.shape), tail: tailModel(model, t) };
  });
  const totalAll = layerData.reduce((s, L) => s + n * L.A.shape[1]!, 0);
  let doneAll = 0;
  const weights: Float64Array[] = [];
  for (const L of layerData) {
    const [, k, h, w] = L.A.shape as [number, number, number, number];
    const size = k * h * w;
    const hw = h * w;
    const fillOf = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let mn = Infinity;
      for (let p = i * size; p < (i + 1) * size; p++) mn = Math.min(mn, L.A.data[p]!);
      fillOf[i] = mode === 'zero' || mn === 0 ? 0 : mn - 1e7;
    }
    const wt = new Float64Array(n * k);
    const total = n * k;
    const chunk = Math.max(1, Math.min(total, Math.floor(CHUNK_FLOATS / size)));
    for (let start = 0; start < total; start += chunk) {
      const end = Math.min(total, start + chunk);
      const m = end - start;
      const buf = new Float32Array(m * size);
      for (let q = 0; q < m; q++) {
        const i = Math.floor((start + q) / k);
        const ch = (start + q) % k;
        buf.set(L.A.data.subarray(i * size, (i + 1) * size), q * size);
        buf.fill(fillOf[i]!, q * size + ch * hw, q * size + (ch + 1) * hw);
      }
      const out = await L.tail.forward(new Tensor(buf, [m, k, h, w]), { batchSize: bs });
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
      const i = Math.round((ctx.a.byteOffset - L.A.data.byteOffset) / (4 * ctx.k * ctx.h * ctx.w));
      return weights[li]!.slice(i * ctx.k, (i + 1) * ctx.k);
    },
  };
  const layers = layerData.map((L) => ({ activations: L.A, grads: Tensor.zeros(L.A.shape) }));
  const { map, raw } = camFromTensors(method, layers, y, [inputs.shape[2]!, inputs.shape[3]!], { eigenSmooth: options.eigenSmooth });
  const extra: NonNullable<Attribution['extra']> = { layers: given.join(','), raw: raw[0]!, ablation: mode };
  if (raw.length > 1) given.forEach((l, i) => (extra[`raw:${l}`] = raw[i]!));
  given.forEach((l, li) => (extra[`weights:${l}`] = new Tensor(Float32Array.from(weights[li]!), [n, layerData[li]!.A.shape[1]!])));
  return { method: 'ablationcam', map, signed: false, targets, logits: r.logits, extra };
}

/** Ablation-CAM (with pytorch-grad-cam's aug_smooth when `augSmooth` is set). */
export const ablationCam = withAugSmooth(ablationCamOnce);
