/**
 * The CAM family's shared base (DESIGN.md §3–4), following pytorch-grad-cam's `BaseCAM`.
 *
 * One VJP call per batch gives, for each requested layer, the activations A [N,K,h,w] and the
 * gradients G = ∂y_c/∂A of the target logit y_c. A method supplies only its weighting:
 *   - channel weights w [K] per image:            cam = Σ_k w_k A_k            (Grad-CAM, Grad-CAM++, XGrad-CAM)
 *   - per-pixel weights W [K,h,w] per image:      cam = Σ_k W_k ⊙ A_k          (LayerCAM, HiResCAM)
 *   - or the whole map directly:                  cam                          (Eigen-CAM's projection)
 *
 * Then, as pytorch-grad-cam's `compute_cam_per_layer` / `aggregate_multi_layers`:
 *   1. cam = ReLU(cam)                                     (`np.maximum(cam, 0)`)
 *   2. per image: cam = (cam − min) / (max(cam − min) + 1e-7), then resize to the input size
 *      (`scale_cam_image(cam, target_size)`: scaling happens before resizing)
 *   3. over layers: maximum(·, 0), mean over layers, then `scale_cam_image` once more (no resize).
 * Step 3 also runs for a single layer, as in pytorch-grad-cam (it changes values by ~1e-7).
 *
 * Resizing: pytorch-grad-cam calls `cv2.resize(img, (W, H))` with the default INTER_LINEAR, which
 * for float images is bilinear interpolation with half-pixel centres (src = (dst + 0.5)·scale − 0.5)
 * and the border replicated, with no antialiasing. That is `resize(t, size, { antialias: false })`
 * here (= `F.interpolate(mode='bilinear', align_corners=False)`).
 *
 * Options shared by every CAM (pytorch-grad-cam's `cam(..., eigen_smooth, aug_smooth)`):
 *   - `eigenSmooth`: the per-layer cam is the first principal component of the *weighted* activations
 *     (w_k A_k, or W_k ⊙ A_k) instead of their channel sum (`get_2d_projection`, sign-fixed as in
 *     eigencam.ts); Eigen-CAM itself is unchanged.
 *   - `augSmooth`: test-time augmentation as `forward_augmentation_with_tta`: the CAM of each of the 6
 *     images {identity, horizontal flip} × {×0.9, ×1, ×1.1} (ttach HorizontalFlip, Multiply), each
 *     flipped back, then the mean of the 6 final maps (not re-scaled). With target 'pred' each
 *     augmented image is explained for its own predicted class, as pytorch-grad-cam does. The 6N
 *     images go through the method in one batch.
 *
 * Output: `map` [N,H,W] in [0,1], `signed: false`. `extra.raw` keeps the ReLU'd CAM of the (first)
 * layer before scaling and resizing, [N,h,w]; with several layers, `extra['raw:<layer>']` holds each.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { resize } from '../../data/resize.js';
import { type Attribution, type ExplainOptions, type Explainer, type Target, resolveTargets, sameShape } from '../types.js';
import { firstComponentProjection } from './eigencam.js';
import { foldToGrid } from './fold.js';
import type { LayerLayout } from '../../runtime/tokens.js';

export interface CamOptions extends ExplainOptions {
  /**
   * Layer(s) to explain: module path (`features.8`, `layer4`) or tensor name; several layers are
   * aggregated. Default: the last 4-D activation before global pooling (`model.resolveLayer()`).
   */
  layer?: string | readonly string[];
  /** First principal component of the weighted activations instead of their sum (pytorch-grad-cam eigen_smooth). */
  eigenSmooth?: boolean;
  /** Mean over horizontal flips × multiplications by 0.9, 1, 1.1 (pytorch-grad-cam aug_smooth). */
  augSmooth?: boolean;
}

/** One image's activations and gradients at one layer (views into the batch tensors). */
export interface CamContext {
  /** Activations A, K·h·w values, channel-major. */
  a: Float32Array;
  /** Gradients G = ∂(target logit)/∂A, same layout (zeros for methods without gradients). */
  g: Float32Array;
  k: number;
  /** The feature map's spatial extent: [h, w], or [d, h, w] for a volume model. */
  spatial: readonly number[];
  /** Positions per channel: the product of `spatial`. */
  voxels: number;
  /** The target logit y_c of this image. */
  logit: number;
  /** The explainer's options (method-specific ones such as FEM's `k` included). */
  options: Readonly<Record<string, unknown>>;
}

/** A CAM method: exactly one of `channelWeights`, `pixelWeights`, `weighted`, `cam`. */
export interface CamMethod {
  name: string;
  /** Whether the method uses the gradients (false: a forward-only pass would do). */
  usesGradients: boolean;
  /**
   * The cotangent on the logits [N, classes] whose VJP gives the gradients G (default: one-hot of the
   * targets, i.e. G = ∂y_c/∂A). FinerCAM's weighted difference of logits is one.
   */
  seed?(logits: Tensor, targets: readonly number[], options: Readonly<Record<string, unknown>>): Tensor;
  /** Check the method's own options before any work (throw a one-line error naming the option). */
  validate?(options: Readonly<Record<string, unknown>>, numClasses: number): void;
  /** Channel weights w [K]: cam = Σ_k w_k A_k. */
  channelWeights?(c: CamContext): Float64Array;
  /** Per-pixel weights W [K·h·w]: cam = Σ_k W_k ⊙ A_k. */
  pixelWeights?(c: CamContext): Float64Array;
  /** The weighted activations [K·h·w] themselves: cam = Σ_k of them (eigenSmooth: their first component). */
  weighted?(c: CamContext): Float32Array;
  /** The map [h·w] itself (before ReLU). */
  cam?(c: CamContext): Float64Array;
}

/** pytorch-grad-cam's `scale_cam_image` for one map, in place: subtract the min, divide by (max + 1e-7). */
export function scaleCam(m: Float32Array | Float64Array): void {
  let lo = Infinity;
  for (const v of m) if (v < lo) lo = v;
  let hi = -Infinity;
  for (let i = 0; i < m.length; i++) {
    m[i] = m[i]! - lo;
    if (m[i]! > hi) hi = m[i]!;
  }
  const d = hi + 1e-7;
  for (let i = 0; i < m.length; i++) m[i] = m[i]! / d;
}

/**
 * Resolve the requested layers to tensor names and their layouts: 4-D feature maps (channels-first or
 * channels-last) and token layers [N, T, C] that fold to a grid (./fold.ts); anything else is an error.
 */
export function resolveCamLayers(model: Model, layer: CamOptions['layer'], input?: readonly number[]): { given: string[]; tensors: string[]; layouts: LayerLayout[] } {
  const given = layer === undefined ? [model.resolveLayer(undefined)] : typeof layer === 'string' ? [layer] : [...layer];
  if (!given.length) throw new Error(`${model.source}: no layer given; ${validLayers(model)}`);
  const layouts: LayerLayout[] = [];
  const tensors = given.map((l) => {
    const t = model.resolveLayer(l);
    const layout = model.layerLayout(t, input);
    const shape = model.inferred.info.get(t)?.shape;
    const rank = (input?.length ?? 2) + 2;
    if (typeof layout === 'string' || (shape && shape.length !== rank && layout.kind === 'nchw')) {
      const s = shape ? `[${shape.map((d) => d ?? '?').join(', ')}]` : 'of unknown shape';
      const why = typeof layout === 'string' ? layout : `it is ${shape!.length}-D and the input has ${rank - 2} spatial axes`;
      throw new Error(`${model.source}: layer '${l}' (tensor '${t}', ${s}) cannot be folded to a ${rank === 5 ? '[N,K,d,h,w]' : '[N,K,h,w]'} feature map: ${why}; ${validLayers(model)}`);
    }
    layouts.push(layout);
    return t;
  });
  return { given, tensors, layouts };
}

function validLayers(model: Model): string {
  const all = model.layers();
  const names = [...new Set(all.map((l) => (l.module ? `${l.module} (${l.tensor})` : l.tensor)))];
  return names.length ? `layers that fold to a grid: ${names.slice(-40).join(', ')}` : 'this model has no layer that folds to a grid';
}

/** Σ_k w_k A_k (or the method's own map / per-pixel weighting) for one image, before ReLU. */
function camOf(method: CamMethod, c: CamContext, eigenSmooth = false): Float64Array {
  const hw = c.voxels;
  if (method.cam) return method.cam(c);
  if (method.weighted) {
    const weighted = method.weighted(c);
    if (eigenSmooth) return firstComponentProjection(weighted, c.k, hw);
    const out = new Float64Array(hw);
    for (let i = 0; i < c.k * hw; i++) out[i % hw]! += weighted[i]!;
    return out;
  }
  if (eigenSmooth) {
    const weighted = new Float32Array(c.k * hw);
    if (method.channelWeights) {
      const wts = method.channelWeights(c);
      for (let i = 0; i < c.k * hw; i++) weighted[i] = wts[Math.floor(i / hw)]! * c.a[i]!;
    } else if (method.pixelWeights) {
      const W = method.pixelWeights(c);
      for (let i = 0; i < c.k * hw; i++) weighted[i] = W[i]! * c.a[i]!;
    }
    return firstComponentProjection(weighted, c.k, hw);
  }
  const out = new Float64Array(hw);
  if (method.channelWeights) {
    const wts = method.channelWeights(c);
    for (let ch = 0; ch < c.k; ch++) {
      const wk = wts[ch]!;
      if (wk === 0) continue;
      const off = ch * hw;
      for (let p = 0; p < hw; p++) out[p]! += wk * c.a[off + p]!;
    }
    return out;
  }
  if (method.pixelWeights) {
    const W = method.pixelWeights(c);
    for (let i = 0; i < c.k * hw; i++) out[i % hw]! += W[i]! * c.a[i]!;
    return out;
  }
  throw new Error(`${method.name}: a CAM method must supply channelWeights, pixelWeights or cam`);
}

/**
 * CAMs from given activations and gradients (no model): per-layer ReLU'd raw CAMs [N,...s] and the
 * aggregated, scaled, resized map [N,...size] (`size` [H, W], or [D, H, W] for volumes, resized
 * trilinearly). `logits` are the target logits per image.
 */
export function camFromTensors(
  method: CamMethod,
  layers: readonly { activations: Tensor; grads: Tensor }[],
  logits: readonly number[],
  size: readonly number[],
  opts: { eigenSmooth?: boolean; options?: Readonly<Record<string, unknown>> } = {},
): { map: Tensor; raw: Tensor[] } {
  const HW = size.reduce((a, b) => a * b, 1);
  const n = logits.length;
  const raws: Tensor[] = [];
  const acc = new Float64Array(n * HW);
  for (const { activations: A, grads: G } of layers) {
    if (A.shape.length !== size.length + 2) throw new Error(`${method.name}: activations must be ${size.length + 2}-D [N,K,${size.length === 3 ? 'd,' : ''}h,w], got [${A.shape}]`);
    const [an, k, ...spatial] = A.shape as number[];
    if (an !== n) throw new Error(`${method.name}: ${an} activation maps for ${n} images`);
    const hw = spatial.reduce((a, b) => a * b, 1);
    const raw = new Float32Array(n * hw);
    const scaled = new Float32Array(n * hw);
    for (let i = 0; i < n; i++) {
      const off = i * k! * hw;
      const c: CamContext = { a: A.data.subarray(off, off + k! * hw), g: G.data.subarray(off, off + k! * hw), k: k!, spatial, voxels: hw, logit: logits[i]!, options: opts.options ?? {} };
      const m = camOf(method, c, opts.eigenSmooth);
      for (let p = 0; p < hw; p++) raw[i * hw + p] = m[p]! > 0 ? m[p]! : 0;
      const s = raw.slice(i * hw, (i + 1) * hw);
      scaleCam(s);
      scaled.set(s, i * hw);
    }
    raws.push(new Tensor(raw, [n, ...spatial]));
    // cv2.resize INTER_LINEAR ≡ bilinear, half-pixel centres, no antialias (see the file comment); trilinear in 3-D
    const up = sameShape(spatial, size) ? scaled : resize(new Tensor(scaled, [n, ...spatial]), size, { antialias: false }).data;
    for (let j = 0; j < acc.length; j++) acc[j]! += Math.max(up[j]!, 0);
  }
  const map = new Float32Array(n * HW);
  for (let i = 0; i < n; i++) {
    const m = new Float64Array(HW);
    for (let p = 0; p < HW; p++) m[p] = acc[i * HW + p]! / layers.length;
    scaleCam(m);
    map.set(m, i * HW);
  }
  return { map: new Tensor(map, [n, ...size]), raw: raws };
}

/** An explainer for a CAM method: one VJP call (batched by the model) for all layers. */
export function camExplainer(method: CamMethod): Explainer<CamOptions> {
  return withAugSmooth(async (model: Model, inputs: Tensor, target: Target, options: CamOptions = {}): Promise<Attribution> => {
    if (inputs.shape.length !== 4 && inputs.shape.length !== 5) throw new Error(`${method.name}: inputs must be [N,C,H,W] or [N,C,D,H,W], got [${inputs.shape}]`);
    model.checkInput(inputs);
    await model.learnShapes(inputs.shape.slice(1));
    const own = options as Readonly<Record<string, unknown>>;
    method.validate?.(own, model.numClasses);
    const { given, tensors, layouts } = resolveCamLayers(model, options.layer, inputs.shape.slice(2));
    // A predicted-class target, or a seed built from the logits, needs the logits first; otherwise the VJP call computes them.
    const pre = target === 'pred' || method.seed ? await resolveTargets(model, inputs, target) : undefined;
    const targets = pre?.targets ?? (await resolveTargets(model, inputs, target, Tensor.zeros([inputs.shape[0]!, model.numClasses]))).targets;
    const seed = method.seed ? method.seed(pre!.logits, targets, own) : model.oneHot(targets);
    const r = await model.vjp(inputs, { seed, layers: tensors, inputGrad: false, batchSize: options.batchSize });
    const k = model.numClasses;
    const targetLogits = targets.map((t, i) => r.logits.data[i * k + t]!);
    const layers = tensors.map((t, i) => {
      const activations = foldToGrid(r.activations.get(t)!, layouts[i]!);
      if (activations.shape.length !== inputs.shape.length) throw new Error(`${model.source}: layer '${t}' has shape [${activations.shape}], not ${inputs.shape.length}-D like the input`);
      return { activations, grads: foldToGrid(r.layerGrads.get(t)!, layouts[i]!) };
    });
    const { map, raw } = camFromTensors(method, layers, targetLogits, inputs.shape.slice(2), { eigenSmooth: options.eigenSmooth, options: own });
    const extra: NonNullable<Attribution['extra']> = { layers: given.join(','), raw: raw[0]! };
    if (raw.length > 1) given.forEach((l, i) => (extra[`raw:${l}`] = raw[i]!));
    if (options.eigenSmooth) extra.eigenSmooth = 1;
    options.onProgress?.(1, 1);
    return { method: method.name, map, signed: false, targets, logits: r.logits, extra };
  });
}

/** ttach's Compose([HorizontalFlip(), Multiply([0.9, 1, 1.1])]) in its product order. */
export const AUG_SMOOTH: readonly { flip: boolean; factor: number }[] = [false, true].flatMap((flip) => [0.9, 1, 1.1].map((factor) => ({ flip, factor })));

/** Wrap a CAM explainer so that `augSmooth: true` runs it on the 6 augmented copies and averages the de-augmented maps. */
export function withAugSmooth<O extends CamOptions>(run: Explainer<O>): Explainer<O> {
  return async (model: Model, inputs: Tensor, target: Target, options?: O): Promise<Attribution> => {
    if (!options?.augSmooth) return run(model, inputs, target, options);
    if (inputs.shape.length !== 4) throw new Error(`aug_smooth: inputs must be [N,C,H,W] (pytorch-grad-cam's test-time augmentation is 2-D), got [${inputs.shape}]`);
    const [n, c, H, W] = inputs.shape as [number, number, number, number];
    const size = c * H * W;
    const A = AUG_SMOOTH.length;
    const aug = new Float32Array(A * n * size);
    AUG_SMOOTH.forEach(({ flip, factor }, a) => {
      for (let q = 0; q < n * c * H; q++) {
        const src = q * W;
        const dst = a * n * size + q * W;
        for (let x = 0; x < W; x++) aug[dst + x] = inputs.data[src + (flip ? W - 1 - x : x)]! * factor;
      }
    });
    const tgt: Target = typeof target === 'number' || target === 'pred' ? target : AUG_SMOOTH.flatMap(() => [...target]);
    const inner = await run(model, new Tensor(aug, [A * n, c, H, W]), tgt, { ...options, augSmooth: false });
    const HW = H * W;
    const mean = new Float32Array(n * HW);
    AUG_SMOOTH.forEach(({ flip }, a) => {
      for (let q = 0; q < n * H; q++) {
        for (let x = 0; x < W; x++) mean[q * W + x]! += inner.map.data[a * n * HW + q * W + (flip ? W - 1 - x : x)]!;
      }
    });
    for (let q = 0; q < mean.length; q++) mean[q]! /= A;
    const id = AUG_SMOOTH.findIndex((t) => !t.flip && t.factor === 1);
    const K = inner.logits.shape[1]!;
    return {
      method: inner.method,
      map: new Tensor(mean, [n, H, W]),
      signed: false,
      targets: inner.targets.slice(id * n, (id + 1) * n),
      logits: new Tensor(inner.logits.data.slice(id * n * K, (id + 1) * n * K), [n, K]),
      extra: { augSmooth: A, layers: String(inner.extra?.layers ?? '') },
    };
  };
}
