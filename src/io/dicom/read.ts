/**
 * The readers: parse, check that the image is one candor decodes, extract and decode the frames, apply
 * the modality transform and the photometric conversion, and pick the window to display with.
 */
import { Tensor } from '../../tensor/tensor.js';
import { loadJpeg2000Codec, compressedFrames } from './codecs.js';
import { errorText, parse, str, T, us, type Parsed } from './dataset.js';
import { nativeFrames, type RawFrame } from './frames.js';
import { pixelModule, readMeta } from './header.js';
import { normaliseStored, rescaleOf, ybrToRgb } from './pixel-values.js';
import { TRANSFER_SYNTAXES, unsupportedMessage } from './transfer-syntaxes.js';
import { DicomError, type DicomImage, type DicomMeta, type DicomWindow, type ReadDicomOptions } from './types.js';

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
  return named(source, 'decoding', () => decode(parse(bytes, source), source, opts));
}

/**
 * Runs a step of reading `source`; anything thrown that is not already candor's DicomError (dicom-parser's
 * strings and `{ exception }` objects, TypeErrors from damaged elements, codec failures) becomes one that
 * names the file and the step.
 */
function named<T>(source: string, step: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof DicomError) throw err;
    throw new DicomError(source, `corrupt DICOM file: ${step} failed (${errorText(err)})`);
  }
}

/** Reads one DICOM image, loading the JPEG 2000 decoder on first need. See {@link readDicomSync}. */
export async function readDicom(bytes: Uint8Array, source = 'DICOM data', opts: ReadDicomOptions = {}): Promise<DicomImage> {
  const parsed = named(source, 'parsing', () => parse(bytes, source));
  if (TRANSFER_SYNTAXES[parsed.ts]?.codec === 'jpeg2000' && parsed.ds.elements[T.PixelData]) await loadJpeg2000Codec();
  return named(source, 'decoding', () => decode(parsed, source, opts));
}

/**
 * Reads only the header (no pixel decoding): the technical meta and the transfer syntax's support status.
 * Useful for sorting a series before decoding it.
 */
export function readDicomMeta(bytes: Uint8Array, source = 'DICOM data'): { meta: DicomMeta; hasPixelData: boolean; supported: boolean } {
  return named(source, 'reading the header', () => readMetaOf(bytes, source));
}

function readMetaOf(bytes: Uint8Array, source: string): { meta: DicomMeta; hasPixelData: boolean; supported: boolean } {
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
