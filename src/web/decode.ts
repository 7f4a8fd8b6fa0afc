/**
 * Image decoding in the browser (worker side): PNG/JPEG/WebP/BMP through createImageBitmap and an
 * OffscreenCanvas with colour management off (8-bit samples come out exactly as stored), DICOM through
 * src/io/dicom.ts and NIfTI (.nii, .nii.gz) through src/io/nifti.ts (both browser-safe; gzip is inflated
 * by fflate, pure JavaScript). Results are [C,H,W] float32 in [0,1] (value/255 for 8-bit images, windowed
 * for DICOM frames and NIfTI slices), C = 1 when every pixel is gray, else 3. Which slice/frame and which
 * window are chosen here as the Node data pipeline chooses them (see volume.ts).
 */
import { Tensor } from '../tensor/tensor.js';
import { hasDicomPreamble, readDicom, type DicomImage } from '../io/dicom.js';
import { axisCodes, readNifti, type NiftiVolume, type SliceAxis } from '../io/nifti.js';
import { SLICE_AXES } from '../data/preprocessing.js';
import type { DicomSummary, ImageSummary, NiftiSummary } from './protocol.js';
import {
  dicomDefaultWindow,
  dicomFrame,
  frameCount,
  fullRangeWindow,
  gunzipPrefix,
  hasNiftiMagic,
  niftiLayout,
  niftiRange,
  niftiSlice,
  windowDicomFrame,
  windowNiftiSlice,
  type NiftiLayout,
} from './volume.js';

export interface DicomEntry {
  image: DicomImage;
  /** The shown frame, [C,H,W] in modality units. */
  frame: Tensor<Float32Array>;
  /** Its index (0-based). */
  index: number;
  center: number;
  width: number;
  /** Value range of all frames. */
  range: [number, number];
}

export interface NiftiEntry {
  volume: NiftiVolume;
  layout: NiftiLayout;
  /** The shown slice, [1,H,W] in the file's units. */
  slice: Tensor<Float32Array>;
  index: number;
  t: number;
  center: number;
  width: number;
  /** The volume's min–max at t. */
  range: [number, number];
  windowFrom: 'cal' | 'range';
  /** The window the file opened with (centre, width): unchanged, a 3-D model reads the volume with the file's own scaling. */
  opened: [number, number];
}

export interface DecodedEntry {
  summary: ImageSummary;
  /** [C,H,W] in [0,1] (for DICOM/NIfTI: the chosen frame/slice through the current window). */
  pixels: Tensor;
  dicom?: DicomEntry;
  nifti?: NiftiEntry;
}

const NIFTI_NAME = /\.nii(\.gz)?$/i;
const NIFTI_PAIR_NAME = /\.(hdr|img)(\.gz)?$/i;

export function sniffKind(bytes: Uint8Array, name: string): ImageSummary['kind'] {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (hasDicomPreamble(bytes) || /\.(dcm|dicom)$/i.test(name)) return 'dicom';
  if (NIFTI_NAME.test(name) || hasNiftiMagic(bytes)) return 'nifti';
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      if (hasNiftiMagic(gunzipPrefix(bytes, 352))) return 'nifti';
    } catch {
      // not gzip after all: left to the image decoder, which names the file
    }
  }
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
  if (NIFTI_PAIR_NAME.test(name)) {
    throw new Error(`${name}: NIfTI .hdr/.img pairs are not supported in the workbench; open a single-file .nii or .nii.gz (nibabel: nib.save(nib.load('x.hdr'), 'x.nii.gz'))`);
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as BlobPart]), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    throw new Error(`${name}: not an image the workbench can read (PNG, JPEG, WebP, BMP, DICOM, NIfTI .nii/.nii.gz)`);
  }
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2-D canvas context in this browser');
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return rgbaToTensor(ctx.getImageData(0, 0, width, height).data, width, height);
}

/** Window a DICOM frame (see {@link windowDicomFrame}): Node's default for the full range without a file window. */
export function windowFrame(img: DicomImage, frame: Tensor<Float32Array>, center: number, width: number, range?: readonly [number, number]): Tensor {
  return windowDicomFrame(img, frame, center, width, range);
}

export function dicomSummary(entry: DicomEntry): DicomSummary {
  const [min, max] = entry.range;
  const m = entry.image.meta;
  return { center: entry.center, width: entry.width, min, max, modality: m.modality, photometric: m.photometricInterpretation, frames: frameCount(entry.image), frame: entry.index };
}

export function niftiSummary(entry: NiftiEntry): NiftiSummary {
  const [min, max] = entry.range;
  const v = entry.volume;
  return {
    center: entry.center,
    width: entry.width,
    min,
    max,
    dims: v.dims,
    axis: entry.layout.axis,
    slices: entry.layout.slices,
    slice: entry.index,
    volumes: entry.layout.volumes,
    t: entry.t,
    windowFrom: entry.windowFrom,
    axes: axisCodes(v.affine).join(''),
    notes: entry.layout.notes,
  };
}

/** Recompute the pixels and the summary after the window, slice or frame changed. */
function refresh(entry: DecodedEntry): DecodedEntry {
  const { dicom, nifti } = entry;
  if (dicom) {
    entry.pixels = windowDicomFrame(dicom.image, dicom.frame, dicom.center, dicom.width, dicom.range);
    entry.summary = { ...entry.summary, width: dicom.frame.shape[2]!, height: dicom.frame.shape[1]!, dicom: dicomSummary(dicom) };
  } else if (nifti) {
    entry.pixels = windowNiftiSlice(nifti.slice, nifti.range, nifti.center, nifti.width);
    entry.summary = { ...entry.summary, width: nifti.slice.shape[2]!, height: nifti.slice.shape[1]!, nifti: niftiSummary(nifti) };
  }
  return entry;
}

/** Set the window (centre/width in the file's units) of a DICOM or NIfTI entry. */
export function setEntryWindow(entry: DecodedEntry, center: number, width: number): DecodedEntry {
  const w = entry.dicom ?? entry.nifti;
  if (!w) throw new Error(`${entry.summary.name} is not a DICOM or NIfTI image: it has no window`);
  if (!(width > 0) || !Number.isFinite(center)) throw new Error(`invalid window: centre ${center}, width ${width}`);
  w.center = center;
  w.width = width;
  return refresh(entry);
}

/** Choose the slice of a NIfTI entry or the frame of a DICOM entry (0-based). */
export function setEntryPosition(entry: DecodedEntry, pos: { slice?: number; frame?: number; axis?: SliceAxis }): DecodedEntry {
  const name = entry.summary.name;
  if (pos.axis !== undefined) {
    const n = entry.nifti;
    if (!n) throw new Error(`${name} is not a NIfTI volume: it has no slice axis`);
    if (!SLICE_AXES.includes(pos.axis)) throw new Error(`${name}: unknown slice axis '${pos.axis}' (valid: ${SLICE_AXES.join(', ')})`);
    n.layout = niftiLayout(n.volume, pos.axis);
    n.index = pos.slice ?? n.layout.defaultSlice;
    if (!Number.isInteger(n.index) || n.index < 0 || n.index >= n.layout.slices) throw new Error(`${name}: slice ${n.index} is out of range along ${pos.axis} (0..${n.layout.slices - 1})`);
    n.slice = niftiSlice(n.volume, n.index, n.t, pos.axis);
    return refresh(entry);
  }
  if (pos.slice !== undefined) {
    const n = entry.nifti;
    if (!n) throw new Error(`${name} is not a NIfTI volume: it has no slices`);
    if (!Number.isInteger(pos.slice) || pos.slice < 0 || pos.slice >= n.layout.slices) {
      throw new Error(`${name}: slice ${pos.slice} is out of range (0..${n.layout.slices - 1})`);
    }
    n.index = pos.slice;
    n.slice = niftiSlice(n.volume, n.index, n.t, n.layout.axis);
  }
  if (pos.frame !== undefined) {
    const d = entry.dicom;
    if (!d) throw new Error(`${name} is not a DICOM file: it has no frames`);
    const count = frameCount(d.image);
    if (!Number.isInteger(pos.frame) || pos.frame < 0 || pos.frame >= count) throw new Error(`${name}: frame ${pos.frame} is out of range (0..${count - 1})`);
    d.index = pos.frame;
    d.frame = dicomFrame(d.image, d.index);
  }
  return refresh(entry);
}

/** Error messages name the file. */
function named(name: string, err: unknown, what: string): Error {
  const msg = (err as Error)?.message ?? String(err);
  return new Error(msg.startsWith(name) ? msg : `${name}: ${what} (${msg})`);
}

export function decodeNifti(id: number, bytes: Uint8Array, name: string): DecodedEntry {
  let volume: NiftiVolume;
  try {
    volume = readNifti(bytes, name);
  } catch (err) {
    throw named(name, err, 'not a readable NIfTI file');
  }
  const layout = niftiLayout(volume);
  const t = 0;
  const range = niftiRange(volume, t);
  const cal = volume.calRange;
  const w = cal ? { center: (cal[0] + cal[1]) / 2, width: cal[1] - cal[0] } : fullRangeWindow(range);
  const nifti: NiftiEntry = {
    volume,
    layout,
    slice: niftiSlice(volume, layout.defaultSlice, t),
    index: layout.defaultSlice,
    t,
    center: w.center,
    width: w.width,
    range,
    windowFrom: cal ? 'cal' : 'range',
    opened: [w.center, w.width],
  };
  const entry: DecodedEntry = { summary: { id, name, kind: 'nifti', width: 0, height: 0 }, pixels: nifti.slice, nifti };
  return refresh(entry);
}

export async function decodeDicom(id: number, bytes: Uint8Array, name: string): Promise<DecodedEntry> {
  let image: DicomImage;
  try {
    image = await readDicom(bytes, name);
  } catch (err) {
    throw named(name, err, 'not a readable DICOM file');
  }
  const { center, width, range } = dicomDefaultWindow(image);
  const dicom: DicomEntry = { image, frame: dicomFrame(image, 0), index: 0, center, width, range };
  return refresh({ summary: { id, name, kind: 'dicom', width: 0, height: 0 }, pixels: dicom.frame, dicom });
}

export async function decodeFile(id: number, bytes: Uint8Array, name: string): Promise<DecodedEntry> {
  const kind = sniffKind(bytes, name);
  if (kind === 'dicom') return decodeDicom(id, bytes, name);
  if (kind === 'nifti') return decodeNifti(id, bytes, name);
  const pixels = await decodeBitmap(bytes, name);
  return { summary: { id, name, kind, width: pixels.shape[2]!, height: pixels.shape[1]! }, pixels };
}
