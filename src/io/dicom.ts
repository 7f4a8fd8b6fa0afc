/**
 * DICOM image decoding, browser-safe (no Node APIs; Node file helpers live in `medical-files.ts`).
 *
 * This is the public entry; the parts live in `dicom/`:
 * - `types.ts`: {@link DicomError}, {@link DicomMeta}, {@link DicomImage} and the options;
 * - `dataset.ts`: parsing over `dicom-parser`, tag names and attribute helpers;
 * - `transfer-syntaxes.ts`: the transfer syntax table (names, codecs, conversion hints);
 * - `header.ts`: the Image Pixel module and {@link DicomMeta} (and what is never read, for privacy);
 * - `frames.ts`: frame extraction from native and encapsulated Pixel Data;
 * - `codecs.ts`: RLE, JPEG, JPEG Lossless and JPEG 2000 decoding;
 * - `pixel-values.ts`: stored-value masking, the modality transform, YBR → RGB, VOI windowing ({@link applyWindow});
 * - `read.ts`: {@link readDicomSync}, {@link readDicom}, {@link readDicomMeta};
 * - `series.ts`: series ordering and frame stacking.
 */
export { DicomError, type DicomImage, type DicomMeta, type DicomWindow, type ReadDicomOptions, type VoiLutFunction } from './dicom/types.js';
export { SUPPORTED_TRANSFER_SYNTAXES, transferSyntaxName } from './dicom/transfer-syntaxes.js';
export { hasDicomPreamble } from './dicom/dataset.js';
export { loadJpeg2000Codec } from './dicom/codecs.js';
export { readDicom, readDicomMeta, readDicomSync } from './dicom/read.js';
export { applyWindow, type WindowOptions } from './dicom/pixel-values.js';
export { compareDicomOrder, slicePosition, sortDicomImages, stackDicomFrames } from './dicom/series.js';
