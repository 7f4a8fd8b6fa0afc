/**
 * Display of raw maps (pure; no DOM): overlay pixels (RGBA for an ImageData) and the rank correlation
 * shown beside the randomization check. Display ranges and normalisation are src/viz/display-scale.ts,
 * the same as the CLI's and the report's ('map', 'method' or 'shared' ranges, Captum's outlier threshold).
 */
import { applyColormap, getColormap } from '../viz/colormap.js';
import { normalizeWith, type DisplayRange } from '../viz/display-scale.js';

export { DEFAULT_CLIP, displayRanges, normalizeWith, type DisplayRange, type MapLike, type NormMode } from '../viz/display-scale.js';

/**
 * RGBA pixels of (1 − α)·image + α·colormap(m'). `image` is [C,H,W] in [0,1] (C = 1 or 3) or null
 * (map only); `map` is [H,W] with the same H, W.
 */
export function overlayRgba(image: ArrayLike<number> | null, channels: number, map: ArrayLike<number>, range: DisplayRange, colormap: string, alpha: number): Uint8ClampedArray {
  const n = map.length;
  const heat = applyColormap(normalizeWith(map, range), getColormap(colormap));
  const out = new Uint8ClampedArray(4 * n);
  for (let p = 0; p < n; p++) {
    for (let k = 0; k < 3; k++) {
      const base = image ? image[(channels === 1 ? 0 : k) * n + p]! : 0;
      const v = image ? (1 - alpha) * base + alpha * heat[k * n + p]! : heat[k * n + p]!;
      out[4 * p + k] = Math.round(v * 255);
    }
    out[4 * p + 3] = 255;
  }
  return out;
}

/** RGBA pixels of a [C,H,W] image in [0,1]. */
export function imageRgba(image: ArrayLike<number>, channels: number, n: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(4 * n);
  for (let p = 0; p < n; p++) {
    for (let k = 0; k < 3; k++) out[4 * p + k] = Math.round(image[(channels === 1 ? 0 : k) * n + p]! * 255);
    out[4 * p + 3] = 255;
  }
  return out;
}

function ranks(v: ArrayLike<number>): Float64Array {
  const idx = Array.from({ length: v.length }, (_, i) => i).sort((a, b) => v[a]! - v[b]!);
  const r = new Float64Array(v.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && v[idx[j + 1]!] === v[idx[i]!]) j++;
    const avg = (i + j) / 2;
    for (let k = i; k <= j; k++) r[idx[k]!] = avg;
    i = j + 1;
  }
  return r;
}

/** Spearman rank correlation (ties get average ranks); NaN when either map is constant. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`spearman: ${a.length} vs ${b.length} values`);
  const ra = ranks(a);
  const rb = ranks(b);
  const n = a.length;
  const ma = ra.reduce((s, x) => s + x, 0) / n;
  const mb = rb.reduce((s, x) => s + x, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = ra[i]! - ma;
    const db = rb[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

/** Absolute values (the sanity check compares |map| as Adebayo et al. do). */
export function absolute(map: ArrayLike<number>): Float32Array {
  return Float32Array.from(map, (v) => Math.abs(v));
}
