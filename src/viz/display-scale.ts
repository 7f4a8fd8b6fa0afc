/**
 * How a raw attribution map becomes display values in [0, 1] (DESIGN.md §3: a display step only; raw
 * maps are stored apart). One definition for the CLI's overlays and grids, the audit report and the
 * workbench.
 *
 *   signed map:   m' = 0.5 + clip(m / t, −1, 1) / 2        (0 at the diverging colormap's centre)
 *   unsigned map: m' = clip((m − lo) / t, 0, 1)             (lo = the minimum)
 *
 * t is Captum's outlier threshold (`visualize_image_attr`, `_cumulative_sum_threshold`): sort |m| (signed)
 * or m − lo (unsigned) ascending; t is the first value at which the running sum reaches `clip` % of the
 * total. So the few largest values that hold the last (100 − clip) % of the attribution mass saturate
 * instead of squeezing the rest into faint colours. clip = 100 gives t = max (the plain max / min–max
 * scaling); Captum's default is clip = 98 (outlier_perc = 2); candor's is 99.
 *
 * The range comes from the map itself ('map', each), from every map of the same method shown together
 * ('method': across images, or the original and randomized models — a map that is merely fainter stays
 * fainter), or from every map of the same kind shown together ('shared').
 */
export type NormMode = 'map' | 'method' | 'shared';

/**
 * The CLI's --normalize: each map on its own range ('each' = 'map'), one range per method over every image
 * shown ('shared' = 'method'), or raw values ('none': signed maps on [−1, 1], unsigned on [0, 1], clipped).
 */
export type DisplayNormalize = 'each' | 'shared' | 'none';

/** The range of raw display (--normalize none). */
export function rawRange(signed: boolean): DisplayRange {
  return { signed, lo: 0, t: 1 };
}

/** Share of the attribution mass below the saturation threshold, in percent (default 99). */
export const DEFAULT_CLIP = 99;

export interface DisplayRange {
  signed: boolean;
  /** Unsigned maps: the value shown as 0. */
  lo: number;
  /** The threshold t (see the file comment): |m| ≥ t (signed) or m − lo ≥ t (unsigned) saturate. */
  t: number;
}

export interface MapLike {
  method: string;
  map: ArrayLike<number>;
  signed: boolean;
}

/** Captum's `_cumulative_sum_threshold` of non-negative values at `percent` (finite values only). */
export function cumulativeSumThreshold(values: Float64Array, percent: number): number {
  if (!(percent >= 0 && percent <= 100)) throw new Error(`clip must be a percentage in [0, 100], got ${percent}`);
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  let total = 0;
  for (const v of sorted) total += v;
  const target = total * 0.01 * percent;
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) {
    sum += sorted[i]!;
    if (sum >= target) return sorted[i]!;
  }
  return sorted[sorted.length - 1]!;
}

/** The display range of a group of maps of one kind (signed or not). */
export function rangeOf(maps: readonly ArrayLike<number>[], signed: boolean, clip = DEFAULT_CLIP): DisplayRange {
  let lo = Infinity;
  let n = 0;
  for (const m of maps) {
    for (let i = 0; i < m.length; i++) {
      const v = m[i]!;
      if (!Number.isFinite(v)) continue;
      n++;
      if (!signed && v < lo) lo = v;
    }
  }
  if (signed) lo = 0;
  if (n === 0) return { signed, lo: 0, t: 0 };
  const vals = new Float64Array(n);
  let k = 0;
  for (const m of maps) {
    for (let i = 0; i < m.length; i++) {
      const v = m[i]!;
      if (Number.isFinite(v)) vals[k++] = signed ? Math.abs(v) : v - lo;
    }
  }
  return { signed, lo, t: cumulativeSumThreshold(vals, clip) };
}

/** The display range of each map (same order as `maps`) under a normalisation mode. */
export function displayRanges(maps: readonly MapLike[], mode: NormMode, clip = DEFAULT_CLIP): DisplayRange[] {
  if (mode === 'map') return maps.map((m) => rangeOf([m.map], m.signed, clip));
  const key = (m: MapLike) => (mode === 'method' ? `${m.method}|${m.signed}` : `${m.signed}`);
  const groups = new Map<string, MapLike[]>();
  for (const m of maps) {
    const g = groups.get(key(m));
    if (g) g.push(m);
    else groups.set(key(m), [m]);
  }
  const ranges = new Map([...groups].map(([k, g]) => [k, rangeOf(g.map((m) => m.map), g[0]!.signed, clip)]));
  return maps.map((m) => ranges.get(key(m))!);
}

/** Map values → [0, 1] with a display range (see the file comment). Non-finite values show as 0 (0.5 signed). */
export function normalizeWith(map: ArrayLike<number>, r: DisplayRange): Float32Array {
  const out = new Float32Array(map.length);
  const t = r.t;
  for (let i = 0; i < map.length; i++) {
    const v = map[i]!;
    if (r.signed) out[i] = t > 0 && Number.isFinite(v) ? 0.5 + Math.max(-1, Math.min(1, v / t)) / 2 : 0.5;
    else out[i] = t > 0 && Number.isFinite(v) ? Math.max(0, Math.min(1, (v - r.lo) / t)) : 0;
  }
  return out;
}
