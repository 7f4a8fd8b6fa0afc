/**
 * FullGrad (Srinivas & Fleuret, NeurIPS 2019), pytorch-grad-cam's `FullGrad`: the input-gradient term plus
 * the bias-gradient term of every layer with a bias, each made non-negative, scaled and summed:
 *   map = scale( Σ_c scale(|x_c ⊙ ∂y/∂x_c|) + Σ_layers Σ_k resize(scale(|b_k · ∂y/∂z_k|)) )
 * where z is a layer's output, b_k its bias for channel k, and scale(·) pytorch-grad-cam's per-map
 * min-max scaling (`scale_accross_batch_and_channels`: every channel of every image on its own). The layers
 * are pytorch-grad-cam's Conv2d and BatchNorm2d layers with a bias, found in the ONNX graph as:
 *   - Conv nodes with a constant bias input (their output z, bias b);
 *   - BatchNormalization nodes (inference form) with constant parameters, b = B − mean·scale/√(var + ε),
 *     the bias pytorch-grad-cam takes from the official implementation.
 * A PyTorch export folds conv(bias=False) + BatchNorm into one Conv whose bias is that BatchNorm bias and
 * whose output is the BatchNorm's output, so the folded graph gives pytorch-grad-cam's terms exactly;
 * only a conv *with* its own bias followed by BatchNorm differs (the two terms become one).
 * `layer` is ignored, as in pytorch-grad-cam. Resizing (bilinear, half-pixel, no antialias: cv2.resize) is
 * linear, so each layer's channel maps are summed at their own resolution and resized once — the same sum.
 * Volumes: Conv/BatchNormalization nodes of the volume's rank, trilinear resize (pytorch-grad-cam's FullGrad
 * is 2-D only). `extra.layers` counts the bias layers used.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { constantValues } from '../../onnx/ir.js';
import { resize } from '../../data/resize.js';
import { type Attribution, type Explainer, type Target, resolveTargets, sameShape } from '../types.js';
import { type CamOptions, scaleCam } from './base.js';

export interface BiasLayer {
  /** The layer's output tensor. */
  tensor: string;
  /** Its bias per output channel. */
  bias: Float64Array;
  /** 'Conv' or 'BatchNormalization'. */
  op: string;
}

/** The graph's bias layers (Conv with a constant bias; BatchNormalization with constant parameters). */
export function biasLayers(model: Model): BiasLayer[] {
  const g = model.ir.graph;
  const out: BiasLayer[] = [];
  for (const node of g.nodes) {
    if (node.domain && node.domain !== 'ai.onnx') continue;
    if (node.opType === 'Conv' && node.inputs[2]) {
      const b = constantValues(g, node.inputs[2], 1 << 20);
      if (b) out.push({ tensor: node.outputs[0]!, bias: Float64Array.from(b), op: 'Conv' });
    } else if (node.opType === 'BatchNormalization') {
      const [scale, B, mean, v] = node.inputs.slice(1, 5).map((n) => constantValues(g, n, 1 << 20));
      if (!scale || !B || !mean || !v) continue;
      const a = node.attrs['epsilon'];
      const eps = a?.type === 'float' ? (a.value as number) : 1e-5;
      out.push({ tensor: node.outputs[0]!, bias: Float64Array.from(B, (bk, k) => bk - (mean[k]! * scale[k]!) / Math.sqrt(v[k]! + eps)), op: 'BatchNormalization' });
    }
  }
  return out;
}

/** Σ_k scale(|w_k · v_k|) over the channels of one image's [K, s] values (w = 1 for the input term). */
function scaledChannelSum(v: Float32Array, k: number, s: number, weights?: Float64Array): Float64Array {
  const sum = new Float64Array(s);
  const m = new Float64Array(s);
  for (let ch = 0; ch < k; ch++) {
    const w = weights ? weights[ch]! : 1;
    for (let p = 0; p < s; p++) m[p] = Math.abs(w * v[ch * s + p]!);
    scaleCam(m);
    for (let p = 0; p < s; p++) sum[p]! += m[p]!;
  }
  return sum;
}

export const fullGrad: Explainer<CamOptions> = async (model: Model, inputs: Tensor, target: Target, options: CamOptions = {}): Promise<Attribution> => {
  if (inputs.shape.length < 4) throw new Error(`fullgrad: inputs must be [N,C,H,W] or [N,C,D,H,W], got [${inputs.shape}]`);
  model.checkInput(inputs);
  await model.learnShapes(inputs.shape.slice(1));
  const [n, c, ...S] = inputs.shape as number[];
  const HW = S.reduce((a, b) => a * b, 1);
  const rank = inputs.shape.length;
  const layers = biasLayers(model).filter((l) => {
    const shape = model.inferred.info.get(l.tensor)?.shape;
    return !shape || shape.length === rank;
  });
  const pre = target === 'pred' ? await resolveTargets(model, inputs, target) : undefined;
  const targets = pre?.targets ?? (await resolveTargets(model, inputs, target, Tensor.zeros([n!, model.numClasses]))).targets;
  const r = await model.vjp(inputs, { seed: model.oneHot(targets), layers: layers.map((l) => l.tensor), inputGrad: true, batchSize: options.batchSize });
  const total = new Float64Array(n! * HW);
  const gx = r.inputGrad!.data;
  const xg = new Float32Array(c! * HW);
  for (let i = 0; i < n!; i++) {
    for (let j = 0; j < c! * HW; j++) xg[j] = inputs.data[i * c! * HW + j]! * gx[i * c! * HW + j]!;
    total.set(scaledChannelSum(xg, c!, HW), i * HW);
  }
  for (const l of layers) {
    const G = r.layerGrads.get(l.tensor)!;
    const [gn, k, ...s] = G.shape as number[];
    if (gn !== n || k !== l.bias.length) throw new Error(`${model.source}: fullgrad: layer '${l.tensor}' has gradient [${G.shape}] for ${l.bias.length} biases`);
    const hw = s.reduce((a, b) => a * b, 1);
    const low = new Float32Array(n! * hw);
    for (let i = 0; i < n!; i++) low.set(scaledChannelSum(G.data.subarray(i * k! * hw, (i + 1) * k! * hw), k!, hw, l.bias), i * hw);
    const up = sameShape(s, S) ? low : resize(new Tensor(low, [n!, ...s]), S, { antialias: false }).data;
    for (let j = 0; j < total.length; j++) total[j]! += up[j]!;
  }
  const map = new Float32Array(n! * HW);
  for (let i = 0; i < n!; i++) {
    const m = total.slice(i * HW, (i + 1) * HW);
    scaleCam(m);
    map.set(m, i * HW);
  }
  options.onProgress?.(1, 1);
  return { method: 'fullgrad', map: new Tensor(map, [n!, ...S]), signed: false, targets, logits: r.logits, extra: { layers: layers.length } };
};
