/**
 * Slices of NIfTI volumes and frames of multi-frame DICOM files for the workbench, as the Node data
 * pipeline (src/data/medical-folder.ts) makes them, so that a map computed in the browser matches one
 * computed by `candor` in Node for the same slice or frame. Pure TypeScript (no DOM, no Node): the worker
 * and the Node tests share it.
 *
 * NIfTI (medical-folder.ts `niftiImages`): the slice is `niftiSlices(vol, 'k', [s], { t })` from
 * io/nifti.ts — the third voxel axis as stored (axial for the usual scanner orientations), shown as
 * `np.flipud(data[:, :, k].T)`: rows along j with j increasing upwards, columns along i; no reorientation.
 * Values: the volume's min–max at t mapped exactly onto [0, 1] (Node's default), or a window (Node's
 * `--window`, DICOM LINEAR; LINEAR_EXACT below width 1, which Node refuses).
 *
 * DICOM (medical-folder.ts `scaleDicom`/`dicomImages`): frame f of `applyWindow(img)`: the file's window,
 * else the range of all frames together through LINEAR_EXACT.
 */
import { Gunzip } from 'fflate';
import { Tensor } from '../tensor/tensor.js';
import { applyWindow, type DicomImage, type VoiLutFunction } from '../io/dicom.js';
import { niftiRange, niftiSliceCount, niftiSlices, type NiftiVolume, type SliceAxis } from '../io/nifti.js';
import { minMaxScale, windowNifti } from '../io/nifti-scale.js';

export { niftiRange };

/** min/max of the values (NaN and ±Inf skipped); [0, 1] when there is none. */
export function valueRange(data: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return Number.isFinite(lo) && Number.isFinite(hi) ? [lo, hi] : [0, 1];
}

/** The window that maps [lo, hi] onto [0, 1]. */
export function fullRangeWindow([lo, hi]: readonly [number, number]): { center: number; width: number } {
  return { center: (lo + hi) / 2, width: Math.max(hi - lo, 1e-6) };
}

const isFullRange = (range: readonly [number, number], center: number, width: number): boolean => {
  const f = fullRangeWindow(range);
  return f.center === center && f.width === width;
};

// ---------------------------------------------------------------------------------------------- NIfTI

/** What the workbench shows of a NIfTI file: slices along one axis (default k) of one 3-D volume. */
export interface NiftiLayout {
  axis: SliceAxis;
  /** Slices along the axis (1 for a 2-D image along k). */
  slices: number;
  /** Volumes along t (1 for 3-D data). */
  volumes: number;
  /** The slice shown first: the middle one, ⌊slices / 2⌋ (Node's hint `#slice=` uses the same). */
  defaultSlice: number;
  /** Things to tell the user (2-D image, 4-D volume shown at t = 0, …). */
  notes: string[];
}

export function niftiLayout(vol: NiftiVolume, axis: SliceAxis = 'k'): NiftiLayout {
  const [nx, ny, nz] = vol.dims as [number, number, number];
  const volumes = vol.dims[3] ?? 1;
  const notes: string[] = [];
  if (nz === 1) notes.push(`2-D NIfTI (${nx}×${ny}): shown as its one slice`);
  if (volumes > 1) notes.push(`4-D NIfTI with ${volumes} volumes: showing volume t = 0 (the first); the workbench does not choose another`);
  const slices = niftiSliceCount(vol, axis);
  return { axis, slices, volumes, defaultSlice: Math.floor(slices / 2), notes };
}

/** Slice `s` along `axis` (default k) at volume t, in the file's (scaled) units: `[1, H, W]`. */
export function niftiSlice(vol: NiftiVolume, s: number, t = 0, axis: SliceAxis = 'k'): Tensor<Float32Array> {
  const one = niftiSlices(vol, axis, [s], { t });
  return new Tensor(one.data, one.shape);
}

/**
 * A NIfTI slice in [0, 1]. The window that spans `range` (the volume's min–max) is Node's default,
 * `(v − min) / (max − min)`, computed as Node computes it; any other window is DICOM's LINEAR (Node's
 * `--window`), or LINEAR_EXACT when the width is below 1 (volumes of normalised intensities).
 */
export function windowNiftiSlice(slice: Tensor<Float32Array>, range: readonly [number, number], center: number, width: number): Tensor<Float32Array> {
  if (!(width > 0) || !Number.isFinite(center)) throw new Error(`invalid window: centre ${center}, width ${width}`);
  return isFullRange(range, center, width) ? minMaxScale(slice, range[0], range[1]) : windowNifti(slice, center, width);
}

/** Gunzips just enough of a gzip stream for `need` bytes (or all of it, if shorter). */
export function gunzipPrefix(u8: Uint8Array, need: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  let have = 0;
  const g = new Gunzip((chunk) => {
    chunks.push(chunk);
    have += chunk.length;
  });
  for (let o = 0; o < u8.length && have < need; o += 4096) g.push(u8.subarray(o, Math.min(o + 4096, u8.length)), o + 4096 >= u8.length);
  const out = new Uint8Array(have);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** True when the bytes hold an uncompressed NIfTI-1/2 single-file header ('n+1' at 344, 'n+2' at 4). */
export function hasNiftiMagic(b: Uint8Array): boolean {
  const at = (o: number, s: string) => b.length >= o + 4 && b[o] === s.charCodeAt(0) && b[o + 1] === s.charCodeAt(1) && b[o + 2] === s.charCodeAt(2) && b[o + 3] === 0;
  return at(344, 'n+1') || at(4, 'n+2');
}

// ---------------------------------------------------------------------------------------------- DICOM

/** Number of frames of a DICOM image. */
export const frameCount = (img: DicomImage): number => img.frames.shape[0]!;

/** Frame f of a DICOM image as `[C, H, W]` in modality units (C = 1 for grayscale, 3 for colour). */
export function dicomFrame(img: DicomImage, f: number): Tensor<Float32Array> {
  const s = img.frames.shape;
  const n = s[0]!;
  if (!Number.isInteger(f) || f < 0 || f >= n) throw new Error(`${img.source}: frame ${f} is out of range (the file has ${n}; indices start at 0)`);
  const per = img.frames.size / n;
  const data = img.frames.data.slice(f * per, (f + 1) * per);
  return new Tensor(data, s.length === 3 ? [1, s[1]!, s[2]!] : [s[1]!, s[2]!, s[3]!]);
}

/**
 * The window a DICOM image opens with, as Node's data pipeline uses it: the file's, else the full range
 * of all frames (so every frame of a multi-frame file shares one scale) through LINEAR_EXACT.
 */
export function dicomDefaultWindow(img: DicomImage): { center: number; width: number; range: [number, number] } {
  const range = valueRange(img.frames.data);
  const w = img.window ?? fullRangeWindow(range);
  return { center: w.center, width: w.width, range };
}

/**
 * A DICOM frame through a window: the full-range window with no window in the file is Node's default
 * (LINEAR_EXACT); otherwise the file's VOI LUT function, LINEAR when it names none, LINEAR_EXACT for
 * widths below 1 (normalised data). MONOCHROME1 is inverted.
 */
export function windowDicomFrame(img: DicomImage, frame: Tensor<Float32Array>, center: number, width: number, range?: readonly [number, number]): Tensor<Float32Array> {
  let fn: VoiLutFunction;
  if (width < 1) fn = 'LINEAR_EXACT';
  else if (!img.window && range && isFullRange(range, center, width)) fn = 'LINEAR_EXACT';
  else fn = img.window?.function ?? 'LINEAR';
  return applyWindow(frame, center, width, { function: fn, invert: img.invert });
}
