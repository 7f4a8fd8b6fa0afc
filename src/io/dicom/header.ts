/**
 * Header attributes: the Image Pixel module (what pixel decoding needs) and {@link DicomMeta} (what
 * callers see).
 *
 * Privacy: {@link DicomMeta} holds only technical fields. Patient name, ID, birth date, accession number,
 * institution, physicians, dates and UIDs are never read into it, and error messages only name the
 * source, tags and numbers — never element values that could identify a patient.
 */
import { READ_LIMITS } from '../limits.js';
import type { DataSet } from 'dicom-parser';
import { int, item, num, nums, str, T, us } from './dataset.js';
import { voiFunction, windowOf } from './pixel-values.js';
import { transferSyntaxName } from './transfer-syntaxes.js';
import { DicomError, type DicomMeta } from './types.js';

/** Per-process salt for {@link DicomMeta.seriesKey}. */
const SERIES_SALT = Array.from({ length: 4 }, () => Math.floor(Math.random() * 0x1_0000_0000).toString(36)).join('.');

function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

export interface PixelModule {
  rows: number;
  columns: number;
  spp: number;
  frames: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  signed: boolean;
  photometric: string;
  planar: number;
}

export function pixelModule(ds: DataSet, source: string): PixelModule {
  const rows = us(ds, T.Rows);
  const columns = us(ds, T.Columns);
  const bitsAllocated = us(ds, T.BitsAllocated);
  if (!rows || !columns) throw new DicomError(source, 'Rows (0028,0010) or Columns (0028,0011) missing or zero');
  if (!bitsAllocated) throw new DicomError(source, 'BitsAllocated (0028,0100) missing');
  if (![1, 8, 16, 32].includes(bitsAllocated)) throw new DicomError(source, `BitsAllocated ${bitsAllocated} is not supported (1, 8, 16 or 32)`);
  const spp = us(ds, T.SamplesPerPixel) ?? 1;
  if (spp !== 1 && spp !== 3) throw new DicomError(source, `SamplesPerPixel (0028,0002) is ${spp}; only 1 (grey) and 3 (colour) are images candor reads`);
  const frames = Math.max(1, int(ds, T.NumberOfFrames) ?? 1);
  if (rows * columns > READ_LIMITS.maxPixels) throw new DicomError(source, `Rows × Columns = ${rows} × ${columns} pixels is more than the limit of ${READ_LIMITS.maxPixels.toLocaleString('en')} (CANDOR_MAX_PIXELS raises it)`);
  if (rows * columns * frames > READ_LIMITS.maxVoxels) throw new DicomError(source, `${frames} frames of ${rows} × ${columns} (NumberOfFrames (0028,0008)) is more than the limit of ${READ_LIMITS.maxVoxels.toLocaleString('en')} voxels (CANDOR_MAX_VOXELS raises it)`);
  const bitsStored = Math.min(us(ds, T.BitsStored) ?? bitsAllocated, bitsAllocated);
  const highBit = us(ds, T.HighBit) ?? bitsStored - 1;
  return {
    rows,
    columns,
    spp,
    frames,
    bitsAllocated,
    bitsStored: bitsStored > 0 ? bitsStored : bitsAllocated,
    highBit: highBit >= 0 && highBit < bitsAllocated ? highBit : bitsStored - 1,
    signed: (us(ds, T.PixelRepresentation) ?? 0) === 1,
    photometric: (str(ds, T.PhotometricInterpretation) ?? (us(ds, T.SamplesPerPixel) === 3 ? 'RGB' : 'MONOCHROME2')).toUpperCase(),
    planar: us(ds, T.PlanarConfiguration) ?? 0,
  };
}

export function readMeta(ds: DataSet, ts: string, pm: PixelModule, slope: number, intercept: number): DicomMeta {
  const shared = item(ds, T.SharedFunctionalGroupsSequence);
  const frame0 = item(ds, T.PerFrameFunctionalGroupsSequence);
  const inGroups = (seq: string) => item(frame0, seq) ?? item(shared, seq);
  const measures = inGroups(T.PixelMeasuresSequence);
  const spacing = nums(ds, T.PixelSpacing, 2) ?? nums(ds, T.ImagerPixelSpacing, 2) ?? (measures && nums(measures, T.PixelSpacing, 2));
  const position = nums(ds, T.ImagePositionPatient, 3) ?? nums(inGroups(T.PlanePositionSequence) ?? ds, T.ImagePositionPatient, 3);
  const orientation = nums(ds, T.ImageOrientationPatient, 6) ?? nums(inGroups(T.PlaneOrientationSequence) ?? ds, T.ImageOrientationPatient, 6);
  const win = windowOf(ds);
  const seriesUid = str(ds, T.SeriesInstanceUID);
  const meta: DicomMeta = {
    transferSyntaxUID: ts,
    transferSyntaxName: transferSyntaxName(ts),
    rows: pm.rows,
    columns: pm.columns,
    numberOfFrames: pm.frames,
    samplesPerPixel: pm.spp,
    photometricInterpretation: pm.photometric,
    bitsAllocated: pm.bitsAllocated,
    bitsStored: pm.bitsStored,
    highBit: pm.highBit,
    pixelRepresentation: pm.signed ? 1 : 0,
    rescaleSlope: slope,
    rescaleIntercept: intercept,
  };
  const set = <K extends keyof DicomMeta>(k: K, v: DicomMeta[K] | undefined) => {
    if (v !== undefined) meta[k] = v;
  };
  set('sopClassUID', str(ds, T.SOPClassUID) ?? str(ds, T.MediaStorageSOPClassUID));
  set('modality', str(ds, T.Modality));
  if (pm.spp > 1) set('planarConfiguration', pm.planar);
  set('rescaleType', str(ds, T.RescaleType) ?? (inGroups(T.PixelValueTransformationSequence) && str(inGroups(T.PixelValueTransformationSequence)!, T.RescaleType)));
  if (win) {
    meta.windowCenter = win.center;
    meta.windowWidth = win.width;
    meta.windowCount = win.count;
    meta.voiLutFunction = win.fn;
  } else {
    const fn = voiFunction(str(ds, T.VOILUTFunction));
    if (fn) meta.voiLutFunction = fn;
  }
  set('pixelSpacing', spacing as [number, number] | undefined);
  set('sliceThickness', num(ds, T.SliceThickness) ?? (measures && num(measures, T.SliceThickness)));
  set('imagePositionPatient', position as [number, number, number] | undefined);
  set('imageOrientationPatient', orientation as DicomMeta['imageOrientationPatient']);
  set('sliceLocation', num(ds, T.SliceLocation));
  set('seriesNumber', int(ds, T.SeriesNumber));
  set('instanceNumber', int(ds, T.InstanceNumber));
  set('acquisitionNumber', int(ds, T.AcquisitionNumber));
  if (seriesUid) meta.seriesKey = fnv1a(`${SERIES_SALT}|${seriesUid}`);
  return meta;
}
