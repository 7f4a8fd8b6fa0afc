/**
 * Frame extraction: the raw samples of each frame of native (uncompressed) Pixel Data, and the encoded
 * bytes of each frame of encapsulated Pixel Data (decoded in `codecs.ts`).
 */
import dicomParser from 'dicom-parser';
import type { DataSet, Element } from 'dicom-parser';
import { T } from './dataset.js';
import type { PixelModule } from './header.js';
import type { Codec } from './transfer-syntaxes.js';
import { DicomError } from './types.js';

/** Raw samples of every frame (before masking), each in the layout given. */
export interface RawFrame {
  data: Float64Array;
  planar: boolean;
  /** True when the decoder has already turned YBR into RGB. */
  rgb?: boolean;
  /** YBR_FULL_422 as stored uncompressed: Y1 Y2 Cb Cr per pair of pixels. */
  subsampled422?: boolean;
}

export function nativeFrames(ds: DataSet, el: Element, pm: PixelModule, littleEndian: boolean, source: string): RawFrame[] {
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
  // More data than the header describes (beyond the even-length pad byte): Rows, Columns, NumberOfFrames or
  // BitsAllocated do not describe these pixels, and reading a prefix of them would be a plausible wrong image.
  if (el.length > needBytes + (needBytes % 2) + 1) {
    throw new DicomError(source, `Pixel Data holds ${el.length} bytes, but ${rows}×${columns}×${spp} samples × ${frames} frame(s) × ${bitsAllocated} bits need ${needBytes}: Rows (0028,0010), Columns (0028,0011), NumberOfFrames or BitsAllocated do not match the pixels`);
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

/** Frames of encapsulated pixel data, using (in order) the extended offset table, the basic offset table, one fragment per frame, or JPEG markers. */
export function encapsulatedFrames(ds: DataSet, el: Element, nFrames: number, codec: Codec, littleEndian: boolean, source: string): Uint8Array[] {
  const frags = el.fragments ?? [];
  if (frags.length === 0) throw new DicomError(source, 'encapsulated Pixel Data has no fragments');
  const out: Uint8Array[] = [];
  const asU8 = (b: Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  // An offset table is used only when it points at fragment starts, in increasing order, from 0: some
  // vendors write tables that do not match their fragments, and dicom-parser then throws a string.
  const starts = new Set(frags.map((f) => f.offset));
  const usable = (offs: number[]) => offs.length >= nFrames && offs[0] === 0 && offs.slice(0, nFrames).every((o, i) => Number.isSafeInteger(o) && starts.has(o) && (i === 0 || o > offs[i - 1]!));
  const eot = ds.elements[T.ExtendedOffsetTable];
  if (eot && eot.length >= 8 * nFrames) {
    const dv = new DataView(ds.byteArray.buffer, ds.byteArray.byteOffset + eot.dataOffset, eot.length);
    const offsets = Array.from({ length: nFrames }, (_, i) => Number(dv.getBigUint64(8 * i, littleEndian)));
    if (usable(offsets)) {
      for (let i = 0; i < nFrames; i++) out.push(asU8(dicomParser.readEncapsulatedImageFrame(ds, el, i, offsets)));
      return out;
    }
  }
  const bot = el.basicOffsetTable ?? [];
  if (bot.length > 0 && usable(bot)) {
    for (let i = 0; i < nFrames; i++) out.push(asU8(dicomParser.readEncapsulatedImageFrame(ds, el, i)));
    return out;
  }
  if (bot.length > 0 && nFrames > 1 && frags.length !== nFrames && codec !== 'jpeg-lossless' && codec !== 'jpeg-baseline') {
    throw new DicomError(source, `the basic offset table (${bot.length} entries: ${bot.slice(0, 4).join(', ')}${bot.length > 4 ? ', …' : ''}) does not match the ${frags.length} pixel data fragments, and ${nFrames} frames cannot be told apart without it`);
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
