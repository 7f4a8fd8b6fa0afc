/**
 * Attention rollout (Abnar & Zuidema 2020, "Quantifying attention flow in transformers"), as jacobgil's
 * vit-explain computes it for ViTs:
 *
 *   per block l:  Ā = fuse_heads(A_l)            (mean, max or min over heads; default mean)
 *                 drop the lowest `discardRatio` of Ā's entries (flattened; never entry [0, 0])
 *                 Â = (Ā + I) / 2,  rows renormalised to sum to 1
 *                 R ← Â · R                       (R starts as I)
 *   map = R[class token, patch tokens], folded to the token grid, ÷ its max.
 *
 * `normalize: 'rows'` (default) renormalises rows, Â / Â.sum(-1, keepdim): the paper's re-normalisation.
 * `normalize: 'vit-explain'` reproduces vit-explain's `a / a.sum(dim=-1)`, which broadcasts the row sums
 * along the last axis and so divides column j by row j's sum. The two agree for mean fusion with nothing
 * discarded (rows of (Ā + I)/2 already sum to 1) and differ for max/min fusion or discarding. vit-explain
 * discards on image 0 of a batch only; here every image is treated alike. No gradients: the target only
 * labels the result.
 *
 * Output: `map` [N, H, W] (bilinear upsampling with half-pixel centres, min–max per image), `signed: false`;
 * `extra.raw` the grid [N, h, w] before upsampling.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import type { Attribution, ExplainOptions, Target } from '../types.js';
import { classRow, gridsToMap, readAttention } from './maps.js';

export type HeadFusion = 'mean' | 'max' | 'min';

export interface RolloutOptions extends ExplainOptions {
  headFusion?: HeadFusion;
  /** Fraction of the lowest fused attention entries set to 0 in each block (default 0). */
  discardRatio?: number;
  /** 'rows' (default, the paper) or 'vit-explain' (its column-wise division, for comparison). */
  normalize?: 'rows' | 'vit-explain';
}

/** Heads fused into one T×T map (float64). */
export function fuseHeads(maps: Float32Array, offset: number, heads: number, T: number, how: HeadFusion): Float64Array {
  const out = new Float64Array(T * T);
  const TT = T * T;
  if (how === 'mean') {
    for (let h = 0; h < heads; h++) for (let p = 0; p < TT; p++) out[p]! += maps[offset + h * TT + p]!;
    for (let p = 0; p < TT; p++) out[p]! /= heads;
  } else {
    out.set(maps.subarray(offset, offset + TT));
    for (let h = 1; h < heads; h++) for (let p = 0; p < TT; p++) {
      const v = maps[offset + h * TT + p]!;
      if (how === 'max' ? v > out[p]! : v < out[p]!) out[p] = v;
    }
  }
  return out;
}

/** C = A · B for T×T matrices (float64). */
export function matmulT(a: Float64Array, b: Float64Array, T: number): Float64Array {
  const c = new Float64Array(T * T);
  for (let i = 0; i < T; i++) for (let k = 0; k < T; k++) {
    const aik = a[i * T + k]!;
    if (aik === 0) continue;
    for (let j = 0; j < T; j++) c[i * T + j]! += aik * b[k * T + j]!;
  }
  return c;
}

export async function attentionRollout(model: Model, inputs: Tensor, target: Target, options: RolloutOptions = {}): Promise<Attribution> {
  const how = options.headFusion ?? 'mean';
  if (!['mean', 'max', 'min'].includes(how)) throw new Error(`rollout: headFusion must be mean, max or min, got '${how}'`);
  const discard = options.discardRatio ?? 0;
  const norm = options.normalize ?? 'rows';
  if (norm !== 'rows' && norm !== 'vit-explain') throw new Error(`rollout: normalize must be rows or vit-explain, got '${norm as string}'`);
  if (!(discard >= 0 && discard < 1)) throw new Error(`rollout: discardRatio must be in [0, 1), got ${discard}`);
  const att = await readAttention(model, inputs, target, 'rollout', options.batchSize);
  const { tokens: T, heads, grid } = att;
  const n = inputs.shape[0]!;
  const raw = new Float32Array(n * grid.h * grid.w);
  for (let i = 0; i < n; i++) {
    let R: Float64Array = new Float64Array(T * T);
    for (let p = 0; p < T; p++) R[p * T + p] = 1;
    for (const maps of att.maps) {
      const a = fuseHeads(maps, i * heads * T * T, heads, T, how);
      const drop = Math.floor(T * T * discard);
      if (drop > 0) {
        const order = Array.from({ length: T * T }, (_, p) => p).sort((p, q) => a[p]! - a[q]! || p - q);
        for (const p of order.slice(0, drop)) if (p !== 0) a[p] = 0;
      }
      for (let p = 0; p < T; p++) a[p * T + p]! += 1;
      const sums = new Float64Array(T);
      for (let r = 0; r < T; r++) for (let c = 0; c < T; c++) sums[r]! += a[r * T + c]!;
      for (let r = 0; r < T; r++) for (let c = 0; c < T; c++) a[r * T + c]! /= sums[norm === 'rows' ? r : c]!;
      R = matmulT(a, R, T);
    }
    const row = classRow(R, T, grid);
    let mx = 0;
    for (const v of row) mx = Math.max(mx, v);
    for (let p = 0; p < row.length; p++) raw[i * row.length + p] = row[p]! / (mx || 1);
  }
  const rawT = new Tensor(raw, [n, grid.h, grid.w]);
  const map = gridsToMap(rawT, [inputs.shape[2]!, inputs.shape[3]!]);
  options.onProgress?.(1, 1);
  return { method: 'rollout', map, signed: false, targets: att.targets, logits: att.logits, extra: { raw: rawT, headFusion: how, discardRatio: discard, normalize: norm, skippedTokens: grid.skip } };
}
