/**
 * Volumes for a 3-D model in the workbench: a NIfTI file or a DICOM series as one sample, through the same
 * functions `candor explain` uses (data/volume.ts: niftiVolumeSample in the file's voxel order 'ijk',
 * volumesToModel), so the browser's map is the CLI's; the map goes back on the source grid as NIfTI with the
 * source's affine through data/volume.ts mapNifti, as in the CLI. Pure TypeScript: the worker and the Node tests share it.
 */
import { Tensor } from '../tensor/tensor.js';
import { affineOnGrid, niftiVolumeSample, volumesToModel, type VolumeSample } from '../data/volume.js';
import type { PreprocessLog } from '../data/preprocessing.js';
import { axisCodes, niftiRange, type NiftiVolume } from '../io/nifti.js';
import { dicomSeriesVolume } from '../io/dicom-volume.js';
import type { InputSpec } from './preprocess.js';
import type { SeriesSummary } from './protocol.js';

export interface PreparedVolume {
  x: Tensor;
  /** [C,D,H,W] in [0, 1]. */
  display: Tensor;
  sample: VolumeSample;
  spacing: number[];
  affine: number[][];
}

/**
 * One volume (time point `t`) as the model's input. `window` (centre, width) in the file's units, or
 * undefined for the file's own scaling (cal_min–cal_max, else min–max), exactly as the CLI without --window.
 */
export function prepareVolumeInput(vol: NiftiVolume, spec: InputSpec & { depth: number }, log: PreprocessLog, window?: readonly [number, number], t?: number, windowOrigin?: string): PreparedVolume {
  const sample = niftiVolumeSample(vol, 'ijk', window, t, windowOrigin);
  const grid: [number, number, number] = [spec.depth, spec.height, spec.width];
  const r = volumesToModel(new Tensor(sample.data, [1, 1, ...sample.spatial]), { channels: spec.channels, grid, scale: spec.scale }, vol.source, log, [sample.spacing]);
  return { x: r.x, display: new Tensor(r.display.data, r.display.shape.slice(1)), sample, spacing: r.spacing[0]!, affine: affineOnGrid(sample, grid) };
}

/** A DICOM series (the files of one series, any order) as a volume, and what the page shows of it. */
export function readSeries(files: readonly { bytes: Uint8Array; name: string }[], name: string): { volume: NiftiVolume; summary: SeriesSummary; fileWindow?: [number, number] } {
  const s = dicomSeriesVolume(files.map((f) => ({ path: f.name, bytes: f.bytes })), name);
  const range = niftiRange(s.volume, 0);
  const [center, width] = s.fileWindow ?? [(range[0] + range[1]) / 2, Math.max(range[1] - range[0], 1e-6)];
  const a = s.volume.affine;
  const spacing = [0, 1, 2].map((k) => Math.hypot(a[0]![k]!, a[1]![k]!, a[2]![k]!));
  return {
    volume: s.volume,
    fileWindow: s.fileWindow,
    summary: { files: files.length, dims: s.volume.dims.slice(0, 3), spacing, axes: axisCodes(a).join(''), center, width, min: range[0], max: range[1] },
  };
}
