/**
 * From stored values to modality values to display values.
 *
 * Pixel values: BitsStored < BitsAllocated is masked (bits above HighBit are ignored) and sign-extended
 * when PixelRepresentation = 1; then the modality transform is applied (RescaleSlope/Intercept, from the
 * top level or the enhanced multi-frame functional groups, per frame; RT Dose's DoseGridScaling), so
 * `frames` holds modality units (HU for CT). MONOCHROME1 pixel values are *not* inverted: inversion is a
 * display step done by {@link applyWindow}. Colour images (SamplesPerPixel 3) come out as RGB, planar,
 * `[F, 3, H, W]`; YBR_FULL and YBR_FULL_422 are converted to RGB (PS3.3 C.7.6.3.1.2); YBR_RCT/YBR_ICT are
 * RGB once the JPEG 2000 decoder has undone its component transform.
 */
import type { DataSet } from 'dicom-parser';
import { Tensor } from '../../tensor/tensor.js';
import { item, items, num, str, T } from './dataset.js';
import type { DicomImage, VoiLutFunction } from './types.js';

// ---------------------------------------------------------------------------------------------------------
// Stored values

/** Masks raw samples to BitsStored bits (starting at HighBit − BitsStored + 1) and sign-extends them. */
export function normaliseStored(raw: Float64Array, bitsStored: number, highBit: number, signed: boolean, bitsAllocated: number): void {
  const shift = Math.max(0, highBit + 1 - bitsStored);
  if (bitsStored >= bitsAllocated && shift === 0) {
    if (!signed) return;
    // already the right width: reinterpret the unsigned pattern as two's complement
    const half = 2 ** (bitsStored - 1);
    const full = 2 ** bitsStored;
    for (let i = 0; i < raw.length; i++) {
      let v = raw[i]!;
      if (v < 0) v += full; // decoders that already returned signed values
      raw[i] = v >= half ? v - full : v;
    }
    return;
  }
  const full = 2 ** bitsStored;
  const half = full / 2;
  const div = 2 ** shift;
  for (let i = 0; i < raw.length; i++) {
    let v = raw[i]!;
    if (v < 0) v += 2 ** bitsAllocated;
    v = Math.floor(v / div) % full;
    raw[i] = signed && v >= half ? v - full : v;
  }
}

export function ybrToRgb(y: number, cb: number, cr: number, max: number): [number, number, number] {
  const mid = (max + 1) / 2;
  const clip = (v: number) => Math.min(max, Math.max(0, Math.round(v)));
  return [
    clip(y + 1.402 * (cr - mid)),
    clip(y - 0.344136 * (cb - mid) - 0.714136 * (cr - mid)),
    clip(y + 1.772 * (cb - mid)),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// Modality transform

/** Per-frame modality transform: top level, else per-frame, else shared functional groups; RT Dose grid scaling. */
export function rescaleOf(ds: DataSet, nFrames: number, warnings: string[]): { slope: number[]; intercept: number[] } {
  const top = { slope: num(ds, T.RescaleSlope), intercept: num(ds, T.RescaleIntercept) };
  if (top.slope !== undefined || top.intercept !== undefined) {
    return { slope: Array(nFrames).fill(top.slope ?? 1), intercept: Array(nFrames).fill(top.intercept ?? 0) };
  }
  const perFrame = items(ds, T.PerFrameFunctionalGroupsSequence);
  const shared = item(item(ds, T.SharedFunctionalGroupsSequence), T.PixelValueTransformationSequence);
  if (perFrame.length > 0 || shared) {
    const slope: number[] = [];
    const intercept: number[] = [];
    let found = false;
    for (let f = 0; f < nFrames; f++) {
      const pvt = item(perFrame[f], T.PixelValueTransformationSequence) ?? shared;
      const s = pvt && num(pvt, T.RescaleSlope);
      const b = pvt && num(pvt, T.RescaleIntercept);
      if (s !== undefined || b !== undefined) found = true;
      slope.push(s ?? 1);
      intercept.push(b ?? 0);
    }
    if (found) return { slope, intercept };
  }
  const dose = str(ds, T.Modality) === 'RTDOSE' ? num(ds, T.DoseGridScaling) : undefined;
  if (dose !== undefined) return { slope: Array(nFrames).fill(dose), intercept: Array(nFrames).fill(0) };
  if (ds.elements[T.ModalityLUTSequence]) warnings.push('Modality LUT Sequence is not applied (values are stored values)');
  return { slope: Array(nFrames).fill(1), intercept: Array(nFrames).fill(0) };
}

// ---------------------------------------------------------------------------------------------------------
// VOI window

export function voiFunction(s: string | undefined): VoiLutFunction | undefined {
  const u = s?.toUpperCase();
  return u === 'LINEAR' || u === 'LINEAR_EXACT' || u === 'SIGMOID' ? u : undefined;
}

/** The file's first window: top level, else the first frame's (or shared) Frame VOI LUT functional group. */
export function windowOf(ds: DataSet): { center: number; width: number; fn: VoiLutFunction; count: number } | undefined {
  const candidates = [ds, item(item(ds, T.PerFrameFunctionalGroupsSequence), T.FrameVOILUTSequence), item(item(ds, T.SharedFunctionalGroupsSequence), T.FrameVOILUTSequence)];
  for (const d of candidates) {
    if (!d) continue;
    const center = num(d, T.WindowCenter);
    const width = num(d, T.WindowWidth);
    if (center !== undefined && width !== undefined && width > 0) {
      const count = Math.min(d.numStringValues(T.WindowCenter) ?? 1, d.numStringValues(T.WindowWidth) ?? 1);
      return { center, width, fn: voiFunction(str(d, T.VOILUTFunction) ?? str(ds, T.VOILUTFunction)) ?? 'LINEAR', count };
    }
  }
  return undefined;
}

export interface WindowOptions {
  /** VOI LUT function (default LINEAR, or the image's). */
  function?: VoiLutFunction;
  /** Invert the output (1 − y): default true for MONOCHROME1 images, false otherwise. */
  invert?: boolean;
}

/**
 * Maps modality values to display values in [0, 1] with a window (DICOM PS3.3 C.11.2.1.2):
 * - LINEAR: y = 0 if x ≤ c − 0.5 − (w−1)/2; 1 if x > c − 0.5 + (w−1)/2; else ((x − (c − 0.5)) / (w−1) + 0.5);
 * - LINEAR_EXACT: y = 0 if x ≤ c − w/2; 1 if x > c + w/2; else (x − c)/w + 0.5;
 * - SIGMOID: y = 1 / (1 + exp(−4 (x − c) / w)).
 * (PS3.3 writes these with output range ymin..ymax; here ymin = 0, ymax = 1.)
 * Given a {@link DicomImage}, the centre/width default to its window, else to the full range of its
 * values, and MONOCHROME1 output is inverted so that it displays like MONOCHROME2 data. Given a bare
 * tensor, `center` and `width` are required.
 */
export function applyWindow(input: DicomImage | Tensor<Float32Array>, center?: number, width?: number, opts: WindowOptions = {}): Tensor<Float32Array> {
  const isImage = !(input instanceof Tensor);
  const x = isImage ? (input as DicomImage).frames : (input as Tensor<Float32Array>);
  let c = center;
  let w = width;
  let fn = opts.function;
  if (isImage) {
    const img = input as DicomImage;
    if (c === undefined && w === undefined && img.window) {
      c = img.window.center;
      w = img.window.width;
      fn ??= img.window.function;
    }
    if (c === undefined && w === undefined) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of x.data) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
      // LINEAR_EXACT with c = (lo+hi)/2, w = hi−lo maps [lo, hi] exactly onto [0, 1]
      c = (lo + hi) / 2;
      w = Math.max(hi - lo, 1e-6);
      fn ??= 'LINEAR_EXACT';
    }
  }
  if (c === undefined || w === undefined) throw new Error('applyWindow: center and width are required for a bare tensor');
  fn ??= 'LINEAR';
  if (!(w > 0) || (fn === 'LINEAR' && w < 1)) throw new Error(`applyWindow: window width ${w} is invalid (${fn} needs width ${fn === 'LINEAR' ? '≥ 1' : '> 0'})`);
  const invert = opts.invert ?? (isImage ? (input as DicomImage).invert : false);
  const src = x.data;
  const out = new Float32Array(src.length);
  if (fn === 'LINEAR') {
    const lo = c - 0.5 - (w - 1) / 2;
    const hi = c - 0.5 + (w - 1) / 2;
    for (let i = 0; i < src.length; i++) {
      const v = src[i]!;
      out[i] = v <= lo ? 0 : v > hi ? 1 : (v - (c - 0.5)) / (w - 1) + 0.5;
    }
  } else if (fn === 'LINEAR_EXACT') {
    const lo = c - w / 2;
    const hi = c + w / 2;
    for (let i = 0; i < src.length; i++) {
      const v = src[i]!;
      out[i] = v <= lo ? 0 : v > hi ? 1 : (v - c) / w + 0.5;
    }
  } else {
    for (let i = 0; i < src.length; i++) out[i] = 1 / (1 + Math.exp((-4 * (src[i]! - c)) / w));
  }
  if (invert) for (let i = 0; i < out.length; i++) out[i] = 1 - out[i]!;
  return new Tensor(out, x.shape);
}
