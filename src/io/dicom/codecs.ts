/**
 * Decoding of encapsulated pixel data, one frame at a time. `dicom-parser` only parses; pixel decoding is ours:
 *
 * - uncompressed Implicit/Explicit VR Little Endian, Explicit VR Big Endian and Deflated Explicit VR Little
 *   Endian (inflated with fflate while parsing, in `dataset.ts`) are read in `frames.ts`; Encapsulated
 *   Uncompressed is read here;
 * - RLE Lossless (PS3.5 Annex G, decoded here: it is a few lines of PackBits);
 * - JPEG Baseline and 8-bit JPEG Extended (.50, .51) with `jpeg-js` (already a candor dependency, for PNG/JPEG
 *   folders); 12-bit JPEG Extended is a clear error. Lossy: values differ from libjpeg's by a grey level or so.
 * - JPEG Lossless Process 14 (any selection value, .57 and .70) with `jpeg-lossless-decoder-js`;
 * - JPEG 2000 (.90 lossless, .91) with `@cornerstonejs/codec-openjpeg` (OpenJPEG compiled to WebAssembly,
 *   shipped inside the npm package). It loads asynchronously, so JPEG 2000 needs `readDicom` (or a
 *   prior {@link loadJpeg2000Codec}); `readDicomSync` decodes everything else.
 * - every other transfer syntax (JPEG baseline/extended, JPEG-LS, HTJ2K, MPEG/HEVC video, JPEG XL…) is
 *   a {@link DicomError} naming the file, the transfer syntax's name and UID, and a conversion command.
 */
import type { Element } from 'dicom-parser';
import jpeg from 'jpeg-js';
// @ts-ignore -- jpeg-lossless-decoder-js 2.1 points "types" at a file it does not ship; the API used is typed below.
import * as jpegLosslessModule from 'jpeg-lossless-decoder-js';
import { errorText, type Parsed } from './dataset.js';
import { encapsulatedFrames, type RawFrame } from './frames.js';
import type { PixelModule } from './header.js';
import { TRANSFER_SYNTAXES, unsupportedMessage, type Codec } from './transfer-syntaxes.js';
import { DicomError } from './types.js';
import { READ_LIMITS } from '../limits.js';

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
// RLE Lossless

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

// ---------------------------------------------------------------------------------------------------------
// JPEG

/** SOF precision and size, and the Adobe APP14 colour transform flag of a JPEG stream (undefined when absent). */
function jpegMarkers(frame: Uint8Array): { precision?: number; adobeTransform?: number; width?: number; height?: number; components?: number } {
  const out: { precision?: number; adobeTransform?: number; width?: number; height?: number; components?: number } = {};
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
      if (i + 10 <= frame.length) {
        out.height = (frame[i + 5]! << 8) | frame[i + 6]!;
        out.width = (frame[i + 7]! << 8) | frame[i + 8]!;
        out.components = frame[i + 9];
      }
      return out;
    }
    if (marker === 0xda) return out;
    i += 2 + len;
  }
  return out;
}

/** Image size from a JPEG 2000 codestream's SIZ marker (FF4F FF51), or from a JP2 file's codestream box. */
function j2kSize(frame: Uint8Array): { width: number; height: number } | undefined {
  let p = 0;
  if (frame.length >= 12 && frame[4] === 0x6a && frame[5] === 0x50) {
    // JP2 boxes: find the contiguous codestream box 'jp2c'.
    const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    let q = 0;
    while (q + 8 <= frame.length) {
      const len = dv.getUint32(q);
      const type = String.fromCharCode(frame[q + 4]!, frame[q + 5]!, frame[q + 6]!, frame[q + 7]!);
      if (type === 'jp2c') {
        p = q + 8;
        break;
      }
      if (len < 8) return undefined;
      q += len;
    }
  }
  if (p + 24 > frame.length || frame[p] !== 0xff || frame[p + 1] !== 0x4f || frame[p + 2] !== 0xff || frame[p + 3] !== 0x51) return undefined;
  const dv = new DataView(frame.buffer, frame.byteOffset + p + 4, 20);
  const xs = dv.getUint32(4);
  const ys = dv.getUint32(8);
  const xo = dv.getUint32(12);
  const yo = dv.getUint32(16);
  return { width: xs - xo, height: ys - yo };
}

// ---------------------------------------------------------------------------------------------------------
// Frames

export function compressedFrames(parsed: Parsed, el: Element, pm: PixelModule, codec: Codec, source: string): RawFrame[] {
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
      if (codec === 'jpeg-baseline' || codec === 'jpeg-lossless') {
        // The codestream's size must be the header's before anything is decoded (a 3 kB frame may claim 30,000²).
        const sof = jpegMarkers(frame);
        if (sof.width !== pm.columns || sof.height !== pm.rows) {
          throw new DicomError(source, `JPEG frame${where} is ${sof.width ?? '?'}×${sof.height ?? '?'} by its frame header, but Rows/Columns say ${pm.columns}×${pm.rows}`);
        }
      }
      if (codec === 'jpeg-baseline') {
        const { precision, adobeTransform } = jpegMarkers(frame);
        if (precision !== 8 || pm.bitsAllocated !== 8) {
          throw new DicomError(source, `${tsInfo.name} (${ts}) with ${precision ?? '?'}-bit samples is not supported (8-bit only); convert with ${tsInfo.hint}`);
        }
        // A 3-component stream holds YCbCr unless the header says RGB (and no Adobe marker says otherwise).
        const colorTransform = adobeTransform !== undefined ? adobeTransform !== 0 : pm.photometric !== 'RGB';
        const img = jpeg.decode(frame, { useTArray: true, formatAsRGBA: false, colorTransform, maxMemoryUsageInMB: Math.max(64, (READ_LIMITS.maxPixels * 12) / 2 ** 20), maxResolutionInMP: READ_LIMITS.maxPixels / 1e6 });
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
        const siz = j2kSize(frame);
        if (siz && (siz.width !== pm.columns || siz.height !== pm.rows)) {
          throw new DicomError(source, `JPEG 2000 frame${where} is ${siz.width}×${siz.height} by its SIZ marker, but Rows/Columns say ${pm.columns}×${pm.rows}`);
        }
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
