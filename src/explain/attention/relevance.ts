/**
 * Gradient-weighted attention relevance (Chefer, Gur & Wolf 2021, "Generic Attention-model Explainability
 * for Interpreting Bi-Modal and Encoder-Decoder Transformers"; their ViT notebook's `generate_relevance`):
 *
 *   R = I;  per block:  Ā = mean_heads( max(∇A ⊙ A, 0) ),   R ← R + Ā · R
 *   map = R[class token, patch tokens], folded to the token grid
 *
 * with A the attention probabilities (after Softmax) and ∇A = ∂y_t/∂A the gradient of the target logit.
 * Output as for rollout: `map` [N, H, W] (bilinear, min–max per image), `extra.raw` the grid [N, h, w].
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import type { Attribution, ExplainOptions, Target } from '../types.js';
import { classRow, gridsToMap, readAttention } from './maps.js';
import { matmulT } from './rollout.js';

export async function attentionRelevance(model: Model, inputs: Tensor, target: Target, options: ExplainOptions = {}): Promise<Attribution> {
  const att = await readAttention(model, inputs, target, 'attnrelevance', options.batchSize);
  const { tokens: T, heads, grid } = att;
  const n = inputs.shape[0]!;
  const TT = T * T;
  const raw = new Float32Array(n * grid.h * grid.w);
  for (let i = 0; i < n; i++) {
    const R = new Float64Array(TT);
    for (let p = 0; p < T; p++) R[p * T + p] = 1;
    att.maps.forEach((maps, l) => {
      const g = att.grads[l]!;
      const cam = new Float64Array(TT);
      const off = i * heads * TT;
      for (let h = 0; h < heads; h++) for (let p = 0; p < TT; p++) {
        const v = g[off + h * TT + p]! * maps[off + h * TT + p]!;
        if (v > 0) cam[p]! += v;
      }
      for (let p = 0; p < TT; p++) cam[p]! /= heads;
      const add = matmulT(cam, R, T);
      for (let p = 0; p < TT; p++) R[p]! += add[p]!;
    });
    raw.set(Float32Array.from(classRow(R, T, grid)), i * grid.h * grid.w);
  }
  const rawT = new Tensor(raw, [n, grid.h, grid.w]);
  const map = gridsToMap(rawT, [inputs.shape[2]!, inputs.shape[3]!]);
  options.onProgress?.(1, 1);
  return { method: 'attnrelevance', map, signed: false, targets: att.targets, logits: att.logits, extra: { raw: rawT, skippedTokens: grid.skip } };
}
