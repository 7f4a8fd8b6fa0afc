/**
 * DICOM files and NIfTI slices as 2-D training images (Node only; the decoders are io/dicom.ts and
 * io/nifti.ts). Every image comes out as `[C,H,W]` float32 in [0, 1]; the data pipeline maps that to
 * [-1, 1] and resizes like PNG/JPEG data.
 *
 * DICOM (grayscale): modality values (RescaleSlope/Intercept applied, so CT is in HU) are windowed with
 * - the `window: [center, width]` option when given (VOI LUT function from the file, else LINEAR);
 * - else the file's first WindowCenter/WindowWidth (top level, or the first frame's functional group);
 * - else the file's full value range, min → 0 and max → 1 (all frames together);
 * following DICOM PS3.3 C.11.2.1.2 (`applyWindow`); MONOCHROME1 images are inverted so that they look
 * like MONOCHROME2 (high values bright). Colour DICOM (RGB/YBR, converted to RGB) is divided by
 * 2^BitsStored − 1 and not windowed. Multi-frame files give their first frame, or every frame as its own
 * image with `frames: 'all'` (or the `#frame=` reference in a CSV).
 *
 * NIfTI: 2-D slices of a volume, chosen by a reference after the file name (`vol.nii.gz#slice=12`; see
 * {@link parseImageRef}). Default axis `k` (the third voxel axis, as stored: axial for the usual
 * scanner orientations), shown as `np.flipud(data[:, :, k].T)` (rows along j, upwards; columns along i;
 * see `niftiSlices`). Values: scl_slope/scl_inter applied, then the `window` option (LINEAR) when given,
 * else min → 0 and max → 1 over the whole 3-D volume (at the chosen t), so slices of one volume share one
 * scale.
 *
 * Privacy: only the file path is ever named in messages and notes; no DICOM element value that could
 * identify a patient is read (see io/dicom.ts).
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { Tensor } from '../tensor/tensor.js';
import { applyWindow, DicomError, hasDicomPreamble, readDicomSync, type DicomImage } from '../io/dicom.js';
import { looksLikeRawDicom } from '../io/dicom/dataset.js';
import { niftiSliceCount, niftiSlices, readNifti, type NiftiVolume, type SliceAxis } from '../io/nifti.js';
import { scaleNiftiSlices } from '../io/nifti-scale.js';

export const NIFTI_EXT = /\.(nii|nii\.gz|hdr|hdr\.gz)$/i;
export const DICOM_EXT = /\.(dcm|dicom|dic)$/i;

/** How DICOM/NIfTI values become [0, 1]. */
export interface MedicalReadOptions {
  /** Window `[center, width]` for every DICOM and NIfTI image, instead of the file's or the value range. */
  window?: readonly [number, number];
  /** Multi-frame DICOM without a `#frame=` reference: the first frame (default) or every frame. */
  frames?: 'first' | 'all';
  /** NIfTI slice axis when a reference names none (default 'k'). */
  axis?: SliceAxis;
}

/** Which 2-D images of a file a CSV row (or a folder entry) means. Indices are 0-based. */
export interface ImageRef {
  /** NIfTI slices along `axis`: a list, or 'all'. */
  slices?: number[] | 'all';
  /** NIfTI slice axis: voxel axis 'i' | 'j' | 'k' (default 'k') or an anatomical plane (after reorienting to RAS+). */
  axis?: SliceAxis;
  /** NIfTI volume index of 4-D data (default 0). */
  t?: number;
  /** DICOM frames: a list, or 'all'. */
  frames?: number[] | 'all';
}

const AXES: readonly SliceAxis[] = ['i', 'j', 'k', 'axial', 'coronal', 'sagittal'];

function parseIndices(v: string, what: string): number[] | 'all' {
  if (v === 'all') return 'all';
  const out: number[] = [];
  for (const part of v.split('+')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`${what}=${v}: expected an index, a range a-b, indices joined by '+', or 'all'`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new Error(`${what}=${v}: range ${a}-${b} runs backwards`);
    if (b - a > 100000) throw new Error(`${what}=${v}: range too long`);
    for (let k = a; k <= b; k++) out.push(k);
  }
  return out;
}

/**
 * Splits `file#key=value&key=value` into the file and its reference. Keys: `slice` (NIfTI; an index, a
 * range `10-20` inclusive, indices joined by `+`, or `all`), `axis` (`i`, `j`, `k`, `axial`, `coronal`,
 * `sagittal`), `t` (4-D volume index), `frame` (DICOM; same forms as `slice`). A `#` that belongs to
 * an existing file's name is kept (checked by the caller).
 */
export function parseImageRef(spec: string): { file: string; ref?: ImageRef } {
  const hash = spec.lastIndexOf('#');
  if (hash < 0) return { file: spec };
  const file = spec.slice(0, hash);
  const ref: ImageRef = {};
  const query = spec.slice(hash + 1).trim();
  if (query === '') throw new Error(`'${spec}': empty reference after '#'`);
  for (const kv of query.split('&')) {
    const eq = kv.indexOf('=');
    const key = (eq < 0 ? kv : kv.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? '' : kv.slice(eq + 1).trim().toLowerCase();
    if (value === '') throw new Error(`'${spec}': '${key}' needs a value (e.g. #slice=12)`);
    if (key === 'slice' || key === 'slices' || key === 'z') ref.slices = parseIndices(value, 'slice');
    else if (key === 'frame' || key === 'frames') ref.frames = parseIndices(value, 'frame');
    else if (key === 'axis') {
      if (!AXES.includes(value as SliceAxis)) throw new Error(`'${spec}': axis must be one of ${AXES.join(', ')}`);
      ref.axis = value as SliceAxis;
    } else if (key === 't') {
      if (!/^\d+$/.test(value)) throw new Error(`'${spec}': t must be a non-negative integer`);
      ref.t = Number(value);
    } else throw new Error(`'${spec}': unknown key '${key}' (slice, axis, t for NIfTI; frame for DICOM)`);
  }
  return { file, ref };
}

/**
 * True when the file has the Part 10 'DICM' marker, or starts like a raw DICOM data set without the
 * preamble (some archives and older modalities write those; reads 132 bytes).
 */
export function isDicomFileSync(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buf = new Uint8Array(132);
    const n = readSync(fd, buf, 0, 132, 0);
    return (n === 132 && hasDicomPreamble(buf)) || looksLikeRawDicom(buf.subarray(0, n), fstatSync(fd).size);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export type MedicalKind = 'dicom' | 'nifti';

/**
 * A reference that does not fit its file (slice or frame out of range, a NIfTI reference to a DICOM…):
 * a mistake in the list, not a damaged file, so it stops a read even when unreadable files are skipped.
 */
export class ImageRefError extends Error {}

/** The decoder an image needs is not loaded (JPEG 2000 read synchronously): the environment, not the file. */
export class DecoderNotLoadedError extends DicomError {}

/** 'nifti' by extension, 'dicom' by the DICM marker (any extension) or a .dcm/.dicom extension, else undefined. */
export function medicalKind(path: string): MedicalKind | undefined {
  if (NIFTI_EXT.test(path)) return 'nifti';
  if (isDicomFileSync(path) || DICOM_EXT.test(path)) return 'dicom';
  return undefined;
}

/** What was done to the medical files read, for the data description (counts only, never patient data). */
export class MedicalStats {
  dicomFiles = 0;
  windowFrom = { options: 0, file: 0, range: 0, colour: 0 };
  inverted = 0;
  multiFrameFirstOnly = 0;
  dicomImages = 0;
  niftiVolumes = 0;
  niftiSlices = 0;
  niftiAxes = new Set<string>();
  niftiWindowed = false;
  /** Some volume was scaled by its header's display range cal_min–cal_max. */
  niftiCalRange = false;
  /** DICOM objects without pixel data (DICOMDIR, reports…) met in class folders and ignored. */
  noPixelData: string[] = [];

  notes(): string[] {
    const out: string[] = [];
    if (this.dicomFiles) {
      const w = this.windowFrom;
      const parts = [
        w.options && `window from options: ${w.options}`,
        w.file && `window from file: ${w.file}`,
        w.range && `no window, min–max: ${w.range}`,
        w.colour && `colour, /(2^bits−1): ${w.colour}`,
        this.inverted && `MONOCHROME1 inverted: ${this.inverted}`,
        this.multiFrameFirstOnly && `multi-frame, first frame only: ${this.multiFrameFirstOnly}`,
      ].filter(Boolean);
      out.push(`DICOM: ${this.dicomImages} image${this.dicomImages === 1 ? '' : 's'} from ${this.dicomFiles} file${this.dicomFiles === 1 ? '' : 's'} (${parts.join(', ')})`);
    }
    if (this.noPixelData.length) out.push(`${this.noPixelData.length} DICOM object(s) without pixel data ignored`);
    if (this.niftiVolumes) {
      out.push(
        `NIfTI: ${this.niftiSlices} slice${this.niftiSlices === 1 ? '' : 's'} from ${this.niftiVolumes} volume${this.niftiVolumes === 1 ? '' : 's'} ` +
          `(axis ${[...this.niftiAxes].join('/')}, ${this.niftiWindowed ? 'window from options' : this.niftiCalRange ? "the header's cal_min–cal_max where set, else min–max per volume" : 'min–max per volume'})`,
      );
    }
    return out;
  }
}

/** A decoded file, kept while rows of a CSV still refer to it. */
type Decoded = { kind: 'dicom'; image: DicomImage; scaled: Tensor<Float32Array> } | { kind: 'nifti'; volume: NiftiVolume };

function readBytes(path: string): Uint8Array {
  try {
    const b = readFileSync(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (err) {
    throw new Error(`${path}: cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

function readNiftiSync(path: string): NiftiVolume {
  const bytes = readBytes(path);
  const lower = path.toLowerCase();
  if (lower.endsWith('.hdr') || lower.endsWith('.hdr.gz')) {
    const stem = path.slice(0, lower.endsWith('.gz') ? -7 : -4);
    const img = [`${stem}.img`, `${stem}.img.gz`, `${stem}.IMG`].find((p) => existsSync(p));
    if (!img) throw new Error(`${path}: NIfTI pair header without its image file (${stem}.img)`);
    return readNifti(bytes, path, { image: readBytes(img) });
  }
  return readNifti(bytes, path);
}

/** Windowed/normalised frames of a DICOM image: `[F,1,H,W]` (grayscale) or `[F,3,H,W]`, in [0, 1]. */
function scaleDicom(img: DicomImage, stats: MedicalStats): Tensor<Float32Array> {
  const path = img.source;
  const F = img.frames.shape[0]!;
  if (img.meta.samplesPerPixel === 3) {
    const max = 2 ** Math.min(img.meta.bitsStored, 32) - 1;
    stats.windowFrom.colour++;
    const d = img.frames.data;
    const out = new Float32Array(d.length);
    for (let i = 0; i < d.length; i++) out[i] = Math.min(1, Math.max(0, d[i]! / max));
    return new Tensor(out, img.frames.shape);
  }
  let t: Tensor<Float32Array>;
  try {
    t = applyWindow(img);
  } catch (err) {
    throw new DicomError(path, `cannot window the image: ${(err as Error).message.replace(/^applyWindow: /, '')}`);
  }
  stats.windowFrom[img.window ? img.window.origin : 'range']++;
  if (img.invert) stats.inverted++;
  const [H, W] = img.frames.shape.slice(-2) as [number, number];
  return new Tensor(t.data, [F, 1, H, W]);
}

function decodeDicom(path: string, opts: MedicalReadOptions, stats: MedicalStats): Decoded {
  const bytes = readBytes(path);
  let image: DicomImage;
  try {
    image = readDicomSync(bytes, path, opts.window ? { windowCenter: opts.window[0], windowWidth: opts.window[1] } : {});
  } catch (err) {
    const msg = (err as Error).message;
    if (/loadJpeg2000Codec/.test(msg)) {
      throw new DecoderNotLoadedError(path, 'JPEG 2000 pixel data needs the JPEG 2000 decoder loaded first (use prepareDataAsync, or await loadJpeg2000Codec() from io/dicom.js)');
    }
    if (err instanceof DicomError || msg.startsWith(`${path}: `)) throw err;
    throw new DicomError(path, `not a readable DICOM file (${msg})`);
  }
  stats.dicomFiles++;
  return { kind: 'dicom', image, scaled: scaleDicom(image, stats) };
}

function pick(list: number[] | 'all', count: number, what: string, path: string): number[] {
  const idx = list === 'all' ? Array.from({ length: count }, (_, i) => i) : list;
  for (const k of idx) if (k >= count) throw new ImageRefError(`${path}: ${what} ${k} is out of range (the file has ${count}; indices start at 0)`);
  return idx;
}

function dicomImages(d: Extract<Decoded, { kind: 'dicom' }>, ref: ImageRef | undefined, opts: MedicalReadOptions, stats: MedicalStats, where?: string[]): Tensor<Float32Array>[] {
  const path = d.image.source;
  if (ref && (ref.slices !== undefined || ref.axis !== undefined || ref.t !== undefined)) {
    throw new ImageRefError(`${path}: slice/axis/t references are for NIfTI volumes; use #frame= for DICOM frames`);
  }
  const [F, C, H, W] = d.scaled.shape as [number, number, number, number];
  const frames = ref?.frames ?? (opts.frames === 'all' ? 'all' : [0]);
  if (!ref?.frames && opts.frames !== 'all' && F > 1) stats.multiFrameFirstOnly++;
  const idx = pick(frames, F, 'frame', path);
  const plane = C * H * W;
  stats.dicomImages += idx.length;
  where?.push(...idx.map((f) => `#frame=${f}`));
  return idx.map((f) => new Tensor(d.scaled.data.slice(f * plane, (f + 1) * plane), [C, H, W]));
}

function niftiImages(d: Extract<Decoded, { kind: 'nifti' }>, ref: ImageRef | undefined, opts: MedicalReadOptions, stats: MedicalStats, where?: string[]): Tensor<Float32Array>[] {
  const vol = d.volume;
  const path = vol.source;
  if (ref?.frames !== undefined) throw new ImageRefError(`${path}: #frame= is for DICOM files; use #slice= for NIfTI volumes`);
  const axis = ref?.axis ?? opts.axis ?? 'k';
  const t = ref?.t ?? 0;
  const nt = vol.dims[3] ?? 1;
  if (t >= nt) throw new ImageRefError(`${path}: volume index t = ${t} is out of range (the file has ${nt}; indices start at 0)`);
  const count = niftiSliceCount(vol, axis);
  let slices = ref?.slices;
  if (slices === undefined) {
    if (count !== 1) throw new ImageRefError(`${path}: which slice? The volume has ${count} along axis ${axis}: write e.g. '${path.split(/[\\/]/).pop()}#slice=${Math.floor(count / 2)}' (or slice=a-b, slice=all)`);
    slices = [0];
  }
  const idx = pick(slices, count, `slice (axis ${axis})`, path);
  const s = niftiSlices(vol, axis, idx, { t });
  const [N, H, W] = s.shape as [number, number, number];
  let scaled: Tensor<Float32Array>;
  if (opts.window) {
    const [c, w] = opts.window;
    if (!(w >= 1)) throw new Error(`${path}: window width ${w} is invalid (needs ≥ 1)`);
    scaled = applyWindow(s, c, w);
    stats.niftiWindowed = true;
  } else {
    const r = scaleNiftiSlices(vol, s, t, path);
    scaled = r.scaled;
    if (r.from === 'cal') stats.niftiCalRange = true;
  }
  stats.niftiSlices += N;
  where?.push(...idx.map((k) => `#slice=${k}&axis=${axis}${t ? `&t=${t}` : ''}`));
  stats.niftiAxes.add(axis);
  const plane = H * W;
  return Array.from({ length: N }, (_, n) => new Tensor(scaled.data.slice(n * plane, (n + 1) * plane), [1, H, W]));
}

/**
 * Reads DICOM files and NIfTI volumes, keeping the last few decoded files so that several CSV rows
 * naming slices or frames of one file decode it once.
 */
export class MedicalReader {
  readonly stats = new MedicalStats();
  private cache = new Map<string, Decoded>();
  constructor(private readonly opts: MedicalReadOptions = {}, private readonly keep = 4) {
    if (opts.window) {
      const [c, w] = opts.window;
      if (!Number.isFinite(c) || !Number.isFinite(w) || !(w >= 1)) throw new Error(`window [${c}, ${w}]: needs a finite center and a width ≥ 1 (modality units, e.g. [40, 400] for a CT soft-tissue window)`);
    }
  }

  private decoded(path: string, kind: MedicalKind): Decoded {
    const hit = this.cache.get(path);
    if (hit) {
      this.cache.delete(path);
      this.cache.set(path, hit);
      return hit;
    }
    let d: Decoded;
    if (kind === 'dicom') d = decodeDicom(path, this.opts, this.stats);
    else {
      d = { kind: 'nifti', volume: readNiftiSync(path) };
      this.stats.niftiVolumes++;
    }
    this.cache.set(path, d);
    if (this.cache.size > this.keep) this.cache.delete(this.cache.keys().next().value!);
    return d;
  }

  /** How many frames a DICOM file has, or slices a NIfTI volume has along `axis` (default: the reader's). */
  count(path: string, kind: MedicalKind, axis?: SliceAxis): number {
    const d = this.decoded(path, kind);
    return d.kind === 'dicom' ? d.scaled.shape[0]! : niftiSliceCount(d.volume, axis ?? this.opts.axis ?? 'k');
  }

  /**
   * The `[C,H,W]` images in [0, 1] that `path` (+ `ref`) stands for; `where`, when given, receives one
   * reference per image (`#frame=2`, `#slice=12&axis=k`) for the record of where each image came from.
   */
  read(path: string, kind: MedicalKind, ref?: ImageRef, where?: string[]): Tensor<Float32Array>[] {
    const d = this.decoded(path, kind);
    return d.kind === 'dicom' ? dicomImages(d, ref, this.opts, this.stats, where) : niftiImages(d, ref, this.opts, this.stats, where);
  }
}
