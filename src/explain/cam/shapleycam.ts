/**
 * ShapleyCAM (Cai, 2025, "CAMs as Shapley value-based explainers"; pytorch-grad-cam's `ShapleyCAM`): Grad-CAM whose
 * gradient is corrected by the second-order term of a Taylor expansion of the score around the activations,
 *   w_k = mean over positions of (G − ½ H·A)_k,    G = ∂T/∂A,  H = ∂²T/∂A²,
 * cam = ReLU(Σ_k w_k A_k), scaled and resized as every CAM. H·A is a Hessian-vector product computed exactly by
 * differentiating the VJP graph once more (src/autodiff/hvp.ts), as pytorch-grad-cam does with
 * `torch.autograd.grad(grads, activations, grad_outputs=activations)`.
 *
 * The score T: `score: 'rest'` (default) is the paper's ReST, y_c − cross-entropy(y, c) (pytorch-grad-cam's
 * `ClassifierOutputReST`): its softmax gives H a term even when the part of the network after the layer is
 * piecewise linear; `score: 'logit'` is the raw logit y_c (pytorch-grad-cam's default `ClassifierOutputTarget`),
 * with which ShapleyCAM equals Grad-CAM after a ReLU/max-pool/linear tail (H = 0 there) and differs only where
 * the tail is curved (GELU, SiLU, sigmoid gates…). ReST is defined for softmax classifiers: multi-label models
 * take `score: 'logit'`.
 *
 * Cost: a pass for the activations A, and one of the second-order graph, which gives G and H·A together
 * (forward, backward, and its backward).
 * `extra.hvpNorm` [N] is ‖½ H·A‖ / ‖G‖ per image at the first layer: how far the map moves from Grad-CAM of T.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import type { GraphSession } from '../../runtime/session.js';
import { type HvpScore, buildHvp } from '../../autodiff/hvp.js';
import { type Attribution, type Target, resolveTargets } from '../types.js';
import { type CamOptions, camFromTensors, resolveCamLayers, withAugSmooth } from './base.js';
import { foldToGrid } from './fold.js';
import { gradCamMethod } from './gradcam.js';

export interface ShapleyCamOptions extends CamOptions {
  /** The score whose gradient and curvature weigh the channels: 'rest' (default) or 'logit'. */
  score?: HvpScore;
}

/** H·v at `layer` for the score of class `targets`, per image, with v the given direction (A's layout). */
export async function hessianVectorProduct(model: Model, inputs: Tensor, layer: string, targets: readonly number[], v: Tensor, score: HvpScore, batchSize = 16): Promise<{ hvp: Tensor; grad: Tensor }> {
  const hints = await model.learnShapes(inputs.shape.slice(1));
  const dynamic = model.inputShape.some((d, i) => i > 0 && typeof d !== 'number');
  const key = JSON.stringify(['hvp', layer, score, dynamic ? inputs.shape.slice(1) : []]);
  const built = await model.resource(key, async () => {
    const inputShapes = dynamic ? { [model.inputName]: [model.inputShape[0] ?? 'batch', ...inputs.shape.slice(1)] } : undefined;
    let graph;
    try {
      graph = buildHvp(model.ir, { layer, score, source: model.source, inputShapes, shapeHints: hints });
    } catch (e) {
      throw new Error(`shapleycam needs second derivatives at '${layer}' (the gradient graph differentiated again), which failed: ${(e as Error).message}`);
    }
    const session: GraphSession = await model.graphSession(graph.model, `${model.source} [second derivatives at ${layer}]`);
    return { graph, session, dispose: () => session.release() };
  });
  const n = inputs.shape[0]!;
  const B = model.staticBatch ?? Math.max(1, batchSize);
  const onehot = model.oneHot(targets);
  const hv: Tensor[] = [];
  const gr: Tensor[] = [];
  for (let a = 0; a < n; a += B) {
    const b = Math.min(n, a + B);
    const pad = (t: Tensor) => padRows(t.slice0(a, b), model.staticBatch);
    const r = await built.session.run({ [model.inputName]: pad(inputs), [built.graph.onehot]: pad(onehot), [built.graph.direction]: pad(v) }, [built.graph.hvp, built.graph.grad]);
    hv.push(r[built.graph.hvp]!.slice0(0, b - a));
    gr.push(r[built.graph.grad]!.slice0(0, b - a));
  }
  return { hvp: Tensor.concat0(hv), grad: Tensor.concat0(gr) };
}

/** A chunk padded with copies of its last row to a model's static batch (onehot rows too: their outputs are dropped). */
function padRows(t: Tensor, B: number | undefined): Tensor {
  const m = t.shape[0]!;
  if (!B || m === B) return t;
  const row = t.size / m;
  const data = new Float32Array(B * row);
  data.set(t.data);
  for (let i = m; i < B; i++) data.set(t.data.subarray((m - 1) * row, m * row), i * row);
  return new Tensor(data, [B, ...t.shape.slice(1)]);
}

export const shapleyCam = withAugSmooth(async (model: Model, inputs: Tensor, target: Target, options: ShapleyCamOptions = {}): Promise<Attribution> => {
  if (inputs.shape.length !== 4 && inputs.shape.length !== 5) throw new Error(`shapleycam: inputs must be [N,C,H,W] or [N,C,D,H,W], got [${inputs.shape}]`);
  const score = options.score ?? 'rest';
  if (score !== 'rest' && score !== 'logit') throw new Error(`shapleycam: option score must be 'rest' or 'logit', got '${String(score)}'`);
  if (score === 'rest' && model.multiLabel) throw new Error(`${model.source}: shapleycam: the ReST score (logit minus cross-entropy) is defined for softmax classifiers; this model is multi-label — use --opt shapleycam.score=logit`);
  model.checkInput(inputs);
  await model.learnShapes(inputs.shape.slice(1));
  const { given, tensors, layouts } = resolveCamLayers(model, options.layer, inputs.shape.slice(2));
  const { targets } = await resolveTargets(model, inputs, target);
  // The activations A (the direction of H·A); G comes with H·A from the second-order graph, whose score is in the graph.
  const r = await model.vjp(inputs, { seed: Tensor.zeros([inputs.shape[0]!, model.numClasses]), layers: tensors, inputGrad: false, batchSize: options.batchSize });
  const K = model.numClasses;
  const targetLogits = targets.map((t, i) => r.logits.data[i * K + t]!);
  const n = inputs.shape[0]!;
  const hvpNorm = new Float32Array(n);
  const layers = [];
  for (let l = 0; l < tensors.length; l++) {
    const t = tensors[l]!;
    const A = r.activations.get(t)!;
    const { hvp, grad: G } = await hessianVectorProduct(model, inputs, t, targets, A, score, options.batchSize);
    // G' = G − ½ H·A, in the layer's own layout, then folded to a grid as the activations are
    const corrected = new Float32Array(G.size);
    for (let i = 0; i < G.size; i++) corrected[i] = G.data[i]! - 0.5 * hvp.data[i]!;
    if (l === 0) {
      const per = G.size / n;
      for (let i = 0; i < n; i++) {
        let h = 0;
        let g = 0;
        for (let q = i * per; q < (i + 1) * per; q++) {
          h += (0.5 * hvp.data[q]!) ** 2;
          g += G.data[q]! ** 2;
        }
        hvpNorm[i] = g > 0 ? Math.sqrt(h / g) : 0;
      }
    }
    layers.push({ activations: foldToGrid(A, layouts[l]!), grads: foldToGrid(new Tensor(corrected, G.shape), layouts[l]!) });
  }
  const { map, raw } = camFromTensors({ ...gradCamMethod, name: 'shapleycam' }, layers, targetLogits, inputs.shape.slice(2), { eigenSmooth: options.eigenSmooth, options: options as Readonly<Record<string, unknown>> });
  const extra: NonNullable<Attribution['extra']> = { layers: given.join(','), raw: raw[0]!, score, hvpNorm: new Tensor(hvpNorm, [n]) };
  if (raw.length > 1) given.forEach((l, i) => (extra[`raw:${l}`] = raw[i]!));
  if (options.eigenSmooth) extra.eigenSmooth = 1;
  options.onProgress?.(1, 1);
  return { method: 'shapleycam', map, signed: false, targets, logits: r.logits, extra };
});
