/**
 * Public types of the DICOM reader: the error class, {@link DicomMeta} (technical, non-identifying
 * attributes only; see `header.ts` for what is read and what never is), {@link DicomImage} and the options.
 */
import type { Tensor } from '../../tensor/tensor.js';

/** Error for unreadable or unsupported DICOM data. `message` starts with the source (file name). */
export class DicomError extends Error {
  readonly source: string;
  constructor(source: string, message: string) {
    super(`${source}: ${message}`);
    this.name = 'DicomError';
    this.source = source;
  }
}

export type VoiLutFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';

/** Technical, non-identifying attributes of a DICOM image. */
export interface DicomMeta {
  transferSyntaxUID: string;
  transferSyntaxName: string;
  sopClassUID?: string;
  modality?: string;
  rows: number;
  columns: number;
  numberOfFrames: number;
  samplesPerPixel: number;
  /** As written in the file (the decoded frames are RGB whenever samplesPerPixel is 3). */
  photometricInterpretation: string;
  planarConfiguration?: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  /** 0 unsigned, 1 two's complement. */
  pixelRepresentation: number;
  /** Modality transform of the first frame (1 and 0 when the file has none). */
  rescaleSlope: number;
  rescaleIntercept: number;
  rescaleType?: string;
  /** First WindowCenter/WindowWidth values of the file (top level, else the first frame's functional group). */
  windowCenter?: number;
  windowWidth?: number;
  /** Number of window presets in the file. */
  windowCount?: number;
  voiLutFunction?: VoiLutFunction;
  /** [row spacing, column spacing] in mm: PixelSpacing, else ImagerPixelSpacing, else the functional groups'. */
  pixelSpacing?: [number, number];
  sliceThickness?: number;
  imagePositionPatient?: [number, number, number];
  imageOrientationPatient?: [number, number, number, number, number, number];
  sliceLocation?: number;
  seriesNumber?: number;
  instanceNumber?: number;
  acquisitionNumber?: number;
  /**
   * Opaque grouping key for the series: 8 hex digits of a hash of SeriesInstanceUID salted with a random
   * per-process value. The UID itself is not kept, and the key means nothing outside this process (it
   * cannot link data sets across runs): equal keys = same series, almost surely.
   */
  seriesKey?: string;
}

export interface DicomWindow {
  center: number;
  width: number;
  function: VoiLutFunction;
  /** Where the window came from. */
  origin: 'file' | 'options';
}

export interface DicomImage {
  source: string;
  /** Modality units, float32: `[F, H, W]` for grayscale, `[F, 3, H, W]` (RGB) for colour. */
  frames: Tensor<Float32Array>;
  meta: DicomMeta;
  /** The window to display with: from the options, else from the file, else undefined. */
  window?: DicomWindow;
  /** True for MONOCHROME1 (low values are displayed bright); {@link applyWindow} honours it. */
  invert: boolean;
  /** Per-frame modality transform actually applied. */
  rescale: { slope: number[]; intercept: number[] };
  /** Non-fatal oddities met while reading (never patient data). */
  warnings: string[];
}

export interface ReadDicomOptions {
  /** Window centre/width to use instead of the file's (both needed). */
  windowCenter?: number;
  windowWidth?: number;
  voiLutFunction?: VoiLutFunction;
  /** Apply the modality transform (default true); false keeps the stored values (and then the file's window, which is in modality units, is not returned). */
  rescale?: boolean;
}
