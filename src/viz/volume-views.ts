/**
 * Two-dimensional views of a volume and its map, for figures: three orthogonal planes through a chosen
 * voxel (the map's maximum) and a maximum-intensity projection (MIP).
 *
 * With a voxel→world affine (NIfTI sources), planes are anatomical and drawn in the radiological
 * convention: axial and coronal views have the patient's right on the image's left; axial has anterior
 * up, coronal and sagittal superior up, sagittal anterior on the left. Each view names its plane, the
 * slice, and what its left and top edges show ("AXIAL 12" / "LEFT R TOP A"). Without an affine (a bare array), the
 * views are the planes of the array axes, labelled "axis 0 = 12" with no anatomical claim.
 *
 * Views are resampled to `size` × `size` pixels keeping the physical aspect ratio (voxel spacing), padded
 * with black; image and map are resampled alike (bilinear, antialiased), so the overlay stays registered.
 */
import { Tensor } from '../tensor/tensor.js';
import { resize } from '../data/resize.js';
import { axisCodes, type Affine } from '../io/nifti.js';

export interface VolumeView {
  /** 'AXIAL', 'CORONAL', 'SAGITTAL', 'MIP AXIAL' or 'AXIS 0', … */
  plane: string;
  /** Title lines: plane and slice, edge directions. */
  title: string[];
  /** [1, size, size] image in [0, 1]. */
  image: Tensor;
  /** [size, size] map values (raw; the overlay normalises). */
  map: Tensor;
}

export interface VolumeGeometry {
  spatial: readonly [number, number, number];
  spacing?: readonly number[];
  affine?: Affine;
}

/** A 2-D view: which array axis is fixed (or projected), which run along rows and columns, and their flips. */
export interface Layout {
  plane: string;
  fixed: number;
  row: number;
  col: number;
  flipRow: boolean;
  flipCol: boolean;
  edges: string;
}

const OPP: Record<string, string> = { R: 'L', L: 'R', A: 'P', P: 'A', S: 'I', I: 'S' };

/** The three orthogonal views of a volume: anatomical (radiological) with an affine, array axes without. */
export function layouts(g: VolumeGeometry): Layout[] {
  if (!g.affine) {
    return [0, 1, 2].map((fixed) => {
      const [row, col] = [0, 1, 2].filter((a) => a !== fixed) as [number, number];
      return { plane: `AXIS ${fixed}`, fixed, row, col, flipRow: false, flipCol: false, edges: `ROWS ${row} COLS ${col}` };
    });
  }
  const codes = axisCodes(g.affine);
  const axisOf = (letters: string) => codes.findIndex((c) => letters.includes(c));
  const lr = axisOf('RL');
  const ap = axisOf('AP');
  const si = axisOf('SI');
  // columns increase toward `colTo`, rows toward `rowTo`: flip an axis whose index increases the other way
  const view = (plane: string, fixed: number, row: number, rowTo: string, col: number, colTo: string): Layout => ({
    plane,
    fixed,
    row,
    col,
    flipRow: codes[row] !== rowTo,
    flipCol: codes[col] !== colTo,
    edges: `LEFT ${OPP[colTo]} TOP ${OPP[rowTo]}`,
  });
  return [view('AXIAL', si, ap, 'P', lr, 'L'), view('CORONAL', ap, si, 'I', lr, 'L'), view('SAGITTAL', lr, si, 'I', ap, 'P')];
}

/** The index of the largest value (largest |value| for signed maps). */
export function argmaxVoxel(map: ArrayLike<number>, spatial: readonly number[], signed: boolean): number[] {
  let best = 0;
  let bv = -Infinity;
  for (let q = 0; q < map.length; q++) {
    const v = signed ? Math.abs(map[q]!) : map[q]!;
    if (v > bv) (bv = v), (best = q);
  }
  const idx = [0, 0, 0];
  for (let a = 2; a >= 0; a--) {
    idx[a] = best % spatial[a]!;
    best = Math.floor(best / spatial[a]!);
  }
  return idx;
}

/** Cut (or project, with `project`) one view of `vol` [A0,A1,A2] as [rows, cols]. */
export function cut(vol: ArrayLike<number>, spatial: readonly number[], L: Layout, at: number, project?: 'max' | 'maxabs'): Float32Array {
  const R = spatial[L.row]!;
  const C = spatial[L.col]!;
  const F = spatial[L.fixed]!;
  const strides = [spatial[1]! * spatial[2]!, spatial[2]!, 1];
  const out = new Float32Array(R * C);
  for (let r = 0; r < R; r++) {
    const ri = L.flipRow ? R - 1 - r : r;
    for (let c = 0; c < C; c++) {
      const ci = L.flipCol ? C - 1 - c : c;
      const base = ri * strides[L.row]! + ci * strides[L.col]!;
      if (!project) out[r * C + c] = vol[base + at * strides[L.fixed]!]!;
      else {
        let m = project === 'max' ? -Infinity : 0;
        for (let f = 0; f < F; f++) {
          const v = vol[base + f * strides[L.fixed]!]!;
          if (project === 'max' ? v > m : Math.abs(v) > Math.abs(m)) m = v;
        }
        out[r * C + c] = m;
      }
    }
  }
  return out;
}

/** Resample a [rows, cols] view to size × size, keeping the physical aspect, padded with `pad`. */
function fit(view: Float32Array, rows: number, cols: number, spRow: number, spCol: number, size: number, pad: number): Float32Array {
  const hMm = rows * spRow;
  const wMm = cols * spCol;
  const s = size / Math.max(hMm, wMm);
  const h = Math.max(1, Math.min(size, Math.round(hMm * s)));
  const w = Math.max(1, Math.min(size, Math.round(wMm * s)));
  const r = resize(new Tensor(view, [rows, cols]), [h, w]).data;
  const out = new Float32Array(size * size).fill(pad);
  const y0 = (size - h) >> 1;
  const x0 = (size - w) >> 1;
  for (let y = 0; y < h; y++) out.set(r.subarray(y * w, (y + 1) * w), (y0 + y) * size + x0);
  return out;
}

/**
 * The three orthogonal planes through `at` (default: the map's maximum) and the MIP of the map along the
 * first plane's normal (over the image's MIP). `image` is one channel [A0,A1,A2] in [0, 1].
 */
export function volumeViews(image: ArrayLike<number>, map: ArrayLike<number>, g: VolumeGeometry, signed: boolean, size = 128, at?: readonly number[]): VolumeView[] {
  const sp = g.spacing ?? [1, 1, 1];
  const centre = at ?? argmaxVoxel(map, g.spatial, signed);
  const ls = layouts(g);
  const views = ls.map((L) => {
    const R = g.spatial[L.row]!;
    const C = g.spatial[L.col]!;
    const img = fit(cut(image, g.spatial, L, centre[L.fixed]!), R, C, sp[L.row]!, sp[L.col]!, size, 0);
    const m = fit(cut(map, g.spatial, L, centre[L.fixed]!), R, C, sp[L.row]!, sp[L.col]!, size, 0);
    const title = g.affine ? [`${L.plane} ${centre[L.fixed]}`, L.edges] : [`${L.plane} = ${centre[L.fixed]}`, L.edges];
    return { plane: L.plane, title, image: new Tensor(img, [1, size, size]), map: new Tensor(m, [size, size]) };
  });
  const L = ls[0]!;
  const R = g.spatial[L.row]!;
  const C = g.spatial[L.col]!;
  const img = fit(cut(image, g.spatial, L, 0, 'max'), R, C, sp[L.row]!, sp[L.col]!, size, 0);
  const m = fit(cut(map, g.spatial, L, 0, signed ? 'maxabs' : 'max'), R, C, sp[L.row]!, sp[L.col]!, size, 0);
  views.push({ plane: `MIP ${L.plane}`, title: [`MIP ${g.affine ? L.plane : `along axis ${L.fixed}`}`, L.edges], image: new Tensor(img, [1, size, size]), map: new Tensor(m, [size, size]) });
  return views;
}
