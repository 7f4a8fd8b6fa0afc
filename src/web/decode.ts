/**
 * Image decoding in the browser (worker side): PNG/JPEG/WebP/BMP through createImageBitmap and an
 * OffscreenCanvas with colour management off (8-bit samples come out exactly as stored), DICOM through
 * src/io/dicom.ts (browser-safe). Results are [C,H,W] float32 in [0,1] (value/255 for 8-bit images,
 * windowed for DICOM), C = 1 when every pixel is gray, else 3.
 */
import { Tensor } from '../tensor/tensor.js';
import { applyWindow, hasDicomPreamble, readDicom, type DicomImage } from '../io/dicom.js';
import type { DicomSummary, ImageSummary } from './protocol.js';

export interface DecodedEntry {
  summary: ImageSummary;
  /** [C,H,W] in [0,1] (for DICOM: the first frame through the current window). */
  pixels: Tensor;
  dicom?: { image: DicomImage; frame: Tensor<Float32Array>; center: number; width: number };
}

export function sniffKind(bytes: Uint8Array, name: string): ImageSummary['kind'] {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (hasDicomPreamble(bytes) || /\.(dcm|dicom)$/i.test(name)) return 'dicom';
  return 'image';
}

/** RGBA bytes → [1,H,W] when every pixel is gray, else [3,H,W]; values /255; alpha dropped. */
export function rgbaToTensor(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number): Tensor {
  const n = width * height;
  let gray = true;
  for (let p = 0; p < n && gray; p++) {
    const r = rgba[4 * p]!;
    if (rgba[4 * p + 1] !== r || rgba[4 * p + 2] !== r) gray = false;
  }
  const c = gray ? 1 : 3;
  const out = new Float32Array(c * n);
  for (let k = 0; k < c; k++) for (let p = 0; p < n; p++) out[k * n + p] = rgba[4 * p + k]! / 255;
  return new Tensor(out, [c, height, width]);
}

async function decodeBitmap(bytes: Uint8Array, name: string): Promise<Tensor> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as BlobPart]), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    throw new Error(`${name}: not an image the browser can decode (PNG, JPEG, WebP, BMP) nor a DICOM file`);
  }
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2-D canvas context in this browser');
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return rgbaToTensor(ctx.getImageData(0, 0, width, height).data, width, height);
}

function range(t: Tensor<Float32Array>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of t.data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return Number.isFinite(lo) ? [lo, hi] : [0, 1];
}

/** The DICOM image's first frame as [C,H,W] in modality units. */
function firstFrame(img: DicomImage): Tensor<Float32Array> {
  const s = img.frames.shape;
  const per = img.frames.size / s[0]!;
  const data = img.frames.data.slice(0, per);
  return new Tensor(data, s.length === 3 ? [1, s[1]!, s[2]!] : [s[1]!, s[2]!, s[3]!]);
}

/** Window a DICOM frame: the given centre/width, LINEAR_EXACT for widths below 1 (normalised data). */
export function windowFrame(img: DicomImage, frame: Tensor<Float32Array>, center: number, width: number): Tensor {
  const fn = width < 1 ? 'LINEAR_EXACT' : (img.window?.function ?? 'LINEAR');
  return applyWindow(frame, center, width, { function: fn, invert: img.invert });
}

export function dicomSummary(entry: NonNullable<DecodedEntry['dicom']>): DicomSummary {
  const [min, max] = range(entry.frame);
  const m = entry.image.meta;
  return { center: entry.center, width: entry.width, min, max, modality: m.modality, photometric: m.photometricInterpretation, frames: m.numberOfFrames };
}

export async function decodeFile(id: number, bytes: Uint8Array, name: string): Promise<DecodedEntry> {
  const kind = sniffKind(bytes, name);
  if (kind !== 'dicom') {
    const pixels = await decodeBitmap(bytes, name);
    return { summary: { id, name, kind, width: pixels.shape[2]!, height: pixels.shape[1]! }, pixels };
  }
  const image = await readDicom(bytes, name);
  const frame = firstFrame(image);
  const [lo, hi] = range(frame);
  const center = image.window?.center ?? (lo + hi) / 2;
  const width = image.window?.width ?? Math.max(hi - lo, 1e-6);
  const dicom = { image, frame, center, width };
  const summary: ImageSummary = { id, name, kind, width: frame.shape[2]!, height: frame.shape[1]!, dicom: dicomSummary(dicom) };
  return { summary, pixels: windowFrame(image, frame, center, width), dicom };
}
