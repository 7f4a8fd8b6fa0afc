/**
 * Series handling: ordering images within and across series, and stacking their frames.
 */
import { Tensor } from '../../tensor/tensor.js';
import { DicomError, type DicomImage, type DicomMeta } from './types.js';

type Ordered = { meta: DicomMeta; source: string };
const byNumber = (x: number | undefined, y: number | undefined) => (x === undefined ? (y === undefined ? 0 : 1) : y === undefined ? -1 : x - y);
const bySource = (a: Ordered, b: Ordered) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0);

/**
 * Order within one series: InstanceNumber, then the position of ImagePositionPatient along the slice
 * normal (row × column direction of ImageOrientationPatient), then source name. Missing values sort last.
 */
export function compareDicomOrder(a: Ordered, b: Ordered): number {
  return (
    byNumber(a.meta.instanceNumber, b.meta.instanceNumber) ||
    byNumber(slicePosition(a.meta), slicePosition(b.meta)) ||
    bySource(a, b)
  );
}

/**
 * Sorts images into series order, deterministically: series grouped by {@link DicomMeta.seriesKey},
 * series ordered by SeriesNumber then by their first source name, images within a series by
 * {@link compareDicomOrder}.
 */
export function sortDicomImages<T extends Ordered>(images: readonly T[]): T[] {
  const groups = new Map<string, T[]>();
  for (const im of images) {
    const k = im.meta.seriesKey ?? '';
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(im);
  }
  const sorted = [...groups.values()].map((g) => [...g].sort(compareDicomOrder));
  const firstSource = (g: T[]) => g.reduce((m, im) => (im.source < m ? im.source : m), g[0]!.source);
  sorted.sort((a, b) => {
    const d = byNumber(a[0]!.meta.seriesNumber, b[0]!.meta.seriesNumber);
    if (d) return d;
    const fa = firstSource(a);
    const fb = firstSource(b);
    return fa < fb ? -1 : fa > fb ? 1 : 0;
  });
  return sorted.flat();
}

/** Position along the slice normal (mm), or the z coordinate when the orientation is missing. */
export function slicePosition(meta: DicomMeta): number | undefined {
  const p = meta.imagePositionPatient;
  if (!p) return meta.sliceLocation;
  const o = meta.imageOrientationPatient;
  if (!o) return p[2];
  const n = [o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]];
  return p[0] * n[0]! + p[1] * n[1]! + p[2] * n[2]!;
}

/** Concatenates the frames of several images (all the same size and channel count) into one `[N, H, W]` (or `[N, 3, H, W]`) tensor. */
export function stackDicomFrames(images: readonly DicomImage[]): Tensor<Float32Array> {
  if (images.length === 0) throw new Error('stackDicomFrames: no images');
  const inner = images[0]!.frames.shape.slice(1);
  let total = 0;
  for (const im of images) {
    const s = im.frames.shape.slice(1);
    if (s.length !== inner.length || s.some((d, i) => d !== inner[i])) {
      throw new DicomError(im.source, `frame shape [${s.join(', ')}] differs from the first image's [${inner.join(', ')}] (${images[0]!.source})`);
    }
    total += im.frames.shape[0]!;
  }
  const out = new Float32Array(images.reduce((n, im) => n + im.frames.data.length, 0));
  let off = 0;
  for (const im of images) {
    out.set(im.frames.data, off);
    off += im.frames.data.length;
  }
  return new Tensor(out, [total, ...inner]);
}
