/**
 * One-dimensional filters along the spatial axes of a batch of planes or volumes: the building
 * block of the separable blurs (evaluate/blur.ts, IG's blurred baseline), for any spatial rank.
 *
 * `data` holds `planes` arrays of extent `spatial` one after another (C order). A pass along axis a
 * replaces each value by Σ_t kernel[t + r] · value at (index along a) + t, with out-of-range indices
 * mapped by scipy.ndimage's 'reflect' rule (d c b a | a b c d | d c b a). Passes run in the order given
 * (results kept in float64 between passes), so a 2-D blur written as rows-then-columns stays bit-identical.
 */

/** scipy.ndimage's 'reflect' boundary: index i of an axis of length n mapped into it. */
export function reflectIndex(i: number, n: number): number {
  // scipy 'reflect' (d c b a | a b c d | d c b a), repeated for windows wider than the image
  const period = 2 * n;
  let k = ((i % period) + period) % period;
  if (k >= n) k = period - 1 - k;
  return k;
}

/**
 * Linear interpolation along one axis of a C-order array of extent `ext`: output position y (0 ≤ y < outLen) is
 * (1 − f[y + offset])·src[i0[y + offset]] + f[y + offset]·src[i1[y + offset]] along `axis` (the taps come from
 * the caller: align-corners, half-pixel, mirrored …; `offset` shifts into them, as a crop does). Float64 out.
 */
export function linearAlongAxis(src: ArrayLike<number>, ext: readonly number[], axis: number, outLen: number, taps: { i0: Int32Array; i1: Int32Array; f: Float64Array }, offset = 0): Float64Array {
  const len = ext[axis]!;
  let inner = 1;
  for (let a = axis + 1; a < ext.length; a++) inner *= ext[a]!;
  let outer = 1;
  for (let a = 0; a < axis; a++) outer *= ext[a]!;
  const out = new Float64Array(outer * outLen * inner);
  for (let o = 0; o < outer; o++) {
    for (let y = 0; y < outLen; y++) {
      const t = y + offset;
      const b0 = (o * len + taps.i0[t]!) * inner;
      const b1 = (o * len + taps.i1[t]!) * inner;
      const f = taps.f[t]!;
      const ob = (o * outLen + y) * inner;
      for (let q = 0; q < inner; q++) out[ob + q] = src[b0 + q]! * (1 - f) + src[b1 + q]! * f;
    }
  }
  return out;
}

/** Apply `kernel` (odd length, centred) along each axis of `axes` in turn; returns float64. */
export function separableFilter(data: ArrayLike<number>, planes: number, spatial: readonly number[], kernel: Float64Array, axes: readonly number[]): Float64Array {
  const voxels = spatial.reduce((a, b) => a * b, 1);
  if (data.length !== planes * voxels) throw new Error(`separableFilter: data has ${data.length} values, expected ${planes}×${spatial.join('×')}`);
  const r = (kernel.length - 1) / 2;
  let cur: ArrayLike<number> = data;
  for (const axis of axes) {
    if (!(axis >= 0 && axis < spatial.length)) throw new Error(`separableFilter: axis ${axis} outside spatial rank ${spatial.length}`);
    const len = spatial[axis]!;
    let inner = 1;
    for (let a = axis + 1; a < spatial.length; a++) inner *= spatial[a]!;
    const outer = (planes * voxels) / (len * inner);
    const out = new Float64Array(planes * voxels);
    // reflected source offsets for every (position, tap), computed once per pass
    const src = new Int32Array(len * kernel.length);
    for (let i = 0; i < len; i++) for (let t = -r; t <= r; t++) src[i * kernel.length + t + r] = reflectIndex(i + t, len) * inner;
    for (let o = 0; o < outer; o++) {
      const base = o * len * inner;
      for (let i = 0; i < len; i++) {
        const row = i * kernel.length;
        const ob = base + i * inner;
        for (let q = 0; q < inner; q++) {
          let s = 0;
          for (let t = 0; t < kernel.length; t++) s += kernel[t]! * cur[base + src[row + t]! + q]!;
          out[ob + q] = s;
        }
      }
    }
    cur = out;
  }
  return cur instanceof Float64Array && cur !== data ? cur : Float64Array.from(cur);
}
