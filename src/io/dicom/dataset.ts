/**
 * Parsing over `dicom-parser` (cornerstone's small, dependency-free Part 10 parser: it gives byte offsets
 * of every element and the fragments of encapsulated pixel data, which is all a pixel decoder needs):
 * the tag names used, the Part 10 / bare data set detection, {@link parse}, and attribute helpers that
 * tolerate absent elements.
 */
import dicomParser from 'dicom-parser';
import type { DataSet } from 'dicom-parser';
import { inflateSync } from 'fflate';
import { transferSyntaxName } from './transfer-syntaxes.js';
import { DicomError } from './types.js';

// Tags (dicom-parser's 'xggggeeee' form)

export const T = {
  TransferSyntaxUID: 'x00020010',
  SOPClassUID: 'x00080016',
  MediaStorageSOPClassUID: 'x00020002',
  Modality: 'x00080060',
  SliceThickness: 'x00180050',
  ImagerPixelSpacing: 'x00181164',
  SeriesInstanceUID: 'x0020000e',
  SeriesNumber: 'x00200011',
  AcquisitionNumber: 'x00200012',
  InstanceNumber: 'x00200013',
  ImagePositionPatient: 'x00200032',
  ImageOrientationPatient: 'x00200037',
  SliceLocation: 'x00201041',
  PlanePositionSequence: 'x00209113',
  PlaneOrientationSequence: 'x00209116',
  SamplesPerPixel: 'x00280002',
  PhotometricInterpretation: 'x00280004',
  PlanarConfiguration: 'x00280006',
  NumberOfFrames: 'x00280008',
  Rows: 'x00280010',
  Columns: 'x00280011',
  PixelSpacing: 'x00280030',
  BitsAllocated: 'x00280100',
  BitsStored: 'x00280101',
  HighBit: 'x00280102',
  PixelRepresentation: 'x00280103',
  WindowCenter: 'x00281050',
  WindowWidth: 'x00281051',
  RescaleIntercept: 'x00281052',
  RescaleSlope: 'x00281053',
  RescaleType: 'x00281054',
  VOILUTFunction: 'x00281056',
  ModalityLUTSequence: 'x00283000',
  PixelMeasuresSequence: 'x00289110',
  FrameVOILUTSequence: 'x00289132',
  PixelValueTransformationSequence: 'x00289145',
  DoseGridScaling: 'x3004000e',
  SharedFunctionalGroupsSequence: 'x52009229',
  PerFrameFunctionalGroupsSequence: 'x52009230',
  ExtendedOffsetTable: 'x7fe00001',
  FloatPixelData: 'x7fe00008',
  DoubleFloatPixelData: 'x7fe00009',
  PixelData: 'x7fe00010',
} as const;

// ---------------------------------------------------------------------------------------------------------
// Parsing

const DICM = [0x44, 0x49, 0x43, 0x4d];
const VRS = new Set('AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(' '));

/** True when `bytes` has the Part 10 'DICM' marker at offset 128. */
export function hasDicomPreamble(bytes: Uint8Array): boolean {
  return bytes.length >= 132 && DICM.every((b, i) => bytes[128 + i] === b);
}

export function errorText(err: unknown): string {
  // dicom-parser throws strings, Errors, or { exception, dataSet } objects.
  if (err && typeof err === 'object' && 'exception' in err) return errorText((err as { exception: unknown }).exception);
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A transfer syntax for a data set without preamble/meta header, guessed from its first element. */
function guessRawTransferSyntax(bytes: Uint8Array): string | undefined {
  if (bytes.length < 8) return undefined;
  const groupLE = bytes[0]! | (bytes[1]! << 8);
  const groupBE = (bytes[0]! << 8) | bytes[1]!;
  const vr = String.fromCharCode(bytes[4]!, bytes[5]!);
  const plausible = (g: number) => g >= 0x0002 && g <= 0x0028 && g % 2 === 0;
  if (plausible(groupLE)) return VRS.has(vr) ? '1.2.840.10008.1.2.1' : '1.2.840.10008.1.2';
  if (plausible(groupBE) && VRS.has(vr)) return '1.2.840.10008.1.2.2';
  return undefined;
}

/**
 * Whether bytes without the Part 10 preamble start like a raw DICOM data set, strictly enough to tell a
 * data set from other files in a folder: the first element in group 0008 (or 0002), explicit VR little
 * endian with a valid VR, or implicit VR with a length that fits the file.
 */
export function looksLikeRawDicom(bytes: Uint8Array, fileSize = bytes.length): boolean {
  if (bytes.length < 8) return false;
  const group = bytes[0]! | (bytes[1]! << 8);
  const element = bytes[2]! | (bytes[3]! << 8);
  if ((group !== 0x0008 && group !== 0x0002) || element > 0x0100) return false;
  const vr = String.fromCharCode(bytes[4]!, bytes[5]!);
  if (VRS.has(vr)) return true;
  const len = (bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16) | (bytes[7]! << 24)) >>> 0;
  return len > 0 && len < 1024 && len + 8 <= fileSize;
}

export interface Parsed {
  ds: DataSet;
  ts: string;
  warnings: string[];
}

export function parse(bytes: Uint8Array, source: string): Parsed {
  const u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const warnings: string[] = [];
  const options: Record<string, unknown> = {
    inflater: (arr: Uint8Array, position: number): Uint8Array => {
      const inflated = inflateSync(arr.subarray(position));
      const full = new Uint8Array(position + inflated.length);
      full.set(arr.subarray(0, position));
      full.set(inflated, position);
      return full;
    },
  };
  if (!hasDicomPreamble(u8)) {
    const guess = guessRawTransferSyntax(u8);
    if (!guess) {
      throw new DicomError(source, `not a DICOM file (no 'DICM' marker at byte 128, and no DICOM data set at the start; ${u8.length} bytes)`);
    }
    options.TransferSyntaxUID = guess;
    warnings.push(`no Part 10 preamble; read as ${transferSyntaxName(guess)}`);
  }
  let ds: DataSet;
  try {
    ds = dicomParser.parseDicom(u8, options as Parameters<typeof dicomParser.parseDicom>[1]);
  } catch (err) {
    const msg = errorText(err);
    const truncated = /past end|overrun|overread|end of buffer/i.test(msg);
    throw new DicomError(source, truncated ? `truncated or corrupt DICOM file (${msg})` : `unreadable DICOM file (${msg})`);
  }
  const ts = (ds.string(T.TransferSyntaxUID) ?? (options.TransferSyntaxUID as string | undefined) ?? '1.2.840.10008.1.2').replace(/\0/g, '').trim();
  return { ds, ts, warnings };
}

// Attribute helpers (all tolerate absent elements).
const present = (ds: DataSet, tag: string) => {
  const el = ds.elements[tag];
  return el !== undefined && el.length > 0;
};
export const num = (ds: DataSet, tag: string, i = 0): number | undefined => {
  if (!present(ds, tag)) return undefined;
  const v = ds.floatString(tag, i);
  return v !== undefined && Number.isFinite(v) ? v : undefined;
};
export const int = (ds: DataSet, tag: string): number | undefined => {
  if (!present(ds, tag)) return undefined;
  const v = ds.intString(tag);
  return v !== undefined && Number.isFinite(v) ? v : undefined;
};
export const us = (ds: DataSet, tag: string): number | undefined => (present(ds, tag) ? ds.uint16(tag) : undefined);
export const str = (ds: DataSet, tag: string): string | undefined => {
  if (!present(ds, tag)) return undefined;
  const s = ds.string(tag)?.replace(/\0/g, '').trim();
  return s ? s : undefined;
};
export function nums(ds: DataSet, tag: string, n: number): number[] | undefined {
  if (!present(ds, tag)) return undefined;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = ds.floatString(tag, i);
    if (v === undefined || !Number.isFinite(v)) return undefined;
    out.push(v);
  }
  return out;
}
/** First item of a sequence, if any. */
export function item(ds: DataSet | undefined, tag: string): DataSet | undefined {
  return ds?.elements[tag]?.items?.[0]?.dataSet;
}
export function items(ds: DataSet, tag: string): DataSet[] {
  return (ds.elements[tag]?.items ?? []).map((i) => i.dataSet).filter((d): d is DataSet => d !== undefined);
}
