/**
 * PNG and JPEG decoding to float tensors, and PNG encoding (pngjs, jpeg-js: pure JavaScript).
 *
 * Decoded images are `[C,H,W]` float32 tensors with values in 0..1 (each sample divided by
 * 2^bitDepth − 1), plus what the file held: format, bit depth, colour type. Alpha is dropped unless
 * asked for (medical images are opaque; a stray alpha channel would change the model's input width).
 * Channel count follows the file: gray (and gray palettes) → 1, colour → 3; `channels` converts
 * (RGB → gray by ITU-R BT.601 luma, L = 0.299 R + 0.587 G + 0.114 B, as Pillow's `convert('L')`;
 * gray → RGB by repetition).
 *
 * Errors name the source (a file path when the caller has one) and what is wrong.
 * Node only (pngjs needs zlib and Buffer); a browser front end decodes through a canvas instead.
 */
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { Tensor, type TensorLike } from '../tensor/tensor.js';
import { checkPng } from './png-check.js';
import { checkPixels, READ_LIMITS } from './limits.js';

export type ImageFormat = 'png' | 'jpeg';

export interface DecodedImage {
  /** `[C,H,W]` float32, values 0..1. */
  readonly tensor: Tensor;
  readonly format: ImageFormat;
  /** Bits per sample in the file (1, 2, 4, 8 or 16; palette images report 8, their colour depth). */
  readonly bitDepth: number;
  /** The file's colour model. */
  readonly colorType: 'gray' | 'gray+alpha' | 'rgb' | 'rgba' | 'palette' | 'cmyk';
  /** Whether the file carried transparency (alpha channel, or a tRNS chunk). */
  readonly hasAlpha: boolean;
}

export interface DecodeOptions {
  /** Convert to this many colour channels (1 or 3); default: as in the file. */
  channels?: 1 | 3;
  /** Keep the file's alpha channel (if it has one) as a last extra channel (default false: dropped). */
  keepAlpha?: boolean;
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** 'png', 'jpeg' or null, from the first bytes. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 8 && PNG_MAGIC.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

/** Decode a PNG or JPEG (recognised by its signature, not its name). */
export function decodeImage(bytes: Uint8Array, source = '<image>', opts: DecodeOptions = {}): DecodedImage {
  const fmt = sniffImageFormat(bytes);
  if (fmt === 'png') return decodePng(bytes, source, opts);
  if (fmt === 'jpeg') return decodeJpeg(bytes, source, opts);
  const head = [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new Error(`${source}: not a PNG or JPEG image (${bytes.length} bytes, starting ${head || '(empty)'})`);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function decodePng(bytes: Uint8Array, source = '<png>', opts: DecodeOptions = {}): DecodedImage {
  if (sniffImageFormat(bytes) !== 'png') throw new Error(`${source}: not a PNG (no PNG signature)`);
  checkPng(bytes, source); // sizes, CRCs and the exact image-data length, before pngjs allocates anything
  let png: ReturnType<typeof PNG.sync.read> & { transColor?: number[] };
  try {
    png = PNG.sync.read(asBuffer(bytes), { skipRescale: true });
  } catch (err) {
    throw new Error(`${source}: corrupt or unsupported PNG (${(err as Error).message})`);
  }
  const { width, height } = png;
  const colorType = png.colorType as number; // the typings omit 3 (palette)
  if (!(width > 0 && height > 0)) throw new Error(`${source}: PNG has no pixels (${width}×${height})`);
  const palette = colorType === 3;
  const depth = palette ? 8 : png.depth;
  const maxv = 2 ** depth - 1;
  const rgba = png.data as unknown as ArrayLike<number>; // RGBA samples at native depth (Uint16Array for 16-bit)
  const n = width * height;
  // pngjs zeroes the colour of pixels matching a tRNS colour key; put their value back.
  const key = !palette && png.transColor ? png.transColor : null;
  let color = colorType === 2 || colorType === 6;
  if (palette) {
    color = false;
    for (let i = 0; i < n && !color; i++) color = rgba[4 * i] !== rgba[4 * i + 1] || rgba[4 * i] !== rgba[4 * i + 2];
  }
  const hasAlpha = colorType === 4 || colorType === 6 || !!png.alpha;
  const cType = (['gray', '', 'rgb', 'palette', 'gray+alpha', '', 'rgba'] as const)[colorType] || 'rgb';
  const fileC = color ? 3 : 1;
  const extra = opts.keepAlpha && hasAlpha ? 1 : 0;
  const out = new Float32Array((fileC + extra) * n);
  for (let i = 0; i < n; i++) {
    const a = rgba[4 * i + 3]!;
    for (let c = 0; c < fileC; c++) {
      let v = rgba[4 * i + c]!;
      if (key && a === 0) v = key[key.length === 1 ? 0 : c]!;
      out[c * n + i] = v / maxv;
    }
    if (extra) out[fileC * n + i] = a / maxv;
  }
  const t = convertChannels(new Tensor(out, [fileC + extra, height, width]), fileC, opts.channels);
  return { tensor: t, format: 'png', bitDepth: depth, colorType: cType, hasAlpha };
}

interface JpegFrame {
  precision: number;
  components: number;
  width: number;
  height: number;
}

/** Reads the start-of-frame header (jpeg-js always returns RGB, so the component count comes from here). */
function jpegFrame(bytes: Uint8Array, source: string): JpegFrame {
  let p = 2;
  while (p + 4 <= bytes.length) {
    if (bytes[p] !== 0xff) throw new Error(`${source}: corrupt JPEG (no marker at byte ${p})`);
    const m = bytes[p + 1]!;
    if (m === 0xff) { p++; continue; }
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) { p += 2; continue; }
    const len = (bytes[p + 2]! << 8) | bytes[p + 3]!;
    const isSof = m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
    if (isSof) {
      if (p + 10 > bytes.length) break;
      if (m !== 0xc0 && m !== 0xc1 && m !== 0xc2) {
        const kind = m === 0xc3 || m === 0xc7 || m === 0xcb || m === 0xcf ? 'lossless' : 'arithmetic-coded';
        throw new Error(`${source}: unsupported JPEG (${kind}, SOF marker 0x${m.toString(16)}); only baseline and progressive Huffman JPEGs can be read`);
      }
      return {
        precision: bytes[p + 4]!,
        height: (bytes[p + 5]! << 8) | bytes[p + 6]!,
        width: (bytes[p + 7]! << 8) | bytes[p + 8]!,
        components: bytes[p + 9]!,
      };
    }
    if (m === 0xda || m === 0xd9) break;
    p += 2 + len;
  }
  throw new Error(`${source}: corrupt JPEG (no frame header found)`);
}

export function decodeJpeg(bytes: Uint8Array, source = '<jpeg>', opts: DecodeOptions = {}): DecodedImage {
  if (sniffImageFormat(bytes) !== 'jpeg') throw new Error(`${source}: not a JPEG (no SOI marker)`);
  const frame = jpegFrame(bytes, source);
  if (frame.precision !== 8) {
    throw new Error(`${source}: unsupported JPEG (${frame.precision}-bit samples; only 8-bit JPEGs can be read)`);
  }
  checkPixels(source, 'the JPEG frame header (SOF)', frame.width, frame.height);
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false, maxResolutionInMP: READ_LIMITS.maxPixels / 1e6, maxMemoryUsageInMB: Math.max(64, (READ_LIMITS.maxPixels * 12) / 2 ** 20) });
  } catch (err) {
    throw new Error(`${source}: corrupt or unsupported JPEG (${(err as Error).message})`);
  }
  const { width, height, data } = img;
  if (!(width > 0 && height > 0)) throw new Error(`${source}: JPEG has no pixels (${width}×${height})`);
  if (width !== frame.width || height !== frame.height) throw new Error(`${source}: corrupt JPEG: decoded ${width}×${height}, the frame header says ${frame.width}×${frame.height}`);
  const n = width * height;
  const fileC = frame.components === 1 ? 1 : 3;
  const out = new Float32Array(fileC * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < fileC; c++) out[c * n + i] = data[3 * i + c]! / 255;
  const t = convertChannels(new Tensor(out, [fileC, height, width]), fileC, opts.channels);
  const colorType = frame.components === 1 ? 'gray' : frame.components === 4 ? 'cmyk' : 'rgb';
  return { tensor: t, format: 'jpeg', bitDepth: 8, colorType, hasAlpha: false };
}

/** Gray ↔ RGB on a `[C,H,W]` tensor whose first `colorC` channels are colour (an alpha may follow). */
function convertChannels(t: Tensor, colorC: number, want: 1 | 3 | undefined): Tensor {
  if (want === undefined || want === colorC) return t;
  const [C, H, W] = t.shape as [number, number, number];
  const n = H * W;
  const extra = C - colorC;
  const out = new Float32Array((want + extra) * n);
  const d = t.data;
  if (want === 3) {
    for (let c = 0; c < 3; c++) out.set(d.subarray(0, n), c * n);
  } else {
    for (let i = 0; i < n; i++) out[i] = 0.299 * d[i]! + 0.587 * d[n + i]! + 0.114 * d[2 * n + i]!;
  }
  if (extra) out.set(d.subarray(colorC * n), want * n);
  return new Tensor(out, [want + extra, H, W]);
}

export interface EncodePngOptions {
  /** 8 (default) or 16 bits per sample. */
  bitDepth?: 8 | 16;
}

/**
 * Encode a float image to PNG. Accepts `[H,W]`, `[C,H,W]` or `[1,C,H,W]` with C = 1 (gray),
 * 2 (gray+alpha), 3 (RGB) or 4 (RGBA); values are clamped to 0..1 and rounded to the nearest level.
 */
export function encodePng(t: TensorLike, opts: EncodePngOptions = {}): Uint8Array {
  let shape = [...t.shape];
  if (shape.length === 4 && shape[0] === 1) shape = shape.slice(1);
  if (shape.length === 2) shape = [1, ...shape];
  if (shape.length !== 3) throw new Error(`encodePng: expected [H,W] or [C,H,W], got [${t.shape.join(',')}]`);
  const [C, H, W] = shape as [number, number, number];
  if (C < 1 || C > 4) throw new Error(`encodePng: ${C} channels (expected 1 gray, 2 gray+alpha, 3 RGB or 4 RGBA)`);
  if (!(H > 0 && W > 0)) throw new Error(`encodePng: empty image [${t.shape.join(',')}]`);
  const depth = opts.bitDepth ?? 8;
  const maxv = depth === 16 ? 65535 : 255;
  const n = H * W;
  const samples = depth === 16 ? new Uint16Array(n * C) : new Uint8Array(n * C);
  const d = t.data as ArrayLike<number>;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < C; c++) {
      const v = Number(d[c * n + i]);
      samples[i * C + c] = Math.round((Number.isNaN(v) ? 0 : Math.min(1, Math.max(0, v))) * maxv);
    }
  }
  const colorType = ([0, 4, 2, 6] as const)[C - 1]!;
  const png = { width: W, height: H, data: Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength) };
  const buf = PNG.sync.write(png as unknown as PNG, {
    colorType,
    inputColorType: colorType,
    inputHasAlpha: C === 2 || C === 4,
    bitDepth: depth,
  });
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Encode a `[1|3,H,W]` float image (0..1) to a baseline JPEG (for fixtures and previews). */
export function encodeJpeg(t: TensorLike, quality = 90): Uint8Array {
  const shape = t.shape.length === 2 ? [1, ...t.shape] : [...t.shape];
  const [C, H, W] = shape as [number, number, number];
  if (shape.length !== 3 || (C !== 1 && C !== 3)) throw new Error(`encodeJpeg: expected [H,W], [1,H,W] or [3,H,W], got [${t.shape.join(',')}]`);
  const n = H * W;
  const rgba = new Uint8Array(4 * n);
  const d = t.data as ArrayLike<number>;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) rgba[4 * i + c] = Math.round(Math.min(1, Math.max(0, Number(d[(C === 1 ? 0 : c) * n + i]) || 0)) * 255);
    rgba[4 * i + 3] = 255;
  }
  const enc = jpeg.encode({ width: W, height: H, data: rgba }, quality);
  return new Uint8Array(enc.data.buffer, enc.data.byteOffset, enc.data.byteLength);
}
