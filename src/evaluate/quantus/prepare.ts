/**
 * How Quantus (0.6) prepares attributions before a metric reads them, reproduced so candor's scores equal
 * Quantus's: `normalise` divides the whole batch by its largest |a| (Quantus' `normalise_by_max` is called on
 * the batch with no axes, so one maximum over every image — not per image), then `abs` takes |a|. Maps are
 * `[N, ...]` (any spatial rank); the result is float64, one row per image.
 */
export interface QuantusPrep {
  /** Take |a| after normalising (each metric's Quantus default differs; see its file). */
  abs: boolean;
  /** Divide by the batch's max |a| (default true in every Quantus metric). */
  normalise?: boolean;
}

export function prepareAttributions(a: ArrayLike<number>, n: number, opts: QuantusPrep): Float64Array[] {
  if (!(n > 0) || a.length % n !== 0) throw new Error(`quantus metrics: ${a.length} attribution values do not split into ${n} images`);
  const size = a.length / n;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (!Number.isFinite(v)) throw new Error(`quantus metrics: attribution ${i % size} of image ${Math.floor(i / size)} is ${v}`);
    max = Math.max(max, Math.abs(v));
  }
  const scale = (opts.normalise ?? true) && max > 0 ? 1 / max : 1;
  return Array.from({ length: n }, (_, i) => {
    const row = new Float64Array(size);
    for (let p = 0; p < size; p++) {
      const v = a[i * size + p]! * scale;
      row[p] = opts.abs ? Math.abs(v) : v;
    }
    return row;
  });
}

/** Masks `[N, ...]` (same size per image as the maps) as booleans, one row per image. */
export function maskRows(s: ArrayLike<number>, n: number, size: number): Uint8Array[] {
  if (s.length !== n * size) throw new Error(`quantus metrics: the masks hold ${s.length} values, the maps ${n} × ${size}`);
  return Array.from({ length: n }, (_, i) => Uint8Array.from({ length: size }, (_, p) => (s[i * size + p] ? 1 : 0)));
}
