/**
 * Localisation of attribution inside a region mask (lesion, organ, or an injected shortcut
 * marker). Maps [N,H,W] (or [N,1,H,W]) and masks of the same shape, nonzero = inside. Images
 * with an empty mask (or an undefined ratio) give NaN.
 *
 *   relevance mass accuracy (Arras, Osman & Samek 2022, "CLEVR-XAI", Quantus
 *     RelevanceMassAccuracy):  Σ_{p∈M} a⁺_p / Σ_p a⁺_p  with a⁺ = max(a, 0) ('positive', default),
 *     or |a| ('absolute'), or the raw signed a ('signed', Quantus without abs)
 *   relevance rank accuracy (same references): K = |M|; the fraction of the K highest-ranked
 *     pixels (value descending, ties by pixel index) that lie inside M
 *   pointing game (Zhang et al. 2018, "Top-down neural attention by excitation backprop"):
 *     1 if a pixel of maximal attribution lies inside M — or within `tolerance` pixels
 *     (Euclidean) of M, their 15-px tolerance — else 0; ties: any maximal pixel counts (Quantus)
 *   energy-based pointing game (Wang et al. 2020, "Score-CAM", §5.3):
 *     Σ_{p∈M} a⁺_p / Σ_p a⁺_p; for the non-negative CAM maps it was defined on this is the
 *     positive relevance mass; signed maps are clipped at 0 first
 */
import type { Tensor, TypedArray } from '../tensor/tensor.js';
import { mapExtent } from './similarity.js';
import { saliencyOrder } from './perturb.js';

type MaskTensor = Tensor<TypedArray>;

/** [n, positions per map, spatial extent] of maps [N,H,W] / [N,1,H,W] or volume maps [N,D,H,W], with masks of the same extent. */
function dims(maps: Tensor, masks: MaskTensor, what: string): [number, number, number[]] {
  const m = mapExtent(maps, `${what}: maps`);
  const k = mapExtent(masks as Tensor, `${what}: masks`);
  if (m.length !== k.length || m.some((d, i) => d !== k[i])) throw new Error(`${what}: masks are [${masks.shape.join(', ')}] but maps are [${maps.shape.join(', ')}]`);
  const spatial = m.slice(1);
  return [m[0]!, spatial.reduce((a, b) => a * b, 1), spatial];
}

const inside = (masks: MaskTensor, q: number) => Number(masks.data[q]!) !== 0;

export type MassMode = 'positive' | 'absolute' | 'signed';

/** Fraction of attribution mass inside the mask, per image. */
export function relevanceMass(maps: Tensor, masks: MaskTensor, mode: MassMode = 'positive'): number[] {
  const [n, hw] = dims(maps, masks, 'relevanceMass');
  if (!['positive', 'absolute', 'signed'].includes(mode)) throw new Error(`relevanceMass: mode must be 'positive', 'absolute' or 'signed', got '${mode}'`);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let tin = 0;
    let tot = 0;
    let any = false;
    for (let p = 0; p < hw; p++) {
      const a = maps.data[i * hw + p]!;
      const v = mode === 'positive' ? Math.max(a, 0) : mode === 'absolute' ? Math.abs(a) : a;
      tot += v;
      if (inside(masks, i * hw + p)) {
        tin += v;
        any = true;
      }
    }
    out.push(any && tot !== 0 ? tin / tot : NaN);
  }
  return out;
}

/** Energy-based pointing game (Score-CAM): positive attribution energy inside the mask. */
export function energyPointingGame(maps: Tensor, masks: MaskTensor): number[] {
  return relevanceMass(maps, masks, 'positive');
}

/** Fraction of the |M| top-ranked pixels that fall inside the mask, per image. */
export function relevanceRank(maps: Tensor, masks: MaskTensor): number[] {
  const [n, hw] = dims(maps, masks, 'relevanceRank');
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let k = 0;
    for (let p = 0; p < hw; p++) if (inside(masks, i * hw + p)) k++;
    if (k === 0) {
      out.push(NaN);
      continue;
    }
    const order = saliencyOrder(maps.data.subarray(i * hw, (i + 1) * hw), `relevanceRank: map ${i}`);
    let hits = 0;
    for (let r = 0; r < k; r++) if (inside(masks, i * hw + order[r]!)) hits++;
    out.push(hits / k);
  }
  return out;
}

/** Pointing game hit (1/0) per image; NaN for an empty mask. */
export function pointingGame(maps: Tensor, masks: MaskTensor, options: { tolerance?: number } = {}): number[] {
  const [n, hw, spatial] = dims(maps, masks, 'pointingGame');
  const tol = options.tolerance ?? 0;
  if (!(tol >= 0)) throw new Error(`pointingGame: tolerance must be ≥ 0 pixels, got ${tol}`);
  const t = Math.floor(tol);
  // offsets of the tolerance ball (pixels or voxels within `tol` of the maximum), per axis
  const ball = ballOffsets(spatial.length, t, tol);
  const strides = spatial.map((_, a) => spatial.slice(a + 1).reduce((x, y) => x * y, 1));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    let any = false;
    for (let p = 0; p < hw; p++) {
      mx = Math.max(mx, maps.data[i * hw + p]!);
      if (inside(masks, i * hw + p)) any = true;
    }
    if (!any) {
      out.push(NaN);
      continue;
    }
    let hit = 0;
    for (let p = 0; p < hw && !hit; p++) {
      if (maps.data[i * hw + p] !== mx) continue;
      const at = spatial.map((d, a) => Math.floor(p / strides[a]!) % d);
      for (const off of ball) {
        const q = at.map((v, a) => v + off[a]!);
        if (q.some((v, a) => v < 0 || v >= spatial[a]!)) continue;
        if (inside(masks, i * hw + q.reduce((s, v, a) => s + v * strides[a]!, 0))) {
          hit = 1;
          break;
        }
      }
    }
    out.push(hit);
  }
  return out;
}

/** Integer offsets of rank `r` within Euclidean distance `tol` (|each| ≤ t = ⌊tol⌋). */
function ballOffsets(r: number, t: number, tol: number): number[][] {
  let out: number[][] = [[]];
  for (let a = 0; a < r; a++) out = out.flatMap((o) => Array.from({ length: 2 * t + 1 }, (_, k) => [...o, k - t]));
  return out.filter((o) => o.reduce((s, v) => s + v * v, 0) <= tol * tol);
}
