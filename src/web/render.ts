/**
 * Display of raw maps (pure; no DOM): display ranges under the three normalisation modes, overlay
 * pixels (RGBA for an ImageData) and the rank correlation shown beside the randomization check.
 *
 *   unsigned: m' = (m − lo) / (hi − lo)        signed: m' = 0.5 + m / (2·max|m|)
 * with lo/hi/max|m| taken from the map itself ('map'), from every map of the same method across the
 * original and randomized models ('method', what the sanity check needs: a randomized map that is
 * merely fainter stays fainter), or from every map of the same kind on screen ('shared').
 * With 'map' mode the result equals src/viz/overlay.ts normalizeForDisplay.
 */
import { applyColormap, getColormap } from '../viz/colormap.js';

export type NormMode = 'map' | 'method' | 'shared';

export interface MapLike {
  method: string;
  map: ArrayLike<number>;
  signed: boolean;
}

export interface DisplayRange {
  signed: boolean;
  lo: number;
  hi: number;
}

function extent(map: ArrayLike<number>, signed: boolean, r?: DisplayRange): DisplayRange {
  const out = r ?? { signed, lo: signed ? 0 : Infinity, hi: signed ? 0 : -Infinity };
  for (let i = 0; i < map.length; i++) {
    const v = map[i]!;
    if (!Number.isFinite(v)) continue;
    if (signed) out.hi = Math.max(out.hi, Math.abs(v));
    else {
      if (v < out.lo) out.lo = v;
      if (v > out.hi) out.hi = v;
    }
  }
  return out;
}

/** The display range of each map (same order as `maps`) under a normalisation mode. */
export function displayRanges(maps: readonly MapLike[], mode: NormMode): DisplayRange[] {
  const key = (m: MapLike) => (mode === 'map' ? '' : mode === 'method' ? `${m.method}|${m.signed}` : `${m.signed}`);
  if (mode === 'map') return maps.map((m) => extent(m.map, m.signed));
  const groups = new Map<string, DisplayRange>();
  for (const m of maps) groups.set(key(m), extent(m.map, m.signed, groups.get(key(m))));
  return maps.map((m) => groups.get(key(m))!);
}

/** Map values → [0,1] with a display range (see the file comment). */
export function normalizeWith(map: ArrayLike<number>, r: DisplayRange): Float32Array {
  const out = new Float32Array(map.length);
  if (r.signed) {
    const m = r.hi;
    for (let i = 0; i < map.length; i++) out[i] = m > 0 ? 0.5 + map[i]! / (2 * m) : 0.5;
  } else {
    const d = r.hi - r.lo;
    for (let i = 0; i < map.length; i++) out[i] = d > 0 ? (map[i]! - r.lo) / d : 0;
  }
  return out;
}

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
