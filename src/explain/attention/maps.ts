/**
 * The attention-probability maps of a transformer classifier (src/runtime/tokens.ts), read out of the graph
 * with one VJP call: per image and attention block, the maps A [h, T, T] (the Softmax after Q·Kᵀ) and, when
 * a target is given, their gradients ∂y_t/∂A. Shared by attention rollout and attention relevance.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import type { TokenGrid } from '../../runtime/tokens.js';
import { type Target, resolveTargets } from '../types.js';
import { resize } from '../../data/resize.js';

export interface AttentionReadout {
  /** Per block: maps [N, h, T, T] as one Float32Array (image-major), and gradients when asked. */
  maps: Float32Array[];
  grads: Float32Array[];
  heads: number;
  tokens: number;
  grid: TokenGrid;
  targets: number[];
  logits: Tensor;
}

/** Why attention methods do not apply to this model, or undefined when they do. */
export function attentionNotApplicable(model: Model, input?: readonly number[]): string | undefined {
  const att = model.attentionMaps();
  const none = 'it needs global self-attention over a token sequence with a class token (ViT/DeiT-style)';
  if (!att.length) return `${none}; this model has none (windowed attention as in Swin has no class token to read)`;
  const spatial = input ?? model.inputShape.slice(2).map((d) => (typeof d === 'number' ? d : 0));
  const grid = model.tokenGridOf(att[0]!.tokens, spatial);
  if (!grid || grid.skip < 1) return `${none}; this model's attention over ${att[0]!.tokens} tokens has no class token before the patch tokens`;
  return undefined;
}

export async function readAttention(model: Model, inputs: Tensor, target: Target | undefined, method: string, batchSize?: number): Promise<AttentionReadout> {
  if (inputs.shape.length !== 4) throw new Error(`${method}: inputs must be [N,C,H,W], got [${inputs.shape}]`);
  model.checkInput(inputs);
  await model.learnShapes(inputs.shape.slice(1));
  const why = attentionNotApplicable(model, inputs.shape.slice(2));
  if (why) throw new Error(`${model.source}: ${method} does not apply: ${why}`);
  const att = model.attentionMaps();
  const tokens = att[0]!.tokens;
  const grid = model.tokenGridOf(tokens, inputs.shape.slice(2));
  if (!grid) throw new Error(`${model.source}: ${method}: ${tokens} tokens do not fold to a grid of the input's aspect ratio after dropping up to 16 leading tokens`);
  const n = inputs.shape[0]!;
  const pre = target === undefined ? undefined : await resolveTargets(model, inputs, target);
  const targets = pre?.targets ?? Array(n).fill(0);
  const seed = pre ? model.oneHot(targets) : Tensor.zeros([n, model.numClasses]);
  const r = await model.vjp(inputs, { seed, layers: att.map((a) => a.tensor), inputGrad: false, batchSize });
  const maps = att.map((a) => r.activations.get(a.tensor)!.data as Float32Array);
  const grads = att.map((a) => r.layerGrads.get(a.tensor)!.data as Float32Array);
  const heads = maps[0]!.length / (n * tokens * tokens);
  if (!Number.isInteger(heads) || maps.some((m) => m.length !== maps[0]!.length)) {
    throw new Error(`${model.source}: ${method}: attention maps of [${r.activations.get(att[0]!.tensor)!.shape}] do not hold ${n} images × heads × ${tokens}×${tokens}`);
  }
  return { maps, grads, heads, tokens, grid, targets, logits: r.logits };
}

/** The class token's row of R [T, T] over the patch tokens, as a grid [h, w]. */
export function classRow(R: Float64Array, T: number, grid: TokenGrid): Float64Array {
  return R.slice(grid.skip, T);
}

/** Raw grids [N, h, w] → the map [N, H, W]: bilinear with half-pixel centres (F.interpolate), then min–max per image. */
export function gridsToMap(raw: Tensor, size: readonly [number, number]): Tensor {
  const [n, h, w] = raw.shape as [number, number, number];
  const up = h === size[0] && w === size[1] ? raw : resize(raw, size, { antialias: false });
  const out = Float32Array.from(up.data);
  const HW = size[0] * size[1];
  for (let i = 0; i < n; i++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let p = i * HW; p < (i + 1) * HW; p++) (lo = Math.min(lo, out[p]!)), (hi = Math.max(hi, out[p]!));
    const d = hi - lo || 1;
    for (let p = i * HW; p < (i + 1) * HW; p++) out[p] = (out[p]! - lo) / d;
  }
  return new Tensor(out, [n, ...size]);
}
