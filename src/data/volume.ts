/**
 * Volumes as samples for 3-D models: a NIfTI volume is one sample [C=1, A0, A1, A2], its voxel axes put
 * in the order the model was trained with, windowed to [0, 1], and resampled to the model's grid.
 *
 * Voxel order (`VoxelOrder`): which voxel axis is the model's first spatial axis.
 *  - 'ijk' (default): (i, j, k) — the array nibabel's `get_fdata()` returns, which MONAI's LoadImage and
 *    TorchIO hand to a network as [C, H, W, D] = [C, i, j, k];
 *  - 'kji': (k, j, i) — SimpleITK's `GetArrayFromImage` (and ITK's NumPy bridge) order;
 *  - 'ras': the volume first reoriented to the closest RAS+ (nibabel's `as_closest_canonical`, MONAI's
 *    `Orientation(axcodes='RAS')`), then (i, j, k).
 * The sample keeps its voxel→world affine in that axis order, the source grid and spacing, so that a map
 * can be written back onto the source (io/nifti-write.ts).
 *
 * Scaling to [0, 1], as 2-D slices are scaled (data/medical-folder.ts): a window (centre, width) in the
 * file's units when given, else the header's cal_min–cal_max, else the volume's min–max.
 */
import { Tensor } from '../tensor/tensor.js';
import { type Affine, type NiftiVolume, niftiRange, niftiToCanonical } from '../io/nifti.js';
import { resize } from './resize.js';
import { niftiBytes } from '../io/nifti-write.js';
import { scaleInput, type InputScale } from './transforms.js';
import type { PreprocessLog } from './preprocessing.js';

export type VoxelOrder = 'ijk' | 'kji' | 'ras';
export const VOXEL_ORDERS: readonly VoxelOrder[] = ['ijk', 'kji', 'ras'];

export interface VolumeSample {
  /** [A0, A1, A2] in [0, 1], C order, in the chosen voxel order (before resampling). */
  data: Float32Array;
  /** Extent per array axis. */
  spatial: [number, number, number];
  /** Voxel size per array axis (mm). */
  spacing: [number, number, number];
  /** Array index (a0, a1, a2) → world (mm, RAS+). */
  affine: Affine;
  /** Voxel axes (file's i, j, k = 0, 1, 2) that the array axes are; with 'ras', of the reoriented grid. */
  axes: [number, number, number];
  order: VoxelOrder;
  /** The volume the array was cut from (reoriented for 'ras'). */
  grid: NiftiVolume;
  /** How the values were scaled to [0, 1]. */
  window: string;
}

/** One 3-D volume (time point `t` of a 4-D one) as a sample in `order`, scaled to [0, 1]. */
export function niftiVolumeSample(vol: NiftiVolume, order: VoxelOrder, window?: readonly [number, number], t?: number, windowOrigin?: string): VolumeSample {
  const nt = vol.dims[3] ?? 1;
  if (vol.dims.length > 4 || (vol.dims[4] ?? 1) > 1) throw new Error(`${vol.source}: a ${vol.dims.length}-D NIfTI (dims ${vol.dims.join('×')}) is not one volume`);
  if (nt > 1 && t === undefined) {
    throw new Error(`${vol.source}: a 4-D NIfTI with ${nt} volumes (dims ${vol.dims.join('×')}); choose one with ${vol.source.split(/[\\/]/).pop()}:t=N (0..${nt - 1})`);
  }
  const tt = t ?? 0;
  if (!Number.isInteger(tt) || tt < 0 || tt >= nt) throw new Error(`${vol.source}: time point t=${tt} is out of range (0..${nt - 1})`);
  const g = order === 'ras' ? niftiToCanonical(vol) : vol;
  const [nx, ny, nz] = g.dims as [number, number, number];
  const vox = nx * ny * nz;
  const src = g.volume.data.subarray(tt * vox, (tt + 1) * vox);
  const axes: [number, number, number] = order === 'kji' ? [2, 1, 0] : [0, 1, 2];
  const dims = [nx, ny, nz];
  const spatial = axes.map((a) => dims[a]!) as [number, number, number];
  const strides = [1, nx, nx * ny];
  const [lo, hi, how0] = scaling(g, tt, window);
  const how = window && windowOrigin ? `${how0} (${windowOrigin})` : how0;
  const span = hi - lo;
  const data = new Float32Array(vox);
  let q = 0;
  const [s0, s1, s2] = axes.map((a) => strides[a]!) as [number, number, number];
  for (let a = 0; a < spatial[0]; a++) {
    for (let b = 0; b < spatial[1]; b++) {
      for (let c = 0; c < spatial[2]; c++) {
        const v = src[a * s0 + b * s1 + c * s2]!;
        data[q++] = span > 0 ? Math.min(1, Math.max(0, (v - lo) / span)) : 0;
      }
    }
  }
  const A = g.affine;
  const affine: Affine = [0, 1, 2, 3].map((r) => [A[r]![axes[0]]!, A[r]![axes[1]]!, A[r]![axes[2]]!, A[r]![3]!]) as Affine;
  const spacing = axes.map((a) => Math.hypot(A[0]![a]!, A[1]![a]!, A[2]![a]!)) as [number, number, number];
  return { data, spatial, spacing, affine, axes, order, grid: g, window: how };
}

function scaling(g: NiftiVolume, t: number, window?: readonly [number, number]): [number, number, string] {
  if (window) {
    const [c, w] = window;
    return [c - w / 2, c + w / 2, `window centre ${c}, width ${w}`];
  }
  if (g.calRange) return [g.calRange[0], g.calRange[1], "the header's cal_min–cal_max"];
  const [lo, hi] = niftiRange(g, t);
  return [lo, hi, 'volume min–max'];
}

/**
 * Resample [C, A0, A1, A2] to `size` (antialiased trilinear, data/resize.ts) and say what changed: the
 * voxel size the model sees per axis, and whether the aspect ratio changed (a distortion the model may not
 * have been trained with).
 */
export function resampleVolume(t: Tensor, size: readonly [number, number, number], spacing: readonly number[]): { out: Tensor; spacing: number[]; note?: string } {
  const from = t.shape.slice(-3);
  const out = from.every((v, i) => v === size[i]) ? t : resize(t, size);
  const sp = spacing.map((s, i) => (s * from[i]!) / size[i]!);
  const aspect = (v: number[]) => v.map((x) => x / v[0]!);
  const before = aspect([...spacing]);
  const after = aspect(sp);
  const changed = before.some((b, i) => Math.abs(after[i]! - b) > 0.01 * b);
  const fmt = (v: readonly number[]) => v.map((x) => +x.toFixed(3)).join(' × ');
  const note = from.every((v, i) => v === size[i])
    ? undefined
    : `resampled ${from.join('×')} → ${size.join('×')} voxels (trilinear, antialiased): voxel size ${fmt(spacing)} → ${fmt(sp)} mm${changed ? ' — the aspect ratio changed' : ''}`;
  return { out, spacing: sp, note };
}

/**
 * Volumes [N,C,a,b,c] in [0, 1] → the model's input: each resampled to `grid` (resampleVolume, with its note
 * in `log`), one channel repeated into the model's channels, then scaled (`scale`). `display` is the resampled
 * volume in [0, 1]; `spacing` the voxel size the model sees, per volume. One function for the CLI and the
 * workbench, so a map computed in the browser is the one `candor explain` computes.
 */
export function volumesToModel(vols: Tensor, spec: { channels: number; grid: readonly [number, number, number]; scale: InputScale }, where: string, log: PreprocessLog, spacing: readonly (readonly number[])[]): { x: Tensor; display: Tensor; spacing: number[][] } {
  const [n, c, ...sp] = vols.shape as number[];
  if (sp.some((d) => d < 2)) throw new Error(`${where}: a volume of ${sp.join('×')} voxels is too small for a 3-D model (every axis needs at least 2 voxels; the model takes ${spec.grid.join('×')})`);
  const outSp: number[][] = [];
  const parts: Tensor[] = [];
  const vox = sp[0]! * sp[1]! * sp[2]!;
  for (let i = 0; i < n!; i++) {
    const v = new Tensor(vols.data.slice(i * c! * vox, (i + 1) * c! * vox), [c!, ...sp]);
    const r = resampleVolume(v, spec.grid, spacing[i] ?? [1, 1, 1]);
    if (r.note) log.windows.add(`${where}: ${r.note}`);
    outSp.push(r.spacing);
    parts.push(r.out.reshape([1, ...r.out.shape]));
  }
  let display = Tensor.concat0(parts);
  if (c !== spec.channels) {
    if (c !== 1) throw new Error(`${where}: volumes with ${c} channels; the model takes ${spec.channels}`);
    const v = display.size / n!;
    const out = new Float32Array(n! * spec.channels * v);
    for (let i = 0; i < n!; i++) for (let k = 0; k < spec.channels; k++) out.set(display.data.subarray(i * v, (i + 1) * v), (i * spec.channels + k) * v);
    display = new Tensor(out, [n!, spec.channels, ...spec.grid]);
    log.windows.add(`${where}: one channel repeated into the model's ${spec.channels}`);
  }
  return { x: scaleInput(display, spec.scale), display, spacing: outSp };
}

/**
 * The voxel → world affine of a sample's array axes on a resampled grid (`grid`): the direction columns
 * scaled by the resampling factor, and the origin moved so voxel centres stay in place (half-pixel
 * resampling: index a' ↔ (a' + 0.5)·n/n' − 0.5).
 */
export function affineOnGrid(s: VolumeSample, grid: readonly number[]): Affine {
  return resampledAffine(s.affine, s.spatial, grid);
}

/** An array-axes affine after resampling the array from `from` to `to` voxels per axis (half-pixel centres). */
export function resampledAffine(affine: readonly (readonly number[])[], from: readonly number[], to: readonly number[]): Affine {
  const aff = affine.map((row) => [...row]) as Affine;
  for (let a = 0; a < 3; a++) {
    const f = from[a]! / to[a]!;
    for (let r = 0; r < 3; r++) {
      aff[r]![a] = affine[r]![a]! * f;
      aff[r]![3] = aff[r]![3]! + affine[r]![a]! * (0.5 * f - 0.5);
    }
  }
  return aff;
}

/** A map [A0', A1', A2'] on the model's grid back onto the sample's grid, in the file's voxel layout (i fastest). */
export function mapToSourceGrid(map: Float32Array, modelGrid: readonly number[], s: VolumeSample): Float32Array {
  const t = new Tensor(map, [...modelGrid]);
  const back = modelGrid.every((v, i) => v === s.spatial[i]) ? t : resize(t, s.spatial);
  const [nx, ny] = s.grid.dims as [number, number, number];
  const strides = [1, nx, nx * ny];
  const [s0, s1, s2] = s.axes.map((a) => strides[a]!) as [number, number, number];
  const out = new Float32Array(back.size);
  let q = 0;
  for (let a = 0; a < s.spatial[0]; a++) for (let b = 0; b < s.spatial[1]; b++) for (let c = 0; c < s.spatial[2]; c++) out[a * s0 + b * s1 + c * s2] = back.data[q++]!;
  return out;
}

/** A map on the model's grid [D·H·W] back on the sample's source grid, as gzipped NIfTI with the source affine. */
export function mapNifti(map: Float32Array, grid: readonly number[], sample: VolumeSample, description: string): Uint8Array {
  const data = mapToSourceGrid(map, grid, sample);
  const g = sample.grid;
  const code = g.sform.code > 0 ? g.sform.code : g.qform.code > 0 ? g.qform.code : 1;
  return niftiBytes(data, g.dims.slice(0, 3) as [number, number, number], g.affine, { gzip: true, code, description });
}
