/**
 * A DICOM series (one file per slice, as CT and MR scanners write them) as one volume, in the same form as a
 * NIfTI volume (io/nifti.ts `NiftiVolume`: float32 `[Z, Y, X]`, voxel → world affine in RAS+ mm), so that a
 * series and a `.nii.gz` are one kind of sample for a 3-D model — what dcm2niix does, without leaving candor.
 *
 * Geometry (DICOM PS3.3 C.7.6.2): ImageOrientationPatient gives the direction of increasing column index
 * (row direction X) and of increasing row index (column direction Y); PixelSpacing is [between rows, between
 * columns]. Slices are sorted by ImagePositionPatient projected on the normal X × Y (not by InstanceNumber or
 * file name). Voxel (i = column, j = row, k = slice) lies at IPP₀ + i·Δc·X + j·Δr·Y + k·s·n̂ (LPS), with s the
 * slice spacing; the affine is that map with its x and y rows negated (LPS → RAS, as NIfTI stores it).
 * Checked against dcm2niix on an oblique series (src/io/fixtures/dicom-series): every voxel lands on the same
 * world point with the same value.
 *
 * Refused, each with one line naming the folder: files of several series (the counts of each), differing
 * orientations or sizes, two slices at one position, and inconsistent spacing (a missing slice: the gaps
 * found), multi-frame files and colour images. Values are modality units (RescaleSlope/Intercept applied).
 * Patient identifiers are never read into the result (only geometry, pixel data and the window).
 */
import { readDicomSync } from './dicom.js';
import { slicePosition } from './dicom/series.js';
import type { DicomImage } from './dicom/types.js';
import type { Affine, NiftiVolume } from './nifti.js';
import { Tensor } from '../tensor/tensor.js';

export interface DicomSeriesVolume {
  volume: NiftiVolume;
  /** The first slice's WindowCenter/WindowWidth, when the files carry one (modality units). */
  fileWindow?: [number, number];
  /** Slice spacing along the normal (mm). */
  sliceSpacing: number;
}

/** Read `files` (path → bytes) of one series as a volume; `where` names the series (its folder) in errors. */
export function dicomSeriesVolume(files: readonly { path: string; bytes: Uint8Array }[], where: string): DicomSeriesVolume {
  if (files.length < 2) throw new Error(`${where}: ${files.length} DICOM file(s); a series read as a volume needs at least 2 slices`);
  const images: DicomImage[] = files.map((f) => readDicomSync(f.bytes, f.path));
  const series = new Map<string, DicomImage[]>();
  for (const im of images) series.set(im.meta.seriesKey ?? '?', [...(series.get(im.meta.seriesKey ?? '?') ?? []), im]);
  if (series.size > 1) {
    const groups = [...series.values()].sort((a, b) => b.length - a.length);
    throw new Error(`${where}: files of ${series.size} series (${groups.map((g) => g.length).join(', ')} files; e.g. ${groups.slice(1).map((g) => g[0]!.source).join(', ')} is not of the largest); put one series per folder`);
  }
  const first = images[0]!;
  for (const im of images) {
    const m = im.meta;
    if (m.numberOfFrames !== 1) throw new Error(`${im.source}: a multi-frame file (${m.numberOfFrames} frames); a series read as a volume has one slice per file`);
    if (m.samplesPerPixel !== 1) throw new Error(`${im.source}: a colour image (${m.photometricInterpretation}); volumes are grayscale`);
    if (im.invert) throw new Error(`${im.source}: MONOCHROME1 slices are not read as a volume`);
    if (!m.imagePositionPatient || !m.imageOrientationPatient || !m.pixelSpacing) {
      throw new Error(`${im.source}: no ImagePositionPatient / ImageOrientationPatient / PixelSpacing; the slice cannot be placed in a volume`);
    }
    if (m.rows !== first.meta.rows || m.columns !== first.meta.columns) throw new Error(`${im.source}: ${m.columns}×${m.rows} pixels, but ${first.source} of the same series has ${first.meta.columns}×${first.meta.rows}`);
    const o0 = first.meta.imageOrientationPatient!;
    if (m.imageOrientationPatient.some((v, i) => !(Math.abs(v - o0[i]!) <= 1e-4))) throw new Error(`${im.source}: its ImageOrientationPatient differs from ${first.source}'s (a gantry tilt or a localizer in the folder?)`);
    const sp0 = first.meta.pixelSpacing!;
    if (m.pixelSpacing.some((v, i) => !(Math.abs(v - sp0[i]!) <= 1e-4))) throw new Error(`${im.source}: its PixelSpacing differs from ${first.source}'s`);
    if (m.pixelSpacing.some((v) => !(v > 0 && Number.isFinite(v))) || m.imagePositionPatient.some((v) => !Number.isFinite(v)) || m.imageOrientationPatient.some((v) => !Number.isFinite(v))) {
      throw new Error(`${im.source}: non-finite or non-positive geometry (ImagePositionPatient, ImageOrientationPatient or PixelSpacing)`);
    }
  }
  const pos = new Map(images.map((im) => [im, slicePosition(im.meta)!]));
  const sorted = [...images].sort((a, b) => pos.get(a)! - pos.get(b)!);
  const o = first.meta.imageOrientationPatient!;
  const norm = Math.hypot(o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]);
  if (!(Math.abs(Math.hypot(o[0], o[1], o[2]) - 1) < 1e-3 && Math.abs(Math.hypot(o[3], o[4], o[5]) - 1) < 1e-3 && Math.abs(norm - 1) < 1e-3)) {
    throw new Error(`${first.source}: ImageOrientationPatient [${o.join(', ')}] is not two orthogonal unit vectors`);
  }
  const gaps = sorted.slice(1).map((im, k) => pos.get(im)! - pos.get(sorted[k]!)!);
  const dup = gaps.findIndex((g) => g < 1e-3);
  if (dup >= 0) throw new Error(`${where}: ${sorted[dup]!.source} and ${sorted[dup + 1]!.source} are at the same position (duplicates or two acquisitions?)`);
  const mean = (pos.get(sorted.at(-1)!)! - pos.get(sorted[0]!)!) / (sorted.length - 1);
  const worst = Math.max(...gaps.map((g) => Math.abs(g - mean)));
  if (worst > 0.01 * mean + 1e-3) {
    const lo = gaps.indexOf(Math.min(...gaps));
    const hi = gaps.indexOf(Math.max(...gaps));
    const pair = (k: number) => `${gaps[k]!.toFixed(3)} mm between ${sorted[k]!.source} and ${sorted[k + 1]!.source}`;
    throw new Error(`${where}: inconsistent slice spacing along the normal — from ${pair(lo)} to ${pair(hi)} (a missing or misplaced slice?); a volume needs evenly spaced slices`);
  }
  const [nx, ny, nz] = [first.meta.columns, first.meta.rows, sorted.length];
  const data = new Float32Array(nx * ny * nz);
  sorted.forEach((im, k) => data.set(im.frames.data.subarray(0, nx * ny), k * nx * ny));
  const [xr, yr, zr, xc, yc, zc] = first.meta.imageOrientationPatient!;
  const [dr, dc] = first.meta.pixelSpacing!;
  const n = [yr * zc - zr * yc, zr * xc - xr * zc, xr * yc - yr * xc];
  const p0 = sorted[0]!.meta.imagePositionPatient!;
  const lps = [
    [xr * dc, xc * dr, n[0]! * mean, p0[0]],
    [yr * dc, yc * dr, n[1]! * mean, p0[1]],
    [zr * dc, zc * dr, n[2]! * mean, p0[2]],
  ];
  const affine: Affine = [lps[0]!.map((v) => -v), lps[1]!.map((v) => -v), lps[2]!, [0, 0, 0, 1]];
  const volume: NiftiVolume = {
    source: where,
    volume: new Tensor(data, [nz, ny, nx]),
    version: 1,
    dims: [nx, ny, nz],
    pixdim: [dc, dr, mean],
    qfac: 1,
    units: { space: 'mm', time: 'unknown' },
    datatype: { code: 16, name: 'float32' },
    littleEndian: true,
    scaling: { slope: 1, intercept: 0, applied: false },
    qform: { code: 1, codeName: 'scanner', affine },
    sform: { code: 1, codeName: 'scanner', affine },
    affine,
    affineSource: 'sform',
    intentCode: 0,
  };
  const c = first.meta.windowCenter;
  const w = first.meta.windowWidth;
  return { volume, sliceSpacing: mean, ...(c !== undefined && w !== undefined && w >= 1 ? { fileWindow: [c, w] as [number, number] } : {}) };
}
