/**
 * Deep Feature Factorization (Collins, Achanta & Süsstrunk 2018; pytorch-grad-cam's `DeepFeatureFactorization`):
 * the layer's activations of the whole batch, as a [C, N·h·w] matrix (channels as rows) shifted to be
 * non-negative (each channel's minimum subtracted), are factorised by NMF into `components` concepts
 * (scikit-learn's NMF with init 'random', random_state 0: ../nmf.ts, equal to it to float32 rounding): W [C, k], the
 * concepts' channel signatures (plus the channel offsets back), and H [k, N·h·w], where each concept is in each
 * image. Each concept map is scaled and resized as pytorch-grad-cam does (`scale_cam_image`: min–max, then bilinear).
 * pytorch-grad-cam names the concepts with a user-supplied `computation_on_concepts` (e.g. the classifier head); here
 * each concept's signature is fed to the rest of the model as a constant activation (every position of the layer
 * set to it — for a global-pooling head, exactly the head applied to the signature), giving each concept's logits.
 * The map of an image is the concept with the largest logit for its target class; `extra.concepts` holds every
 * concept map [N, k, H, W], `extra.conceptLogits` [k, classes] and `extra.concept` the concept chosen per image.
 * Unsigned. Options: `components` (default 5, pytorch-grad-cam's `dff` default, or the layer's channels if fewer).
 * Note: NMF couples the batch — an image's concepts depend on the other images of the call.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { resize } from '../../data/resize.js';
import { type Attribution, type Target, resolveTargets, sameShape } from '../types.js';
import { type CamOptions, resolveCamLayers, scaleCam } from './base.js';
import { foldToGrid } from './fold.js';
import { tailModel } from './tail.js';
import { nmf } from '../nmf.js';

export interface DffOptions extends CamOptions {
  components?: number;
}

export async function deepFeatureFactorization(model: Model, inputs: Tensor, target: Target, options: DffOptions = {}): Promise<Attribution> {
  if (inputs.shape.length !== 4 && inputs.shape.length !== 5) throw new Error(`dff: inputs must be [N,C,H,W] or [N,C,D,H,W], got [${inputs.shape}]`);
  model.checkInput(inputs);
  await model.learnShapes(inputs.shape.slice(1));
  const { given, tensors, layouts } = resolveCamLayers(model, options.layer, inputs.shape.slice(2));
  if (tensors.length !== 1) throw new Error(`dff: one layer, got ${tensors.length}`);
  if (layouts[0]!.kind !== 'nchw') throw new Error(`${model.source}: dff: layer '${given[0]}' is not a channels-first feature map (${layouts[0]!.kind}); choose a convolutional layer`);
  const { targets, logits } = await resolveTargets(model, inputs, target);
  const r = await model.vjp(inputs, { seed: Tensor.zeros([inputs.shape[0]!, model.numClasses]), layers: tensors, inputGrad: false, batchSize: options.batchSize });
  const A = foldToGrid(r.activations.get(tensors[0]!)!, layouts[0]!);
  const [n, C, ...s] = A.shape as number[];
  const hw = s.reduce((a, b) => a * b, 1);
  const k = options.components ?? Math.min(5, C!);
  if (!Number.isInteger(k) || k < 1 || k > C!) throw new Error(`dff: components must be an integer in [1, ${C}] (the layer's channels), got ${String(options.components)}`);
  // X [C, N·hw], each channel shifted by its minimum
  const m = n! * hw;
  const X = new Float32Array(C! * m);
  const offset = new Float32Array(C!);
  for (let c = 0; c < C!; c++) {
    let lo = Infinity;
    for (let i = 0; i < n!; i++) for (let p = 0; p < hw; p++) {
      const v = A.data[(i * C! + c) * hw + p]!;
      const x = Number.isNaN(v) ? 0 : v;
      X[c * m + i * hw + p] = x;
      lo = Math.min(lo, x);
    }
    offset[c] = lo;
    for (let q = 0; q < m; q++) X[c * m + q] = Math.fround(X[c * m + q]! - lo);
  }
  const { W, H, iterations } = nmf(X, C!, m, k, { seed: 0 });
  // each concept's logits: its signature (W + offset) as a constant activation through the rest of the model
  const tail = tailModel(model, tensors[0]!);
  if (tail.frontier.length) throw new Error(`${model.source}: dff: the layer '${given[0]}' is bypassed by skip connections (${tail.frontier.join(', ')}); choose a layer the head reads alone`);
  const act = new Float32Array(k * C! * hw);
  for (let a = 0; a < k; a++) for (let c = 0; c < C!; c++) act.fill(Math.fround(W[c * k + a]! + offset[c]!), (a * C! + c) * hw, (a * C! + c + 1) * hw);
  const conceptLogits = await tail.run(new Tensor(act, [k, C!, ...s]), []);
  const K = model.numClasses;
  // concept maps, scaled and resized per image
  const S = inputs.shape.slice(2);
  const HW = S.reduce((a, b) => a * b, 1);
  const low = new Float32Array(n! * k * hw);
  for (let i = 0; i < n!; i++) for (let a = 0; a < k; a++) {
    const c = Float32Array.from(H.subarray(a * m + i * hw, a * m + (i + 1) * hw));
    scaleCam(c);
    low.set(c, (i * k + a) * hw);
  }
  const concepts = sameShape(s, S) ? new Tensor(low, [n!, k, ...S]) : resize(new Tensor(low, [n!, k, ...s]), S, { antialias: false });
  const chosen = targets.map((t) => {
    let best = 0;
    for (let a = 1; a < k; a++) if (conceptLogits.data[a * K + t]! > conceptLogits.data[best * K + t]!) best = a;
    return best;
  });
  const map = new Float32Array(n! * HW);
  chosen.forEach((a, i) => map.set(concepts.data.subarray((i * k + a) * HW, (i * k + a + 1) * HW), i * HW));
  options.onProgress?.(1, 1);
  return {
    method: 'dff',
    map: new Tensor(map, [n!, ...S]),
    signed: false,
    targets,
    logits,
    extra: { layers: given.join(','), concepts, conceptLogits: new Tensor(Float32Array.from(conceptLogits.data), [k, K]), concept: chosen, nmfIterations: iterations },
  };
}
