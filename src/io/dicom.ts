/**
 * DICOM image decoding, browser-safe (no Node APIs; Node file helpers live in `medical-files.ts`).
 *
 * Parsing is done by `dicom-parser` (cornerstone's small, dependency-free Part 10 parser: it gives byte
 * offsets of every element and the fragments of encapsulated pixel data, which is all a pixel decoder
 * needs). Pixel decoding is ours:
 *
 * - uncompressed Implicit/Explicit VR Little Endian, Explicit VR Big Endian, Deflated Explicit VR Little
 *   Endian (inflated with fflate) and Encapsulated Uncompressed;
 * - RLE Lossless (PS3.5 Annex G, decoded here: it is a few lines of PackBits);
 * - JPEG Baseline and 8-bit JPEG Extended (.50, .51) with `jpeg-js` (already a candor dependency, for PNG/JPEG
 *   folders); 12-bit JPEG Extended is a clear error. Lossy: values differ from libjpeg's by a grey level or so.
 * - JPEG Lossless Process 14 (any selection value, .57 and .70) with `jpeg-lossless-decoder-js`;
 * - JPEG 2000 (.90 lossless, .91) with `@cornerstonejs/codec-openjpeg` (OpenJPEG compiled to WebAssembly,
 *   shipped inside the npm package). It loads asynchronously, so JPEG 2000 needs {@link readDicom} (or a
 *   prior {@link loadJpeg2000Codec}); {@link readDicomSync} decodes everything else.
 * - every other transfer syntax (JPEG baseline/extended, JPEG-LS, HTJ2K, MPEG/HEVC video, JPEG XL…) is
 *   a {@link DicomError} naming the file, the transfer syntax's name and UID, and a conversion command.
 *
 * Pixel values: BitsStored < BitsAllocated is masked (bits above HighBit are ignored) and sign-extended
 * when PixelRepresentation = 1; then the modality transform is applied (RescaleSlope/Intercept, from the
 * top level or the enhanced multi-frame functional groups, per frame; RT Dose's DoseGridScaling), so
 * `frames` holds modality units (HU for CT). MONOCHROME1 pixel values are *not* inverted: inversion is a
 * display step done by {@link applyWindow}. Colour images (SamplesPerPixel 3) come out as RGB, planar,
 * `[F, 3, H, W]`; YBR_FULL and YBR_FULL_422 are converted to RGB (PS3.3 C.7.6.3.1.2); YBR_RCT/YBR_ICT are
 * RGB once the JPEG 2000 decoder has undone its component transform.
 *
 * Privacy: {@link DicomMeta} holds only technical fields. Patient name, ID, birth date, accession number,
 * institution, physicians, dates and UIDs are never read into it, and error messages only name the
 * source, tags and numbers — never element values that could identify a patient.
 */
import dicomParser from 'dicom-parser';
import type { DataSet, Element } from 'dicom-parser';
import { inflateSync } from 'fflate';
import jpeg from 'jpeg-js';
// @ts-ignore -- jpeg-lossless-decoder-js 2.1 points "types" at a file it does not ship; the API used is typed below.
import * as jpegLosslessModule from 'jpeg-lossless-decoder-js';
import { Tensor } from '../tensor/tensor.js';

// ---------------------------------------------------------------------------------------------------------
// Public types

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

// ---------------------------------------------------------------------------------------------------------
// Transfer syntaxes

type Codec = 'native' | 'deflate' | 'encapsulated-raw' | 'rle' | 'jpeg-baseline' | 'jpeg-lossless' | 'jpeg2000' | 'unsupported';

interface TransferSyntax {
  name: string;
  codec: Codec;
  littleEndian: boolean;
  /** How to convert to an uncompressed syntax, for the error message. */
  hint?: string;
}

const GDCM = '`gdcmconv --raw in.dcm out.dcm`';
const DJPEG = `${GDCM} or dcmtk's \`dcmdjpeg in.dcm out.dcm\``;
const TRANSFER_SYNTAXES: Record<string, TransferSyntax> = {
  '1.2.840.10008.1.2': { name: 'Implicit VR Little Endian', codec: 'native', littleEndian: true },
  '1.2.840.10008.1.2.1': { name: 'Explicit VR Little Endian', codec: 'native', littleEndian: true },
  '1.2.840.10008.1.2.1.98': { name: 'Encapsulated Uncompressed Explicit VR Little Endian', codec: 'encapsulated-raw', littleEndian: true },
  '1.2.840.10008.1.2.1.99': { name: 'Deflated Explicit VR Little Endian', codec: 'deflate', littleEndian: true },
  '1.2.840.10008.1.2.2': { name: 'Explicit VR Big Endian', codec: 'native', littleEndian: false },
  '1.2.840.10008.1.2.5': { name: 'RLE Lossless', codec: 'rle', littleEndian: true },
  '1.2.840.10008.1.2.4.50': { name: 'JPEG Baseline (Process 1)', codec: 'jpeg-baseline', littleEndian: true, hint: DJPEG },
  '1.2.840.10008.1.2.4.51': { name: 'JPEG Extended (Process 2 & 4)', codec: 'jpeg-baseline', littleEndian: true, hint: DJPEG },
  '1.2.840.10008.1.2.4.57': { name: 'JPEG Lossless, Non-Hierarchical (Process 14)', codec: 'jpeg-lossless', littleEndian: true },
  '1.2.840.10008.1.2.4.70': { name: 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])', codec: 'jpeg-lossless', littleEndian: true },
  '1.2.840.10008.1.2.4.80': { name: 'JPEG-LS Lossless Image Compression', codec: 'unsupported', littleEndian: true, hint: `${GDCM} or dcmtk's \`dcmdjpls in.dcm out.dcm\`` },
  '1.2.840.10008.1.2.4.81': { name: 'JPEG-LS Lossy (Near-Lossless) Image Compression', codec: 'unsupported', littleEndian: true, hint: `${GDCM} or dcmtk's \`dcmdjpls in.dcm out.dcm\`` },
  '1.2.840.10008.1.2.4.90': { name: 'JPEG 2000 Image Compression (Lossless Only)', codec: 'jpeg2000', littleEndian: true },
  '1.2.840.10008.1.2.4.91': { name: 'JPEG 2000 Image Compression', codec: 'jpeg2000', littleEndian: true },
  '1.2.840.10008.1.2.4.92': { name: 'JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)', codec: 'unsupported', littleEndian: true, hint: GDCM },
  '1.2.840.10008.1.2.4.93': { name: 'JPEG 2000 Part 2 Multi-component Image Compression', codec: 'unsupported', littleEndian: true, hint: GDCM },
  '1.2.840.10008.1.2.4.201': { name: 'High-Throughput JPEG 2000 Image Compression (Lossless Only)', codec: 'unsupported', littleEndian: true, hint: GDCM },
  '1.2.840.10008.1.2.4.202': { name: 'High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)', codec: 'unsupported', littleEndian: true, hint: GDCM },
  '1.2.840.10008.1.2.4.203': { name: 'High-Throughput JPEG 2000 Image Compression', codec: 'unsupported', littleEndian: true, hint: GDCM },
  '1.2.840.10008.1.2.4.100': { name: 'MPEG2 Main Profile / Main Level', codec: 'unsupported', littleEndian: true },
  '1.2.840.10008.1.2.4.101': { name: 'MPEG2 Main Profile / High Level', codec: 'unsupported', littleEndian: true },
  '1.2.840.10008.1.2.4.102': { name: 'MPEG-4 AVC/H.264 High Profile / Level 4.1', codec: 'unsupported', littleEndian: true },
  '1.2.840.10008.1.2.4.103': { name: 'MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1', codec: 'unsupported', littleEndian: true },
  '1.2.840.10008.1.2.4.104': { name: 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video', codec: 'unsupported', littleEndian: true },
  '1.2.840.10008.1.2.4.105': { name: 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video', codec: 'unsupported', littleEndian: true },
  '1.2.840.10008.1.2.4.106': { name: 'MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2', codec: 'unsupported', littleEndian: true },
  '1.2.840.10008.1.2.4.107': { name: 'HEVC/H.265 Main Profile / Level 5.1', codec: 'unsupported', littleEndian: true },
  '1.2.840.10008.1.2.4.108': { name: 'HEVC/H.265 Main 10 Profile / Level 5.1', codec: 'unsupported', littleEndian: true },
  '1.2.840.10008.1.2.4.110': { name: 'JPEG XL Lossless', codec: 'unsupported', littleEndian: true },
  '1.2.840.10008.1.2.4.111': { name: 'JPEG XL JPEG Recompression', codec: 'unsupported', littleEndian: true },
  '1.2.840.10008.1.2.4.112': { name: 'JPEG XL', codec: 'unsupported', littleEndian: true },
};

/** Name of a transfer syntax UID (or 'unknown transfer syntax'). */
export function transferSyntaxName(uid: string): string {
  return TRANSFER_SYNTAXES[uid]?.name ?? 'unknown transfer syntax';
}

/** Transfer syntax UIDs whose pixel data candor decodes (JPEG 2000 only through the async {@link readDicom}). */
export const SUPPORTED_TRANSFER_SYNTAXES: readonly string[] = Object.entries(TRANSFER_SYNTAXES)
  .filter(([, t]) => t.codec !== 'unsupported')
  .map(([uid]) => uid);

function unsupportedMessage(uid: string): string {
  const ts = TRANSFER_SYNTAXES[uid];
  const name = ts?.name ?? 'Unknown transfer syntax';
  const hint = ts?.hint ?? `${GDCM} or dcmtk's \`dcmconv +te in.dcm out.dcm\``;
  return `${name} (${uid}) is not supported; convert with ${hint}`;
}

// ---------------------------------------------------------------------------------------------------------
// Codecs

interface JpegLosslessDecoder {
  decode(buffer: ArrayBuffer, offset: number, length: number, numBytes?: number): Uint8Array | Uint16Array;
}
const jpegLossless = jpegLosslessModule as unknown as { Decoder: new () => JpegLosslessDecoder };

interface J2KFrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned: boolean;
}
interface J2KDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): J2KFrameInfo;
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}
interface OpenJpegModule {
  J2KDecoder: new () => J2KDecoder;
}

let openjpeg: OpenJpegModule | undefined;
let openjpegLoading: Promise<OpenJpegModule> | undefined;

/**
 * Loads the JPEG 2000 decoder (OpenJPEG as WebAssembly, ~260 KB) once. {@link readDicom} calls it when it
 * meets a JPEG 2000 file; call it yourself to let {@link readDicomSync} decode JPEG 2000 too.
 */
export async function loadJpeg2000Codec(): Promise<void> {
  if (openjpeg) return;
  openjpegLoading ??= (async () => {
    // @ts-ignore -- the package ships no type declarations; the emscripten factory is typed here.
    const mod = (await import('@cornerstonejs/codec-openjpeg/decodewasmjs')) as { default: unknown };
    const factory = mod.default as (opts: object) => Promise<OpenJpegModule>;
    const silent = () => {};
    return factory({ print: silent, printErr: silent });
  })();
  try {
    openjpeg = await openjpegLoading;
  } catch (err) {
    openjpegLoading = undefined;
    throw new Error(`could not load the JPEG 2000 decoder (@cornerstonejs/codec-openjpeg): ${(err as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Tags (dicom-parser's 'xggggeeee' form)

const T = {
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

function errorText(err: unknown): string {
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

interface Parsed {
  ds: DataSet;
  ts: string;
  warnings: string[];
}

function parse(bytes: Uint8Array, source: string): Parsed {
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
const num = (ds: DataSet, tag: string, i = 0): number | undefined => {
  if (!present(ds, tag)) return undefined;
  const v = ds.floatString(tag, i);
  return v !== undefined && Number.isFinite(v) ? v : undefined;
};
const int = (ds: DataSet, tag: string): number | undefined => {
  if (!present(ds, tag)) return undefined;
  const v = ds.intString(tag);
  return v !== undefined && Number.isFinite(v) ? v : undefined;
};
const us = (ds: DataSet, tag: string): number | undefined => (present(ds, tag) ? ds.uint16(tag) : undefined);
const str = (ds: DataSet, tag: string): string | undefined => {
  if (!present(ds, tag)) return undefined;
  const s = ds.string(tag)?.replace(/\0/g, '').trim();
  return s ? s : undefined;
};
function nums(ds: DataSet, tag: string, n: number): number[] | undefined {
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
function item(ds: DataSet | undefined, tag: string): DataSet | undefined {
  return ds?.elements[tag]?.items?.[0]?.dataSet;
}
function items(ds: DataSet, tag: string): DataSet[] {
  return (ds.elements[tag]?.items ?? []).map((i) => i.dataSet).filter((d): d is DataSet => d !== undefined);
}

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

// ---------------------------------------------------------------------------------------------------------
// Pixel helpers

/** Masks raw samples to BitsStored bits (starting at HighBit − BitsStored + 1) and sign-extends them. */
function normaliseStored(raw: Float64Array, bitsStored: number, highBit: number, signed: boolean, bitsAllocated: number): void {
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

/** PackBits decoding of one RLE segment into `out`. */
function unpackRleSegment(src: Uint8Array, start: number, end: number, out: Uint8Array, source: string): void {
  let i = start;
  let o = 0;
  while (i < end && o < out.length) {
    const n = src[i++]!;
    if (n < 128) {
      const len = n + 1;
      if (i + len > end) throw new DicomError(source, 'corrupt RLE segment (literal run past the end of the segment)');
      out.set(src.subarray(i, i + Math.min(len, out.length - o)), o);
      o += len;
      i += len;
    } else if (n > 128) {
      const len = 257 - n;
      const b = src[i++]!;
      out.fill(b, o, Math.min(out.length, o + len));
      o += len;
    }
    // n === 128: no-op
  }
  if (o < out.length) throw new DicomError(source, `corrupt RLE segment (${o} of ${out.length} bytes decoded)`);
}

/** RLE Lossless frame → planar raw samples. */
function decodeRleFrame(frame: Uint8Array, pixels: number, spp: number, bytesPerSample: number, source: string): Float64Array {
  if (frame.length < 64) throw new DicomError(source, 'corrupt RLE frame (shorter than its 64-byte header)');
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const nseg = dv.getUint32(0, true);
  const need = spp * bytesPerSample;
  if (nseg !== need) throw new DicomError(source, `RLE frame has ${nseg} segments; SamplesPerPixel × bytes per sample needs ${need}`);
  const offsets: number[] = [];
  for (let s = 0; s < nseg; s++) offsets.push(dv.getUint32(4 + 4 * s, true));
  const out = new Float64Array(pixels * spp);
  const seg = new Uint8Array(pixels);
  for (let s = 0; s < nseg; s++) {
    const start = offsets[s]!;
    const end = s + 1 < nseg ? offsets[s + 1]! : frame.length;
    if (start < 64 || end > frame.length || end < start) throw new DicomError(source, 'corrupt RLE frame (bad segment offsets)');
    unpackRleSegment(frame, start, end, seg, source);
    const sample = Math.floor(s / bytesPerSample);
    const weight = 2 ** (8 * (bytesPerSample - 1 - (s % bytesPerSample)));
    const base = sample * pixels;
    for (let p = 0; p < pixels; p++) out[base + p]! += seg[p]! * weight;
  }
  return out;
}

/** Frames of encapsulated pixel data, using (in order) the extended offset table, the basic offset table, one fragment per frame, or JPEG markers. */
function encapsulatedFrames(ds: DataSet, el: Element, nFrames: number, codec: Codec, littleEndian: boolean, source: string): Uint8Array[] {
  const frags = el.fragments ?? [];
  if (frags.length === 0) throw new DicomError(source, 'encapsulated Pixel Data has no fragments');
  const out: Uint8Array[] = [];
  const asU8 = (b: Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  const eot = ds.elements[T.ExtendedOffsetTable];
  if (eot && eot.length >= 8 * nFrames) {
    const dv = new DataView(ds.byteArray.buffer, ds.byteArray.byteOffset + eot.dataOffset, eot.length);
    const offsets = Array.from({ length: nFrames }, (_, i) => Number(dv.getBigUint64(8 * i, littleEndian)));
    for (let i = 0; i < nFrames; i++) out.push(asU8(dicomParser.readEncapsulatedImageFrame(ds, el, i, offsets)));
    return out;
  }
  if ((el.basicOffsetTable?.length ?? 0) > 0) {
    if (el.basicOffsetTable!.length < nFrames) throw new DicomError(source, `basic offset table has ${el.basicOffsetTable!.length} entries for ${nFrames} frames`);
    for (let i = 0; i < nFrames; i++) out.push(asU8(dicomParser.readEncapsulatedImageFrame(ds, el, i)));
    return out;
  }
  if (nFrames === 1) return [asU8(dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, frags.length))];
  if (frags.length === nFrames) {
    for (let i = 0; i < nFrames; i++) out.push(asU8(dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, i, 1)));
    return out;
  }
  if (codec === 'jpeg-lossless' || codec === 'jpeg-baseline') {
    const bot = dicomParser.createJPEGBasicOffsetTable(ds, el);
    for (let i = 0; i < nFrames; i++) out.push(asU8(dicomParser.readEncapsulatedImageFrame(ds, el, i, bot)));
    return out;
  }
  throw new DicomError(source, `cannot split ${frags.length} pixel data fragments into ${nFrames} frames (no offset table)`);
}

/** SOF precision and the Adobe APP14 colour transform flag of a JPEG stream (undefined when absent). */
function jpegMarkers(frame: Uint8Array): { precision?: number; adobeTransform?: number } {
  const out: { precision?: number; adobeTransform?: number } = {};
  let i = 2;
  while (i + 4 <= frame.length) {
    if (frame[i] !== 0xff) {
      i++;
      continue;
    }
    const marker = frame[i + 1]!;
    if (marker === 0xff || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      i += marker === 0xff ? 1 : 2;
      continue;
    }
    const len = (frame[i + 2]! << 8) | frame[i + 3]!;
    if (marker === 0xee && len >= 12 && String.fromCharCode(...frame.subarray(i + 4, i + 9)) === 'Adobe') out.adobeTransform = frame[i + 15];
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      out.precision = frame[i + 4];
      return out;
    }
    if (marker === 0xda) return out;
    i += 2 + len;
  }
  return out;
}

function ybrToRgb(y: number, cb: number, cr: number, max: number): [number, number, number] {
  const mid = (max + 1) / 2;
  const clip = (v: number) => Math.min(max, Math.max(0, Math.round(v)));
  return [
    clip(y + 1.402 * (cr - mid)),
    clip(y - 0.344136 * (cb - mid) - 0.714136 * (cr - mid)),
    clip(y + 1.772 * (cb - mid)),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// Reading

interface PixelModule {
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

function pixelModule(ds: DataSet, source: string): PixelModule {
  const rows = us(ds, T.Rows);
  const columns = us(ds, T.Columns);
  const bitsAllocated = us(ds, T.BitsAllocated);
  if (!rows || !columns) throw new DicomError(source, 'Rows (0028,0010) or Columns (0028,0011) missing or zero');
  if (!bitsAllocated) throw new DicomError(source, 'BitsAllocated (0028,0100) missing');
  if (![1, 8, 16, 32].includes(bitsAllocated)) throw new DicomError(source, `BitsAllocated ${bitsAllocated} is not supported (1, 8, 16 or 32)`);
  const bitsStored = Math.min(us(ds, T.BitsStored) ?? bitsAllocated, bitsAllocated);
  const highBit = us(ds, T.HighBit) ?? bitsStored - 1;
  return {
    rows,
    columns,
    spp: us(ds, T.SamplesPerPixel) ?? 1,
    frames: Math.max(1, int(ds, T.NumberOfFrames) ?? 1),
    bitsAllocated,
    bitsStored: bitsStored > 0 ? bitsStored : bitsAllocated,
    highBit: highBit >= 0 && highBit < bitsAllocated ? highBit : bitsStored - 1,
    signed: (us(ds, T.PixelRepresentation) ?? 0) === 1,
    photometric: (str(ds, T.PhotometricInterpretation) ?? (us(ds, T.SamplesPerPixel) === 3 ? 'RGB' : 'MONOCHROME2')).toUpperCase(),
    planar: us(ds, T.PlanarConfiguration) ?? 0,
  };
}

function readMeta(ds: DataSet, ts: string, pm: PixelModule, slope: number, intercept: number): DicomMeta {
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

function voiFunction(s: string | undefined): VoiLutFunction | undefined {
  const u = s?.toUpperCase();
  return u === 'LINEAR' || u === 'LINEAR_EXACT' || u === 'SIGMOID' ? u : undefined;
}

/** The file's first window: top level, else the first frame's (or shared) Frame VOI LUT functional group. */
function windowOf(ds: DataSet): { center: number; width: number; fn: VoiLutFunction; count: number } | undefined {
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

/** Per-frame modality transform: top level, else per-frame, else shared functional groups; RT Dose grid scaling. */
function rescaleOf(ds: DataSet, nFrames: number, warnings: string[]): { slope: number[]; intercept: number[] } {
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

/** Raw samples of every frame (before masking), each in the layout given. */
interface RawFrame {
  data: Float64Array;
  planar: boolean;
  /** True when the decoder has already turned YBR into RGB. */
  rgb?: boolean;
  /** YBR_FULL_422 as stored uncompressed: Y1 Y2 Cb Cr per pair of pixels. */
  subsampled422?: boolean;
}

function nativeFrames(ds: DataSet, el: Element, pm: PixelModule, littleEndian: boolean, source: string): RawFrame[] {
  const { rows, columns, spp, frames, bitsAllocated } = pm;
  const pixels = rows * columns;
  const is422 = pm.photometric === 'YBR_FULL_422' && spp === 3;
  const samplesPerFrame = is422 ? pixels * 2 : pixels * spp;
  const bitsPerFrame = samplesPerFrame * bitsAllocated;
  const needBytes = Math.ceil((bitsPerFrame * frames) / 8);
  const available = Math.min(el.length, ds.byteArray.length - el.dataOffset);
  if (available < needBytes) {
    throw new DicomError(source, `truncated Pixel Data: ${Math.max(0, available)} bytes, but ${rows}×${columns}×${spp} samples × ${frames} frame(s) × ${bitsAllocated} bits need ${needBytes}`);
  }
  const buf = ds.byteArray;
  const dv = new DataView(buf.buffer, buf.byteOffset + el.dataOffset, needBytes);
  // OW data in big endian swaps bytes in 16-bit words even for 8-bit samples.
  const swap8 = !littleEndian && bitsAllocated === 8 && el.vr === 'OW';
  const out: RawFrame[] = [];
  for (let f = 0; f < frames; f++) {
    const data = new Float64Array(samplesPerFrame);
    if (bitsAllocated === 1) {
      const bit0 = f * bitsPerFrame;
      for (let i = 0; i < samplesPerFrame; i++) {
        const b = bit0 + i;
        data[i] = (dv.getUint8(b >> 3) >> (b & 7)) & 1;
      }
    } else {
      const step = bitsAllocated / 8;
      const base = f * samplesPerFrame * step;
      for (let i = 0; i < samplesPerFrame; i++) {
        const o = base + i * step;
        if (step === 1) data[i] = dv.getUint8(swap8 ? o ^ 1 : o);
        else if (step === 2) data[i] = dv.getUint16(o, littleEndian);
        else data[i] = dv.getUint32(o, littleEndian);
      }
    }
    out.push({ data, planar: pm.planar === 1 && !is422, subsampled422: is422 });
  }
  return out;
}

function compressedFrames(parsed: Parsed, el: Element, pm: PixelModule, codec: Codec, source: string): RawFrame[] {
  const { ds, ts } = parsed;
  const tsInfo = TRANSFER_SYNTAXES[ts]!;
  const encoded = encapsulatedFrames(ds, el, pm.frames, codec, tsInfo.littleEndian, source);
  const pixels = pm.rows * pm.columns;
  const bytesPerSample = Math.ceil(pm.bitsAllocated / 8);
  return encoded.map((frame, f): RawFrame => {
    const where = pm.frames > 1 ? ` (frame ${f + 1} of ${pm.frames})` : '';
    try {
      if (codec === 'rle') return { data: decodeRleFrame(frame, pixels, pm.spp, bytesPerSample, source), planar: true };
      if (codec === 'encapsulated-raw') {
        const need = pixels * pm.spp * bytesPerSample;
        if (frame.length < need) throw new DicomError(source, `truncated frame${where}: ${frame.length} of ${need} bytes`);
        const dv = new DataView(frame.buffer, frame.byteOffset, need);
        const data = new Float64Array(pixels * pm.spp);
        for (let i = 0; i < data.length; i++) {
          data[i] = bytesPerSample === 1 ? dv.getUint8(i) : bytesPerSample === 2 ? dv.getUint16(2 * i, true) : dv.getUint32(4 * i, true);
        }
        return { data, planar: pm.planar === 1 };
      }
      if (codec === 'jpeg-baseline') {
        const { precision, adobeTransform } = jpegMarkers(frame);
        if (precision !== 8 || pm.bitsAllocated !== 8) {
          throw new DicomError(source, `${tsInfo.name} (${ts}) with ${precision ?? '?'}-bit samples is not supported (8-bit only); convert with ${tsInfo.hint}`);
        }
        // A 3-component stream holds YCbCr unless the header says RGB (and no Adobe marker says otherwise).
        const colorTransform = adobeTransform !== undefined ? adobeTransform !== 0 : pm.photometric !== 'RGB';
        const img = jpeg.decode(frame, { useTArray: true, formatAsRGBA: false, colorTransform, maxMemoryUsageInMB: 4096, maxResolutionInMP: 1000 });
        if (img.width !== pm.columns || img.height !== pm.rows) {
          throw new DicomError(source, `JPEG frame${where} is ${img.width}×${img.height}, but the header says ${pm.columns}×${pm.rows}`);
        }
        const data = new Float64Array(pixels * pm.spp);
        if (pm.spp === 1) for (let p = 0; p < pixels; p++) data[p] = img.data[3 * p]!;
        else data.set(img.data.subarray(0, pixels * 3));
        return { data, planar: false, rgb: true };
      }
      if (codec === 'jpeg-lossless') {
        if (bytesPerSample > 2) throw new DicomError(source, `JPEG Lossless with BitsAllocated ${pm.bitsAllocated} is not supported`);
        const dec = new jpegLossless.Decoder();
        const decoded = dec.decode(frame.buffer as ArrayBuffer, frame.byteOffset, frame.byteLength, bytesPerSample);
        if (decoded.length < pixels * pm.spp) throw new DicomError(source, `JPEG Lossless frame${where} decoded to ${decoded.length} samples, expected ${pixels * pm.spp}`);
        return { data: Float64Array.from(decoded.subarray(0, pixels * pm.spp)), planar: false };
      }
      if (codec === 'jpeg2000') {
        if (!openjpeg) throw new DicomError(source, `${tsInfo.name} (${ts}) needs the asynchronous readDicom() (or await loadJpeg2000Codec() first)`);
        const dec = new openjpeg.J2KDecoder();
        try {
          dec.getEncodedBuffer(frame.length).set(frame);
          dec.decode();
          const info = dec.getFrameInfo();
          if (info.width !== pm.columns || info.height !== pm.rows || info.componentCount !== pm.spp) {
            throw new DicomError(source, `JPEG 2000 frame${where} is ${info.width}×${info.height}×${info.componentCount}, but the header says ${pm.columns}×${pm.rows}×${pm.spp}`);
          }
          const bytes = dec.getDecodedBuffer();
          const n = pixels * pm.spp;
          const data = new Float64Array(n);
          const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
          const width = info.bitsPerSample <= 8 ? 1 : 2;
          if (bytes.byteLength < n * width) throw new DicomError(source, `JPEG 2000 frame${where} decoded to too few bytes`);
          for (let i = 0; i < n; i++) {
            data[i] = width === 1 ? (info.isSigned ? dv.getInt8(i) : dv.getUint8(i)) : info.isSigned ? dv.getInt16(2 * i, true) : dv.getUint16(2 * i, true);
          }
          return { data, planar: false, rgb: pm.photometric === 'YBR_RCT' || pm.photometric === 'YBR_ICT' };
        } finally {
          dec.delete();
        }
      }
      throw new DicomError(source, unsupportedMessage(ts));
    } catch (err) {
      if (err instanceof DicomError) throw err;
      throw new DicomError(source, `could not decode ${tsInfo.name} pixel data${where}: ${errorText(err)}`);
    }
  });
}

function decode(parsed: Parsed, source: string, opts: ReadDicomOptions): DicomImage {
  const { ds, ts } = parsed;
  const warnings = [...parsed.warnings];
  const tsInfo = TRANSFER_SYNTAXES[ts];
  if (!tsInfo || tsInfo.codec === 'unsupported') throw new DicomError(source, unsupportedMessage(ts));
  const el = ds.elements[T.PixelData];
  if (!el) {
    if (ds.elements[T.FloatPixelData] || ds.elements[T.DoubleFloatPixelData]) throw new DicomError(source, 'Float Pixel Data (7FE0,0008/0009) is not supported');
    throw new DicomError(source, 'no Pixel Data (7FE0,0010): not an image');
  }
  const pm = pixelModule(ds, source);
  const pi = pm.photometric;
  const color = pm.spp === 3;
  if (pm.spp !== 1 && pm.spp !== 3) throw new DicomError(source, `SamplesPerPixel ${pm.spp} is not supported (1 or 3)`);
  if (pi === 'PALETTE COLOR') throw new DicomError(source, 'PALETTE COLOR images are not supported; convert to RGB first');
  if (!color && pi !== 'MONOCHROME1' && pi !== 'MONOCHROME2') throw new DicomError(source, `PhotometricInterpretation ${pi} with 1 sample per pixel is not supported`);
  if (color && !['RGB', 'YBR_FULL', 'YBR_FULL_422', 'YBR_RCT', 'YBR_ICT'].includes(pi)) throw new DicomError(source, `PhotometricInterpretation ${pi} is not supported`);
  if (pm.bitsAllocated === 1 && (color || tsInfo.codec !== 'native')) throw new DicomError(source, '1-bit pixel data is supported only uncompressed and grayscale');

  let raw: RawFrame[];
  if (tsInfo.codec === 'native' || tsInfo.codec === 'deflate') {
    if (el.encapsulatedPixelData) throw new DicomError(source, `Pixel Data is encapsulated but the transfer syntax is ${tsInfo.name}`);
    raw = nativeFrames(ds, el, pm, tsInfo.littleEndian, source);
  } else {
    if (!el.encapsulatedPixelData) throw new DicomError(source, `${tsInfo.name} (${ts}) requires encapsulated Pixel Data`);
    raw = compressedFrames(parsed, el, pm, tsInfo.codec, source);
  }

  const { rows, columns, frames: nFrames } = pm;
  const pixels = rows * columns;
  const doRescale = opts.rescale ?? true;
  const rescale = doRescale ? rescaleOf(ds, nFrames, warnings) : { slope: Array(nFrames).fill(1), intercept: Array(nFrames).fill(0) };
  const channels = color ? 3 : 1;
  const out = new Float32Array(nFrames * channels * pixels);
  const maxValue = 2 ** pm.bitsStored - 1;
  for (let f = 0; f < nFrames; f++) {
    const r = raw[f]!;
    normaliseStored(r.data, pm.bitsStored, pm.highBit, pm.signed, pm.bitsAllocated);
    const base = f * channels * pixels;
    if (!color) {
      const s = rescale.slope[f]!;
      const b = rescale.intercept[f]!;
      for (let p = 0; p < pixels; p++) out[base + p] = r.data[p]! * s + b;
      continue;
    }
    // colour: gather (c0, c1, c2) per pixel, convert YBR → RGB when needed, write planar RGB
    const ybr = !r.rgb && (pi === 'YBR_FULL' || pi === 'YBR_FULL_422');
    for (let p = 0; p < pixels; p++) {
      let a: number, b: number, c: number;
      if (r.subsampled422) {
        const pair = p - (p % 2); // pixels in pairs along the row (columns must be even per PS3.3)
        const q = (pair / 2) * 4;
        a = r.data[q + (p % 2)]!;
        b = r.data[q + 2]!;
        c = r.data[q + 3]!;
      } else if (r.planar) {
        a = r.data[p]!;
        b = r.data[pixels + p]!;
        c = r.data[2 * pixels + p]!;
      } else {
        a = r.data[3 * p]!;
        b = r.data[3 * p + 1]!;
        c = r.data[3 * p + 2]!;
      }
      if (ybr) [a, b, c] = ybrToRgb(a, b, c, maxValue);
      out[base + p] = a;
      out[base + pixels + p] = b;
      out[base + 2 * pixels + p] = c;
    }
  }
  const shape = color ? [nFrames, 3, rows, columns] : [nFrames, rows, columns];
  const meta = readMeta(ds, ts, pm, rescale.slope[0]!, rescale.intercept[0]!);
  if (!doRescale) {
    meta.rescaleSlope = 1;
    meta.rescaleIntercept = 0;
  }
  let window: DicomWindow | undefined;
  if (opts.windowCenter !== undefined || opts.windowWidth !== undefined) {
    if (opts.windowCenter === undefined || opts.windowWidth === undefined || !(opts.windowWidth > 0)) {
      throw new DicomError(source, 'window options need both windowCenter and a positive windowWidth');
    }
    window = { center: opts.windowCenter, width: opts.windowWidth, function: opts.voiLutFunction ?? meta.voiLutFunction ?? 'LINEAR', origin: 'options' };
  } else if (meta.windowCenter !== undefined && meta.windowWidth !== undefined && doRescale) {
    window = { center: meta.windowCenter, width: meta.windowWidth, function: opts.voiLutFunction ?? meta.voiLutFunction ?? 'LINEAR', origin: 'file' };
  }
  const image: DicomImage = {
    source,
    frames: new Tensor(out, shape),
    meta,
    invert: pi === 'MONOCHROME1',
    rescale,
    warnings,
  };
  if (window) image.window = window;
  return image;
}

/**
 * Reads one DICOM image (Part 10 file, or a bare data set) into float32 frames in modality units.
 * Synchronous; JPEG 2000 works only after {@link loadJpeg2000Codec} has resolved (or use {@link readDicom}).
 * @param source names the data in error messages (usually the file path).
 */
export function readDicomSync(bytes: Uint8Array, source = 'DICOM data', opts: ReadDicomOptions = {}): DicomImage {
  return decode(parse(bytes, source), source, opts);
}

/** Reads one DICOM image, loading the JPEG 2000 decoder on first need. See {@link readDicomSync}. */
export async function readDicom(bytes: Uint8Array, source = 'DICOM data', opts: ReadDicomOptions = {}): Promise<DicomImage> {
  const parsed = parse(bytes, source);
  if (TRANSFER_SYNTAXES[parsed.ts]?.codec === 'jpeg2000' && parsed.ds.elements[T.PixelData]) await loadJpeg2000Codec();
  return decode(parsed, source, opts);
}

/**
 * Reads only the header (no pixel decoding): the technical meta and the transfer syntax's support status.
 * Useful for sorting a series before decoding it.
 */
export function readDicomMeta(bytes: Uint8Array, source = 'DICOM data'): { meta: DicomMeta; hasPixelData: boolean; supported: boolean } {
  const parsed = parse(bytes, source);
  const { ds, ts } = parsed;
  const hasPixelData = ds.elements[T.PixelData] !== undefined;
  const pm = hasPixelData
    ? pixelModule(ds, source)
    : { rows: us(ds, T.Rows) ?? 0, columns: us(ds, T.Columns) ?? 0, spp: 1, frames: 1, bitsAllocated: 0, bitsStored: 0, highBit: 0, signed: false, photometric: str(ds, T.PhotometricInterpretation) ?? '', planar: 0 };
  const r = rescaleOf(ds, 1, []);
  const codec = TRANSFER_SYNTAXES[ts]?.codec;
  return { meta: readMeta(ds, ts, pm, r.slope[0]!, r.intercept[0]!), hasPixelData, supported: codec !== undefined && codec !== 'unsupported' };
}

// ---------------------------------------------------------------------------------------------------------
// Display

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

// ---------------------------------------------------------------------------------------------------------
// Series

type Ordered = { meta: DicomMeta; source: string };
const byNumber = (x: number | undefined, y: number | undefined) => (x === undefined ? (y === undefined ? 0 : 1) : y === undefined ? -1 : x - y);
const bySource = (a: Ordered, b: Ordered) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0);

/**
 * Order within one series: InstanceNumber, then the position of ImagePositionPatient along the slice
 * normal (row × column direction of ImageOrientationPatient), then source name. Missing values sort last.
 */
export function compareDicomOrder(a: Ordered, b: Ordered): number {
  return (
    byNumber(a.meta.instanceNumber, b.meta.instanceNumber) ||
    byNumber(slicePosition(a.meta), slicePosition(b.meta)) ||
    bySource(a, b)
  );
}

/**
 * Sorts images into series order, deterministically: series grouped by {@link DicomMeta.seriesKey},
 * series ordered by SeriesNumber then by their first source name, images within a series by
 * {@link compareDicomOrder}.
 */
export function sortDicomImages<T extends Ordered>(images: readonly T[]): T[] {
  const groups = new Map<string, T[]>();
  for (const im of images) {
    const k = im.meta.seriesKey ?? '';
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(im);
  }
  const sorted = [...groups.values()].map((g) => [...g].sort(compareDicomOrder));
  const firstSource = (g: T[]) => g.reduce((m, im) => (im.source < m ? im.source : m), g[0]!.source);
  sorted.sort((a, b) => {
    const d = byNumber(a[0]!.meta.seriesNumber, b[0]!.meta.seriesNumber);
    if (d) return d;
    const fa = firstSource(a);
    const fb = firstSource(b);
    return fa < fb ? -1 : fa > fb ? 1 : 0;
  });
  return sorted.flat();
}

/** Position along the slice normal (mm), or the z coordinate when the orientation is missing. */
export function slicePosition(meta: DicomMeta): number | undefined {
  const p = meta.imagePositionPatient;
  if (!p) return meta.sliceLocation;
  const o = meta.imageOrientationPatient;
  if (!o) return p[2];
  const n = [o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]];
  return p[0] * n[0]! + p[1] * n[1]! + p[2] * n[2]!;
}

/** Concatenates the frames of several images (all the same size and channel count) into one `[N, H, W]` (or `[N, 3, H, W]`) tensor. */
export function stackDicomFrames(images: readonly DicomImage[]): Tensor<Float32Array> {
  if (images.length === 0) throw new Error('stackDicomFrames: no images');
  const inner = images[0]!.frames.shape.slice(1);
  let total = 0;
  for (const im of images) {
    const s = im.frames.shape.slice(1);
    if (s.length !== inner.length || s.some((d, i) => d !== inner[i])) {
      throw new DicomError(im.source, `frame shape [${s.join(', ')}] differs from the first image's [${inner.join(', ')}] (${images[0]!.source})`);
    }
    total += im.frames.shape[0]!;
  }
  const out = new Float32Array(images.reduce((n, im) => n + im.frames.data.length, 0));
  let off = 0;
  for (const im of images) {
    out.set(im.frames.data, off);
    off += im.frames.data.length;
  }
  return new Tensor(out, [total, ...inner]);
}
