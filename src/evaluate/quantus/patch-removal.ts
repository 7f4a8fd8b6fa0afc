/**
 * What Quantus' patch-removal metrics share (RegionPerturbation, Selectivity; Quantus 0.6): the image is
 * cut into non-overlapping patches of `patchSize` × `patchSize` pixels over every channel — after padding
 * each axis to a multiple of the patch size (Quantus' get_padding_size: ⌊pad/2⌋ before, ⌈pad/2⌉ after; the
 * map padded with zeros, so a border patch sums only its in-image part) — the patches are ranked by the
 * sum of the map over them (highest first, 'morf', or lowest first, 'lerf'; ties by patch index) and
 * replaced by the baseline cumulatively, the target's output recorded after each (removal.ts: baseline,
 * softmax, batching). 2-D images only, as in Quantus.
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { Model } from '../../runtime/model.js';
import { baselineValue, broadcastRows, scoreCopies, type RemovalOptions } from './removal.js';

export interface PatchRemovalOptions extends Omit<RemovalOptions, 'featuresInStep'> {
  /** Patch side in pixels (Quantus default 8). */
  patchSize?: number;
  order?: 'morf' | 'lerf';
  /** Patches removed (default all). */
  regions?: number;
}

/** The area under a curve by the trapezoid rule with unit spacing (numpy.trapz(values, dx=1)). */
export function unitTrapezoid(c: readonly number[]): number {
  return c.reduce((t, v, j) => (j ? t + (v + c[j - 1]!) / 2 : 0), 0);
}

/** Quantus' padding of one axis to a multiple of `p`: [before, after]. */
export function paddingFor(len: number, p: number): [number, number] {
  const r = len % p;
  if (r === 0) return [0, 0];
  return [Math.floor((p - r) / 2), Math.ceil((p - r) / 2)];
}

/**
 * The target's output for the image itself (`initial`) and after each of the first `regions` patches is
 * removed (`curves`, [N][regions]), with the patches' order per image.
 */
export async function patchRemovalCurves(model: Model, x: Tensor, targets: readonly number[], a: ArrayLike<number>, opts: PatchRemovalOptions, metric: string): Promise<{ initial: number[]; curves: number[][]; order: Int32Array[] }> {
  if (x.shape.length !== 4) throw new Error(`${metric}: Quantus' patch metrics are defined on 2-D images [N,C,H,W]; got [${x.shape.join(', ')}]`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const p = opts.patchSize ?? 8;
  if (!(Number.isInteger(p) && p >= 1)) throw new Error(`${metric}: patchSize must be a positive integer, got ${p}`);
  const [ph] = paddingFor(h, p);
  const [pw] = paddingFor(w, p);
  const bh = Math.ceil(h / p);
  const bw = Math.ceil(w / p);
  const blocks = bh * bw;
  const regions = opts.regions ?? blocks;
  if (!(Number.isInteger(regions) && regions >= 1)) throw new Error(`${metric}: regions must be a positive integer, got ${regions}`);
  const count = Math.min(regions, blocks);
  const rows = broadcastRows(a, x, { abs: opts.abs ?? false, normalise: opts.normalise });
  const hw = h * w;
  /** In-image rows and columns of block b. */
  const extent = (b: number) => {
    const r0 = Math.max(0, Math.floor(b / bw) * p - ph);
    const c0 = Math.max(0, (b % bw) * p - pw);
    return { r0, r1: Math.min(h, Math.floor(b / bw) * p - ph + p), c0, c1: Math.min(w, (b % bw) * p - pw + p) };
  };
  const order = rows.map((row) => {
    const sums = new Float64Array(blocks);
    for (let b = 0; b < blocks; b++) {
      const { r0, r1, c0, c1 } = extent(b);
      let s = 0;
      for (let ch = 0; ch < c; ch++) for (let r = r0; r < r1; r++) for (let q = c0; q < c1; q++) s += row[ch * hw + r * w + q]!;
      sums[b] = s;
    }
    const sign = (opts.order ?? 'morf') === 'morf' ? -1 : 1;
    return Int32Array.from(Array.from({ length: blocks }, (_, b) => b).sort((u, v) => sign * (sums[u]! - sums[v]!) || u - v));
  });
  const xs = x.data as Float32Array;
  const size = c * hw;
  const fills = order.map((_, i) => baselineValue(xs.subarray(i * size, (i + 1) * size), opts.baseline ?? 'black'));
  // copy 0: the image; copy k: its first k patches removed
  const scores = await scoreCopies(model, x, targets, count + 1, (i, k, out) => {
    out.set(xs.subarray(i * size, (i + 1) * size));
    for (let j = 0; j < k; j++) {
      const { r0, r1, c0, c1 } = extent(order[i]![j]!);
      for (let ch = 0; ch < c; ch++) for (let r = r0; r < r1; r++) out.fill(fills[i]!, ch * hw + r * w + c0, ch * hw + r * w + c1);
    }
  }, opts);
  return { initial: scores.map((s) => s[0]!), curves: scores.map((s) => s.slice(1)), order };
}
