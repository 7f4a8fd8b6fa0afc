/**
 * candor's default scaling of NIfTI slices to [0, 1] (no --window given), shared by the training data
 * (src/data/medical-folder.ts) and `candor explain --input scan.nii.gz` (src/cli/explain-input.ts); the
 * workbench opens a volume at the same window (src/web/volume.ts):
 *   - the header's display range cal_min–cal_max when it sets one, as a window (DICOM's LINEAR; LINEAR_EXACT
 *     below width 1, for normalised intensities) — the NIfTI counterpart of a DICOM file's own window;
 *   - else the min–max of the 3-D volume at t, (v − min) / (max − min), the same for every slice.
 */
import { Tensor } from '../tensor/tensor.js';
import { applyWindow } from './dicom.js';
import { niftiRange, type NiftiVolume } from './nifti.js';

/** (v − lo) / (hi − lo): the volume's min–max onto [0, 1] (all zeros for a constant volume). */
export function minMaxScale(slices: Tensor<Float32Array>, lo: number, hi: number): Tensor<Float32Array> {
  const span = hi - lo;
  const out = new Float32Array(slices.data.length);
  if (span > 0) for (let i = 0; i < out.length; i++) out[i] = (slices.data[i]! - lo) / span;
  return new Tensor(out, slices.shape);
}

/** A display window on NIfTI values: DICOM's LINEAR, or LINEAR_EXACT below width 1 (normalised intensities). */
export function windowNifti(slices: Tensor<Float32Array>, center: number, width: number): Tensor<Float32Array> {
  return applyWindow(slices, center, width, { function: width < 1 ? 'LINEAR_EXACT' : 'LINEAR' });
}

export function scaleNiftiSlices(vol: NiftiVolume, slices: Tensor<Float32Array>, t: number, source = vol.source): { scaled: Tensor<Float32Array>; from: 'cal' | 'min-max' } {
  if (vol.calRange) {
    const [lo, hi] = vol.calRange;
    return { scaled: windowNifti(slices, (lo + hi) / 2, hi - lo), from: 'cal' };
  }
  const [lo, hi] = niftiRange(vol, t, source);
  return { scaled: minMaxScale(slices, lo, hi), from: 'min-max' };
}
